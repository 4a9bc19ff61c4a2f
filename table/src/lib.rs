//! The table data model of Basalt, which is Cassandra's, so that the CQL protocol is a thin layer over
//! it. Nothing here does IO: plain values and pure functions, tested as such.
//!
//! - [`types`]: the CQL types ([`CqlType`]) and the Arrow type of each.
//! - [`value`]: a typed cell value ([`Value`]).
//! - [`consistency`]: consistency levels and how many replicas each needs.
//! - [`partition`]: the unit of replication (a partition update or read answer) and its reconciliation.
//! - [`read`]: the read commands a coordinator sends a replica.
//! - [`codec`]: the versioned encoding of what travels between Basalt processes.
//! - [`schema`]: keyspaces, replication strategies, tables, columns and their roles in the primary key.

pub mod codec;
pub mod consistency;
pub mod partition;
pub mod read;
pub mod schema;
pub mod types;
pub mod value;

pub use consistency::Consistency;
pub use schema::{ClusteringOrder, ColumnDef, ColumnKind, KeyspaceDef, Replication, TableDef, TableOptions};
pub use types::{CqlType, NativeType};
pub use value::{Decimal, Uuid, Value};
