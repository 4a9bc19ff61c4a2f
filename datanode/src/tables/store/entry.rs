//! The values of a table's column family, their merge operator and their compaction filter.
//!
//! A value is `[format byte][kind][body]` ([`Entry::encode`]): the partition header (partition
//! deletion and range tombstones, as MessagePack with named fields) or one row (the static row or a
//! clustering row, in the compact form of [`super::row_codec`], its clustering left out: the key holds
//! it).
//!
//! Writes are blind: every update is a RocksDB merge operand, and the merge operator joins operands
//! with the partition model's reconciliation (a CRDT join, so RocksDB may merge in any grouping). An
//! operand that does not decode wins the merge unchanged, so that a read reports the corruption instead
//! of hiding it.
//!
//! The compaction filter sees the values that earlier compactions merged (RocksDB passes it neither
//! merge operands nor the results of merges done in the same compaction), so purging takes effect
//! from the second compaction that covers a key. For each row it drops shadowed cells, turns expired
//! cells into tombstones and drops tombstones past the table's `gc_grace_seconds`; rows of a
//! partition whose header it saw earlier in the same run are also purged of what the partition
//! deletion and range tombstones shadow. Header tombstones themselves are kept (the rows they shadow
//! may still be unmerged operands elsewhere, and dropping them could resurrect those).

use super::keys::{KIND_HEADER, KIND_STATIC, KeyLayout};
use super::row_codec::{RowCodecError, decode_row, encode_row};
use basalt_common::TableId;
use basalt_table::partition::{
    ClusteringComparator, Deletion, Partition, PartitionError, RangeTombstone, Row, decode_versioned, encode_versioned,
    max_deletion, merge_range_tombstones,
};
use rocksdb::MergeOperands;
use rocksdb::compaction_filter::{CompactionFilter, Decision};
use rocksdb::compaction_filter_factory::{CompactionFilterContext, CompactionFilterFactory};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::sync::{Arc, RwLock};

/// The format byte that starts every stored value.
pub const ENTRY_FORMAT_V1: u8 = 1;
const KIND_HEADER_VALUE: u8 = 0;
const KIND_ROW_VALUE: u8 = 1;

/// One stored value.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    Header {
        deletion: Option<Deletion>,
        range_tombstones: Vec<RangeTombstone>,
    },
    Row(Row),
}

/// A header's body (MessagePack, named fields: headers are rare and hold typed clustering bounds).
#[derive(Serialize, Deserialize)]
struct HeaderBody {
    deletion: Option<Deletion>,
    range_tombstones: Vec<RangeTombstone>,
}

/// Why stored bytes are not an entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("empty value")]
    Empty,
    #[error("unknown value format {0} (this build reads {ENTRY_FORMAT_V1})")]
    UnknownFormat(u8),
    #[error("unknown entry kind {0}")]
    UnknownKind(u8),
    #[error("bad header: {0}")]
    Header(#[from] PartitionError),
    #[error("bad row: {0}")]
    Row(#[from] RowCodecError),
}

impl Entry {
    /// `[format][kind][body]`: kind 0 a header (`encode_versioned` of its body), 1 a row
    /// ([`super::row_codec`]).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Entry::Header {
                deletion,
                range_tombstones,
            } => {
                let mut out = vec![ENTRY_FORMAT_V1, KIND_HEADER_VALUE];
                out.extend(encode_versioned(&HeaderBody {
                    deletion: *deletion,
                    range_tombstones: range_tombstones.clone(),
                }));
                out
            }
            Entry::Row(r) => {
                let mut out = Vec::with_capacity(16 + r.cells.len() * 24);
                out.extend([ENTRY_FORMAT_V1, KIND_ROW_VALUE]);
                encode_row(r, &mut out);
                out
            }
        }
    }

    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        match bytes {
            [] => Err(EntryError::Empty),
            [ENTRY_FORMAT_V1, KIND_HEADER_VALUE, body @ ..] => {
                let h: HeaderBody = decode_versioned(body)?;
                Ok(Entry::Header {
                    deletion: h.deletion,
                    range_tombstones: h.range_tombstones,
                })
            }
            [ENTRY_FORMAT_V1, KIND_ROW_VALUE, body @ ..] => Ok(Entry::Row(decode_row(body)?)),
            [ENTRY_FORMAT_V1, kind, ..] => Err(EntryError::UnknownKind(*kind)),
            [ENTRY_FORMAT_V1] => Err(EntryError::Empty),
            [v, ..] => Err(EntryError::UnknownFormat(*v)),
        }
    }

    /// Joins two versions of one entry; `None` if their kinds differ (corruption).
    fn merge(self, other: Entry) -> Option<Entry> {
        match (self, other) {
            (
                Entry::Header {
                    deletion: d1,
                    range_tombstones: mut r1,
                },
                Entry::Header {
                    deletion: d2,
                    range_tombstones: r2,
                },
            ) => {
                merge_range_tombstones(&mut r1, r2);
                Some(Entry::Header {
                    deletion: max_deletion(d1, d2),
                    range_tombstones: r1,
                })
            }
            (Entry::Row(mut a), Entry::Row(b)) => {
                a.merge(b);
                Some(Entry::Row(a))
            }
            _ => None,
        }
    }
}

/// The merge operator (full and partial merges alike: the join is associative).
pub fn merge_operator(key: &[u8], existing: Option<&[u8]>, operands: &MergeOperands) -> Option<Vec<u8>> {
    let mut acc: Option<Entry> = None;
    for bytes in existing.into_iter().chain(operands.iter()) {
        let next = match Entry::decode(bytes) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(key = %hex(key), error = %e, "undecodable table entry in a merge; kept as is");
                return Some(bytes.to_vec());
            }
        };
        acc = Some(match acc {
            None => next,
            Some(a) => match a.merge(next) {
                Some(m) => m,
                None => {
                    tracing::error!(key = %hex(key), "table entry kinds differ in a merge; kept as is");
                    return Some(bytes.to_vec());
                }
            },
        });
    }
    acc.map(|e| e.encode())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the compaction filter needs of a table: its key layout, clustering order and grace.
#[derive(Clone, Debug)]
pub struct PurgePolicy {
    pub layout: KeyLayout,
    pub cmp: ClusteringComparator,
    pub gc_grace_seconds: u32,
}

/// The seconds-since-the-epoch clock that compaction purges against (injected in tests).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Table options by table, updated by `ensure_table`; a table not (yet) registered is not purged.
pub struct Registry {
    pub policies: RwLock<HashMap<TableId, Arc<PurgePolicy>>>,
    pub clock: Clock,
}

/// Creates one [`PurgeFilter`] per compaction run of a table's column family.
pub struct PurgeFactory {
    pub table: TableId,
    pub registry: Arc<Registry>,
    pub name: CString,
}

impl CompactionFilterFactory for PurgeFactory {
    type Filter = PurgeFilter;

    fn create(&mut self, _context: CompactionFilterContext) -> PurgeFilter {
        let policy = self
            .registry
            .policies
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&self.table)
            .cloned();
        PurgeFilter {
            policy,
            now: (self.registry.clock)(),
            header: None,
            buf: Vec::new(),
            name: self.name.clone(),
        }
    }

    fn name(&self) -> &CStr {
        &self.name
    }
}

/// The filter of one compaction run (one thread, keys in order).
pub struct PurgeFilter {
    policy: Option<Arc<PurgePolicy>>,
    now: i64,
    /// The last partition header seen: (partition prefix, its deletions as a partition).
    header: Option<(Vec<u8>, Partition)>,
    buf: Vec<u8>,
    name: CString,
}

impl PurgeFilter {
    fn decide(&mut self, key: &[u8], value: &[u8]) -> Option<Vec<u8>> {
        let policy = self.policy.clone()?;
        let entry = Entry::decode(value).ok()?;
        let decoded = policy.layout.decode(key).ok()?;
        match entry {
            Entry::Header {
                deletion,
                range_tombstones,
            } => {
                debug_assert_eq!(decoded.kind, KIND_HEADER);
                let mut p = Partition::new(TableId(0), decoded.token, Vec::new());
                p.deletion = deletion;
                p.range_tombstones = range_tombstones;
                self.header = Some((decoded.partition_prefix, p));
                None
            }
            Entry::Row(row) => {
                let shadow = match &self.header {
                    Some((prefix, p)) if *prefix == decoded.partition_prefix => {
                        if decoded.kind == KIND_STATIC {
                            p.deletion
                        } else {
                            p.shadow_of(&decoded.clustering, &policy.cmp)
                        }
                    }
                    _ => None,
                };
                let mut purged = row.clone();
                purged.purge(shadow, self.now, policy.gc_grace_seconds);
                if purged == row {
                    None
                } else if purged.is_empty() {
                    Some(Vec::new())
                } else {
                    Some(Entry::Row(purged).encode())
                }
            }
        }
    }
}

impl CompactionFilter for PurgeFilter {
    fn filter(&mut self, _level: u32, key: &[u8], value: &[u8]) -> Decision {
        match self.decide(key, value) {
            None => Decision::Keep,
            Some(v) if v.is_empty() => Decision::Remove,
            Some(v) => {
                self.buf = v;
                // SAFETY: RocksDB's C shim (`rocksdb_compactionfilter_t::Filter` in c.cc) copies the
                // new value into its own string as soon as this call returns, before the filter is
                // called again; `self.buf` is neither dropped nor changed until then.
                Decision::Change(unsafe { std::slice::from_raw_parts(self.buf.as_ptr(), self.buf.len()) })
            }
        }
    }

    fn name(&self) -> &CStr {
        &self.name
    }
}
