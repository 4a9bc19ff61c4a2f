//! Rows as a reader sees them: tombstones applied, expired cells gone, collection elements gathered
//! per column, the static row's cells joined to every row (as CQL does).

use super::reconcile::{ClusteringComparator, max_deletion};
use super::{Cell, CellValue, Deletion, Partition, Row};
use crate::schema::TableDef;
use crate::value::Value;
use basalt_common::ColumnId;

/// A live column value: a simple column's serialized value, or a collection's live elements in path
/// order (`(path, value)`; a set element's value is empty, a list element's path is its timeuuid).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveValue {
    Simple(Vec<u8>),
    Collection(Vec<(Vec<u8>, Vec<u8>)>),
}

/// One row of a read result. `clustering` is empty for a partition that has only static cells
/// (CQL shows its clustering columns as null).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveRow {
    pub clustering: Vec<Value>,
    /// By column id, ascending; static columns included; columns without a live value absent.
    pub columns: Vec<(ColumnId, LiveValue)>,
}

fn live_bytes(c: &Cell, now: i64) -> Option<&[u8]> {
    match &c.value {
        CellValue::Live(v) => Some(v),
        CellValue::Expiring { value, expires_at, .. } if *expires_at > now => Some(value),
        _ => None,
    }
}

/// The live cells of `row` under `shadow`, gathered per column; whether a marker or cell is live.
fn live_columns(table: &TableDef, row: &Row, shadow: Option<Deletion>, now: i64) -> (bool, Vec<(ColumnId, LiveValue)>) {
    let top = max_deletion(shadow, row.deletion).map(|d| d.timestamp);
    let over = |ts: i64| top.is_some_and(|t| ts <= t);
    let marker = row
        .liveness
        .is_some_and(|l| !over(l.timestamp) && l.expiry.is_none_or(|(_, at)| at > now));
    let mut out: Vec<(ColumnId, LiveValue)> = Vec::new();
    let mut any = false;
    for c in &row.cells {
        if over(c.timestamp) || table.column_by_id(c.column).is_none() {
            continue;
        }
        let Some(v) = live_bytes(c, now) else { continue };
        match &c.path {
            None => out.push((c.column, LiveValue::Simple(v.to_vec()))),
            Some(p) => {
                let deleted = row
                    .collection_deletions
                    .iter()
                    .any(|(col, d)| *col == c.column && c.timestamp <= d.timestamp);
                if deleted {
                    continue;
                }
                match out.last_mut() {
                    Some((col, LiveValue::Collection(items))) if *col == c.column => {
                        items.push((p.clone(), v.to_vec()))
                    }
                    _ => out.push((c.column, LiveValue::Collection(vec![(p.clone(), v.to_vec())]))),
                }
            }
        }
        any = true;
    }
    (marker || any, out)
}

fn join(mut cols: Vec<(ColumnId, LiveValue)>, statics: &[(ColumnId, LiveValue)]) -> Vec<(ColumnId, LiveValue)> {
    if !statics.is_empty() {
        cols.extend(statics.iter().cloned());
        cols.sort_by_key(|(c, _)| *c);
    }
    cols
}

impl Partition {
    /// The rows a reader sees at `now_secs`, in clustering order.
    pub fn live_rows<'a>(&'a self, table: &'a TableDef, now_secs: i64) -> impl Iterator<Item = LiveRow> + 'a {
        let cmp = ClusteringComparator::for_table(table);
        let statics = match &self.static_row {
            Some(s) => live_columns(table, s, self.deletion, now_secs).1,
            None => Vec::new(),
        };
        let mut rows: Vec<LiveRow> = self
            .rows
            .iter()
            .filter_map(|r| {
                let (live, cols) = live_columns(table, r, self.shadow_of(&r.clustering, &cmp), now_secs);
                live.then(|| LiveRow {
                    clustering: r.clustering.clone(),
                    columns: join(cols, &statics),
                })
            })
            .collect();
        if rows.is_empty() && !statics.is_empty() {
            rows.push(LiveRow {
                clustering: Vec::new(),
                columns: statics,
            });
        }
        rows.into_iter()
    }

    /// Whether `row` (one of this partition's) is live at `now_secs` (counts towards a read's limit).
    pub fn row_is_live(&self, row: &Row, cmp: &ClusteringComparator, table: &TableDef, now_secs: i64) -> bool {
        live_columns(table, row, self.shadow_of(&row.clustering, cmp), now_secs).0
    }
}
