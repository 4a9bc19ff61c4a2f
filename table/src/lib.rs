//! The table data model of Basalt, which is Cassandra's, so that the CQL protocol is a thin layer over
//! it. Nothing here does IO: plain values and pure functions, tested as such.
//!
//! - [`types`]: the CQL types ([`CqlType`]) and the Arrow type of each.
//! - [`value`]: a typed cell value ([`Value`]).
//! - [`serialize`]: the CQL native protocol v4 bytes of a value, both ways, type-checked.
//! - [`token`]: Cassandra's Murmur3Partitioner: the token of a partition key.
//! - [`display`]: values as cqlsh prints them, and as CQL literals.
//! - [`arrow`]: Arrow schemas, record batches from rows, and values back from Arrow columns.
//! - [`error`]: [`ValueError`], why a value, its bytes or its Arrow column were refused.
//! - [`consistency`]: consistency levels and how many replicas each needs.
//! - [`partition`]: the unit of replication (a partition update or read answer) and its reconciliation.
//! - [`read`]: the read commands a coordinator sends a replica.
//! - [`codec`]: the versioned encoding of what travels between Basalt processes.
//! - [`catalog`]: schema changes, the catalog snapshot and their wire encoding.
//! - [`ring`]: the token ring (vnodes, replicas of a token, ownership, token allocation).
//! - [`schema`]: keyspaces, replication strategies, tables, columns and their roles in the primary key.
//! - [`cql`]: the CQL language: lexer, parser and statements, literal coercion, `CREATE` to definitions and back.

pub mod arrow;
pub mod catalog;
pub mod codec;
pub mod consistency;
pub mod cql;
pub mod display;
pub mod error;
pub mod partition;
pub mod read;
pub mod ring;
pub mod schema;
pub mod serialize;
#[cfg(test)]
mod testgen;
pub mod token;
pub mod types;
pub mod value;

pub use consistency::Consistency;
pub use error::ValueError;
pub use schema::{ClusteringOrder, ColumnDef, ColumnKind, KeyspaceDef, Replication, TableDef, TableOptions};
pub use types::{CqlType, NativeType};
pub use value::{Decimal, Uuid, Value};
