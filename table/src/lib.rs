//! The table data model of Basalt, which is Cassandra's, so that the CQL protocol is a thin layer over
//! it. Nothing here does IO: plain values and pure functions, tested as such.
//!
//! - [`types`]: the CQL types ([`CqlType`]) and the Arrow type of each.
//! - [`value`]: a typed cell value ([`Value`]).
//! - [`partition`]: the unit of replication (a partition update or read answer) and its reconciliation.
//! - [`schema`]: keyspaces, replication strategies, tables, columns and their roles in the primary key.
//! - [`cql`]: the CQL language: lexer, parser and statements, literal coercion, `CREATE` to definitions and back.

pub mod cql;
pub mod partition;
pub mod schema;
pub mod types;
pub mod value;

pub use schema::{ClusteringOrder, ColumnDef, ColumnKind, KeyspaceDef, Replication, TableDef, TableOptions};
pub use types::{CqlType, NativeType};
pub use value::{Decimal, Uuid, Value};
