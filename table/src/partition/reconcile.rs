//! Reconciliation of partitions: the join of two replicas' versions (`merge`), what a stale replica
//! lacks (`diff`), the removal of shadowed data (`compact`) and the purge of expired and old tombstones
//! (`purge`). `merge` is a pure join (commutative, associative, idempotent) and keeps shadowed data;
//! `compact` drops it; `purge` also turns expired cells into tombstones and drops tombstones past grace.

use super::{Cell, CellValue, Deletion, Liveness, Partition, RangeTombstone, Row};
use crate::schema::{ClusteringOrder, TableDef};
use crate::value::Value;
use basalt_common::ColumnId;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;

/// The order of clustering keys (and their prefixes) in a table: each component by its column's
/// direction, a prefix before its extensions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusteringComparator {
    orders: Vec<ClusteringOrder>,
}

impl ClusteringComparator {
    pub fn new(orders: Vec<ClusteringOrder>) -> Self {
        ClusteringComparator { orders }
    }

    pub fn for_table(table: &TableDef) -> Self {
        let orders = table
            .clustering()
            .iter()
            .map(|c| match c.kind {
                crate::schema::ColumnKind::Clustering { order, .. } => order,
                _ => ClusteringOrder::Asc,
            })
            .collect();
        ClusteringComparator { orders }
    }

    /// Compares two clustering keys or prefixes in clustering order.
    pub fn cmp(&self, a: &[Value], b: &[Value]) -> Ordering {
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            let o = x.cmp(y);
            let o = match self.orders.get(i) {
                Some(ClusteringOrder::Desc) => o.reverse(),
                _ => o,
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.len().cmp(&b.len())
    }

    /// Compares `clustering` truncated to the length of `prefix` with `prefix`.
    fn cmp_prefix(&self, clustering: &[Value], prefix: &[Value]) -> Ordering {
        let n = prefix.len().min(clustering.len());
        self.cmp(&clustering[..n], prefix)
    }

    /// Whether `clustering` lies within `[start, end]` (bounds are clustering prefixes, in clustering
    /// order: `start` at or before `end`).
    pub fn contains(&self, start: &Bound<Vec<Value>>, end: &Bound<Vec<Value>>, clustering: &[Value]) -> bool {
        let after_start = match start {
            Bound::Unbounded => true,
            Bound::Included(p) => self.cmp_prefix(clustering, p) != Ordering::Less,
            Bound::Excluded(p) => self.cmp_prefix(clustering, p) == Ordering::Greater,
        };
        after_start
            && match end {
                Bound::Unbounded => true,
                Bound::Included(p) => self.cmp_prefix(clustering, p) != Ordering::Greater,
                Bound::Excluded(p) => self.cmp_prefix(clustering, p) == Ordering::Less,
            }
    }
}

/// The greater of two deletions (timestamp, then local time).
pub fn max_deletion(a: Option<Deletion>, b: Option<Deletion>) -> Option<Deletion> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if (y.timestamp, y.local_time) > (x.timestamp, x.local_time) {
            y
        } else {
            x
        }),
        (x, None) => x,
        (None, y) => y,
    }
}

fn deletion_key(d: &Deletion) -> (i64, i64) {
    (d.timestamp, d.local_time)
}

/// The total order of cell versions: the greater one wins (see the module docs of `partition`).
pub fn cell_order(a: &Cell, b: &Cell) -> Ordering {
    fn key(c: &Cell) -> (i64, u8, i64, &[u8], u32) {
        match &c.value {
            CellValue::Tombstone { local_time } => (c.timestamp, 2, *local_time, &[], 0),
            CellValue::Expiring { value, ttl, expires_at } => (c.timestamp, 1, *expires_at, value, *ttl),
            CellValue::Live(v) => (c.timestamp, 0, 0, v, 0),
        }
    }
    key(a).cmp(&key(b))
}

fn liveness_key(l: &Liveness) -> (i64, bool, i64, u32) {
    match l.expiry {
        Some((ttl, at)) => (l.timestamp, true, at, ttl),
        None => (l.timestamp, false, 0, 0),
    }
}

fn max_liveness(a: Option<Liveness>, b: Option<Liveness>) -> Option<Liveness> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if liveness_key(&y) > liveness_key(&x) { y } else { x }),
        (x, None) => x,
        (None, y) => y,
    }
}

fn bound_key(b: &Bound<Vec<Value>>) -> (u8, &[Value]) {
    match b {
        Bound::Unbounded => (0, &[]),
        Bound::Included(p) => (1, p),
        Bound::Excluded(p) => (2, p),
    }
}

/// A canonical (not clustering) order of range tombstones, so that equal sets are equal vectors.
fn rt_order(a: &RangeTombstone, b: &RangeTombstone) -> Ordering {
    (bound_key(&a.start), bound_key(&a.end)).cmp(&(bound_key(&b.start), bound_key(&b.end)))
}

fn same_bounds(a: &RangeTombstone, b: &RangeTombstone) -> bool {
    rt_order(a, b) == Ordering::Equal
}

/// Joins two sets of range tombstones: one per pair of bounds, the greater deletion.
pub fn merge_range_tombstones(a: &mut Vec<RangeTombstone>, b: Vec<RangeTombstone>) {
    a.extend(b);
    a.sort_by(|x, y| rt_order(x, y).then_with(|| deletion_key(&y.deletion).cmp(&deletion_key(&x.deletion))));
    a.dedup_by(|later, earlier| same_bounds(later, earlier));
}

impl Row {
    pub fn empty(clustering: Vec<Value>) -> Row {
        Row {
            clustering,
            ..Row::default()
        }
    }

    /// Whether the row holds nothing at all (no marker, deletion or cell).
    pub fn is_empty(&self) -> bool {
        self.liveness.is_none()
            && self.deletion.is_none()
            && self.collection_deletions.is_empty()
            && self.cells.is_empty()
    }

    /// Joins `other` (a version of the same row) into `self`.
    pub fn merge(&mut self, other: Row) {
        self.liveness = max_liveness(self.liveness, other.liveness);
        self.deletion = max_deletion(self.deletion, other.deletion);
        if !other.collection_deletions.is_empty() {
            let mut all: BTreeMap<ColumnId, Deletion> = BTreeMap::new();
            for (c, d) in self.collection_deletions.drain(..).chain(other.collection_deletions) {
                let e = all.entry(c).or_insert(d);
                *e = max_deletion(Some(*e), Some(d)).expect("some");
            }
            self.collection_deletions = all.into_iter().collect();
        }
        if other.cells.is_empty() {
            return;
        }
        if self.cells.is_empty() {
            self.cells = other.cells;
            return;
        }
        let mine = std::mem::take(&mut self.cells);
        let mut out = Vec::with_capacity(mine.len() + other.cells.len());
        let (mut a, mut b) = (mine.into_iter().peekable(), other.cells.into_iter().peekable());
        loop {
            let ord = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => (x.column, &x.path).cmp(&(y.column, &y.path)),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => break,
            };
            match ord {
                Ordering::Less => out.push(a.next().expect("peeked")),
                Ordering::Greater => out.push(b.next().expect("peeked")),
                Ordering::Equal => {
                    let (x, y) = (a.next().expect("peeked"), b.next().expect("peeked"));
                    out.push(if cell_order(&y, &x) == Ordering::Greater { y } else { x });
                }
            }
        }
        self.cells = out;
    }

    /// What `self` (the reconciled row) has that `replica` lacks; `None` if nothing.
    pub fn diff(&self, replica: &Row) -> Option<Row> {
        let mut d = Row::empty(self.clustering.clone());
        if self.liveness.is_some() && self.liveness != replica.liveness {
            d.liveness = self.liveness;
        }
        if self.deletion.is_some() && self.deletion != replica.deletion {
            d.deletion = self.deletion;
        }
        for (c, del) in &self.collection_deletions {
            if !replica.collection_deletions.iter().any(|(rc, rd)| rc == c && rd == del) {
                d.collection_deletions.push((*c, *del));
            }
        }
        for cell in &self.cells {
            let theirs = replica
                .cells
                .binary_search_by(|r| (r.column, &r.path).cmp(&(cell.column, &cell.path)))
                .ok()
                .map(|i| &replica.cells[i]);
            if theirs != Some(cell) {
                d.cells.push(cell.clone());
            }
        }
        (!d.is_empty()).then_some(d)
    }

    /// Drops what `shadow` (the deletion covering the row from above) and the row's own deletions
    /// shadow.
    fn compact(&mut self, shadow: Option<Deletion>) {
        if let (Some(s), Some(d)) = (shadow, self.deletion)
            && deletion_key(&d) <= deletion_key(&s)
        {
            self.deletion = None;
        }
        let top = max_deletion(shadow, self.deletion).map(|d| d.timestamp);
        if let (Some(t), Some(l)) = (top, self.liveness)
            && l.timestamp <= t
        {
            self.liveness = None;
        }
        if let Some(t) = top {
            self.collection_deletions.retain(|(_, d)| d.timestamp > t);
        }
        let coll = &self.collection_deletions;
        self.cells.retain(|c| {
            let above = top.is_some_and(|t| c.timestamp <= t);
            let by_coll = c.path.is_some()
                && coll
                    .iter()
                    .any(|(col, d)| *col == c.column && c.timestamp <= d.timestamp);
            !above && !by_coll
        });
    }

    /// Expired cells become tombstones; tombstones whose local time is `gc_grace` or more before `now`
    /// are dropped.
    fn purge_expired(&mut self, now: i64, gc_grace: i64) {
        let gone = |local: i64| local.saturating_add(gc_grace) <= now;
        if self.deletion.is_some_and(|d| gone(d.local_time)) {
            self.deletion = None;
        }
        self.collection_deletions.retain(|(_, d)| !gone(d.local_time));
        if let Some(Liveness {
            expiry: Some((ttl, at)),
            ..
        }) = self.liveness
            && at <= now
            && gone(at - ttl as i64)
        {
            self.liveness = None;
        }
        for c in &mut self.cells {
            if let CellValue::Expiring { ttl, expires_at, .. } = c.value
                && expires_at <= now
            {
                c.value = CellValue::Tombstone {
                    local_time: expires_at - ttl as i64,
                };
            }
        }
        self.cells
            .retain(|c| !matches!(c.value, CellValue::Tombstone { local_time } if gone(local_time)));
    }

    /// Applies [`Row::purge_expired`] after dropping what the row's own deletions shadow; the
    /// per-entry purge of storage compaction.
    pub fn purge(&mut self, shadow: Option<Deletion>, now_secs: i64, gc_grace_seconds: u32) {
        self.compact(shadow);
        self.purge_expired(now_secs, gc_grace_seconds as i64);
    }
}

impl Partition {
    /// An empty partition update.
    pub fn new(table: basalt_common::TableId, token: i64, key: Vec<Value>) -> Partition {
        Partition {
            table,
            token,
            key,
            deletion: None,
            range_tombstones: Vec::new(),
            static_row: None,
            rows: Vec::new(),
        }
    }

    /// Whether the partition holds nothing.
    pub fn is_empty(&self) -> bool {
        self.deletion.is_none() && self.range_tombstones.is_empty() && self.static_row.is_none() && self.rows.is_empty()
    }

    /// Joins `other` (another version of the same partition) into `self`, per the reconciliation rules
    /// of the module docs. Shadowed data is kept (see [`Partition::compact`]).
    pub fn merge(&mut self, other: Partition, cmp: &ClusteringComparator) {
        debug_assert_eq!((self.table, self.token), (other.table, other.token));
        self.deletion = max_deletion(self.deletion, other.deletion);
        if !other.range_tombstones.is_empty() {
            merge_range_tombstones(&mut self.range_tombstones, other.range_tombstones);
        }
        match (&mut self.static_row, other.static_row) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
        if other.rows.is_empty() {
            return;
        }
        if self.rows.is_empty() {
            self.rows = other.rows;
            return;
        }
        let mine = std::mem::take(&mut self.rows);
        let mut out = Vec::with_capacity(mine.len() + other.rows.len());
        let (mut a, mut b) = (mine.into_iter().peekable(), other.rows.into_iter().peekable());
        loop {
            let ord = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => cmp.cmp(&x.clustering, &y.clustering),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => break,
            };
            match ord {
                Ordering::Less => out.push(a.next().expect("peeked")),
                Ordering::Greater => out.push(b.next().expect("peeked")),
                Ordering::Equal => {
                    let mut x = a.next().expect("peeked");
                    x.merge(b.next().expect("peeked"));
                    out.push(x);
                }
            }
        }
        self.rows = out;
    }

    /// The deletion that covers a row from above: the partition deletion and the range tombstones
    /// that contain its clustering.
    pub fn shadow_of(&self, clustering: &[Value], cmp: &ClusteringComparator) -> Option<Deletion> {
        self.range_tombstones
            .iter()
            .filter(|rt| cmp.contains(&rt.start, &rt.end, clustering))
            .fold(self.deletion, |acc, rt| max_deletion(acc, Some(rt.deletion)))
    }

    /// Drops the data that deletions shadow (cells, markers, rows, redundant range tombstones). Read
    /// answers are compacted, so that replicas holding the same content give the same digest.
    pub fn compact(&mut self, cmp: &ClusteringComparator) {
        if let Some(pd) = self.deletion {
            self.range_tombstones
                .retain(|rt| deletion_key(&rt.deletion) > deletion_key(&pd));
        }
        if let Some(s) = &mut self.static_row {
            s.compact(self.deletion);
            if s.is_empty() {
                self.static_row = None;
            }
        }
        let mut rows = std::mem::take(&mut self.rows);
        for r in &mut rows {
            r.compact(self.shadow_of(&r.clustering, cmp));
        }
        rows.retain(|r| !r.is_empty());
        self.rows = rows;
    }

    /// Compacts, turns expired cells into tombstones (local time = expiry - ttl, Cassandra's choice)
    /// and drops the tombstones whose local time is `gc_grace_seconds` or more before `now_secs`.
    pub fn purge(&mut self, now_secs: i64, gc_grace_seconds: u32, cmp: &ClusteringComparator) {
        self.compact(cmp);
        let grace = gc_grace_seconds as i64;
        let gone = |d: &Deletion| d.local_time.saturating_add(grace) <= now_secs;
        if self.deletion.as_ref().is_some_and(gone) {
            self.deletion = None;
        }
        self.range_tombstones.retain(|rt| !gone(&rt.deletion));
        if let Some(s) = &mut self.static_row {
            s.purge_expired(now_secs, grace);
            if s.is_empty() {
                self.static_row = None;
            }
        }
        for r in &mut self.rows {
            r.purge_expired(now_secs, grace);
        }
        self.rows.retain(|r| !r.is_empty());
    }
}

/// What `merged` (the reconciliation of several replicas' answers) has that `replica` lacks: merged
/// into `replica`, it gives `merged` back (read repair sends it). `None` when the replica is up to date.
pub fn diff(merged: &Partition, replica: &Partition) -> Option<Partition> {
    let mut d = Partition::new(merged.table, merged.token, merged.key.clone());
    if merged.deletion.is_some() && merged.deletion != replica.deletion {
        d.deletion = merged.deletion;
    }
    d.range_tombstones = merged
        .range_tombstones
        .iter()
        .filter(|rt| !replica.range_tombstones.contains(rt))
        .cloned()
        .collect();
    if let Some(s) = &merged.static_row {
        d.static_row = match &replica.static_row {
            Some(r) => s.diff(r),
            None => Some(s.clone()),
        };
    }
    let theirs: BTreeMap<&[Value], &Row> = replica.rows.iter().map(|r| (r.clustering.as_slice(), r)).collect();
    for row in &merged.rows {
        let rd = match theirs.get(row.clustering.as_slice()) {
            Some(r) => row.diff(r),
            None => Some(row.clone()),
        };
        d.rows.extend(rd);
    }
    (!d.is_empty()).then_some(d)
}
