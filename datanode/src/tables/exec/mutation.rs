//! INSERT, UPDATE and DELETE to partition updates (`basalt_table::partition`), as Cassandra writes
//! them: every cell carries the statement's timestamp; INSERT writes a row marker (so the row exists
//! with only its key), UPDATE does not; a null value writes a cell tombstone; setting a whole
//! collection deletes the old one just before (timestamp − 1) and writes its elements (list elements
//! keyed by a timeuuid, set elements by themselves, map entries by their key); TTL comes from
//! `USING TTL` or the table's default.
//!
//! Deletes: no column and a full primary key is a row deletion, a clustering prefix or range a range
//! tombstone, only the partition key a partition deletion; named columns get cell tombstones and
//! collections a collection deletion, `m[k]` an element tombstone.

use super::error::ExecError;
use super::eval::{Eval, Evaluated};
use super::restrict::{Partitions, Restrictions, analyze};
use basalt_table::cql::ast::{Assignment, Conditions, Delete, Insert, Term, Update, Using};
use basalt_table::partition::{Cell, CellValue, Deletion, Liveness, Partition, RangeTombstone, Row};
use basalt_table::serialize::to_bytes;
use basalt_table::{ColumnDef, ColumnKind, CqlType, NativeType, TableDef, Value};
use std::collections::BTreeMap;

/// Timestamp, TTL and the local time of one write.
#[derive(Clone, Copy, Debug)]
pub struct WriteTime {
    /// Microseconds.
    pub timestamp: i64,
    /// Seconds; 0 is none.
    pub ttl: u32,
    /// Seconds since the epoch.
    pub now: i64,
}

impl WriteTime {
    fn value(&self, bytes: Vec<u8>) -> CellValue {
        if self.ttl > 0 {
            CellValue::Expiring {
                value: bytes,
                ttl: self.ttl,
                expires_at: self.now + self.ttl as i64,
            }
        } else {
            CellValue::Live(bytes)
        }
    }

    fn tombstone(&self) -> CellValue {
        CellValue::Tombstone { local_time: self.now }
    }

    fn deletion(&self) -> Deletion {
        Deletion {
            timestamp: self.timestamp,
            local_time: self.now,
        }
    }
}

/// Resolves `USING TTL` / `USING TIMESTAMP` against the statement's defaults.
pub fn write_time(
    using: &Using,
    table: &TableDef,
    eval: &mut Eval,
    timestamp: i64,
    now: i64,
) -> Result<WriteTime, ExecError> {
    let timestamp = match &using.timestamp {
        Some(t) => match eval.required(t, &CqlType::Native(NativeType::BigInt), "[timestamp]")? {
            Value::BigInt(v) => v,
            _ => unreachable!("bigint"),
        },
        None => timestamp,
    };
    let ttl = match &using.ttl {
        Some(t) => match eval.required(t, &CqlType::Native(NativeType::Int), "[ttl]")? {
            Value::Int(v) if (0..=630_720_000).contains(&v) => v as u32,
            Value::Int(v) => {
                return Err(ExecError::invalid(format!(
                    "ttl is out of range: {v} (must be between 0 and 630720000 seconds)"
                )));
            }
            _ => unreachable!("int"),
        },
        None => table.options.default_ttl,
    };
    Ok(WriteTime { timestamp, ttl, now })
}

/// Cells of one column set to `value` (a whole value, replacing what was there).
fn set_cells(row: &mut Row, col: &ColumnDef, value: Evaluated, wt: &WriteTime, eval: &mut Eval) {
    match (value, col.ty) {
        (Evaluated::Unset, _) => {}
        (Evaluated::Null, CqlType::Native(_)) => push(row, col, None, wt.timestamp, wt.tombstone()),
        (Evaluated::Null, _) => row.collection_deletions.push((col.id, wt.deletion())),
        (Evaluated::Value(v), CqlType::Native(_)) => push(row, col, None, wt.timestamp, wt.value(to_bytes(&v))),
        (Evaluated::Value(v), _) => {
            row.collection_deletions.push((
                col.id,
                Deletion {
                    timestamp: wt.timestamp - 1,
                    local_time: wt.now,
                },
            ));
            add_elements(row, col, v, wt, eval, false);
        }
    }
}

/// Element cells of a collection value (added to what is there).
fn add_elements(row: &mut Row, col: &ColumnDef, v: Value, wt: &WriteTime, eval: &mut Eval, prepend: bool) {
    match v {
        Value::List(items) => {
            let n = items.len();
            for (i, item) in items.into_iter().enumerate() {
                let id = if prepend {
                    prepend_id(eval, n - i)
                } else {
                    eval.clock.next_timeuuid()
                };
                push(row, col, Some(id.0.to_vec()), wt.timestamp, wt.value(to_bytes(&item)));
            }
        }
        Value::Set(items) => {
            for item in items {
                push(row, col, Some(to_bytes(&item)), wt.timestamp, wt.value(Vec::new()));
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                push(row, col, Some(to_bytes(&k)), wt.timestamp, wt.value(to_bytes(&v)));
            }
        }
        _ => {}
    }
}

/// A timeuuid ordered before every appended element: time counted down from a fixed point in 2010,
/// as Cassandra's prepend does, `back` steps earlier for the `back`-th element from the end.
fn prepend_id(eval: &mut Eval, back: usize) -> basalt_table::Uuid {
    let appended = eval.clock.next_timeuuid();
    let mut b = appended.0;
    // 2010-01-01 in 100 ns ticks since the UUID epoch, minus the distance of now from it.
    const REF: u64 = 0x01DE_8D8A_E000_0000;
    let now = basalt_table::value::compare::uuid_time(&appended);
    let t = REF.saturating_sub(now.saturating_sub(REF)).saturating_sub(back as u64);
    b[0..4].copy_from_slice(&((t & 0xffff_ffff) as u32).to_be_bytes());
    b[4..6].copy_from_slice(&(((t >> 32) & 0xffff) as u16).to_be_bytes());
    b[6..8].copy_from_slice(&((((t >> 48) & 0x0fff) as u16) | 0x1000).to_be_bytes());
    basalt_table::Uuid(b)
}

fn push(row: &mut Row, col: &ColumnDef, path: Option<Vec<u8>>, timestamp: i64, value: CellValue) {
    row.cells.push(Cell {
        column: col.id,
        path,
        timestamp,
        value,
    });
}

/// Sorts cells by `(column, path)`, the last written of equal ones winning (a statement that names a
/// column twice is refused before this).
fn normalize(row: &mut Row) {
    row.cells.sort_by(|a, b| (a.column, &a.path).cmp(&(b.column, &b.path)));
    row.cells.dedup_by(|later, earlier| {
        let same = later.column == earlier.column && later.path == earlier.path;
        if same {
            std::mem::swap(later, earlier);
        }
        same
    });
}

fn new_partition(table: &TableDef, key: Vec<Value>) -> Result<Partition, ExecError> {
    basalt_table::token::check_partition_key(&key)?;
    Ok(Partition {
        table: table.id,
        token: basalt_table::token::token_of(&key),
        key,
        deletion: None,
        range_tombstones: Vec::new(),
        static_row: None,
        rows: Vec::new(),
    })
}

fn check_conditions(c: &Conditions) -> Result<(), ExecError> {
    match c {
        Conditions::None => Ok(()),
        _ => Err(ExecError::Unsupported {
            what: "Conditional updates (IF, lightweight transactions)".into(),
        }),
    }
}

fn unknown(table: &TableDef, column: &str) -> ExecError {
    ExecError::UnknownColumn {
        table: table.qualified_name(),
        column: column.to_string(),
    }
}

/// `INSERT INTO t (cols) VALUES (terms)`.
pub fn insert(
    table: &TableDef,
    stmt: &Insert,
    eval: &mut Eval,
    timestamp: i64,
    now: i64,
) -> Result<Partition, ExecError> {
    if stmt.if_not_exists {
        return Err(ExecError::Unsupported {
            what: "INSERT ... IF NOT EXISTS (lightweight transactions)".into(),
        });
    }
    if stmt.columns.len() != stmt.values.len() {
        return Err(ExecError::invalid(format!(
            "Unmatched column names/values: {} columns, {} values",
            stmt.columns.len(),
            stmt.values.len()
        )));
    }
    let wt = write_time(&stmt.using, table, eval, timestamp, now)?;
    let mut given: BTreeMap<&str, &Term> = BTreeMap::new();
    for (c, t) in stmt.columns.iter().zip(&stmt.values) {
        if table.column(c).is_none() {
            return Err(unknown(table, c));
        }
        if given.insert(c.as_str(), t).is_some() {
            return Err(ExecError::invalid(format!("Multiple definitions found for column {c}")));
        }
    }
    let key = key_values(table, eval, |name| given.get(name).copied(), true)?;
    let clustering = clustering_values(table, eval, |name| given.get(name).copied())?;
    let mut p = new_partition(table, key)?;
    let mut row = Row::default();
    let mut static_row = Row::default();
    for col in &table.columns {
        let Some(term) = given.get(col.name.as_str()) else {
            continue;
        };
        match col.kind {
            ColumnKind::PartitionKey { .. } | ColumnKind::Clustering { .. } => {}
            ColumnKind::Static => {
                let v = eval.eval(term, &col.ty)?;
                set_cells(&mut static_row, col, v, &wt, eval);
            }
            ColumnKind::Regular => {
                let v = eval.eval(term, &col.ty)?;
                set_cells(&mut row, col, v, &wt, eval);
            }
        }
    }
    let only_static = table
        .columns
        .iter()
        .all(|c| !matches!(c.kind, ColumnKind::Regular) || !given.contains_key(c.name.as_str()))
        && clustering.is_none()
        && !static_row.cells.is_empty();
    match clustering {
        Some(ck) => {
            row.clustering = ck;
            row.liveness = Some(Liveness {
                timestamp: wt.timestamp,
                expiry: (wt.ttl > 0).then(|| (wt.ttl, wt.now + wt.ttl as i64)),
            });
            normalize(&mut row);
            p.rows.push(row);
        }
        None if only_static => {}
        None => {
            let missing: Vec<&str> = table.clustering().iter().map(|c| c.name.as_str()).collect();
            return Err(ExecError::MissingClustering {
                columns: missing.join(", "),
            });
        }
    }
    if !static_row.cells.is_empty() || !static_row.collection_deletions.is_empty() {
        normalize(&mut static_row);
        p.static_row = Some(static_row);
    }
    Ok(p)
}

/// The partition key from `lookup` (INSERT) in key order.
fn key_values<'t>(
    table: &TableDef,
    eval: &mut Eval,
    lookup: impl Fn(&str) -> Option<&'t Term>,
    _insert: bool,
) -> Result<Vec<Value>, ExecError> {
    let pk = table.partition_key();
    let missing: Vec<&str> = pk
        .iter()
        .filter(|c| lookup(&c.name).is_none())
        .map(|c| c.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(ExecError::MissingPartitionKey {
            columns: missing.join(", "),
        });
    }
    pk.iter()
        .map(|c| eval.required(lookup(&c.name).expect("checked"), &c.ty, &c.name))
        .collect()
}

/// The clustering key from `lookup`: `Some` when every clustering column is given (or there are none),
/// `None` when none is; some but not all is an error.
fn clustering_values<'t>(
    table: &TableDef,
    eval: &mut Eval,
    lookup: impl Fn(&str) -> Option<&'t Term>,
) -> Result<Option<Vec<Value>>, ExecError> {
    let ck = table.clustering();
    let given: Vec<bool> = ck.iter().map(|c| lookup(&c.name).is_some()).collect();
    if given.iter().all(|g| !g) && !ck.is_empty() {
        return Ok(None);
    }
    if !given.iter().all(|g| *g) {
        let missing: Vec<&str> = ck
            .iter()
            .zip(&given)
            .filter(|(_, g)| !**g)
            .map(|(c, _)| c.name.as_str())
            .collect();
        return Err(ExecError::MissingClustering {
            columns: missing.join(", "),
        });
    }
    ck.iter()
        .map(|c| eval.required(lookup(&c.name).expect("checked"), &c.ty, &c.name))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn partition_keys(table: &TableDef, r: &Restrictions) -> Result<Vec<Vec<Value>>, ExecError> {
    match &r.partitions {
        Partitions::Keys(keys) => Ok(keys.clone()),
        Partitions::TokenRange { .. } => {
            let missing: Vec<&str> = table.partition_key().iter().map(|c| c.name.as_str()).collect();
            Err(ExecError::MissingPartitionKey {
                columns: missing.join(", "),
            })
        }
    }
}

/// `UPDATE t SET ... WHERE key`.
pub fn update(
    table: &TableDef,
    stmt: &Update,
    eval: &mut Eval,
    timestamp: i64,
    now: i64,
) -> Result<Vec<Partition>, ExecError> {
    check_conditions(&stmt.conditions)?;
    let wt = write_time(&stmt.using, table, eval, timestamp, now)?;
    let r = analyze(table, &stmt.where_clause, eval)?;
    if !r.filters.is_empty() {
        return Err(ExecError::invalid(
            "UPDATE needs the whole primary key restricted by = or IN (no other relations)",
        ));
    }
    let keys = partition_keys(table, &r)?;
    let has_ck = !table.clustering().is_empty();
    let mut row = Row::default();
    let mut static_row = Row::default();
    let mut regular = false;
    for a in &stmt.assignments {
        let name = match a {
            Assignment::Set { column, .. }
            | Assignment::Add { column, .. }
            | Assignment::Prepend { column, .. }
            | Assignment::Subtract { column, .. }
            | Assignment::SetElement { column, .. } => column,
        };
        let col = table.column(name).ok_or_else(|| unknown(table, name))?;
        if col.kind.is_primary_key() {
            return Err(ExecError::invalid(format!("PRIMARY KEY part {name} found in SET part")));
        }
        let target = if col.kind == ColumnKind::Static {
            &mut static_row
        } else {
            regular = true;
            &mut row
        };
        assign(target, col, a, &wt, eval)?;
    }
    let clusterings = match (&r.full_clustering, has_ck, regular) {
        (_, false, _) => vec![Vec::new()],
        (Some(cks), true, _) => cks.clone(),
        (None, true, false) if r.slices.is_empty() => Vec::new(),
        (None, true, _) => {
            let names: Vec<&str> = table.clustering().iter().map(|c| c.name.as_str()).collect();
            return Err(ExecError::MissingClustering {
                columns: names.join(", "),
            });
        }
    };
    normalize(&mut row);
    normalize(&mut static_row);
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let mut p = new_partition(table, key)?;
        if regular {
            for ck in &clusterings {
                let mut r = row.clone();
                r.clustering = ck.clone();
                p.rows.push(r);
            }
        }
        if !static_row.cells.is_empty() || !static_row.collection_deletions.is_empty() {
            p.static_row = Some(static_row.clone());
        }
        out.push(p);
    }
    Ok(out)
}

fn element_types(col: &ColumnDef) -> Option<(CqlType, CqlType)> {
    match col.ty {
        CqlType::Map(k, v) => Some((CqlType::Native(k), CqlType::Native(v))),
        CqlType::List(e) => Some((CqlType::Native(NativeType::Int), CqlType::Native(e))),
        CqlType::Set(e) => Some((CqlType::Native(e), CqlType::Native(e))),
        CqlType::Native(_) => None,
    }
}

fn assign(row: &mut Row, col: &ColumnDef, a: &Assignment, wt: &WriteTime, eval: &mut Eval) -> Result<(), ExecError> {
    let not_collection = || ExecError::invalid(format!("Invalid operation on non-collection column {}", col.name));
    match a {
        Assignment::Set { value, .. } => {
            let v = eval.eval(value, &col.ty)?;
            set_cells(row, col, v, wt, eval);
        }
        Assignment::Add { value, .. } | Assignment::Prepend { value, .. } => {
            if !col.ty.is_collection() {
                return Err(match col.ty {
                    CqlType::Native(_) => ExecError::Unsupported {
                        what: format!("Arithmetic on {} (counters)", col.name),
                    },
                    _ => not_collection(),
                });
            }
            let prepend = matches!(a, Assignment::Prepend { .. });
            if prepend && !matches!(col.ty, CqlType::List(_)) {
                return Err(ExecError::invalid(format!(
                    "Prepending is only valid on lists, not {}",
                    col.name
                )));
            }
            if let Evaluated::Value(v) = eval.eval(value, &col.ty)? {
                add_elements(row, col, v, wt, eval, prepend);
            }
        }
        Assignment::Subtract { value, .. } => match col.ty {
            CqlType::Set(_) => {
                if let Evaluated::Value(Value::Set(items)) = eval.eval(value, &col.ty)? {
                    for item in items {
                        push(row, col, Some(to_bytes(&item)), wt.timestamp, wt.tombstone());
                    }
                }
            }
            CqlType::Map(k, _) => {
                if let Evaluated::Value(Value::Set(keys)) = eval.eval(value, &CqlType::Set(k))? {
                    for key in keys {
                        push(row, col, Some(to_bytes(&key)), wt.timestamp, wt.tombstone());
                    }
                }
            }
            CqlType::List(_) => {
                return Err(ExecError::Unsupported {
                    what: "Removing list elements by value (it needs a read before the write)".into(),
                });
            }
            CqlType::Native(_) => return Err(not_collection()),
        },
        Assignment::SetElement { key, value, .. } => {
            let (kt, vt) = element_types(col).ok_or_else(not_collection)?;
            match col.ty {
                CqlType::Map(..) => {
                    let k = eval.required(key, &kt, &col.name)?;
                    let cell = match eval.eval(value, &vt)? {
                        Evaluated::Value(v) => wt.value(to_bytes(&v)),
                        Evaluated::Null => wt.tombstone(),
                        Evaluated::Unset => return Ok(()),
                    };
                    push(row, col, Some(to_bytes(&k)), wt.timestamp, cell);
                }
                _ => {
                    return Err(ExecError::Unsupported {
                        what: format!(
                            "Setting an element of {} by index (it needs a read before the write)",
                            col.name
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}

/// `DELETE [cols] FROM t WHERE ...`.
pub fn delete(
    table: &TableDef,
    stmt: &Delete,
    eval: &mut Eval,
    timestamp: i64,
    now: i64,
) -> Result<Vec<Partition>, ExecError> {
    check_conditions(&stmt.conditions)?;
    let using = Using {
        ttl: None,
        timestamp: stmt.timestamp.clone(),
    };
    let wt = write_time(&using, table, eval, timestamp, now)?;
    let wt = WriteTime { ttl: 0, ..wt };
    let r = analyze(table, &stmt.where_clause, eval)?;
    if !r.filters.is_empty() {
        return Err(ExecError::invalid(
            "DELETE supports only the partition key and a clustering prefix or range in WHERE",
        ));
    }
    let keys = partition_keys(table, &r)?;
    let has_ck = !table.clustering().is_empty();
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let mut p = new_partition(table, key)?;
        if stmt.columns.is_empty() {
            match (&r.full_clustering, r.slices.is_empty(), has_ck) {
                (Some(cks), _, true) => {
                    for ck in cks {
                        p.rows.push(Row {
                            clustering: ck.clone(),
                            deletion: Some(wt.deletion()),
                            ..Row::default()
                        });
                    }
                }
                (None, true, _) | (_, _, false) => p.deletion = Some(wt.deletion()),
                (None, false, true) => {
                    for s in &r.slices {
                        p.range_tombstones.push(RangeTombstone {
                            start: s.start.clone(),
                            end: s.end.clone(),
                            deletion: wt.deletion(),
                        });
                    }
                }
            }
        } else {
            let mut row = Row::default();
            let mut static_row = Row::default();
            let mut regular = false;
            for d in &stmt.columns {
                let col = table.column(&d.column).ok_or_else(|| unknown(table, &d.column))?;
                if col.kind.is_primary_key() {
                    return Err(ExecError::invalid(format!(
                        "Invalid identifier {} for deletion (should not be a PRIMARY KEY part)",
                        col.name
                    )));
                }
                let target = if col.kind == ColumnKind::Static {
                    &mut static_row
                } else {
                    regular = true;
                    &mut row
                };
                match (&d.element, col.ty) {
                    (None, CqlType::Native(_)) => push(target, col, None, wt.timestamp, wt.tombstone()),
                    (None, _) => target.collection_deletions.push((col.id, wt.deletion())),
                    (Some(k), CqlType::Map(kt, _)) | (Some(k), CqlType::Set(kt)) => {
                        let key = eval.required(k, &CqlType::Native(kt), &col.name)?;
                        push(target, col, Some(to_bytes(&key)), wt.timestamp, wt.tombstone());
                    }
                    (Some(_), CqlType::List(_)) => {
                        return Err(ExecError::Unsupported {
                            what: "Deleting a list element by index (it needs a read before the write)".into(),
                        });
                    }
                    (Some(_), CqlType::Native(_)) => {
                        return Err(ExecError::invalid(format!(
                            "Invalid element deletion on non-collection column {}",
                            col.name
                        )));
                    }
                }
            }
            if regular {
                let cks = match (&r.full_clustering, has_ck) {
                    (_, false) => vec![Vec::new()],
                    (Some(cks), true) => cks.clone(),
                    (None, true) => {
                        let names: Vec<&str> = table.clustering().iter().map(|c| c.name.as_str()).collect();
                        return Err(ExecError::MissingClustering {
                            columns: names.join(", "),
                        });
                    }
                };
                normalize(&mut row);
                for ck in cks {
                    let mut r = row.clone();
                    r.clustering = ck;
                    p.rows.push(r);
                }
            }
            if !static_row.cells.is_empty() || !static_row.collection_deletions.is_empty() {
                normalize(&mut static_row);
                p.static_row = Some(static_row);
            }
        }
        out.push(p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_common::TableId;
    use basalt_table::cql::ast::Statement;
    use basalt_table::cql::parser::parse;
    use std::ops::Bound;

    fn table(ddl: &str) -> TableDef {
        let Statement::CreateTable(ct) = parse(ddl).unwrap() else {
            panic!()
        };
        basalt_table::cql::schema::table_def(&ct, "ks", TableId(1)).unwrap()
    }

    fn ev() -> Eval {
        Eval::new(Vec::new(), Vec::new())
    }

    const T: &str =
        "CREATE TABLE t (k int, c int, s text static, v text, l list<int>, m map<text, int>, PRIMARY KEY (k, c))";

    #[test]
    fn insert_writes_a_marker_cells_and_a_collection_replacement() {
        let t = table(T);
        let Statement::Insert(i) =
            parse("INSERT INTO t (k, c, v, l, s) VALUES (1, 2, null, [7, 8], 'x') USING TTL 10").unwrap()
        else {
            panic!()
        };
        let p = insert(&t, &i, &mut ev(), 1000, 50).unwrap();
        assert_eq!(p.key, vec![Value::Int(1)]);
        assert_eq!(p.token, basalt_table::token::token_of(&[Value::Int(1)]));
        let row = &p.rows[0];
        assert_eq!(row.clustering, vec![Value::Int(2)]);
        assert_eq!(row.liveness.unwrap().expiry, Some((10, 60)));
        let v = t.column("v").unwrap().id;
        let l = t.column("l").unwrap().id;
        assert!(
            row.cells
                .iter()
                .any(|c| c.column == v && matches!(c.value, CellValue::Tombstone { .. }))
        );
        assert_eq!(row.cells.iter().filter(|c| c.column == l).count(), 2);
        assert_eq!(
            row.collection_deletions,
            vec![(
                l,
                Deletion {
                    timestamp: 999,
                    local_time: 50
                }
            )]
        );
        assert_eq!(p.static_row.as_ref().unwrap().cells.len(), 1);
    }

    #[test]
    fn key_errors_name_the_columns() {
        let t = table(T);
        let Statement::Insert(i) = parse("INSERT INTO t (c, v) VALUES (1, 'a')").unwrap() else {
            panic!()
        };
        assert!(matches!(
            insert(&t, &i, &mut ev(), 1, 1),
            Err(ExecError::MissingPartitionKey { .. })
        ));
        let Statement::Insert(i) = parse("INSERT INTO t (k, v) VALUES (1, 'a')").unwrap() else {
            panic!()
        };
        assert!(matches!(
            insert(&t, &i, &mut ev(), 1, 1),
            Err(ExecError::MissingClustering { .. })
        ));
        let Statement::Insert(i) = parse("INSERT INTO t (k, nope) VALUES (1, 'a')").unwrap() else {
            panic!()
        };
        assert!(matches!(
            insert(&t, &i, &mut ev(), 1, 1),
            Err(ExecError::UnknownColumn { .. })
        ));
        // Only static columns: no clustering needed.
        let Statement::Insert(i) = parse("INSERT INTO t (k, s) VALUES (1, 'a')").unwrap() else {
            panic!()
        };
        let p = insert(&t, &i, &mut ev(), 1, 1).unwrap();
        assert!(p.rows.is_empty() && p.static_row.is_some());
    }

    #[test]
    fn update_in_and_map_elements() {
        let t = table(T);
        let Statement::Update(u) =
            parse("UPDATE t USING TIMESTAMP 5 SET m['a'] = 1, m = m - {'b'} WHERE k IN (1, 2) AND c = 3").unwrap()
        else {
            panic!()
        };
        let ps = update(&t, &u, &mut ev(), 1000, 50).unwrap();
        assert_eq!(ps.len(), 2);
        let row = &ps[0].rows[0];
        assert!(row.liveness.is_none(), "UPDATE writes no row marker");
        assert_eq!(row.cells.len(), 2);
        assert!(row.cells.iter().all(|c| c.timestamp == 5));
    }

    #[test]
    fn deletes_become_row_range_and_partition_tombstones() {
        let t = table(T);
        let del = |s: &str| {
            let Statement::Delete(d) = parse(s).unwrap() else {
                panic!()
            };
            delete(&t, &d, &mut ev(), 100, 1).unwrap().remove(0)
        };
        let p = del("DELETE FROM t WHERE k = 1 AND c = 2");
        assert_eq!(
            p.rows[0].deletion,
            Some(Deletion {
                timestamp: 100,
                local_time: 1
            })
        );
        let p = del("DELETE FROM t WHERE k = 1 AND c > 2 AND c <= 5");
        assert_eq!(p.range_tombstones[0].start, Bound::Excluded(vec![Value::Int(2)]));
        assert_eq!(p.range_tombstones[0].end, Bound::Included(vec![Value::Int(5)]));
        let p = del("DELETE FROM t WHERE k = 1");
        assert!(p.deletion.is_some());
        let p = del("DELETE m['x'], v FROM t WHERE k = 1 AND c = 2");
        assert_eq!(p.rows[0].cells.len(), 2);
    }
}
