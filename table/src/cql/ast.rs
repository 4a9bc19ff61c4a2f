//! The statements of the CQL subset Basalt parses (see the grammar at the top of `parser.rs`).
//!
//! Names are resolved as CQL does: unquoted ones lowercased, quoted ones as written. Terms are kept as
//! written (integers and floats as their text, so that no precision is lost before the column type is
//! known); [`super::literal`] turns a term into a [`crate::Value`] of a given type.

use crate::schema::ClusteringOrder;
use crate::types::CqlType;
use crate::value::Uuid;

/// Byte offsets `start..end` of a piece of the statement text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// `[keyspace.]name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QualifiedName {
    pub keyspace: Option<String>,
    pub name: String,
}

/// A constant as written.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    String(String),
    /// Decimal digits with an optional leading `-`, as written.
    Integer(String),
    /// As written, with an optional leading `-`: `1.5`, `-2e10`, `NaN`, `-Infinity`.
    Float(String),
    Boolean(bool),
    /// The hex digits of a `0x...` blob.
    Hex(String),
    Uuid(Uuid),
}

/// A `?` or `:name` bind marker; `index` counts the markers of a statement from 0 in text order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindMarker {
    pub index: usize,
    pub name: Option<String>,
}

/// A value expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    Literal(Literal),
    Null,
    List(Vec<Term>),
    /// `{a, b}`.
    Set(Vec<Term>),
    /// `{k: v, ...}`; `{}` is an empty map (which a set column also accepts).
    Map(Vec<(Term, Term)>),
    Tuple(Vec<Term>),
    /// `now()`, `toTimestamp(now())`, ...: the name lowercased unless quoted.
    Function {
        name: String,
        args: Vec<Term>,
    },
    Bind(BindMarker),
    /// `-term` for a term that is not a number literal (those carry their sign).
    Negate(Box<Term>),
}

/// Comparison operators of `WHERE` relations and `IF` conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Contains,
    ContainsKey,
}

/// The left side of a relation.
#[derive(Clone, Debug, PartialEq)]
pub enum RelationLhs {
    Column(String),
    /// `token(a, b)`.
    Token(Vec<String>),
    /// `(c1, c2)`.
    Tuple(Vec<String>),
    /// `m['key']` (in `IF` conditions).
    Element {
        column: String,
        key: Box<Term>,
    },
}

/// The right side of a relation.
#[derive(Clone, Debug, PartialEq)]
pub enum RelationRhs {
    Term(Term),
    /// `IN (t1, t2, ...)`.
    List(Vec<Term>),
}

/// `lhs op rhs`, in `WHERE` or `IF`.
#[derive(Clone, Debug, PartialEq)]
pub struct Relation {
    pub lhs: RelationLhs,
    pub op: Operator,
    pub rhs: RelationRhs,
    pub span: Span,
}

/// `USING TTL t AND TIMESTAMP t`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Using {
    pub ttl: Option<Term>,
    pub timestamp: Option<Term>,
}

/// The `IF` part of an `UPDATE` or `DELETE` (lightweight transactions: parsed, refused at execution).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Conditions {
    #[default]
    None,
    IfExists,
    If(Vec<Relation>),
}

/// A column definition of `CREATE TABLE` or `ALTER TABLE ADD`.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnSpec {
    pub name: String,
    pub ty: CqlType,
    pub is_static: bool,
    /// `c int PRIMARY KEY`.
    pub primary_key: bool,
    pub span: Span,
}

/// `PRIMARY KEY ((a, b), c, d)`: partition key columns, then clustering columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimaryKey {
    pub partition: Vec<String>,
    pub clustering: Vec<String>,
}

/// The value of a `WITH` property.
#[derive(Clone, Debug, PartialEq)]
pub enum PropertyValue {
    String(String),
    /// An integer or float as written.
    Number(String),
    Boolean(bool),
    /// An unquoted word (`WITH x = keys_only` in old schemas).
    Word(String),
    /// `{'k': v, ...}` with the values as strings (numbers as written).
    Map(Vec<(String, String)>),
}

/// `name = value` of a `WITH` clause.
#[derive(Clone, Debug, PartialEq)]
pub struct Property {
    pub name: String,
    pub value: PropertyValue,
    pub span: Span,
}

/// The `WITH` clause of `CREATE TABLE` / `ALTER TABLE`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TableProperties {
    /// `CLUSTERING ORDER BY (c DESC, ...)`.
    pub clustering_order: Vec<(String, ClusteringOrder)>,
    /// `name = value` properties, in text order (`default_time_to_live`, `comment`, `compaction`, ...).
    pub properties: Vec<Property>,
}

impl TableProperties {
    pub fn get(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreateKeyspace {
    pub name: String,
    pub if_not_exists: bool,
    /// The `replication` map, in text order, values as strings (numbers as written).
    pub replication: Vec<(String, String)>,
    pub durable_writes: Option<bool>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AlterKeyspace {
    pub name: String,
    pub replication: Option<Vec<(String, String)>>,
    pub durable_writes: Option<bool>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreateTable {
    pub table: QualifiedName,
    pub if_not_exists: bool,
    pub columns: Vec<ColumnSpec>,
    /// A `PRIMARY KEY (...)` clause; a column marked `PRIMARY KEY` is in [`ColumnSpec::primary_key`].
    pub primary_key: Option<PrimaryKey>,
    pub properties: TableProperties,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AlterTableAction {
    Add(Vec<ColumnSpec>),
    Drop(Vec<String>),
    With(TableProperties),
}

#[derive(Clone, Debug, PartialEq)]
pub struct AlterTable {
    pub table: QualifiedName,
    pub action: AlterTableAction,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Insert {
    pub table: QualifiedName,
    pub columns: Vec<String>,
    pub values: Vec<Term>,
    /// Parsed; execution refuses it until lightweight transactions exist.
    pub if_not_exists: bool,
    pub using: Using,
}

/// One `SET` assignment.
#[derive(Clone, Debug, PartialEq)]
pub enum Assignment {
    /// `c = t`.
    Set { column: String, value: Term },
    /// `c = c + t` or `c += t` (list append, set/map union, counter increment).
    Add { column: String, value: Term },
    /// `c = t + c` (list prepend).
    Prepend { column: String, value: Term },
    /// `c = c - t` or `c -= t`.
    Subtract { column: String, value: Term },
    /// `m[k] = t`, `l[i] = t`.
    SetElement { column: String, key: Term, value: Term },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    pub table: QualifiedName,
    pub using: Using,
    pub assignments: Vec<Assignment>,
    pub where_clause: Vec<Relation>,
    pub conditions: Conditions,
}

/// What a `DELETE` removes: a column, or an element `m['k']` / `l[0]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Deletion {
    pub column: String,
    pub element: Option<Term>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Delete {
    /// Empty: the whole row (or rows).
    pub columns: Vec<Deletion>,
    pub table: QualifiedName,
    pub timestamp: Option<Term>,
    pub where_clause: Vec<Relation>,
    pub conditions: Conditions,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BatchKind {
    #[default]
    Logged,
    Unlogged,
    Counter,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub kind: BatchKind,
    pub timestamp: Option<Term>,
    /// Insert, Update and Delete statements only.
    pub statements: Vec<Statement>,
}

/// A selector expression.
#[derive(Clone, Debug, PartialEq)]
pub enum SelectorExpr {
    Column(String),
    /// `COUNT(*)` or `COUNT(1)`.
    CountAll,
    WriteTime(String),
    Ttl(String),
    /// `token(a, b)`.
    Token(Vec<String>),
    /// Any other function, kept generic: `max(c)`, `toJson(c)`, `system.now()`.
    Function {
        name: String,
        args: Vec<SelectorExpr>,
    },
    /// A constant selected as is (`SELECT 'x' FROM ...`).
    Term(Term),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Selector {
    pub expr: SelectorExpr,
    pub alias: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Select {
    pub distinct: bool,
    /// Empty: `*`.
    pub selectors: Vec<Selector>,
    pub table: QualifiedName,
    pub where_clause: Vec<Relation>,
    pub group_by: Vec<String>,
    pub order_by: Vec<(String, ClusteringOrder)>,
    pub per_partition_limit: Option<Term>,
    pub limit: Option<Term>,
    pub allow_filtering: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Describe {
    Cluster,
    Schema,
    Keyspaces,
    /// `DESCRIBE KEYSPACE [name]`: the current keyspace without a name.
    Keyspace(Option<String>),
    Tables,
    Table(QualifiedName),
    /// `DESCRIBE name`: a keyspace or a table, whichever exists.
    Name(QualifiedName),
}

/// One CQL statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    CreateKeyspace(CreateKeyspace),
    AlterKeyspace(AlterKeyspace),
    DropKeyspace { name: String, if_exists: bool },
    CreateTable(CreateTable),
    AlterTable(AlterTable),
    DropTable { table: QualifiedName, if_exists: bool },
    Truncate { table: QualifiedName },
    Use { keyspace: String },
    Insert(Insert),
    Update(Update),
    Delete(Delete),
    Batch(Batch),
    Select(Select),
    Describe(Describe),
}

impl Statement {
    /// The statement's bind markers in text order (their `index` is their position here).
    pub fn bind_markers(&self) -> Vec<BindMarker> {
        let mut out = Vec::new();
        self.collect_markers(&mut out);
        out.sort_by_key(|m| m.index);
        out
    }

    fn collect_markers(&self, out: &mut Vec<BindMarker>) {
        let mut terms: Vec<&Term> = Vec::new();
        let mut relations: Vec<&Relation> = Vec::new();
        match self {
            Statement::Insert(i) => {
                terms.extend(&i.values);
                terms.extend(i.using.ttl.iter().chain(&i.using.timestamp));
            }
            Statement::Update(u) => {
                terms.extend(u.using.ttl.iter().chain(&u.using.timestamp));
                for a in &u.assignments {
                    match a {
                        Assignment::Set { value, .. }
                        | Assignment::Add { value, .. }
                        | Assignment::Prepend { value, .. }
                        | Assignment::Subtract { value, .. } => terms.push(value),
                        Assignment::SetElement { key, value, .. } => terms.extend([key, value]),
                    }
                }
                relations.extend(&u.where_clause);
                if let Conditions::If(c) = &u.conditions {
                    relations.extend(c);
                }
            }
            Statement::Delete(d) => {
                terms.extend(d.columns.iter().filter_map(|c| c.element.as_ref()));
                terms.extend(&d.timestamp);
                relations.extend(&d.where_clause);
                if let Conditions::If(c) = &d.conditions {
                    relations.extend(c);
                }
            }
            Statement::Batch(b) => {
                terms.extend(&b.timestamp);
                for s in &b.statements {
                    s.collect_markers(out);
                }
            }
            Statement::Select(s) => {
                relations.extend(&s.where_clause);
                terms.extend(s.per_partition_limit.iter().chain(&s.limit));
                for sel in &s.selectors {
                    selector_markers(&sel.expr, out);
                }
            }
            _ => {}
        }
        for r in relations {
            if let RelationLhs::Element { key, .. } = &r.lhs {
                term_markers(key, out);
            }
            match &r.rhs {
                RelationRhs::Term(t) => term_markers(t, out),
                RelationRhs::List(ts) => ts.iter().for_each(|t| term_markers(t, out)),
            }
        }
        for t in terms {
            term_markers(t, out);
        }
    }
}

impl Term {
    /// The bind markers inside this term, in text order.
    pub fn bind_markers(&self) -> Vec<BindMarker> {
        let mut out = Vec::new();
        term_markers(self, &mut out);
        out
    }
}

impl SelectorExpr {
    /// The bind markers inside this selector (function arguments), in text order.
    pub fn bind_markers(&self) -> Vec<BindMarker> {
        let mut out = Vec::new();
        selector_markers(self, &mut out);
        out
    }
}

fn selector_markers(e: &SelectorExpr, out: &mut Vec<BindMarker>) {
    match e {
        SelectorExpr::Function { args, .. } => args.iter().for_each(|a| selector_markers(a, out)),
        SelectorExpr::Term(t) => term_markers(t, out),
        _ => {}
    }
}

fn term_markers(t: &Term, out: &mut Vec<BindMarker>) {
    match t {
        Term::Bind(m) => out.push(m.clone()),
        Term::List(ts) | Term::Set(ts) | Term::Tuple(ts) | Term::Function { args: ts, .. } => {
            ts.iter().for_each(|t| term_markers(t, out))
        }
        Term::Map(kvs) => kvs.iter().for_each(|(k, v)| {
            term_markers(k, out);
            term_markers(v, out)
        }),
        Term::Negate(t) => term_markers(t, out),
        Term::Literal(_) | Term::Null => {}
    }
}

/// As CQL writes it (strings quoted, collections bracketed): the text of a literal in error messages.
impl std::fmt::Display for Term {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn list(f: &mut std::fmt::Formatter<'_>, items: &[Term], open: &str, close: &str) -> std::fmt::Result {
            f.write_str(open)?;
            for (i, t) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{t}")?;
            }
            f.write_str(close)
        }
        match self {
            Term::Literal(Literal::String(s)) => write!(f, "'{}'", s.replace('\'', "''")),
            Term::Literal(Literal::Integer(s) | Literal::Float(s)) => f.write_str(s),
            Term::Literal(Literal::Boolean(b)) => write!(f, "{b}"),
            Term::Literal(Literal::Hex(h)) => write!(f, "0x{h}"),
            Term::Literal(Literal::Uuid(u)) => write!(f, "{u}"),
            Term::Null => f.write_str("null"),
            Term::List(items) => list(f, items, "[", "]"),
            Term::Set(items) => list(f, items, "{", "}"),
            Term::Tuple(items) => list(f, items, "(", ")"),
            Term::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            Term::Function { name, args } => {
                f.write_str(name)?;
                list(f, args, "(", ")")
            }
            Term::Bind(BindMarker { name: Some(n), .. }) => write!(f, ":{n}"),
            Term::Bind(BindMarker { name: None, .. }) => f.write_str("?"),
            Term::Negate(t) => write!(f, "-{t}"),
        }
    }
}
