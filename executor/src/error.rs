//! Why an executor could not start. (Why a task attempt failed is [`crate::runner::TaskError`]; it is
//! reported to the scheduler, never fatal to the executor.)

use basalt_common::ErrorKind;
use basalt_common::config::InvalidConfig;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    #[error(transparent)]
    Config(#[from] InvalidConfig),
    #[error("work dir {path}: {source}")]
    WorkDir { path: PathBuf, source: std::io::Error },
    #[error("cannot serve HTTP on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("client: {0}")]
    Client(#[from] basalt_client::ClientError),
}

impl ExecutorError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ExecutorError::Config(_) => ErrorKind::Invalid,
            ExecutorError::WorkDir { .. } => ErrorKind::Internal,
            ExecutorError::Bind { .. } => ErrorKind::Unavailable,
            ExecutorError::Client(e) => e.kind(),
        }
    }
}
