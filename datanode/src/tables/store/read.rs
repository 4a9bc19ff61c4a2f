//! Reads: one partition by key with clustering slices, and scans by token range with paging.

use super::entry::Entry;
use super::keys::{EntryKey, KIND_HEADER, KIND_ROW, KIND_STATIC, KeyLayout, token_bytes};
use super::{TableStore, TableStoreError};
use basalt_common::ColumnId;
use basalt_table::partition::{ClusteringComparator, Partition, Row};
use basalt_table::schema::TableDef;
use basalt_table::value::Value;
use rocksdb::{Direction, IteratorMode, ReadOptions};
use std::ops::Bound;

/// A clustering slice `(start, end)`: prefixes in clustering order.
pub type Slice = (Bound<Vec<Value>>, Bound<Vec<Value>>);

/// A read of one partition.
#[derive(Clone, Debug, PartialEq)]
pub struct PartitionRead {
    pub token: i64,
    pub key: Vec<Value>,
    /// Clustering slices `(start, end)`, prefixes in clustering order, sorted and disjoint; empty
    /// means every row.
    pub slices: Vec<Slice>,
    /// Walk the rows from the end (the `limit` then keeps the last rows); rows come back in
    /// clustering order either way.
    pub reversed: bool,
    /// Stop after this many live rows (at `now_secs`); tombstones met on the way are returned too.
    pub limit: Option<usize>,
    /// Only these columns' cells (row markers and deletions are always returned).
    pub columns: Option<Vec<ColumnId>>,
    /// The reader's clock (seconds since the epoch), for TTL in the `limit`.
    pub now_secs: i64,
}

impl PartitionRead {
    /// The whole partition.
    pub fn all(token: i64, key: Vec<Value>, now_secs: i64) -> PartitionRead {
        PartitionRead {
            token,
            key,
            slices: Vec::new(),
            reversed: false,
            limit: None,
            columns: None,
            now_secs,
        }
    }
}

/// A scan of the partitions whose tokens are within `(start, end)`, in token order.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenScan {
    pub start: Bound<i64>,
    pub end: Bound<i64>,
    /// Resume after this partition ([`ScanPage::resume`] of the previous page).
    pub resume_after: Option<Vec<u8>>,
    /// At most this many partitions in the page.
    pub max_partitions: usize,
    pub columns: Option<Vec<ColumnId>>,
}

/// A page of a scan.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanPage {
    pub partitions: Vec<Partition>,
    /// Where the next page starts (the last partition's key bytes), `None` at the end of the range.
    pub resume: Option<Vec<u8>>,
}

fn keep_columns(row: &mut Row, columns: &Option<Vec<ColumnId>>) {
    if let Some(cols) = columns {
        row.cells.retain(|c| cols.contains(&c.column));
        row.collection_deletions.retain(|(c, _)| cols.contains(c));
    }
}

/// Adds one stored entry to the partition being assembled.
fn add_entry(p: &mut Partition, k: EntryKey, e: Entry, columns: &Option<Vec<ColumnId>>) -> Result<(), String> {
    match (k.kind, e) {
        (
            KIND_HEADER,
            Entry::Header {
                deletion,
                range_tombstones,
            },
        ) => {
            p.deletion = deletion;
            p.range_tombstones = range_tombstones;
        }
        (KIND_STATIC, Entry::Row(mut r)) => {
            keep_columns(&mut r, columns);
            p.static_row = Some(r);
        }
        (KIND_ROW, Entry::Row(mut r)) => {
            keep_columns(&mut r, columns);
            r.clustering = k.clustering;
            p.rows.push(r);
        }
        (kind, _) => return Err(format!("entry of kind {kind} holds the wrong kind of value")),
    }
    Ok(())
}

impl TableStore {
    fn decode_entry(
        &self,
        table: &TableDef,
        layout: &KeyLayout,
        key: &[u8],
        value: &[u8],
    ) -> Result<(EntryKey, Entry), TableStoreError> {
        let k = layout
            .decode(key)
            .map_err(|e| self.corrupt(table.id, key, format!("key: {e}")))?;
        let e = Entry::decode(value).map_err(|e| self.corrupt(table.id, key, format!("value: {e}")))?;
        Ok((k, e))
    }

    /// Iterates `[lower, upper)` forwards or backwards, calling `f` until it returns false.
    fn walk(
        &self,
        table: &TableDef,
        lower: Vec<u8>,
        upper: Option<Vec<u8>>,
        reverse: bool,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<bool, TableStoreError>,
    ) -> Result<(), TableStoreError> {
        let cf = self.cf(table.id)?;
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(lower.clone());
        if let Some(u) = upper.filter(|u| !u.is_empty()) {
            ro.set_iterate_upper_bound(u);
        }
        let mode = if reverse {
            IteratorMode::End
        } else {
            IteratorMode::From(&lower, Direction::Forward)
        };
        for item in self.db().iterator_cf_opt(&cf, ro, mode) {
            let (k, v) = item.map_err(|e| self.read_error(table.id, &lower, e))?;
            if !f(&k, &v)? {
                break;
            }
        }
        Ok(())
    }

    /// What this replica holds of the partition within the read's slices, tombstones included and
    /// shadowed data removed (so that replicas holding the same content give the same digest).
    pub fn read(&self, table: &TableDef, read: &PartitionRead) -> Result<Partition, TableStoreError> {
        let layout = KeyLayout::for_table(table);
        let cmp = ClusteringComparator::for_table(table);
        let prefix = layout
            .partition_prefix(read.token, &read.key)
            .map_err(|source| TableStoreError::Key {
                table: table.id,
                source,
            })?;
        let mut p = Partition::new(table.id, read.token, read.key.clone());
        // The partition level entries.
        let rows_start = layout.entry(&prefix, KIND_ROW, &[]).expect("no clustering");
        self.walk(table, prefix.clone(), Some(rows_start), false, |k, v| {
            let (k, e) = self.decode_entry(table, &layout, k, v)?;
            add_entry(&mut p, k, e, &read.columns).map_err(|d| self.corrupt(table.id, &prefix, d))?;
            Ok(true)
        })?;
        let all = [(Bound::Unbounded, Bound::Unbounded)];
        let slices: &[_] = if read.slices.is_empty() { &all } else { &read.slices };
        let mut live = 0usize;
        let mut rows: Vec<Row> = Vec::new();
        let ordered: Box<dyn Iterator<Item = &Slice>> = if read.reversed {
            Box::new(slices.iter().rev())
        } else {
            Box::new(slices.iter())
        };
        'slices: for (start, end) in ordered {
            if read.limit.is_some_and(|l| live >= l) {
                break;
            }
            let (lo, hi) = layout
                .row_range(&prefix, start, end)
                .map_err(|source| TableStoreError::Key {
                    table: table.id,
                    source,
                })?;
            let mut done = false;
            self.walk(table, lo, Some(hi), read.reversed, |k, v| {
                let (k, e) = self.decode_entry(table, &layout, k, v)?;
                let Entry::Row(mut r) = e else {
                    return Err(self.corrupt(table.id, &prefix, "a row entry holds a header".into()));
                };
                r.clustering = k.clustering;
                if p.row_is_live(&r, &cmp, table, read.now_secs) {
                    live += 1;
                }
                keep_columns(&mut r, &read.columns);
                rows.push(r);
                done = read.limit.is_some_and(|l| live >= l);
                Ok(!done)
            })?;
            if done {
                break 'slices;
            }
        }
        if read.reversed {
            rows.reverse();
        }
        p.rows = rows;
        p.compact(&cmp);
        Ok(p)
    }

    /// A page of the partitions in a token range, in token order (then partition key bytes).
    pub fn scan(&self, table: &TableDef, scan: &TokenScan) -> Result<ScanPage, TableStoreError> {
        let layout = KeyLayout::for_table(table);
        let cmp = ClusteringComparator::for_table(table);
        let empty = ScanPage {
            partitions: Vec::new(),
            resume: None,
        };
        let mut lower = match scan.start {
            Bound::Unbounded => Vec::new(),
            Bound::Included(t) => token_bytes(t).to_vec(),
            Bound::Excluded(i64::MAX) => return Ok(empty),
            Bound::Excluded(t) => token_bytes(t + 1).to_vec(),
        };
        if let Some(after) = &scan.resume_after {
            lower = lower.max(KeyLayout::partition_end(after));
        }
        let upper = match scan.end {
            Bound::Unbounded | Bound::Included(i64::MAX) => None,
            Bound::Included(t) => Some(token_bytes(t + 1).to_vec()),
            Bound::Excluded(t) => Some(token_bytes(t).to_vec()),
        };
        if upper.as_ref().is_some_and(|u| *u <= lower) {
            return Ok(empty);
        }
        let mut parts: Vec<(Vec<u8>, Partition)> = Vec::new();
        let mut more = false;
        self.walk(table, lower, upper, false, |k, v| {
            let (k, e) = self.decode_entry(table, &layout, k, v)?;
            if parts.last().is_none_or(|(prefix, _)| *prefix != k.partition_prefix) {
                if parts.len() >= scan.max_partitions {
                    more = true;
                    return Ok(false);
                }
                let p = Partition::new(table.id, k.token, k.key.clone());
                parts.push((k.partition_prefix.clone(), p));
            }
            let (prefix, p) = parts.last_mut().expect("pushed");
            let prefix = prefix.clone();
            add_entry(p, k, e, &scan.columns).map_err(|d| self.corrupt(table.id, &prefix, d))?;
            Ok(true)
        })?;
        let resume = if more {
            parts.last().map(|(k, _)| k.clone())
        } else {
            None
        };
        let partitions = parts
            .into_iter()
            .map(|(_, mut p)| {
                p.compact(&cmp);
                p
            })
            .collect();
        Ok(ScanPage { partitions, resume })
    }
}
