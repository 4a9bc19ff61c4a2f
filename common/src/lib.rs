//! Shared vocabulary of every Basalt crate: identifiers, error kinds, paths, checksums, placement maths,
//! units and what the role configs share. Nothing here does IO; everything is a plain value or a pure
//! function, tested as such.
//!
//! - [`ids`]: newtypes for every identifier that crosses a crate boundary.
//! - [`error`]: the small [`ErrorKind`] every crate error maps onto; clients retry or redirect by kind.
//! - [`path`]: absolute, normalized namespace paths ([`BPath`]).
//! - [`checksum`]: CRC32C per chunk, and the on-disk metadata header of a block replica.
//! - [`placement`]: choosing pipeline datanodes and ordering replicas by distance.
//! - [`units`]: human-readable sizes and durations (`64MiB`, `30s`), with serde helpers.
//! - [`config`]: what the role configs share: [`config::InvalidConfig`], duration ranges, list settings.

pub mod checksum;
pub mod config;
pub mod error;
pub mod ids;
pub mod mode;
pub mod path;
pub mod placement;
pub mod units;

pub use error::ErrorKind;
pub use ids::{BlockId, ColumnId, DatanodeId, GenStamp, InodeId, TableId};
pub use path::BPath;

/// Default block size of a new file: 64 MiB, as in HDFS.
pub const DEFAULT_BLOCK_SIZE: u64 = 64 * 1024 * 1024;
/// Default replication factor of a new file.
pub const DEFAULT_REPLICATION: u32 = 3;
/// Address `basalt local` gives its namenode, and the one every command uses when none is given.
pub const DEFAULT_NAMENODE_ADDR: &str = "127.0.0.1:8020";
/// Largest message accepted on any gRPC channel (a write packet is at most 1 MiB of data).
pub const MAX_RPC_MESSAGE: usize = 16 * 1024 * 1024;
