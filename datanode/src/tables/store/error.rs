//! The table store's errors, mapped onto [`ErrorKind`] by one exhaustive match.

use super::keys::KeyError;
use basalt_common::{ErrorKind, TableId};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TableStoreError {
    #[error("cannot open the table store in {path}: {source}")]
    Open { path: PathBuf, source: rocksdb::Error },
    #[error("cannot start the WAL sync thread: {source}")]
    Thread { source: std::io::Error },
    #[error("table {table} is not in this store")]
    NoSuchTable { table: TableId },
    #[error("corrupt data in table {table} at key {key}: {detail}")]
    Corrupt {
        table: TableId,
        key: String,
        detail: String,
    },
    #[error("bad key for table {table}: {source}")]
    Key { table: TableId, source: KeyError },
    #[error("table store {op} failed: {source}")]
    Rocks { op: &'static str, source: rocksdb::Error },
}

impl TableStoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            TableStoreError::Open { .. } | TableStoreError::Thread { .. } => ErrorKind::Internal,
            TableStoreError::NoSuchTable { .. } => ErrorKind::NotFound,
            TableStoreError::Corrupt { .. } => ErrorKind::Corrupt,
            TableStoreError::Key { .. } => ErrorKind::Invalid,
            TableStoreError::Rocks { source, .. } => match source.kind() {
                rocksdb::ErrorKind::Corruption => ErrorKind::Corrupt,
                rocksdb::ErrorKind::Busy | rocksdb::ErrorKind::TimedOut | rocksdb::ErrorKind::TryAgain => {
                    ErrorKind::Unavailable
                }
                _ => ErrorKind::Internal,
            },
        }
    }
}
