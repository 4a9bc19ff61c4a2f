//! Errors starting or stopping a namenode (the services' errors are [`crate::service::ServiceError`]).

use crate::raft::state_machine::SnapshotError;
use basalt_common::config::InvalidConfig;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum NamenodeError {
    #[error(transparent)]
    Config(#[from] InvalidConfig),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("raft log at {path}: {source}")]
    Log { path: PathBuf, source: rocksdb::Error },
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error("invalid raft configuration: {0}")]
    RaftConfig(#[from] openraft::ConfigError),
    #[error("metadata log failed: {0}")]
    Raft(#[from] openraft::error::Fatal<u64>),
    #[error("cannot connect the WebHDFS gateway's client to {members}: {source}")]
    WebHdfsClient {
        members: String,
        source: basalt_client::ClientError,
    },
    #[error("cannot bootstrap the metadata group: {0}")]
    Bootstrap(openraft::error::RaftError<u64, openraft::error::InitializeError<u64, openraft::BasicNode>>),
}
