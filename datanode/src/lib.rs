//! The Basalt datanode: stores block replicas on local disk and moves them over gRPC (HDFS DataNode
//! model), and holds and coordinates table rows (Cassandra's model).
//!
//! What lives where:
//! - [`config`]: [`DatanodeConfig`], checked once by `validate()`.
//! - [`datanode`]: [`Datanode`], start-up, the running handle and graceful shutdown.
//! - [`store`]: the block store, sole owner of the on-disk layout (`store::layout`): finalized replicas
//!   and their checksum files under `current/`, writes in progress and parked replicas (kept after a broken
//!   write, for a resume or a recovery) under `tmp/`, bad files in `corrupt/`.
//!   Blocking; async code calls it through `spawn_blocking`.
//! - [`transfer`]: the `DataTransfer` service: the pipelined WriteBlock (receive, verify, persist,
//!   forward, ack; resumed under a newer generation stamp after a pipeline failure), ReadBlock (verified
//!   chunks), GetLocalPath (short-circuit reads) and RecoverReplica (lease recovery), plus the
//!   replication of a replica to other datanodes on a namenode command.
//! - [`nn_link`]: the `DatanodeProtocol` client: one link per namenode member (register, block reports,
//!   heartbeats, incremental reports) and the execution of namenode commands.
//! - [`http`]: the HTTP server (WebHDFS data transfer, `/metrics`).
//! - [`metrics`]: the datanode's Prometheus registry (`/metrics`): RPCs, block bytes by path, table
//!   store WAL syncs.
//! - [`scanner`]: the background block scanner (bandwidth-bounded re-verification of every replica).
//! - [`identity`]: the persistent datanode id; `dir_lock` keeps two datanodes off one data directory.
//!   The crash-safe file primitives and the host id are `basalt_host`'s (shared with the namenode and
//!   the client).
//! - [`tables`]: partitioned tables: the catalog and ring view, this replica's rows in RocksDB
//!   (`tables::store`: one column family per table, hints, batch log), the coordinator (consistency
//!   levels, hinted handoff, read repair), statement execution and the `Cql` / `TableReplica` services.
//! - [`shuffle`]: the `Shuffle` service: map output of the executors on this host (`shuffle/` in the
//!   data dir), kept after they exit, served to reducers, removed when the job ends.
//! - [`error`]: [`DatanodeError`], mapped to an `ErrorKind` and to a gRPC status at the service edge.

pub mod config;
mod context;
pub mod datanode;
mod dir_lock;
pub mod error;
pub mod http;
pub mod identity;
pub mod metrics;
pub mod nn_link;
pub mod scanner;
pub mod shuffle;
pub mod store;
pub mod tables;
pub mod transfer;

pub use config::DatanodeConfig;
pub use datanode::Datanode;
pub use error::{BAD_DATANODE_KEY, DatanodeError, bad_datanode_of};
pub use scanner::ScanConfig;
pub use store::BlockStore;
