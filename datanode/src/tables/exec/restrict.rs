//! The `WHERE` clause of a statement, resolved against its table: which partitions (partition key
//! `=`/`IN`, or a `token(...)` range, or all of them), which clustering slices (an `=`/`IN` prefix,
//! then at most one range), and what is left to filter row by row (`ALLOW FILTERING`).
//!
//! Slices are in **clustering order**: `start` comes first in the table's order, so on a `DESC`
//! column `ck > 5` is the slice from the start of the partition to `(5)` excluded.

use super::error::ExecError;
use super::eval::Eval;
use basalt_table::cql::ast::{Operator, Relation, RelationLhs, RelationRhs, Term};
use basalt_table::read::Slice;
use basalt_table::{ClusteringOrder, ColumnDef, ColumnKind, CqlType, NativeType, TableDef, Value};
use std::ops::Bound;

/// A row-by-row condition on a column (regular, static, or a clustering column outside the slice).
#[derive(Clone, Debug)]
pub struct Filter {
    pub column: String,
    pub op: Operator,
    /// One value, or the list of `IN`.
    pub values: Vec<Value>,
}

impl Filter {
    /// Whether a cell value (None: null or absent) passes.
    pub fn accepts(&self, v: Option<&Value>) -> bool {
        let Some(v) = v else {
            return false;
        };
        let first = &self.values[0];
        match self.op {
            Operator::Eq => v == first,
            Operator::Ne => v != first,
            Operator::Lt => v < first,
            Operator::Le => v <= first,
            Operator::Gt => v > first,
            Operator::Ge => v >= first,
            Operator::In => self.values.contains(v),
            Operator::Contains => match v {
                Value::List(items) | Value::Set(items) => items.contains(first),
                Value::Map(entries) => entries.iter().any(|(_, x)| x == first),
                _ => false,
            },
            Operator::ContainsKey => match v {
                Value::Map(entries) => entries.iter().any(|(k, _)| k == first),
                _ => false,
            },
        }
    }
}

/// Which partitions a statement touches.
#[derive(Clone, Debug)]
pub enum Partitions {
    /// These partition keys (each one value per partition key column).
    Keys(Vec<Vec<Value>>),
    /// The partitions whose token is in this range.
    TokenRange { start: Bound<i64>, end: Bound<i64> },
}

#[derive(Clone, Debug)]
pub struct Restrictions {
    pub partitions: Partitions,
    /// Clustering slices in clustering order; empty: the whole partition.
    pub slices: Vec<Slice>,
    /// Full clustering keys when every clustering column is restricted by `=`/`IN`.
    pub full_clustering: Option<Vec<Vec<Value>>>,
    pub filters: Vec<Filter>,
}

fn column<'a>(table: &'a TableDef, name: &str) -> Result<&'a ColumnDef, ExecError> {
    table.column(name).ok_or_else(|| ExecError::UnknownColumn {
        table: table.qualified_name(),
        column: name.to_string(),
    })
}

fn values_of(eval: &mut Eval, rel: &Relation, ty: &CqlType, column: &str) -> Result<Vec<Value>, ExecError> {
    match (&rel.rhs, rel.op) {
        (RelationRhs::List(terms), _) => terms.iter().map(|t| eval.required(t, ty, column)).collect(),
        (RelationRhs::Term(t @ Term::Bind(_)), Operator::In) => {
            // `c IN ?`: the marker holds a list of values.
            match eval.required(t, &CqlType::List(native(ty)?), column)? {
                Value::List(items) => Ok(items),
                _ => Err(ExecError::invalid(format!("IN ? on {column} needs a list"))),
            }
        }
        (RelationRhs::Term(t), Operator::Contains) => {
            let elem = match ty {
                CqlType::List(e) | CqlType::Set(e) => CqlType::Native(*e),
                CqlType::Map(_, v) => CqlType::Native(*v),
                CqlType::Native(_) => {
                    return Err(ExecError::invalid(format!(
                        "Cannot use CONTAINS on non-collection column {column}"
                    )));
                }
            };
            Ok(vec![eval.required(t, &elem, column)?])
        }
        (RelationRhs::Term(t), Operator::ContainsKey) => match ty {
            CqlType::Map(k, _) => Ok(vec![eval.required(t, &CqlType::Native(*k), column)?]),
            _ => Err(ExecError::invalid(format!(
                "Cannot use CONTAINS KEY on non-map column {column}"
            ))),
        },
        (RelationRhs::Term(t), _) => Ok(vec![eval.required(t, ty, column)?]),
    }
}

fn native(ty: &CqlType) -> Result<NativeType, ExecError> {
    match ty {
        CqlType::Native(t) => Ok(*t),
        _ => Err(ExecError::invalid("IN on a collection column")),
    }
}

/// Cartesian product of per-column value lists.
fn cartesian(lists: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = vec![Vec::new()];
    for list in lists {
        let mut next = Vec::with_capacity(out.len() * list.len());
        for prefix in &out {
            for v in &list {
                let mut p = prefix.clone();
                p.push(v.clone());
                next.push(p);
            }
        }
        out = next;
    }
    out
}

/// Resolves `relations` against `table`.
pub fn analyze(table: &TableDef, relations: &[Relation], eval: &mut Eval) -> Result<Restrictions, ExecError> {
    let pk = table.partition_key();
    let ck = table.clustering();
    let mut pk_values: Vec<Option<Vec<Value>>> = vec![None; pk.len()];
    let mut ck_eq: Vec<Option<Vec<Value>>> = vec![None; ck.len()];
    // Range bounds on one clustering column, in value terms.
    let mut ck_range: Option<(usize, Bound<Value>, Bound<Value>)> = None;
    let mut token: (Bound<i64>, Bound<i64>) = (Bound::Unbounded, Bound::Unbounded);
    let mut has_token = false;
    let mut filters = Vec::new();

    for rel in relations {
        match &rel.lhs {
            RelationLhs::Token(cols) => {
                let names: Vec<&str> = pk.iter().map(|c| c.name.as_str()).collect();
                if cols.iter().map(String::as_str).ne(names.iter().copied()) {
                    return Err(ExecError::invalid(format!(
                        "The token function arguments must be the partition key columns in order: ({})",
                        names.join(", ")
                    )));
                }
                let RelationRhs::Term(t) = &rel.rhs else {
                    return Err(ExecError::invalid("token() IN is not supported"));
                };
                let Value::BigInt(v) = eval.required(t, &CqlType::Native(NativeType::BigInt), "token")? else {
                    unreachable!("a bigint term evaluates to a bigint");
                };
                has_token = true;
                match rel.op {
                    Operator::Gt => token.0 = Bound::Excluded(v),
                    Operator::Ge => token.0 = Bound::Included(v),
                    Operator::Lt => token.1 = Bound::Excluded(v),
                    Operator::Le => token.1 = Bound::Included(v),
                    Operator::Eq => token = (Bound::Included(v), Bound::Included(v)),
                    _ => return Err(ExecError::invalid("Unsupported operator on token()")),
                }
            }
            RelationLhs::Tuple(_) => {
                return Err(ExecError::Unsupported {
                    what: "multi-column (tuple) relations".into(),
                });
            }
            RelationLhs::Element { .. } => {
                return Err(ExecError::Unsupported {
                    what: "element relations in WHERE".into(),
                });
            }
            RelationLhs::Column(name) => {
                let col = column(table, name)?;
                let values = values_of(eval, rel, &col.ty, name)?;
                match col.kind {
                    ColumnKind::PartitionKey { position } if matches!(rel.op, Operator::Eq | Operator::In) => {
                        pk_values[position as usize] = Some(values);
                    }
                    ColumnKind::Clustering { position, .. } if matches!(rel.op, Operator::Eq | Operator::In) => {
                        ck_eq[position as usize] = Some(values);
                    }
                    ColumnKind::Clustering { position, .. }
                        if matches!(rel.op, Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge) =>
                    {
                        let v = values.into_iter().next().expect("one value");
                        let pos = position as usize;
                        let (mut lo, mut hi) = match ck_range.take() {
                            Some((p, lo, hi)) if p == pos => (lo, hi),
                            Some(_) => {
                                return Err(ExecError::invalid(
                                    "Clustering column ranges are supported on one column only",
                                ));
                            }
                            None => (Bound::Unbounded, Bound::Unbounded),
                        };
                        match rel.op {
                            Operator::Gt => lo = Bound::Excluded(v),
                            Operator::Ge => lo = Bound::Included(v),
                            Operator::Lt => hi = Bound::Excluded(v),
                            _ => hi = Bound::Included(v),
                        }
                        ck_range = Some((pos, lo, hi));
                    }
                    _ => filters.push(Filter {
                        column: name.clone(),
                        op: rel.op,
                        values,
                    }),
                }
            }
        }
    }

    let partitions = if pk_values.iter().all(Option::is_some) {
        if has_token {
            return Err(ExecError::invalid(
                "token() and partition key restrictions cannot be combined",
            ));
        }
        let keys = cartesian(pk_values.into_iter().map(|v| v.expect("all some")).collect());
        Partitions::Keys(keys)
    } else {
        let restricted: Vec<&str> = pk
            .iter()
            .zip(&pk_values)
            .filter(|(_, v)| v.is_some())
            .map(|(c, _)| c.name.as_str())
            .collect();
        if !restricted.is_empty() {
            // A partial partition key: only row filtering could answer it.
            for (c, v) in pk.iter().zip(pk_values) {
                if let Some(values) = v {
                    filters.push(Filter {
                        column: c.name.clone(),
                        op: if values.len() == 1 { Operator::Eq } else { Operator::In },
                        values,
                    });
                }
            }
        }
        Partitions::TokenRange {
            start: token.0,
            end: token.1,
        }
    };

    // Clustering: the `=`/`IN` prefix, then a range on the next column; anything else is filtered.
    let mut prefix_lists = Vec::new();
    let mut prefix_len = 0;
    while prefix_len < ck.len() && ck_eq[prefix_len].is_some() {
        prefix_lists.push(ck_eq[prefix_len].take().expect("checked"));
        prefix_len += 1;
    }
    for (i, v) in ck_eq.into_iter().enumerate() {
        if let Some(values) = v {
            filters.push(Filter {
                column: ck[i].name.clone(),
                op: if values.len() == 1 { Operator::Eq } else { Operator::In },
                values,
            });
        }
    }
    let range = match ck_range {
        Some((pos, lo, hi)) if pos == prefix_len => Some((lo, hi)),
        Some((pos, lo, hi)) => {
            for (op, b) in [(true, lo), (false, hi)] {
                if let Some((v, inclusive)) = bound_value(b) {
                    let op = match (op, inclusive) {
                        (true, true) => Operator::Ge,
                        (true, false) => Operator::Gt,
                        (false, true) => Operator::Le,
                        (false, false) => Operator::Lt,
                    };
                    filters.push(Filter {
                        column: ck[pos].name.clone(),
                        op,
                        values: vec![v],
                    });
                }
            }
            None
        }
        None => None,
    };
    let prefixes = if prefix_lists.is_empty() {
        vec![Vec::new()]
    } else {
        cartesian(prefix_lists)
    };
    let full_clustering = (prefix_len == ck.len() && !ck.is_empty() && range.is_none()).then(|| prefixes.clone());
    let mut slices = Vec::new();
    if prefix_len > 0 || range.is_some() {
        let desc = range.is_some()
            && matches!(
                ck[prefix_len].kind,
                ColumnKind::Clustering {
                    order: ClusteringOrder::Desc,
                    ..
                }
            );
        for prefix in prefixes {
            let slice = match &range {
                None => Slice {
                    start: Bound::Included(prefix.clone()),
                    end: Bound::Included(prefix),
                },
                Some((lo, hi)) => {
                    let with = |b: &Bound<Value>, open: Bound<Vec<Value>>| match b {
                        Bound::Included(v) => Bound::Included([prefix.clone(), vec![v.clone()]].concat()),
                        Bound::Excluded(v) => Bound::Excluded([prefix.clone(), vec![v.clone()]].concat()),
                        Bound::Unbounded => open,
                    };
                    let open = if prefix.is_empty() {
                        Bound::Unbounded
                    } else {
                        Bound::Included(prefix.clone())
                    };
                    let (first, last) = if desc { (hi, lo) } else { (lo, hi) };
                    Slice {
                        start: with(first, open.clone()),
                        end: with(last, open),
                    }
                }
            };
            slices.push(slice);
        }
    }
    Ok(Restrictions {
        partitions,
        slices,
        full_clustering,
        filters,
    })
}

fn bound_value(b: Bound<Value>) -> Option<(Value, bool)> {
    match b {
        Bound::Included(v) => Some((v, true)),
        Bound::Excluded(v) => Some((v, false)),
        Bound::Unbounded => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_common::TableId;
    use basalt_table::cql::ast::Statement;
    use basalt_table::cql::parser::parse;

    fn table(ddl: &str) -> TableDef {
        let Statement::CreateTable(ct) = parse(ddl).unwrap() else {
            panic!()
        };
        basalt_table::cql::schema::table_def(&ct, "ks", TableId(1)).unwrap()
    }

    fn restrictions(t: &TableDef, select: &str) -> Result<Restrictions, ExecError> {
        let Statement::Select(s) = parse(select).unwrap() else {
            panic!()
        };
        analyze(t, &s.where_clause, &mut Eval::new(Vec::new(), Vec::new()))
    }

    const T: &str = "CREATE TABLE t (a int, b int, c int, d int, v int, PRIMARY KEY ((a, b), c, d)) WITH CLUSTERING ORDER BY (c DESC, d ASC)";

    #[test]
    fn in_on_the_partition_key_is_a_cartesian_product() {
        let t = table(T);
        let r = restrictions(&t, "SELECT * FROM t WHERE a IN (1, 2) AND b IN (3, 4)").unwrap();
        let Partitions::Keys(keys) = r.partitions else { panic!() };
        assert_eq!(keys.len(), 4);
        assert!(keys.contains(&vec![Value::Int(2), Value::Int(3)]));
    }

    #[test]
    fn a_range_on_a_desc_column_is_a_slice_in_clustering_order() {
        let t = table(T);
        let r = restrictions(&t, "SELECT * FROM t WHERE a = 1 AND b = 2 AND c > 5 AND c <= 9").unwrap();
        assert_eq!(r.slices.len(), 1);
        // DESC: the first in clustering order is the largest value.
        assert_eq!(r.slices[0].start, Bound::Included(vec![Value::Int(9)]));
        assert_eq!(r.slices[0].end, Bound::Excluded(vec![Value::Int(5)]));
        let r = restrictions(&t, "SELECT * FROM t WHERE a = 1 AND b = 2 AND c = 3 AND d >= 4").unwrap();
        assert_eq!(r.slices[0].start, Bound::Included(vec![Value::Int(3), Value::Int(4)]));
        assert_eq!(r.slices[0].end, Bound::Included(vec![Value::Int(3)]));
        assert!(r.filters.is_empty());
    }

    #[test]
    fn what_is_not_a_slice_is_filtered() {
        let t = table(T);
        // d without c, and a regular column: both filters.
        let r = restrictions(&t, "SELECT * FROM t WHERE a = 1 AND b = 2 AND d = 4 AND v > 1").unwrap();
        assert_eq!(r.filters.len(), 2);
        assert!(r.slices.is_empty());
        // A partial partition key: a scan with a filter.
        let r = restrictions(&t, "SELECT * FROM t WHERE a = 1").unwrap();
        assert!(matches!(r.partitions, Partitions::TokenRange { .. }));
        assert_eq!(r.filters.len(), 1);
        let r = restrictions(&t, "SELECT * FROM t WHERE token(a, b) > 10 AND token(a, b) <= 20").unwrap();
        let Partitions::TokenRange { start, end } = r.partitions else {
            panic!()
        };
        assert_eq!((start, end), (Bound::Excluded(10), Bound::Included(20)));
        assert!(restrictions(&t, "SELECT * FROM t WHERE token(b, a) > 1").is_err());
        assert!(matches!(
            restrictions(&t, "SELECT * FROM t WHERE nope = 1"),
            Err(ExecError::UnknownColumn { .. })
        ));
    }

    #[test]
    fn full_clustering_keys_are_known_for_writes() {
        let t = table(T);
        let r = restrictions(&t, "SELECT * FROM t WHERE a = 1 AND b = 2 AND c IN (1, 2) AND d = 3").unwrap();
        assert_eq!(r.full_clustering.unwrap().len(), 2);
    }
}
