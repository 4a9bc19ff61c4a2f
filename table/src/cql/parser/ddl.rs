//! Schema statements: `CREATE`/`ALTER`/`DROP` `KEYSPACE`/`TABLE`, and `DESCRIBE`.

use super::Parser;
use crate::cql::ast::*;
use crate::cql::error::CqlError;
use crate::cql::lexer::Tok;
use crate::schema::ClusteringOrder;

impl Parser<'_> {
    pub(super) fn create(&mut self) -> Result<Statement, CqlError> {
        self.expect_word("create")?;
        let at = self.peek().start;
        if self.eat_word("keyspace") || self.eat_word("schema") {
            let if_not_exists = self.if_not_exists()?;
            let name = self.name()?;
            self.expect_word("with")?;
            let (replication, durable_writes) = self.keyspace_properties()?;
            let Some(replication) = replication else {
                return Err(crate::cql::error::ReplicationError::MissingReplication.into());
            };
            return Ok(Statement::CreateKeyspace(CreateKeyspace {
                name,
                if_not_exists,
                replication,
                durable_writes,
            }));
        }
        if self.eat_word("table") || self.eat_word("columnfamily") {
            return self.create_table().map(Statement::CreateTable);
        }
        for what in [
            "index",
            "custom",
            "type",
            "function",
            "aggregate",
            "materialized",
            "trigger",
            "role",
            "user",
            "or",
        ] {
            if self.is_word(what) {
                return Err(self.unsupported(at, &format!("CREATE {}", what.to_ascii_uppercase())));
            }
        }
        Err(self.no_viable())
    }

    fn create_table(&mut self) -> Result<CreateTable, CqlError> {
        let if_not_exists = self.if_not_exists()?;
        let table = self.qualified_name()?;
        self.expect_sym("(")?;
        let mut columns = Vec::new();
        let mut primary_key = None;
        loop {
            if self.is_word("primary") {
                if primary_key.is_some() {
                    return Err(self.error_here(format!(
                        "Multiple PRIMARY KEY specified for table '{}' (exactly one required)",
                        table.name
                    )));
                }
                self.pos += 1;
                self.expect_word("key")?;
                primary_key = Some(self.primary_key()?);
            } else {
                columns.push(self.column_spec()?);
            }
            if self.eat_sym(")") {
                break;
            }
            if !self.eat_sym(",") {
                return Err(self.mismatched("')'"));
            }
            if self.eat_sym(")") {
                break;
            }
        }
        let properties = if self.eat_word("with") {
            self.table_properties()?
        } else {
            TableProperties::default()
        };
        Ok(CreateTable {
            table,
            if_not_exists,
            columns,
            primary_key,
            properties,
        })
    }

    /// After `PRIMARY KEY`: `((a, b), c)` or `(a, c)`.
    fn primary_key(&mut self) -> Result<PrimaryKey, CqlError> {
        self.expect_sym("(")?;
        let partition = if self.is_sym("(") {
            self.paren_list(false, |p| p.name())?
        } else {
            vec![self.name()?]
        };
        let mut clustering = Vec::new();
        while self.eat_sym(",") {
            clustering.push(self.name()?);
        }
        self.expect_sym(")")?;
        Ok(PrimaryKey { partition, clustering })
    }

    fn column_spec(&mut self) -> Result<ColumnSpec, CqlError> {
        let start = self.peek().start;
        let name = self.name()?;
        let ty = self.cql_type()?;
        let is_static = self.eat_word("static");
        let primary_key = if self.eat_word("primary") {
            self.expect_word("key")?;
            true
        } else {
            false
        };
        Ok(ColumnSpec {
            name,
            ty,
            is_static,
            primary_key,
            span: super::Span {
                start,
                end: self.last_end(),
            },
        })
    }

    /// `prop AND prop ...` of a table, with `CLUSTERING ORDER BY (...)` and `COMPACT STORAGE`.
    fn table_properties(&mut self) -> Result<TableProperties, CqlError> {
        let mut props = TableProperties::default();
        loop {
            if self.is_word("clustering") && self.is_word_at(1, "order") {
                self.pos += 2;
                self.expect_word("by")?;
                props.clustering_order = self.paren_list(false, |p| {
                    let name = p.name()?;
                    Ok((name, p.order()))
                })?;
            } else if self.is_word("compact") && self.is_word_at(1, "storage") {
                return Err(self.unsupported(self.peek().start, "COMPACT STORAGE"));
            } else {
                props.properties.push(self.property()?);
            }
            if !self.eat_word("and") {
                return Ok(props);
            }
        }
    }

    /// An optional `ASC` or `DESC`.
    pub(super) fn order(&mut self) -> ClusteringOrder {
        if self.eat_word("desc") {
            ClusteringOrder::Desc
        } else {
            let _ = self.eat_word("asc");
            ClusteringOrder::Asc
        }
    }

    /// `name = value`.
    fn property(&mut self) -> Result<Property, CqlError> {
        let start = self.peek().start;
        let name = self.name()?;
        self.expect_sym("=")?;
        let value = if self.is_sym("{") {
            self.pos += 1;
            let mut entries = Vec::new();
            if !self.eat_sym("}") {
                loop {
                    let k = self.constant_text()?;
                    self.expect_sym(":")?;
                    entries.push((k, self.constant_text()?));
                    if self.eat_sym("}") {
                        break;
                    }
                    if !self.eat_sym(",") {
                        return Err(self.mismatched("'}'"));
                    }
                }
            }
            PropertyValue::Map(entries)
        } else {
            match self.peek().tok.clone() {
                Tok::Str(s) => PropertyValue::String(s),
                Tok::Integer(s) | Tok::Float(s) => PropertyValue::Number(s),
                Tok::Sym("-") => {
                    self.pos += 1;
                    match self.peek().tok.clone() {
                        Tok::Integer(s) | Tok::Float(s) => PropertyValue::Number(format!("-{s}")),
                        _ => return Err(self.no_viable()),
                    }
                }
                Tok::Word(w) if w == "true" || w == "false" => PropertyValue::Boolean(w == "true"),
                Tok::Word(w) if !super::is_reserved(&w) => PropertyValue::Word(w),
                _ => return Err(self.no_viable()),
            }
        };
        if !matches!(value, PropertyValue::Map(_)) {
            self.pos += 1;
        }
        Ok(Property {
            name,
            value,
            span: super::Span {
                start,
                end: self.last_end(),
            },
        })
    }

    /// A constant inside a property map, as text: `'x'`, `3`, `-1.5`, `true`.
    fn constant_text(&mut self) -> Result<String, CqlError> {
        let text = match self.peek().tok.clone() {
            Tok::Str(s) | Tok::Integer(s) | Tok::Float(s) => s,
            Tok::Word(w) if w == "true" || w == "false" => w,
            Tok::Sym("-") => {
                self.pos += 1;
                match self.peek().tok.clone() {
                    Tok::Integer(s) | Tok::Float(s) => format!("-{s}"),
                    _ => return Err(self.no_viable()),
                }
            }
            _ => return Err(self.no_viable()),
        };
        self.pos += 1;
        Ok(text)
    }

    /// Keyspace properties: the `replication` map and `durable_writes`.
    #[allow(clippy::type_complexity)]
    fn keyspace_properties(&mut self) -> Result<(Option<Vec<(String, String)>>, Option<bool>), CqlError> {
        let mut replication = None;
        let mut durable = None;
        loop {
            let at = self.pos;
            let prop = self.property()?;
            let repeated = |p: &Self| {
                let t = &p.tokens[at];
                super::syntax_error(
                    p.text,
                    t.start,
                    format!("Multiple definitions for property '{}'", prop.name),
                    p.text[t.start..t.end].to_string(),
                )
            };
            let invalid = |p: &Self, msg: String| {
                let t = &p.tokens[at];
                super::syntax_error(p.text, t.start, msg, p.text[t.start..t.end].to_string())
            };
            match (prop.name.as_str(), &prop.value) {
                ("replication", PropertyValue::Map(m)) => {
                    if replication.replace(m.clone()).is_some() {
                        return Err(repeated(self));
                    }
                }
                ("replication", _) => {
                    return Err(invalid(
                        self,
                        "Invalid value for property 'replication': a map is expected".into(),
                    ));
                }
                ("durable_writes", v) => {
                    let b = match v {
                        PropertyValue::Boolean(b) => *b,
                        PropertyValue::String(s) if s.eq_ignore_ascii_case("true") => true,
                        PropertyValue::String(s) if s.eq_ignore_ascii_case("false") => false,
                        _ => {
                            return Err(invalid(
                                self,
                                "Invalid value for property 'durable_writes': a boolean is expected".into(),
                            ));
                        }
                    };
                    if durable.replace(b).is_some() {
                        return Err(repeated(self));
                    }
                }
                (other, _) => return Err(invalid(self, format!("Unknown property '{other}'"))),
            }
            if !self.eat_word("and") {
                return Ok((replication, durable));
            }
        }
    }

    pub(super) fn alter(&mut self) -> Result<Statement, CqlError> {
        self.expect_word("alter")?;
        let at = self.peek().start;
        if self.eat_word("keyspace") || self.eat_word("schema") {
            let name = self.name()?;
            self.expect_word("with")?;
            let (replication, durable_writes) = self.keyspace_properties()?;
            return Ok(Statement::AlterKeyspace(AlterKeyspace {
                name,
                replication,
                durable_writes,
            }));
        }
        if self.eat_word("table") || self.eat_word("columnfamily") {
            let table = self.qualified_name()?;
            let at = self.peek().start;
            let action = if self.eat_word("add") {
                if self.is_sym("(") {
                    AlterTableAction::Add(self.paren_list(false, |p| p.column_spec())?)
                } else {
                    AlterTableAction::Add(vec![self.column_spec()?])
                }
            } else if self.eat_word("drop") {
                if self.is_sym("(") {
                    AlterTableAction::Drop(self.paren_list(false, |p| p.name())?)
                } else {
                    AlterTableAction::Drop(vec![self.name()?])
                }
            } else if self.eat_word("with") {
                AlterTableAction::With(self.table_properties()?)
            } else if self.is_word("alter") || self.is_word("rename") {
                return Err(self.unsupported(at, &format!("ALTER TABLE {}", self.near().to_ascii_uppercase())));
            } else {
                return Err(self.no_viable());
            };
            return Ok(Statement::AlterTable(AlterTable { table, action }));
        }
        if self.is_name() {
            return Err(self.unsupported(at, &format!("ALTER {}", self.near().to_ascii_uppercase())));
        }
        Err(self.no_viable())
    }

    pub(super) fn drop(&mut self) -> Result<Statement, CqlError> {
        self.expect_word("drop")?;
        let at = self.peek().start;
        if self.eat_word("keyspace") || self.eat_word("schema") {
            let if_exists = self.if_exists()?;
            return Ok(Statement::DropKeyspace {
                if_exists,
                name: self.name()?,
            });
        }
        if self.eat_word("table") || self.eat_word("columnfamily") {
            let if_exists = self.if_exists()?;
            return Ok(Statement::DropTable {
                if_exists,
                table: self.qualified_name()?,
            });
        }
        if matches!(self.peek().tok, Tok::Word(_)) {
            return Err(self.unsupported(at, &format!("DROP {}", self.near().to_ascii_uppercase())));
        }
        Err(self.no_viable())
    }

    pub(super) fn describe(&mut self) -> Result<Describe, CqlError> {
        self.pos += 1; // DESCRIBE or DESC
        let _ = self.eat_word("only");
        let d = if self.eat_word("cluster") {
            Describe::Cluster
        } else if self.eat_word("full") {
            self.expect_word("schema")?;
            Describe::Schema
        } else if self.eat_word("schema") {
            Describe::Schema
        } else if self.eat_word("keyspaces") {
            Describe::Keyspaces
        } else if self.eat_word("keyspace") {
            if self.is_name() {
                Describe::Keyspace(Some(self.name()?))
            } else {
                Describe::Keyspace(None)
            }
        } else if self.eat_word("tables") {
            Describe::Tables
        } else if self.eat_word("table") || self.eat_word("columnfamily") {
            Describe::Table(self.qualified_name()?)
        } else if self.is_name() {
            Describe::Name(self.qualified_name()?)
        } else {
            return Err(self.no_viable());
        };
        if self.eat_word("with") {
            self.expect_word("internals")?;
        }
        Ok(d)
    }
}
