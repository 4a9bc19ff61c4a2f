//! Data statements: `INSERT`, `UPDATE`, `DELETE`, `BATCH` and `SELECT`.

use super::Parser;
use crate::cql::ast::*;
use crate::cql::error::CqlError;
use crate::cql::lexer::Tok;

impl Parser<'_> {
    /// `USING TTL t AND TIMESTAMP t` (either, any order), or nothing.
    fn using(&mut self) -> Result<Using, CqlError> {
        let mut using = Using::default();
        if !self.eat_word("using") {
            return Ok(using);
        }
        loop {
            if self.eat_word("ttl") {
                using.ttl = Some(self.term()?);
            } else if self.eat_word("timestamp") {
                using.timestamp = Some(self.term()?);
            } else {
                return Err(self.no_viable());
            }
            if !self.eat_word("and") {
                return Ok(using);
            }
        }
    }

    pub(super) fn insert(&mut self) -> Result<Insert, CqlError> {
        self.expect_word("insert")?;
        self.expect_word("into")?;
        let table = self.qualified_name()?;
        if self.is_word("json") {
            return Err(self.unsupported(self.peek().start, "INSERT JSON"));
        }
        let columns = self.paren_list(false, |p| p.name())?;
        self.expect_word("values")?;
        let values_at = self.peek().start;
        let values = self.paren_list(false, |p| p.term())?;
        if values.len() != columns.len() {
            return Err(super::syntax_error(
                self.text,
                values_at,
                "Unmatched column names/values".into(),
                "VALUES".into(),
            ));
        }
        let if_not_exists = self.if_not_exists()?;
        let using = self.using()?;
        Ok(Insert {
            table,
            columns,
            values,
            if_not_exists,
            using,
        })
    }

    pub(super) fn update(&mut self) -> Result<Update, CqlError> {
        self.expect_word("update")?;
        let table = self.qualified_name()?;
        let using = self.using()?;
        self.expect_word("set")?;
        let mut assignments = vec![self.assignment()?];
        while self.eat_sym(",") {
            assignments.push(self.assignment()?);
        }
        self.expect_word("where")?;
        let where_clause = self.relations()?;
        let conditions = self.conditions()?;
        Ok(Update {
            table,
            using,
            assignments,
            where_clause,
            conditions,
        })
    }

    /// Whether the next tokens are the name `column` followed by `+` or `-`.
    fn is_self_reference(&self, column: &str) -> bool {
        let same = match self.peek_at(0) {
            Tok::Word(w) => w == column && !super::is_reserved(w),
            Tok::QuotedName(n) => n == column,
            _ => false,
        };
        same && matches!(self.peek_at(1), Tok::Sym("+") | Tok::Sym("-"))
    }

    fn assignment(&mut self) -> Result<Assignment, CqlError> {
        let column = self.name()?;
        if self.eat_sym("[") {
            let key = self.term()?;
            self.expect_sym("]")?;
            self.expect_sym("=")?;
            let value = self.term()?;
            return Ok(Assignment::SetElement { column, key, value });
        }
        if self.eat_sym("+=") {
            let value = self.term()?;
            return Ok(Assignment::Add { column, value });
        }
        if self.eat_sym("-=") {
            let value = self.term()?;
            return Ok(Assignment::Subtract { column, value });
        }
        self.expect_sym("=")?;
        if self.is_self_reference(&column) {
            self.pos += 1;
            let plus = self.eat_sym("+");
            if !plus {
                self.expect_sym("-")?;
            }
            let value = self.term()?;
            return Ok(if plus {
                Assignment::Add { column, value }
            } else {
                Assignment::Subtract { column, value }
            });
        }
        let value = self.term()?;
        if self.eat_sym("+") {
            let other = self.name()?;
            if other != column {
                return Err(super::syntax_error(
                    self.text,
                    self.tokens[self.pos - 1].start,
                    format!("Only expressions of the form X = <value> + X are supported (X is {column})"),
                    other,
                ));
            }
            return Ok(Assignment::Prepend { column, value });
        }
        Ok(Assignment::Set { column, value })
    }

    pub(super) fn delete(&mut self) -> Result<Delete, CqlError> {
        self.expect_word("delete")?;
        let mut columns = Vec::new();
        if !self.is_word("from") {
            loop {
                let column = self.name()?;
                let element = if self.eat_sym("[") {
                    let t = self.term()?;
                    self.expect_sym("]")?;
                    Some(t)
                } else {
                    None
                };
                columns.push(Deletion { column, element });
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        self.expect_word("from")?;
        let table = self.qualified_name()?;
        let mut timestamp = None;
        if self.eat_word("using") {
            self.expect_word("timestamp")?;
            timestamp = Some(self.term()?);
        }
        self.expect_word("where")?;
        let where_clause = self.relations()?;
        let conditions = self.conditions()?;
        Ok(Delete {
            columns,
            table,
            timestamp,
            where_clause,
            conditions,
        })
    }

    pub(super) fn batch(&mut self) -> Result<Batch, CqlError> {
        self.expect_word("begin")?;
        let kind = if self.eat_word("unlogged") {
            BatchKind::Unlogged
        } else if self.eat_word("counter") {
            BatchKind::Counter
        } else {
            BatchKind::Logged
        };
        self.expect_word("batch")?;
        let mut timestamp = None;
        if self.eat_word("using") {
            self.expect_word("timestamp")?;
            timestamp = Some(self.term()?);
        }
        let mut statements = Vec::new();
        loop {
            let stmt = if self.is_word("insert") {
                Statement::Insert(self.insert()?)
            } else if self.is_word("update") {
                Statement::Update(self.update()?)
            } else if self.is_word("delete") {
                Statement::Delete(self.delete()?)
            } else if self.eat_word("apply") {
                self.expect_word("batch")?;
                return Ok(Batch {
                    kind,
                    timestamp,
                    statements,
                });
            } else {
                return Err(self.mismatched("K_APPLY"));
            };
            statements.push(stmt);
            let _ = self.eat_sym(";");
        }
    }

    pub(super) fn select(&mut self) -> Result<Select, CqlError> {
        self.expect_word("select")?;
        if self.is_word("json") && !matches!(self.peek_at(1), Tok::Sym(",")) && !self.is_word_at(1, "from") {
            return Err(self.unsupported(self.peek().start, "SELECT JSON"));
        }
        let distinct = self.is_word("distinct")
            && !matches!(self.peek_at(1), Tok::Sym(",") | Tok::Sym("("))
            && !self.is_word_at(1, "from")
            && !self.is_word_at(1, "as");
        if distinct {
            self.pos += 1;
        }
        let mut selectors = Vec::new();
        if !self.eat_sym("*") {
            loop {
                let expr = self.selector_expr()?;
                let alias = if self.eat_word("as") { Some(self.name()?) } else { None };
                selectors.push(Selector { expr, alias });
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        self.expect_word("from")?;
        let table = self.qualified_name()?;
        let mut select = Select {
            distinct,
            selectors,
            table,
            where_clause: Vec::new(),
            group_by: Vec::new(),
            order_by: Vec::new(),
            per_partition_limit: None,
            limit: None,
            allow_filtering: false,
        };
        if self.eat_word("where") {
            select.where_clause = self.relations()?;
        }
        if self.eat_word("group") {
            self.expect_word("by")?;
            select.group_by.push(self.name()?);
            while self.eat_sym(",") {
                select.group_by.push(self.name()?);
            }
        }
        if self.eat_word("order") {
            self.expect_word("by")?;
            loop {
                let column = self.name()?;
                select.order_by.push((column, self.order()));
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        if self.eat_word("per") {
            self.expect_word("partition")?;
            self.expect_word("limit")?;
            select.per_partition_limit = Some(self.term()?);
        }
        if self.eat_word("limit") {
            select.limit = Some(self.term()?);
        }
        if self.eat_word("allow") {
            self.expect_word("filtering")?;
            select.allow_filtering = true;
        }
        Ok(select)
    }

    fn selector_expr(&mut self) -> Result<SelectorExpr, CqlError> {
        self.enter()?;
        let e = self.selector_inner();
        self.leave();
        e
    }

    fn selector_inner(&mut self) -> Result<SelectorExpr, CqlError> {
        let call = matches!(self.peek_at(1), Tok::Sym("("));
        let word = match &self.peek().tok {
            Tok::Word(w) => Some(w.clone()),
            _ => None,
        };
        match (word.as_deref(), call) {
            (Some("count"), true) if matches!(self.peek_at(2), Tok::Sym("*")) || is_one(self.peek_at(2)) => {
                if matches!(self.peek_at(3), Tok::Sym(")")) {
                    self.pos += 4;
                    return Ok(SelectorExpr::CountAll);
                }
            }
            (Some(f @ ("writetime" | "ttl")), true) => {
                let writetime = f == "writetime";
                self.pos += 1;
                self.expect_sym("(")?;
                let column = self.name()?;
                self.expect_sym(")")?;
                return Ok(if writetime {
                    SelectorExpr::WriteTime(column)
                } else {
                    SelectorExpr::Ttl(column)
                });
            }
            (Some("token"), true) => {
                self.pos += 1;
                return Ok(SelectorExpr::Token(self.paren_list(false, |p| p.name())?));
            }
            (Some("cast"), true) => return Err(self.unsupported(self.peek().start, "CAST")),
            _ => {}
        }
        let qualified_call = matches!(self.peek_at(1), Tok::Sym(".")) && matches!(self.peek_at(3), Tok::Sym("("));
        if matches!(self.peek().tok, Tok::Word(_) | Tok::QuotedName(_)) && (call || qualified_call) {
            let name = self.function_name()?;
            let args = self.paren_list(true, |p| p.selector_expr())?;
            return Ok(SelectorExpr::Function { name, args });
        }
        let is_constant_word = matches!(&self.peek().tok, Tok::Word(w) if matches!(w.as_str(), "true" | "false" | "null" | "nan" | "infinity"));
        if self.is_name() && !is_constant_word {
            return Ok(SelectorExpr::Column(self.name()?));
        }
        Ok(SelectorExpr::Term(self.term()?))
    }
}

fn is_one(t: &Tok) -> bool {
    matches!(t, Tok::Integer(s) if s == "1")
}
