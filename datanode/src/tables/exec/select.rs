//! SELECT: the plan (what to read, which columns come out, limits and order) and the rows of one
//! page. The engine (`super::Engine`) reads the partitions the plan names at the requested
//! consistency; this module turns reconciled partitions into result rows.
//!
//! Paging: a page ends after `page_size` rows; its paging state names the partition it ended in and
//! the clustering of its last row, so the next page resumes right after it, on any coordinator (the
//! state holds keys, not positions in one node's memory).

use super::error::ExecError;
use super::eval::Eval;
use super::restrict::{Restrictions, analyze};
use basalt_table::cql::ast::{Select, SelectorExpr, Term};
use basalt_table::partition::{CellValue, ClusteringComparator, LiveRow, LiveValue, Partition};
use basalt_table::serialize::deserialize;
use basalt_table::{ClusteringOrder, ColumnKind, CqlType, NativeType, TableDef, Value};
use serde::{Deserialize, Serialize};

/// Where an output column's value comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    PartitionKey(usize),
    Clustering(usize),
    Column(basalt_common::ColumnId),
    Token,
    WriteTime(basalt_common::ColumnId),
    Ttl(basalt_common::ColumnId),
    /// A constant selected as is.
    Constant(Option<Value>),
}

#[derive(Clone, Debug)]
pub struct Output {
    pub name: String,
    pub ty: CqlType,
    pub source: Source,
}

#[derive(Clone, Debug)]
pub struct SelectPlan {
    pub outputs: Vec<Output>,
    pub restrictions: Restrictions,
    /// Rows in reverse clustering order.
    pub reversed: bool,
    pub limit: Option<u32>,
    pub per_partition_limit: Option<u32>,
    /// `COUNT(*)`: one row with the number of rows.
    pub count: Option<String>,
    /// `DISTINCT`: one row per partition.
    pub distinct: bool,
}

fn limit_of(eval: &mut Eval, t: &Option<Term>, what: &str) -> Result<Option<u32>, ExecError> {
    let Some(t) = t else { return Ok(None) };
    match eval.required(t, &CqlType::Native(NativeType::Int), what)? {
        Value::Int(n) if n > 0 => Ok(Some(n as u32)),
        Value::Int(n) => Err(ExecError::invalid(format!("{what} must be strictly positive: {n}"))),
        _ => unreachable!("int"),
    }
}

/// Plans `stmt` against `table`.
pub fn plan(table: &TableDef, stmt: &Select, eval: &mut Eval) -> Result<SelectPlan, ExecError> {
    let restrictions = analyze(table, &stmt.where_clause, eval)?;
    if !restrictions.filters.is_empty() && !stmt.allow_filtering {
        return Err(ExecError::NeedsFiltering);
    }
    if !stmt.group_by.is_empty() {
        return Err(ExecError::Unsupported {
            what: "GROUP BY".into(),
        });
    }
    let col = |name: &str| {
        table.column(name).ok_or_else(|| ExecError::UnknownColumn {
            table: table.qualified_name(),
            column: name.to_string(),
        })
    };
    let mut outputs = Vec::new();
    let mut count = None;
    let source_of = |c: &basalt_table::ColumnDef| match c.kind {
        ColumnKind::PartitionKey { position } => Source::PartitionKey(position as usize),
        ColumnKind::Clustering { position, .. } => Source::Clustering(position as usize),
        _ => Source::Column(c.id),
    };
    if stmt.selectors.is_empty() {
        // `*`: key columns first (partition, clustering), then the others by name, as Cassandra does.
        let mut cols: Vec<&basalt_table::ColumnDef> = table.partition_key();
        cols.extend(table.clustering());
        let mut rest: Vec<_> = table.columns.iter().filter(|c| !c.kind.is_primary_key()).collect();
        rest.sort_by(|a, b| a.name.cmp(&b.name));
        cols.extend(rest);
        for c in cols {
            if stmt.distinct && !matches!(c.kind, ColumnKind::PartitionKey { .. } | ColumnKind::Static) {
                continue;
            }
            outputs.push(Output {
                name: c.name.clone(),
                ty: c.ty,
                source: source_of(c),
            });
        }
    }
    for sel in &stmt.selectors {
        let (name, ty, source) = match &sel.expr {
            SelectorExpr::Column(n) => {
                let c = col(n)?;
                (c.name.clone(), c.ty, source_of(c))
            }
            SelectorExpr::CountAll => {
                count = Some(sel.alias.clone().unwrap_or_else(|| "count".into()));
                continue;
            }
            SelectorExpr::WriteTime(n) | SelectorExpr::Ttl(n) => {
                let c = col(n)?;
                let wt = matches!(sel.expr, SelectorExpr::WriteTime(_));
                let f = if wt { "writetime" } else { "ttl" };
                if c.kind.is_primary_key() {
                    return Err(ExecError::invalid(format!(
                        "Cannot use selection function {f} on PRIMARY KEY part {n}"
                    )));
                }
                if c.ty.is_collection() {
                    return Err(ExecError::invalid(format!(
                        "Cannot use selection function {f} on collections"
                    )));
                }
                if wt {
                    (
                        format!("writetime({n})"),
                        CqlType::Native(NativeType::BigInt),
                        Source::WriteTime(c.id),
                    )
                } else {
                    (format!("ttl({n})"), CqlType::Native(NativeType::Int), Source::Ttl(c.id))
                }
            }
            SelectorExpr::Token(cols) => {
                let names: Vec<&str> = table.partition_key().iter().map(|c| c.name.as_str()).collect();
                if cols.iter().map(String::as_str).ne(names.iter().copied()) {
                    return Err(ExecError::invalid(format!(
                        "token() takes the partition key columns in order: ({})",
                        names.join(", ")
                    )));
                }
                (
                    format!("system.token({})", cols.join(", ")),
                    CqlType::Native(NativeType::BigInt),
                    Source::Token,
                )
            }
            SelectorExpr::Function { name, .. } => {
                return Err(ExecError::Unsupported {
                    what: format!("The selection function {name}"),
                });
            }
            SelectorExpr::Term(_) => {
                return Err(ExecError::Unsupported {
                    what: "Constants in the selection".into(),
                });
            }
        };
        outputs.push(Output {
            name: sel.alias.clone().unwrap_or(name),
            ty,
            source,
        });
    }
    if count.is_some() && !outputs.is_empty() {
        return Err(ExecError::Unsupported {
            what: "COUNT(*) together with other selectors".into(),
        });
    }
    if stmt.distinct {
        for o in &outputs {
            if !matches!(o.source, Source::PartitionKey(_) | Source::Column(_)) {
                return Err(ExecError::invalid(
                    "SELECT DISTINCT queries must only request partition key columns and/or static columns",
                ));
            }
        }
    }
    // ORDER BY: the clustering columns in order, all one way relative to the table's order.
    let mut reversed = false;
    if !stmt.order_by.is_empty() {
        if !matches!(restrictions.partitions, super::restrict::Partitions::Keys(_)) {
            return Err(ExecError::invalid(
                "ORDER BY is only supported when the partition key is restricted by an EQ or an IN.",
            ));
        }
        let ck = table.clustering();
        let mut flips = Vec::new();
        for (i, (name, dir)) in stmt.order_by.iter().enumerate() {
            let c = ck.get(i).filter(|c| &c.name == name).ok_or_else(|| {
                ExecError::invalid(format!("Order by currently only supports the ordering of columns following their declared order in the PRIMARY KEY (at {name})"))
            })?;
            let table_order = match c.kind {
                ColumnKind::Clustering { order, .. } => order,
                _ => ClusteringOrder::Asc,
            };
            flips.push(table_order != *dir);
        }
        if flips.windows(2).any(|w| w[0] != w[1]) {
            return Err(ExecError::invalid("Unsupported order by relation"));
        }
        reversed = flips[0];
    }
    Ok(SelectPlan {
        outputs,
        restrictions,
        reversed,
        limit: limit_of(eval, &stmt.limit, "LIMIT")?,
        per_partition_limit: limit_of(eval, &stmt.per_partition_limit, "PER PARTITION LIMIT")?,
        count,
        distinct: stmt.distinct,
    })
}

/// Where a page ended: the partition (token and key) and the clustering of its last row (`None`
/// after a whole partition), and how many rows the statement's LIMIT still allows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PagingState {
    pub token: i64,
    pub key: Vec<Value>,
    pub clustering: Option<Vec<Value>>,
    pub remaining: Option<u32>,
    /// Index in the plan's list of partition keys (for `IN` queries).
    #[serde(default)]
    pub key_index: usize,
}

pub fn live_value(table: &TableDef, id: basalt_common::ColumnId, v: &LiveValue) -> Result<Option<Value>, ExecError> {
    let Some(col) = table.column_by_id(id) else {
        return Ok(None);
    };
    Ok(Some(match (v, col.ty) {
        (LiveValue::Simple(b), ty) => deserialize(&ty, b)?,
        (LiveValue::Collection(items), CqlType::List(e)) => Value::List(
            items
                .iter()
                .map(|(_, b)| deserialize(&CqlType::Native(e), b))
                .collect::<Result<_, _>>()?,
        ),
        (LiveValue::Collection(items), CqlType::Set(e)) => Value::set(
            items
                .iter()
                .map(|(p, _)| deserialize(&CqlType::Native(e), p))
                .collect::<Result<_, _>>()?,
        ),
        (LiveValue::Collection(items), CqlType::Map(k, v)) => Value::map(
            items
                .iter()
                .map(|(p, b)| {
                    Ok((
                        deserialize(&CqlType::Native(k), p)?,
                        deserialize(&CqlType::Native(v), b)?,
                    ))
                })
                .collect::<Result<_, ExecError>>()?,
        ),
        (LiveValue::Collection(_), CqlType::Native(_)) => return Ok(None),
    }))
}

/// The cell of a simple column in the row with `clustering` (or the static row).
fn cell_of<'a>(
    p: &'a Partition,
    table: &TableDef,
    id: basalt_common::ColumnId,
    clustering: &[Value],
) -> Option<&'a basalt_table::partition::Cell> {
    let col = table.column_by_id(id)?;
    let row = if col.kind == ColumnKind::Static {
        p.static_row.as_ref()?
    } else {
        p.rows.iter().find(|r| r.clustering.as_slice() == clustering)?
    };
    row.cells.iter().find(|c| c.column == id && c.path.is_none())
}

/// The output values of one live row.
pub fn project(
    plan: &SelectPlan,
    table: &TableDef,
    p: &Partition,
    row: &LiveRow,
    now: i64,
) -> Result<Vec<Option<Value>>, ExecError> {
    let mut out = Vec::with_capacity(plan.outputs.len());
    for o in &plan.outputs {
        out.push(match &o.source {
            Source::PartitionKey(i) => p.key.get(*i).cloned(),
            Source::Clustering(i) => row.clustering.get(*i).cloned(),
            Source::Token => Some(Value::BigInt(p.token)),
            Source::Column(id) => match row.columns.iter().find(|(c, _)| c == id) {
                Some((_, v)) => live_value(table, *id, v)?,
                None => None,
            },
            Source::WriteTime(id) => cell_of(p, table, *id, &row.clustering)
                .filter(|c| !matches!(c.value, CellValue::Tombstone { .. }))
                .map(|c| Value::BigInt(c.timestamp)),
            Source::Ttl(id) => cell_of(p, table, *id, &row.clustering).and_then(|c| match c.value {
                CellValue::Expiring { expires_at, .. } if expires_at > now => {
                    Some(Value::Int((expires_at - now) as i32))
                }
                _ => None,
            }),
            Source::Constant(v) => v.clone(),
        });
    }
    Ok(out)
}

/// Whether a live row passes the plan's row filters.
pub fn passes(plan: &SelectPlan, table: &TableDef, p: &Partition, row: &LiveRow) -> Result<bool, ExecError> {
    for f in &plan.restrictions.filters {
        let col = table.column(&f.column).ok_or_else(|| ExecError::UnknownColumn {
            table: table.qualified_name(),
            column: f.column.clone(),
        })?;
        let v = match col.kind {
            ColumnKind::PartitionKey { position } => p.key.get(position as usize).cloned(),
            ColumnKind::Clustering { position, .. } => row.clustering.get(position as usize).cloned(),
            _ => match row.columns.iter().find(|(c, _)| *c == col.id) {
                Some((_, v)) => live_value(table, col.id, v)?,
                None => None,
            },
        };
        if !f.accepts(v.as_ref()) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The live rows of a reconciled partition in the plan's order, after `after` (a paging resume
/// point) when given.
pub fn rows_of(plan: &SelectPlan, table: &TableDef, p: &Partition, now: i64, after: Option<&[Value]>) -> Vec<LiveRow> {
    let cmp = ClusteringComparator::for_table(table);
    let mut rows: Vec<LiveRow> = p.live_rows(table, now).collect();
    if plan.reversed {
        rows.reverse();
    }
    if let Some(after) = after {
        rows.retain(|r| {
            let o = cmp.cmp(&r.clustering, after);
            if plan.reversed { o.is_lt() } else { o.is_gt() }
        });
    }
    if plan.distinct {
        rows.truncate(1);
    }
    rows
}
