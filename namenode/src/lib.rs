//! The Basalt namenode: the metadata service of the file system.
//!
//! It owns the namespace (directories, files, each file's blocks) and the datanode identities, as a
//! state machine replicated by Raft (openraft) over a RocksDB log with file snapshots; and, as soft
//! state rebuilt from heartbeats and block reports, where every replica lives and which datanodes are
//! alive.
//!
//! - [`state`]: the pure replicated state machine, one sub-machine per feature (file namespace,
//!   cluster, catalog, jobs) under one batch, dedup and encoding layer.
//! - [`raft`]: log store, state machine adapter, snapshots and the Raft transport.
//! - [`blocks`]: replica locations, datanode liveness and safe mode (soft state).
//! - [`leases`], [`recovery`]: lease expiry (soft state) and the recovery of files whose writer is gone.
//! - [`monitor`]: the background loop (safe mode, the sweep over every block, healing, lease recovery).
//! - [`service`]: the gRPC services (client protocol, datanode protocol) over a shared [`service::Core`];
//!   their errors are one [`ServiceError`], mapped to an `ErrorKind` and a gRPC status in one place.
//! - [`http`]: the HTTP server (WebHDFS, the web UI, `/metrics`) over the same [`service::Core`].
//! - [`scheduler`]: the job scheduler, a worker of the leader around the pure core of `basalt-jobs`,
//!   and the `JobProtocol` service (clients submit jobs, executors pull task attempts).
//! - [`server`]: start and stop a member ([`Namenode`]).
//! - [`walk`]: resumable walks of the namespace, for whole-tree work done a slice at a time.

pub mod blocks;
pub mod config;
pub mod error;
pub mod http;
pub mod leases;
pub mod monitor;
pub mod raft;
pub mod recovery;
pub mod scheduler;
pub mod server;
pub mod service;
pub mod state;
pub mod walk;

pub use config::{GroupMapping, NamenodeConfig, parse_groups, parse_peers};
pub use error::NamenodeError;
pub use server::Namenode;
pub use service::ServiceError;
