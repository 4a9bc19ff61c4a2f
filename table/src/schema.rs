//! Keyspaces and tables: what the catalog (replicated through Raft by the metadata nodes) holds, and
//! what every coordinator and replica checks a statement against.
//!
//! Names are stored as CQL resolves them: lowercase unless they were quoted. Columns have stable ids
//! ([`ColumnId`]): storage refers to a column by id, so a column dropped and added again under the
//! same name does not bring back the cells of the dropped one.

use crate::types::CqlType;
use basalt_common::{ColumnId, TableId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a keyspace's rows are replicated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Replication {
    /// `SimpleStrategy`: the first `factor` distinct datanodes clockwise on the ring.
    Simple { factor: u32 },
    /// `NetworkTopologyStrategy`: a factor per data center, replicas on distinct racks first. Basalt
    /// has one data center, [`Replication::DATACENTER`].
    NetworkTopology { datacenters: BTreeMap<String, u32> },
}

impl Replication {
    /// The name of Basalt's one data center (Cassandra's default).
    pub const DATACENTER: &'static str = "datacenter1";

    /// How many replicas each partition has.
    pub fn factor(&self) -> u32 {
        match self {
            Replication::Simple { factor } => *factor,
            Replication::NetworkTopology { datacenters } => datacenters.get(Self::DATACENTER).copied().unwrap_or(0),
        }
    }

    /// Whether replicas go to distinct racks first.
    pub fn rack_aware(&self) -> bool {
        matches!(self, Replication::NetworkTopology { .. })
    }
}

/// A keyspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyspaceDef {
    pub name: String,
    pub replication: Replication,
    pub durable_writes: bool,
}

/// The order of a clustering column within a partition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClusteringOrder {
    #[default]
    Asc,
    Desc,
}

/// A column's role in its table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ColumnKind {
    /// Component `position` (from 0) of the partition key.
    PartitionKey {
        position: u32,
    },
    /// Clustering column `position` (from 0).
    Clustering {
        position: u32,
        order: ClusteringOrder,
    },
    /// One value per partition.
    Static,
    Regular,
}

impl ColumnKind {
    pub fn is_primary_key(&self) -> bool {
        matches!(self, ColumnKind::PartitionKey { .. } | ColumnKind::Clustering { .. })
    }
}

/// A column of a table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnDef {
    pub id: ColumnId,
    pub name: String,
    pub ty: CqlType,
    pub kind: ColumnKind,
}

/// Table options (`WITH ...`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableOptions {
    /// `default_time_to_live`, seconds; 0 is none.
    pub default_ttl: u32,
    /// `gc_grace_seconds`: how long a tombstone is kept before compaction may purge it.
    pub gc_grace_seconds: u32,
    pub comment: String,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            default_ttl: 0,
            gc_grace_seconds: 864_000,
            comment: String::new(),
        }
    }
}

/// A table: its columns in definition order (key columns first, as CQL lists them) and options.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDef {
    pub id: TableId,
    pub keyspace: String,
    pub name: String,
    pub columns: Vec<ColumnDef>,
    pub options: TableOptions,
    /// Columns dropped, by name, with the time (microseconds) of the drop: cells written before it are
    /// ignored if a column of that name is added again.
    pub dropped: BTreeMap<String, i64>,
    /// The next column id to hand out.
    pub next_column: u64,
}

impl TableDef {
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_by_id(&self, id: ColumnId) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.id == id)
    }

    /// The partition key columns, in key order.
    pub fn partition_key(&self) -> Vec<&ColumnDef> {
        let mut cols: Vec<_> = self
            .columns
            .iter()
            .filter_map(|c| match c.kind {
                ColumnKind::PartitionKey { position } => Some((position, c)),
                _ => None,
            })
            .collect();
        cols.sort_by_key(|(p, _)| *p);
        cols.into_iter().map(|(_, c)| c).collect()
    }

    /// The clustering columns, in clustering order.
    pub fn clustering(&self) -> Vec<&ColumnDef> {
        let mut cols: Vec<_> = self
            .columns
            .iter()
            .filter_map(|c| match c.kind {
                ColumnKind::Clustering { position, .. } => Some((position, c)),
                _ => None,
            })
            .collect();
        cols.sort_by_key(|(p, _)| *p);
        cols.into_iter().map(|(_, c)| c).collect()
    }

    /// `keyspace.name`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.keyspace, self.name)
    }
}
