//! Read commands: what a coordinator asks one replica for. A [`ReadCommand`] reads slices of one
//! partition; a [`RangeCommand`] reads the partitions of a token range, in token order, a page at a
//! time. Replicas answer with [`crate::partition::Partition`]s, tombstones included, so that the
//! coordinator can reconcile several answers.

use crate::value::Value;
use basalt_common::{ColumnId, TableId};
use serde::{Deserialize, Serialize};
use std::ops::Bound;

/// A range of clustering keys; a bound is a clustering prefix (`ck1 = 1 AND ck2 > 5` is the slice
/// `(Excluded([1, 5]), Included([1]))`, where an included prefix bound covers every key it prefixes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slice {
    pub start: Bound<Vec<Value>>,
    pub end: Bound<Vec<Value>>,
}

impl Slice {
    /// The whole partition.
    pub fn all() -> Slice {
        Slice {
            start: Bound::Unbounded,
            end: Bound::Unbounded,
        }
    }
}

/// Reads slices of one partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadCommand {
    pub table: TableId,
    pub token: i64,
    pub key: Vec<Value>,
    /// Disjoint, in clustering order; empty reads the whole partition.
    pub slices: Vec<Slice>,
    /// Regular and static columns to return (key columns always come back); `None` is all.
    pub columns: Option<Vec<ColumnId>>,
    /// Rows in reverse clustering order (`ORDER BY ... DESC` on an ASC table, or the converse).
    pub reversed: bool,
    /// At most this many live rows.
    pub limit: Option<u32>,
    /// The coordinator's clock (seconds since the epoch), for TTL expiry, so replicas agree.
    pub now: i64,
}

/// Reads the partitions of a token range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeCommand {
    pub table: TableId,
    pub start: Bound<i64>,
    pub end: Bound<i64>,
    /// Resume after this partition (its token and key), for the next page.
    pub resume_after: Option<(i64, Vec<Value>)>,
    pub columns: Option<Vec<ColumnId>>,
    /// At most this many partitions in one answer.
    pub max_partitions: u32,
    /// At most this many live rows per partition (`PER PARTITION LIMIT`).
    pub per_partition_limit: Option<u32>,
    pub now: i64,
}
