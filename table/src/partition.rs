//! The unit of replication: a [`Partition`] update or read result, in Cassandra's model. A write is a
//! partition update; a replica's answer to a read is the part of its partition the read asked for,
//! tombstones included, so that a coordinator can reconcile the answers of several replicas and repair
//! the stale ones with the difference. Storage merges updates into what it holds the same way.
//!
//! Reconciliation (last write wins per cell), as Cassandra does it:
//! - the cell with the greater write timestamp wins;
//! - on equal timestamps a tombstone wins over a live cell; between two tombstones the later local
//!   deletion time wins; between two live cells, an expiring cell wins over a non-expiring one, then the
//!   later expiry, then the greater serialized value (byte order);
//! - a row, range or partition deletion shadows every cell, row marker and collection element written at
//!   or before its timestamp.
//!
//! Cell values are the CQL native serialization of the column's value (what the CQL protocol carries),
//! opaque bytes here. Clustering and partition keys are typed [`Value`]s: the storage key layout must
//! order them.
//!
//! Clustering bounds (of range tombstones and read slices) are prefixes in clustering order: `start`
//! at or before `end` under [`ClusteringComparator`], so a range on a DESC column is written with its
//! bounds swapped. The functions: [`Partition::merge`] (the join, a CRDT: commutative, associative,
//! idempotent), [`diff`] (read repair), [`Partition::compact`] / [`Partition::purge`],
//! [`Partition::live_rows`], [`Partition::digest`], and the versioned [`encode`] / [`decode`].

mod codec;
mod live;
mod reconcile;
#[cfg(test)]
mod tests;

pub use codec::{FORMAT_V1, PartitionError, decode, decode_versioned, encode, encode_versioned, fnv1a64};
pub use live::{LiveRow, LiveValue};
pub use reconcile::{ClusteringComparator, cell_order, diff, max_deletion, merge_range_tombstones};

use crate::value::Value;
use basalt_common::{ColumnId, TableId};
use serde::{Deserialize, Serialize};
use std::ops::Bound;

/// When something was deleted: the write timestamp (microseconds) that the deletion shadows up to, and
/// the local time of the deletion (seconds since the epoch), from which `gc_grace_seconds` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    pub timestamp: i64,
    pub local_time: i64,
}

/// The content of a cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CellValue {
    Live(Vec<u8>),
    /// A value written with a TTL: dead from `expires_at` (seconds since the epoch) on.
    Expiring {
        value: Vec<u8>,
        ttl: u32,
        expires_at: i64,
    },
    /// A deleted cell; `local_time` is the deletion's local time in seconds.
    Tombstone {
        local_time: i64,
    },
}

/// One cell: a simple column's value, or one element of a collection column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub column: ColumnId,
    /// For a collection element, its key: a list element's timeuuid (16 bytes), a set element or a map
    /// key (serialized). `None` for a simple column.
    pub path: Option<Vec<u8>>,
    /// Write timestamp, microseconds.
    pub timestamp: i64,
    pub value: CellValue,
}

/// The row marker that an INSERT writes (a row exists while its marker or any cell is live).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Liveness {
    pub timestamp: i64,
    /// `(ttl seconds, expires_at seconds since the epoch)` for a marker written with a TTL.
    pub expiry: Option<(u32, i64)>,
}

/// A row of a partition (or its static row, whose clustering is empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// The clustering key, one value per clustering column; empty for the static row and for tables
    /// without clustering columns.
    pub clustering: Vec<Value>,
    pub liveness: Option<Liveness>,
    /// A row deletion.
    pub deletion: Option<Deletion>,
    /// Whole-collection deletions (a collection overwritten or deleted), by column.
    pub collection_deletions: Vec<(ColumnId, Deletion)>,
    /// Sorted by `(column, path)`, at most one cell per `(column, path)`.
    pub cells: Vec<Cell>,
}

/// A deletion of the rows between two clustering prefixes (`DELETE ... WHERE ck > 1 AND ck <= 5`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeTombstone {
    pub start: Bound<Vec<Value>>,
    pub end: Bound<Vec<Value>>,
    pub deletion: Deletion,
}

/// A partition update, or the part of a partition a replica returns for a read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    pub table: TableId,
    /// Murmur3 token of the serialized partition key.
    pub token: i64,
    /// The partition key, one value per partition key column.
    pub key: Vec<Value>,
    pub deletion: Option<Deletion>,
    pub range_tombstones: Vec<RangeTombstone>,
    pub static_row: Option<Row>,
    /// In clustering order, at most one row per clustering key.
    pub rows: Vec<Row>,
}
