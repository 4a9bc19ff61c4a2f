//! The CQL parser: a hand-written recursive descent over the tokens of [`super::lexer`].
//!
//! The grammar (keywords case-insensitive; `name` is an unquoted non-reserved word or a `"quoted"`
//! name; `qname` is `[name .] name`; `[x]` optional, `x*` repeated):
//!
//! ```text
//! statement   := create_ks | alter_ks | drop_ks | create_table | alter_table | drop_table
//!              | TRUNCATE [TABLE] qname | USE name | insert | update | delete | batch | select | describe
//! create_ks   := CREATE (KEYSPACE|SCHEMA) [IF NOT EXISTS] name WITH props
//! alter_ks    := ALTER (KEYSPACE|SCHEMA) name WITH props
//! drop_ks     := DROP (KEYSPACE|SCHEMA) [IF EXISTS] name
//! create_table:= CREATE (TABLE|COLUMNFAMILY) [IF NOT EXISTS] qname
//!                '(' coldef (',' coldef)* [',' PRIMARY KEY '(' pk ')'] [','] ')' [WITH table_props]
//! coldef      := name type [STATIC] [PRIMARY KEY]
//! pk          := (name | '(' name (',' name)* ')') (',' name)*
//! type        := native | list '<' native '>' | set '<' native '>' | map '<' native ',' native '>'
//! table_props := table_prop (AND table_prop)*
//! table_prop  := CLUSTERING ORDER BY '(' name [ASC|DESC] (',' ...)* ')' | prop
//! props       := prop (AND prop)*;   prop := name '=' (constant | name | '{' constant ':' constant, ... '}')
//! alter_table := ALTER (TABLE|COLUMNFAMILY) qname (ADD (coldef | '(' coldef, ... ')')
//!                | DROP (name | '(' name, ... ')') | WITH table_props)
//! drop_table  := DROP (TABLE|COLUMNFAMILY) [IF EXISTS] qname
//! insert      := INSERT INTO qname '(' name, ... ')' VALUES '(' term, ... ')' [IF NOT EXISTS] [using]
//! using       := USING (TTL term | TIMESTAMP term) (AND ...)*
//! update      := UPDATE qname [using] SET assign (',' assign)* WHERE relations [IF EXISTS | IF conds]
//! assign      := name '=' term | name '=' name ('+'|'-') term | name '=' term '+' name
//!              | name ('+='|'-=') term | name '[' term ']' '=' term
//! delete      := DELETE [name ['[' term ']'] (',' ...)*] FROM qname [USING TIMESTAMP term]
//!                WHERE relations [IF EXISTS | IF conds]
//! batch       := BEGIN [UNLOGGED|COUNTER] BATCH [USING TIMESTAMP term] ((insert|update|delete) [';'])*
//!                APPLY BATCH
//! select      := SELECT [DISTINCT] ('*' | selector (',' selector)*) FROM qname [WHERE relations]
//!                [GROUP BY name, ...] [ORDER BY name [ASC|DESC], ...] [PER PARTITION LIMIT term]
//!                [LIMIT term] [ALLOW FILTERING]
//! selector    := (COUNT '(' ('*'|1) ')' | WRITETIME '(' name ')' | TTL '(' name ')'
//!              | TOKEN '(' name, ... ')' | qname '(' [selector, ...] ')' | name | term) [AS name]
//! relations   := relation (AND relation)*
//! relation    := name op term | name IN ('(' [term, ...] ')' | marker) | name CONTAINS [KEY] term
//!              | name '[' term ']' op term | TOKEN '(' name, ... ')' op term
//!              | '(' name, ... ')' (op term | IN ('(' [term, ...] ')' | marker))
//! op          := '=' | '!=' | '<' | '<=' | '>' | '>='
//! term        := string | ['-'] integer | ['-'] float | ['-'] NaN | ['-'] Infinity | boolean | NULL
//!              | 0x-blob | uuid | '[' term, ... ']' | '{' term, ... '}' | '{' term ':' term, ... '}'
//!              | '(' term, ... ')' | qname '(' [term, ...] ')' | '-' term | marker
//! marker      := '?' | ':' name
//! describe    := (DESCRIBE|DESC) (CLUSTER | [FULL] SCHEMA | KEYSPACES | KEYSPACE [name] | TABLES
//!              | (TABLE|COLUMNFAMILY) qname | qname)
//! ```
//!
//! Bind markers are numbered from 0 in text order across the statement (a batch counts all of its
//! statements'). `GRANT`, `LIST`, `CREATE INDEX`, `INSERT JSON`, `SELECT JSON`, `counter` and other valid
//! CQL outside this subset give [`CqlError::Unsupported`]; anything else that is not CQL gives
//! [`CqlError::Syntax`] with the position and Cassandra's wording (`no viable alternative at input`,
//! `mismatched input 'x' expecting ...`).

mod ddl;
mod dml;

use super::ast::*;
use super::error::CqlError;
use super::lexer::{Tok, Token, line_column, syntax_error, tokenize};
use crate::types::{CqlType, NativeType};

/// Parses one statement, with an optional trailing `;`.
pub fn parse(text: &str) -> Result<Statement, CqlError> {
    let mut p = Parser::new(text)?;
    let stmt = p.statement()?;
    p.eat_sym(";");
    if p.peek().tok != Tok::Eof {
        return Err(p.mismatched("<EOF>"));
    }
    Ok(stmt)
}

/// Parses a script: statements separated by `;` (the last one may omit it), each with its span in
/// `text` (without the `;`). Bind markers are numbered per statement.
pub fn parse_many(text: &str) -> Result<Vec<(Statement, Span)>, CqlError> {
    let mut p = Parser::new(text)?;
    let mut out = Vec::new();
    loop {
        while p.eat_sym(";") {}
        if p.peek().tok == Tok::Eof {
            return Ok(out);
        }
        p.markers = 0;
        let start = p.peek().start;
        let stmt = p.statement()?;
        let span = Span {
            start,
            end: p.last_end(),
        };
        if !p.eat_sym(";") && p.peek().tok != Tok::Eof {
            return Err(p.mismatched("';'"));
        }
        out.push((stmt, span));
    }
}

/// The complete statements at the start of a shell's input and what is left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split<'a> {
    /// Each complete statement's text, with its terminating `;`.
    pub complete: Vec<&'a str>,
    /// The text after the last complete statement (empty or only whitespace and comments when the
    /// input ends with a complete statement).
    pub rest: &'a str,
}

impl Split<'_> {
    /// Whether [`Split::rest`] holds only whitespace and comments (nothing left to wait for).
    pub fn rest_is_blank(&self) -> bool {
        matches!(tokenize(self.rest).as_deref(), Ok([t]) if t.tok == Tok::Eof)
    }
}

/// Splits a shell's input into complete statements: a statement is complete at a `;` outside strings,
/// quoted names and comments (for a `BEGIN BATCH`, at the `;` after `APPLY BATCH`). Never fails:
/// an unterminated string or comment leaves the statement incomplete.
pub fn split_statements(text: &str) -> Split<'_> {
    let b = text.as_bytes();
    let mut complete = Vec::new();
    let mut stmt_start = 0;
    let mut words: Vec<String> = Vec::new();
    let mut i = 0;
    let skip_to = |from: usize, pat: &str| text[from..].find(pat).map(|j| from + j + pat.len());
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        let end = match (c, next) {
            (b'-', Some(b'-')) | (b'/', Some(b'/')) => Some(skip_to(i, "\n").unwrap_or(b.len())),
            (b'/', Some(b'*')) => skip_to(i + 2, "*/"),
            (b'$', Some(b'$')) => skip_to(i + 2, "$$"),
            (b'\'' | b'"', _) => {
                let mut j = i + 1;
                loop {
                    match b.get(j) {
                        None => break None,
                        Some(&q) if q == c && b.get(j + 1) == Some(&c) => j += 2,
                        Some(&q) if q == c => break Some(j + 1),
                        Some(_) => j += 1,
                    }
                }
            }
            _ if c.is_ascii_alphabetic() => {
                let n = b[i..]
                    .iter()
                    .take_while(|x| x.is_ascii_alphanumeric() || **x == b'_')
                    .count();
                words.push(text[i..i + n].to_ascii_lowercase());
                Some(i + n)
            }
            (b';', _) => {
                let in_batch = words.first().is_some_and(|w| w == "begin");
                let applied = words.len() >= 2 && words[words.len() - 2..] == ["apply", "batch"];
                if !in_batch || applied {
                    complete.push(&text[stmt_start..=i]);
                    stmt_start = i + 1;
                    words.clear();
                }
                Some(i + 1)
            }
            _ => Some(i + 1),
        };
        match end {
            Some(e) => i = e,
            None => break,
        }
    }
    Split {
        complete,
        rest: &text[stmt_start..],
    }
}

/// Words that cannot be unquoted names (Cassandra's reserved keywords).
pub(crate) const RESERVED: &[&str] = &[
    "add",
    "allow",
    "alter",
    "and",
    "apply",
    "asc",
    "authorize",
    "batch",
    "begin",
    "by",
    "columnfamily",
    "create",
    "delete",
    "desc",
    "describe",
    "drop",
    "entries",
    "execute",
    "from",
    "full",
    "grant",
    "if",
    "in",
    "index",
    "infinity",
    "insert",
    "into",
    "is",
    "keyspace",
    "limit",
    "modify",
    "nan",
    "norecursive",
    "not",
    "null",
    "of",
    "on",
    "or",
    "order",
    "primary",
    "rename",
    "replace",
    "revoke",
    "schema",
    "select",
    "set",
    "table",
    "to",
    "token",
    "truncate",
    "unlogged",
    "unset",
    "update",
    "use",
    "using",
    "view",
    "where",
    "with",
];

/// Whether `word` (lowercase) is a reserved keyword, which a name must quote.
pub fn is_reserved(word: &str) -> bool {
    RESERVED.binary_search(&word).is_ok()
}

/// How deep terms and types may nest before the parser refuses the input.
const MAX_DEPTH: usize = 64;

pub(super) struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    /// Bind markers seen so far in the current statement.
    markers: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Result<Self, CqlError> {
        Ok(Parser {
            text,
            tokens: tokenize(text)?,
            pos: 0,
            markers: 0,
            depth: 0,
        })
    }

    // ----- token helpers -----

    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.tokens[(self.pos + n).min(self.tokens.len() - 1)].tok
    }

    fn last_end(&self) -> usize {
        if self.pos == 0 {
            0
        } else {
            self.tokens[self.pos - 1].end
        }
    }

    fn is_word(&self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Word(w) if w == kw)
    }

    fn is_word_at(&self, n: usize, kw: &str) -> bool {
        matches!(self.peek_at(n), Tok::Word(w) if w == kw)
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(&self.peek().tok, Tok::Sym(x) if *x == s)
    }

    fn eat_word(&mut self, kw: &str) -> bool {
        let yes = self.is_word(kw);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        let yes = self.is_sym(s);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect_word(&mut self, kw: &str) -> Result<(), CqlError> {
        if self.eat_word(kw) {
            Ok(())
        } else {
            Err(self.mismatched(&format!("K_{}", kw.to_ascii_uppercase())))
        }
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), CqlError> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            Err(self.mismatched(&format!("'{s}'")))
        }
    }

    /// The source text of the current token (`<EOF>` at the end).
    fn near(&self) -> String {
        let t = self.peek();
        if t.tok == Tok::Eof {
            "<EOF>".to_string()
        } else {
            self.text[t.start..t.end].to_string()
        }
    }

    fn error_here(&self, message: String) -> CqlError {
        syntax_error(self.text, self.peek().start, message, self.near())
    }

    fn mismatched(&self, expecting: &str) -> CqlError {
        self.error_here(format!("mismatched input '{}' expecting {expecting}", self.near()))
    }

    fn no_viable(&self) -> CqlError {
        self.error_here(format!("no viable alternative at input '{}'", self.near()))
    }

    /// `what` is valid CQL that Basalt does not implement; reported at byte `at`.
    fn unsupported(&self, at: usize, what: &str) -> CqlError {
        let (line, column) = line_column(self.text, at);
        CqlError::Unsupported {
            line,
            column,
            what: what.to_string(),
        }
    }

    fn enter(&mut self) -> Result<(), CqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here(format!("input nested more than {MAX_DEPTH} deep")));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// `( item , item ... )` with at least one item (or none if `allow_empty`).
    fn paren_list<T>(
        &mut self,
        allow_empty: bool,
        mut item: impl FnMut(&mut Self) -> Result<T, CqlError>,
    ) -> Result<Vec<T>, CqlError> {
        self.expect_sym("(")?;
        let mut out = Vec::new();
        if allow_empty && self.eat_sym(")") {
            return Ok(out);
        }
        loop {
            out.push(item(self)?);
            if self.eat_sym(")") {
                return Ok(out);
            }
            if !self.eat_sym(",") {
                return Err(self.mismatched("')'"));
            }
        }
    }

    // ----- names -----

    fn is_name(&self) -> bool {
        match &self.peek().tok {
            Tok::Word(w) => !is_reserved(w),
            Tok::QuotedName(_) => true,
            _ => false,
        }
    }

    /// A name: an unquoted non-reserved word (lowercased) or a quoted name.
    fn name(&mut self) -> Result<String, CqlError> {
        match &self.peek().tok {
            Tok::Word(w) if !is_reserved(w) => {
                let w = w.clone();
                self.pos += 1;
                Ok(w)
            }
            Tok::QuotedName(n) => {
                let n = n.clone();
                self.pos += 1;
                Ok(n)
            }
            _ => Err(self.no_viable()),
        }
    }

    /// `[keyspace .] name`.
    fn qualified_name(&mut self) -> Result<QualifiedName, CqlError> {
        let first = self.name()?;
        if self.eat_sym(".") {
            Ok(QualifiedName {
                keyspace: Some(first),
                name: self.name()?,
            })
        } else {
            Ok(QualifiedName {
                keyspace: None,
                name: first,
            })
        }
    }

    fn if_not_exists(&mut self) -> Result<bool, CqlError> {
        if self.eat_word("if") {
            self.expect_word("not")?;
            self.expect_word("exists")?;
            return Ok(true);
        }
        Ok(false)
    }

    fn if_exists(&mut self) -> Result<bool, CqlError> {
        if self.eat_word("if") {
            self.expect_word("exists")?;
            return Ok(true);
        }
        Ok(false)
    }

    // ----- statements -----

    fn statement(&mut self) -> Result<Statement, CqlError> {
        let start = self.peek().start;
        let Tok::Word(w) = &self.peek().tok else {
            return Err(self.no_viable());
        };
        match w.as_str() {
            "create" => self.create(),
            "alter" => self.alter(),
            "drop" => self.drop(),
            "truncate" => {
                self.pos += 1;
                let _ = self.eat_word("table") || self.eat_word("columnfamily");
                Ok(Statement::Truncate {
                    table: self.qualified_name()?,
                })
            }
            "use" => {
                self.pos += 1;
                Ok(Statement::Use { keyspace: self.name()? })
            }
            "insert" => self.insert().map(Statement::Insert),
            "update" => self.update().map(Statement::Update),
            "delete" => self.delete().map(Statement::Delete),
            "begin" => self.batch().map(Statement::Batch),
            "select" => self.select().map(Statement::Select),
            "describe" | "desc" => self.describe().map(Statement::Describe),
            "grant" | "revoke" | "list" | "login" => Err(self.unsupported(start, &w.to_ascii_uppercase())),
            _ => Err(self.no_viable()),
        }
    }

    // ----- types -----

    pub(super) fn cql_type(&mut self) -> Result<CqlType, CqlError> {
        let start = self.peek().start;
        let name = match &self.peek().tok {
            Tok::Word(w) => w.clone(),
            Tok::QuotedName(_) => return Err(self.unsupported(start, "user-defined types")),
            _ => return Err(self.no_viable()),
        };
        self.pos += 1;
        let elem = |p: &mut Self| -> Result<NativeType, CqlError> {
            p.enter()?;
            let at = p.peek().start;
            let t = p.cql_type();
            p.leave();
            match t? {
                CqlType::Native(n) => Ok(n),
                _ => Err(p.unsupported(at, "nested collections")),
            }
        };
        match name.as_str() {
            "list" | "set" => {
                self.expect_sym("<")?;
                let t = elem(self)?;
                self.expect_sym(">")?;
                Ok(if name == "list" {
                    CqlType::List(t)
                } else {
                    CqlType::Set(t)
                })
            }
            "map" => {
                self.expect_sym("<")?;
                let k = elem(self)?;
                self.expect_sym(",")?;
                let v = elem(self)?;
                self.expect_sym(">")?;
                Ok(CqlType::Map(k, v))
            }
            "frozen" | "tuple" | "counter" | "varint" | "duration" | "vector" => {
                Err(self.unsupported(start, &format!("type {name}")))
            }
            _ => match NativeType::from_cql_name(&name) {
                Some(t) => Ok(CqlType::Native(t)),
                None => {
                    let (line, column) = line_column(self.text, start);
                    Err(CqlError::UnknownType { line, column, name })
                }
            },
        }
    }

    // ----- terms -----

    fn marker(&mut self, name: Option<String>) -> Term {
        let index = self.markers;
        self.markers += 1;
        Term::Bind(BindMarker { index, name })
    }

    pub(super) fn term(&mut self) -> Result<Term, CqlError> {
        self.enter()?;
        let t = self.term_inner();
        self.leave();
        t
    }

    fn term_inner(&mut self) -> Result<Term, CqlError> {
        let tok = self.peek().tok.clone();
        let lit = |p: &mut Self, l: Literal| {
            p.pos += 1;
            Ok(Term::Literal(l))
        };
        match tok {
            Tok::Str(s) => lit(self, Literal::String(s)),
            Tok::Integer(s) => lit(self, Literal::Integer(s)),
            Tok::Float(s) => lit(self, Literal::Float(s)),
            Tok::Hex(h) => lit(self, Literal::Hex(h)),
            Tok::Uuid(u) => lit(self, Literal::Uuid(u)),
            Tok::Sym("-") => {
                self.pos += 1;
                match self.peek().tok.clone() {
                    Tok::Integer(s) => lit(self, Literal::Integer(format!("-{s}"))),
                    Tok::Float(s) => lit(self, Literal::Float(format!("-{s}"))),
                    Tok::Word(w) if w == "nan" => lit(self, Literal::Float("-NaN".into())),
                    Tok::Word(w) if w == "infinity" => lit(self, Literal::Float("-Infinity".into())),
                    _ => Ok(Term::Negate(Box::new(self.term()?))),
                }
            }
            Tok::Sym("?") => {
                self.pos += 1;
                Ok(self.marker(None))
            }
            Tok::Sym(":") => {
                self.pos += 1;
                let name = self.name()?;
                Ok(self.marker(Some(name)))
            }
            Tok::Sym("[") => {
                self.pos += 1;
                let mut items = Vec::new();
                if !self.eat_sym("]") {
                    loop {
                        items.push(self.term()?);
                        if self.eat_sym("]") {
                            break;
                        }
                        if !self.eat_sym(",") {
                            return Err(self.mismatched("']'"));
                        }
                    }
                }
                Ok(Term::List(items))
            }
            Tok::Sym("{") => self.braces(),
            Tok::Sym("(") => Ok(Term::Tuple(self.paren_list(false, |p| p.term())?)),
            Tok::Word(w) => match w.as_str() {
                "null" => {
                    self.pos += 1;
                    Ok(Term::Null)
                }
                "true" | "false" => lit(self, Literal::Boolean(w == "true")),
                "nan" => lit(self, Literal::Float("NaN".into())),
                "infinity" => lit(self, Literal::Float("Infinity".into())),
                _ => self.function_term(),
            },
            Tok::QuotedName(_) => self.function_term(),
            _ => Err(self.no_viable()),
        }
    }

    /// `{}`, `{a, b}` or `{k: v, ...}`.
    fn braces(&mut self) -> Result<Term, CqlError> {
        self.expect_sym("{")?;
        if self.eat_sym("}") {
            return Ok(Term::Map(Vec::new()));
        }
        let first = self.term()?;
        if self.eat_sym(":") {
            let mut entries = vec![(first, self.term()?)];
            while self.eat_sym(",") {
                let k = self.term()?;
                self.expect_sym(":")?;
                entries.push((k, self.term()?));
            }
            self.expect_sym("}")?;
            Ok(Term::Map(entries))
        } else {
            let mut items = vec![first];
            while self.eat_sym(",") {
                items.push(self.term()?);
            }
            self.expect_sym("}")?;
            Ok(Term::Set(items))
        }
    }

    /// `[ks.]name(args)` as a term.
    fn function_term(&mut self) -> Result<Term, CqlError> {
        let is_call = matches!(self.peek_at(1), Tok::Sym("("))
            || (matches!(self.peek_at(1), Tok::Sym(".")) && matches!(self.peek_at(3), Tok::Sym("(")));
        if !is_call {
            return Err(self.no_viable());
        }
        let name = self.function_name()?;
        let args = self.paren_list(true, |p| p.term())?;
        Ok(Term::Function { name, args })
    }

    /// `[ks.]name` of a function: words here may be reserved (`token`), as in Cassandra.
    fn function_name(&mut self) -> Result<String, CqlError> {
        let part = |p: &mut Self| match p.peek().tok.clone() {
            Tok::Word(w) | Tok::QuotedName(w) => {
                p.pos += 1;
                Ok(w)
            }
            _ => Err(p.no_viable()),
        };
        let first = part(self)?;
        if self.eat_sym(".") {
            Ok(format!("{first}.{}", part(self)?))
        } else {
            Ok(first)
        }
    }

    // ----- relations -----

    pub(super) fn relations(&mut self) -> Result<Vec<Relation>, CqlError> {
        let mut out = vec![self.relation()?];
        while self.eat_word("and") {
            out.push(self.relation()?);
        }
        Ok(out)
    }

    fn operator(&mut self) -> Result<Operator, CqlError> {
        let op = match &self.peek().tok {
            Tok::Sym("=") => Operator::Eq,
            Tok::Sym("!=") => Operator::Ne,
            Tok::Sym("<") => Operator::Lt,
            Tok::Sym("<=") => Operator::Le,
            Tok::Sym(">") => Operator::Gt,
            Tok::Sym(">=") => Operator::Ge,
            _ => return Err(self.no_viable()),
        };
        self.pos += 1;
        Ok(op)
    }

    /// After `IN`: `( terms )` or a marker.
    fn in_values(&mut self) -> Result<RelationRhs, CqlError> {
        if self.is_sym("(") {
            Ok(RelationRhs::List(self.paren_list(true, |p| p.term())?))
        } else if self.is_sym("?") || self.is_sym(":") {
            Ok(RelationRhs::Term(self.term()?))
        } else {
            Err(self.no_viable())
        }
    }

    fn relation(&mut self) -> Result<Relation, CqlError> {
        let start = self.peek().start;
        let (lhs, op, rhs) = if self.is_word("token") && matches!(self.peek_at(1), Tok::Sym("(")) {
            self.pos += 1;
            let cols = self.paren_list(false, |p| p.name())?;
            let op = self.operator()?;
            (RelationLhs::Token(cols), op, RelationRhs::Term(self.term()?))
        } else if self.is_sym("(") {
            let cols = self.paren_list(false, |p| p.name())?;
            if self.eat_word("in") {
                (RelationLhs::Tuple(cols), Operator::In, self.in_values()?)
            } else {
                let op = self.operator()?;
                (RelationLhs::Tuple(cols), op, RelationRhs::Term(self.term()?))
            }
        } else {
            let column = self.name()?;
            if self.eat_word("in") {
                (RelationLhs::Column(column), Operator::In, self.in_values()?)
            } else if self.eat_word("contains") {
                let op = if self.eat_word("key") {
                    Operator::ContainsKey
                } else {
                    Operator::Contains
                };
                (RelationLhs::Column(column), op, RelationRhs::Term(self.term()?))
            } else if self.eat_sym("[") {
                let key = self.term()?;
                self.expect_sym("]")?;
                let lhs = RelationLhs::Element {
                    column,
                    key: Box::new(key),
                };
                if self.eat_word("in") {
                    (lhs, Operator::In, self.in_values()?)
                } else {
                    let op = self.operator()?;
                    (lhs, op, RelationRhs::Term(self.term()?))
                }
            } else if self.is_word("is") || self.is_word("like") {
                return Err(self.unsupported(self.peek().start, &self.near().to_ascii_uppercase()));
            } else {
                let op = self.operator()?;
                (RelationLhs::Column(column), op, RelationRhs::Term(self.term()?))
            }
        };
        Ok(Relation {
            lhs,
            op,
            rhs,
            span: Span {
                start,
                end: self.last_end(),
            },
        })
    }

    /// `IF EXISTS` or `IF cond AND ...` (after `WHERE`), or nothing.
    pub(super) fn conditions(&mut self) -> Result<Conditions, CqlError> {
        if !self.eat_word("if") {
            return Ok(Conditions::None);
        }
        if self.eat_word("exists") {
            return Ok(Conditions::IfExists);
        }
        Ok(Conditions::If(self.relations()?))
    }
}
