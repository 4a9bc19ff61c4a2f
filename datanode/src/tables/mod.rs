//! Tables on this datanode: what it knows of the catalog and the token ring, the rows it holds, and
//! the statements it coordinates (Cassandra's model: any datanode coordinates any statement).
//!
//! - [`schema_view`]: [`schema_view::SchemaView`], the catalog and ring as this node last fetched them
//!   from the metadata group: cheap `Arc` snapshots for any task, refreshed when a heartbeat reply
//!   shows a newer version, or on demand by a coordinator that needs at least a given catalog version
//!   (after its own schema change, or when a statement names a table or column it does not know).
//! - [`store`]: this node's replica of the rows, in RocksDB (one column family per table), with the
//!   hint log and the batch log.
//! - [`coordinator`]: the consistency logic: write fan-out with hints, data/digest reads with read
//!   repair, hinted handoff, replica liveness.
//! - [`replicas`]: how the coordinator reaches a replica (itself directly, others over gRPC) and the
//!   `TableReplica` service; [`local`]: this node's replica over its store.
//! - [`exec`]: statements, from CQL text to partition updates and reads to Arrow answers.
//! - [`runtime`]: the tables side of a running datanode (start-up, background loops, services).
//! - [`service`]: the `Cql` gRPC service (statements, prepared statements, Arrow scans); [`status`]:
//!   what its `TableStatus` RPC reports of this node's store.
//! - [`cql_server`]: the CQL native protocol v4 server over the same engine (drivers, cqlsh).

pub mod coordinator;
pub mod cql_server;
pub mod exec;
pub mod local;
pub mod replicas;
pub mod runtime;
pub mod schema_view;
pub mod service;
pub mod status;
pub mod store;
