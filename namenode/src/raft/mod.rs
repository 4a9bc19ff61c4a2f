//! The metadata log: openraft wired to Basalt's namespace.
//!
//! - [`log_store`]: the Raft log, vote and commit index in RocksDB; every append is one synced write
//!   batch (group commit: openraft hands over every entry queued since the last flush).
//! - [`state_machine`]: the in-memory [`Namespace`](crate::namespace::Namespace) with snapshots in files
//!   (checksummed, written temp + fsync + rename); at start it is the latest snapshot plus the log tail.
//! - [`network`] / [`transport`]: Raft RPCs between members over gRPC (client and server side).

pub mod log_store;
pub mod network;
pub mod state_machine;
pub mod transport;

use crate::namespace::{Batch, Response};
use std::io::Cursor;

openraft::declare_raft_types!(
    /// Raft type configuration of the metadata group.
    pub TypeConfig:
        D = Batch,
        R = Vec<Response>,
);

/// Id of a metadata group member.
pub type MemberId = u64;
pub type Raft = openraft::Raft<TypeConfig>;
pub type LogId = openraft::LogId<MemberId>;
pub type Membership = openraft::StoredMembership<MemberId, openraft::BasicNode>;

/// Version byte in front of every value this crate persists with bincode.
pub(crate) const FORMAT_VERSION: u8 = 2;

/// Encodes `v` with a leading format version byte.
pub(crate) fn encode<T: serde::Serialize>(v: &T) -> Vec<u8> {
    let mut out = vec![FORMAT_VERSION];
    bincode::serialize_into(&mut out, v).expect("serializing to a Vec cannot fail");
    out
}

/// Decoding failure of a persisted or transmitted value.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("empty value")]
    Empty,
    #[error("unsupported format version {0} (this build reads {FORMAT_VERSION})")]
    Version(u8),
    #[error("malformed value: {0}")]
    Malformed(#[from] bincode::Error),
}

/// Inverse of [`encode`].
pub(crate) fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    match bytes.split_first() {
        None => Err(DecodeError::Empty),
        Some((&FORMAT_VERSION, rest)) => Ok(bincode::deserialize(rest)?),
        Some((&v, _)) => Err(DecodeError::Version(v)),
    }
}
