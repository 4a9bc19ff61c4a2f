//! The metadata log: openraft wired to Basalt's metadata state (`crate::state`).
//!
//! - [`log_store`]: the Raft log, vote and commit index in RocksDB; every append is one synced write
//!   batch (group commit: openraft hands over every entry queued since the last flush).
//! - [`state_machine`]: the in-memory [`MetaState`](crate::state::MetaState) with snapshots in files
//!   (openraft's snapshot data is the open file); at start it is the latest snapshot plus the log tail.
//! - [`snapshot_file`]: the snapshot file's layout, streamed both ways (checksummed, written temp +
//!   fsync + rename).
//! - [`network`] / [`transport`]: Raft RPCs between members over gRPC (client and server side).
//!
//! Every value is encoded with [`crate::state::codec`] (format byte + named MessagePack); the log store
//! and snapshots also read the previous format (`crate::state::legacy`).

pub mod log_store;
pub mod network;
pub mod snapshot_file;
pub mod state_machine;
pub mod transport;

use crate::state::{Batch, Response};

openraft::declare_raft_types!(
    /// Raft type configuration of the metadata group.
    pub TypeConfig:
        D = Batch,
        R = Vec<Response>,
        SnapshotData = tokio::fs::File,
);

/// Id of a metadata group member.
pub type MemberId = u64;
pub type Raft = openraft::Raft<TypeConfig>;
pub type LogId = openraft::LogId<MemberId>;
pub type Membership = openraft::StoredMembership<MemberId, openraft::BasicNode>;

pub(crate) use crate::state::codec::{DecodeError, decode, encode};
