//! The table data model of Basalt, which is Cassandra's, so that the CQL protocol is a thin layer over
//! it. Nothing here does IO: plain values and pure functions, tested as such.
//!
//! - [`types`]: the CQL types ([`CqlType`]) and the Arrow type of each.
//! - [`value`]: a typed cell value ([`Value`]).
//! - [`catalog`]: schema changes, the catalog snapshot and their wire encoding.
//! - [`partition`]: the unit of replication (a partition update or read answer) and its reconciliation.
//! - [`ring`]: the token ring (vnodes, replicas of a token, ownership, token allocation).
//! - [`schema`]: keyspaces, replication strategies, tables, columns and their roles in the primary key.

pub mod catalog;
pub mod partition;
pub mod ring;
pub mod schema;
pub mod types;
pub mod value;

pub use schema::{ClusteringOrder, ColumnDef, ColumnKind, KeyspaceDef, Replication, TableDef, TableOptions};
pub use types::{CqlType, NativeType};
pub use value::{Decimal, Uuid, Value};
