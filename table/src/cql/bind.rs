//! What each bind marker of a statement stands for, as a `PREPARE` answer describes it: a name and a
//! type per marker, in marker order. Names follow Cassandra: the column for `c = ?`, `in(c)` for
//! `c IN ?`, `key(m)` / `value(m)` / `idx(l)` for collection elements, `partition key token` for
//! `token(..) > ?`, `[limit]`, `[per_partition_limit]`, `[ttl]`, `[timestamp]`; a named marker `:n`
//! is named `n`.

use super::ast::*;
use super::error::CqlError;
use crate::schema::TableDef;
use crate::types::{CqlType, NativeType};

/// One bind marker's meaning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindSpec {
    pub index: usize,
    pub name: String,
    pub ty: CqlType,
}

/// The specs of the bind markers of `stmt`, in marker order; `table` resolves a statement's table.
/// Statements without markers give an empty list without looking tables up.
pub fn bind_specs<'a>(
    stmt: &Statement,
    table: &dyn Fn(&QualifiedName) -> Option<&'a TableDef>,
) -> Result<Vec<BindSpec>, CqlError> {
    let mut out = Vec::new();
    if !stmt.bind_markers().is_empty() {
        collect(stmt, table, &mut out)?;
    }
    out.sort_by_key(|s| s.index);
    Ok(out)
}

/// Where a marker goes: its name and type.
struct Receiver {
    name: String,
    ty: CqlType,
}

fn native(name: &str, t: NativeType) -> Receiver {
    Receiver {
        name: name.to_string(),
        ty: CqlType::Native(t),
    }
}

struct Ctx<'d> {
    def: &'d TableDef,
}

impl Ctx<'_> {
    fn column(&self, name: &str) -> Result<CqlType, CqlError> {
        self.def
            .column(name)
            .map(|c| c.ty)
            .ok_or_else(|| CqlError::UnknownColumn {
                column: name.to_string(),
                table: self.def.qualified_name(),
            })
    }

    fn receiver(&self, name: &str) -> Result<Receiver, CqlError> {
        Ok(Receiver {
            name: name.to_string(),
            ty: self.column(name)?,
        })
    }

    /// The receiver of `c[?]`: a map's key, a list's index, a set's element.
    fn element_key(&self, column: &str) -> Result<Receiver, CqlError> {
        Ok(match self.column(column)? {
            CqlType::Map(k, _) => native(&format!("key({column})"), k),
            CqlType::List(_) => native(&format!("idx({column})"), NativeType::Int),
            CqlType::Set(e) => native(&format!("value({column})"), e),
            CqlType::Native(_) => return Err(not_collection(column)),
        })
    }

    /// The receiver of the value of `c[k] = ?`.
    fn element_value(&self, column: &str) -> Result<Receiver, CqlError> {
        Ok(match self.column(column)? {
            CqlType::Map(_, v) | CqlType::List(v) => native(&format!("value({column})"), v),
            _ => return Err(not_collection(column)),
        })
    }
}

fn not_collection(column: &str) -> CqlError {
    CqlError::UnsupportedMarker {
        reason: format!("{column} is not a list or a map"),
    }
}

/// Pushes the specs of the markers inside `term`, which goes to `r`.
fn term(t: &Term, r: &Receiver, out: &mut Vec<BindSpec>) -> Result<(), CqlError> {
    match (t, &r.ty) {
        (Term::Bind(m), ty) => out.push(BindSpec {
            index: m.index,
            name: m.name.clone().unwrap_or_else(|| r.name.clone()),
            ty: *ty,
        }),
        (Term::List(items), CqlType::List(e)) | (Term::Set(items), CqlType::Set(e)) => {
            let elem = native(&format!("value({})", r.name), *e);
            for i in items {
                term(i, &elem, out)?;
            }
        }
        (Term::Map(entries), CqlType::Map(k, v)) => {
            let (kr, vr) = (
                native(&format!("key({})", r.name), *k),
                native(&format!("value({})", r.name), *v),
            );
            for (kt, vt) in entries {
                term(kt, &kr, out)?;
                term(vt, &vr, out)?;
            }
        }
        (Term::Literal(_) | Term::Null, _) => {}
        (other, _) => {
            if !other.bind_markers().is_empty() {
                return Err(CqlError::UnsupportedMarker {
                    reason: format!("a bind marker inside {other} for {}", r.name),
                });
            }
        }
    }
    Ok(())
}

fn using(u: &Using, out: &mut Vec<BindSpec>) -> Result<(), CqlError> {
    if let Some(t) = &u.ttl {
        term(t, &native("[ttl]", NativeType::Int), out)?;
    }
    if let Some(t) = &u.timestamp {
        term(t, &native("[timestamp]", NativeType::BigInt), out)?;
    }
    Ok(())
}

fn relations(ctx: &Ctx<'_>, rels: &[Relation], out: &mut Vec<BindSpec>) -> Result<(), CqlError> {
    for rel in rels {
        let (base, column): (Receiver, Option<&str>) = match &rel.lhs {
            RelationLhs::Column(c) => (ctx.receiver(c)?, Some(c)),
            RelationLhs::Token(_) => (native("partition key token", NativeType::BigInt), None),
            RelationLhs::Element { column, key } => {
                term(key, &ctx.element_key(column)?, out)?;
                (ctx.element_value(column)?, None)
            }
            RelationLhs::Tuple(cols) => {
                let receivers = cols.iter().map(|c| ctx.receiver(c)).collect::<Result<Vec<_>, _>>()?;
                let tuple = |t: &Term, out: &mut Vec<BindSpec>| match t {
                    Term::Tuple(items) if items.len() == receivers.len() => {
                        items.iter().zip(&receivers).try_for_each(|(i, r)| term(i, r, out))
                    }
                    Term::Literal(_) => Ok(()),
                    _ => Err(CqlError::UnsupportedMarker {
                        reason: "a bind marker for a whole tuple (tuple types are not supported)".into(),
                    }),
                };
                match &rel.rhs {
                    RelationRhs::Term(t) => tuple(t, out)?,
                    RelationRhs::List(ts) => ts.iter().try_for_each(|t| tuple(t, out))?,
                }
                continue;
            }
        };
        let r = match (rel.op, &base.ty) {
            (Operator::Contains, CqlType::List(e) | CqlType::Set(e) | CqlType::Map(_, e)) => {
                native(&format!("value({})", base.name), *e)
            }
            (Operator::ContainsKey, CqlType::Map(k, _)) => native(&format!("key({})", base.name), *k),
            (Operator::Contains | Operator::ContainsKey, _) => {
                return Err(CqlError::UnsupportedMarker {
                    reason: format!("CONTAINS on {}, which is not a collection", base.name),
                });
            }
            _ => base,
        };
        match (&rel.rhs, rel.op) {
            (RelationRhs::Term(t @ Term::Bind(_)), Operator::In) => match (r.ty, column) {
                (CqlType::Native(n), Some(c)) => term(
                    t,
                    &Receiver {
                        name: format!("in({c})"),
                        ty: CqlType::List(n),
                    },
                    out,
                )?,
                _ => {
                    return Err(CqlError::UnsupportedMarker {
                        reason: format!("IN ? on {}", r.name),
                    });
                }
            },
            (RelationRhs::Term(t), _) => term(t, &r, out)?,
            (RelationRhs::List(ts), _) => ts.iter().try_for_each(|t| term(t, &r, out))?,
        }
    }
    Ok(())
}

fn conditions(ctx: &Ctx<'_>, c: &Conditions, out: &mut Vec<BindSpec>) -> Result<(), CqlError> {
    match c {
        Conditions::If(rels) => relations(ctx, rels, out),
        Conditions::None | Conditions::IfExists => Ok(()),
    }
}

fn collect<'a>(
    stmt: &Statement,
    table: &dyn Fn(&QualifiedName) -> Option<&'a TableDef>,
    out: &mut Vec<BindSpec>,
) -> Result<(), CqlError> {
    let ctx = |name: &QualifiedName| {
        table(name)
            .map(|def| Ctx { def })
            .ok_or_else(|| CqlError::UnknownTable {
                table: match &name.keyspace {
                    Some(k) => format!("{k}.{}", name.name),
                    None => name.name.clone(),
                },
            })
    };
    match stmt {
        Statement::Insert(i) => {
            let ctx = ctx(&i.table)?;
            for (c, v) in i.columns.iter().zip(&i.values) {
                term(v, &ctx.receiver(c)?, out)?;
            }
            using(&i.using, out)?;
        }
        Statement::Update(u) => {
            let ctx = ctx(&u.table)?;
            using(&u.using, out)?;
            for a in &u.assignments {
                match a {
                    Assignment::Set { column, value }
                    | Assignment::Add { column, value }
                    | Assignment::Prepend { column, value } => term(value, &ctx.receiver(column)?, out)?,
                    Assignment::Subtract { column, value } => {
                        let mut r = ctx.receiver(column)?;
                        // Removing from a map takes a set of its keys.
                        if let CqlType::Map(k, _) = r.ty {
                            r.ty = CqlType::Set(k);
                        }
                        term(value, &r, out)?;
                    }
                    Assignment::SetElement { column, key, value } => {
                        term(key, &ctx.element_key(column)?, out)?;
                        term(value, &ctx.element_value(column)?, out)?;
                    }
                }
            }
            relations(&ctx, &u.where_clause, out)?;
            conditions(&ctx, &u.conditions, out)?;
        }
        Statement::Delete(d) => {
            let ctx = ctx(&d.table)?;
            for del in &d.columns {
                if let Some(e) = &del.element {
                    term(e, &ctx.element_key(&del.column)?, out)?;
                }
            }
            if let Some(t) = &d.timestamp {
                term(t, &native("[timestamp]", NativeType::BigInt), out)?;
            }
            relations(&ctx, &d.where_clause, out)?;
            conditions(&ctx, &d.conditions, out)?;
        }
        Statement::Batch(b) => {
            if let Some(t) = &b.timestamp {
                term(t, &native("[timestamp]", NativeType::BigInt), out)?;
            }
            for s in &b.statements {
                collect(s, table, out)?;
            }
        }
        Statement::Select(s) => {
            let ctx = ctx(&s.table)?;
            if s.selectors.iter().any(|sel| !sel.expr.bind_markers().is_empty()) {
                return Err(CqlError::UnsupportedMarker {
                    reason: "bind markers in selectors".into(),
                });
            }
            relations(&ctx, &s.where_clause, out)?;
            if let Some(t) = &s.per_partition_limit {
                term(t, &native("[per_partition_limit]", NativeType::Int), out)?;
            }
            if let Some(t) = &s.limit {
                term(t, &native("[limit]", NativeType::Int), out)?;
            }
        }
        _ => {}
    }
    Ok(())
}
