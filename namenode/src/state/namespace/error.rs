//! Errors of namespace operations. Each maps to one [`ErrorKind`].

use basalt_common::path::PathError;
use basalt_common::{BPath, BlockId, ErrorKind};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum NamespaceError {
    #[error("{message}")]
    InvalidPath { message: String },
    #[error("no such file or directory: {path}")]
    NotFound { path: BPath },
    #[error("parent directory does not exist: {path}")]
    ParentNotFound { path: BPath },
    #[error("file or directory already exists: {path}")]
    AlreadyExists { path: BPath },
    #[error("not a directory: {path}")]
    NotADirectory { path: BPath },
    #[error("is a directory: {path}")]
    IsADirectory { path: BPath },
    #[error("directory is not empty: {path} (delete it recursively)")]
    DirectoryNotEmpty { path: BPath },
    #[error("cannot move {src} into its own subtree {dst}")]
    RenameIntoSelf { src: BPath, dst: BPath },
    #[error("the root directory cannot be {op}")]
    RootOperation { op: String },
    #[error("{path} is being written by {holder}, not by {client}")]
    LeaseMismatch {
        path: BPath,
        holder: String,
        client: String,
    },
    #[error("{path} is already open for writing by {holder}")]
    AlreadyBeingWritten { path: BPath, holder: String },
    #[error("{path}: the lease is being recovered, not held by {holder}")]
    NotRecovering { path: BPath, holder: String },
    #[error("{path}: block {block} is at generation stamp {current}, not {got}")]
    StaleGenStamp {
        path: BPath,
        block: BlockId,
        current: u64,
        got: u64,
    },
    #[error("{path} is not open for writing")]
    NotUnderConstruction { path: BPath },
    #[error("{path}: block {got} is not the file's last block (expected {expected:?})")]
    BlockMismatch {
        path: BPath,
        expected: Option<BlockId>,
        got: BlockId,
    },
    #[error("invalid replication factor {value}: must be between 1 and {max}")]
    InvalidReplication { value: u32, max: u32 },
    #[error("invalid block size {value}: must be a positive multiple of {multiple} bytes, at most {max}")]
    InvalidBlockSize { value: u64, multiple: u64, max: u64 },
    /// Hadoop's words: the inode whose bits failed, with its owner, group and mode (`drwxr-xr-x`).
    #[error("{0}")]
    PermissionDenied(Box<AccessDenied>),
    #[error("{0}")]
    StickyBit(Box<StickyDenied>),
    #[error("Permission denied. user={user} is not the owner of inode={path}")]
    NotOwner { user: String, path: BPath },
    #[error("User {user} is not a super user (non-super user cannot change owner).")]
    NotSuperuser { user: String },
    #[error("User {user} does not belong to {group}")]
    NotInGroup { user: String, group: String },
    #[error("invalid owner or group name {name:?}: it must be non-empty and hold no ':' or control character")]
    InvalidOwnerName { name: String },
}

/// Which bits an access lacked, on which inode (boxed in [`NamespaceError`] to keep errors small).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("Permission denied: user={user}, access={access}, inode=\"{path}\":{owner}:{group}:{mode}")]
pub struct AccessDenied {
    pub user: String,
    pub access: String,
    pub path: BPath,
    pub owner: String,
    pub group: String,
    pub mode: String,
}

/// A delete or rename refused by a directory's sticky bit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error(
    "Permission denied by sticky bit: user={user}, path=\"{path}\":{owner}:{group}:{mode}, \
     parent=\"{parent}\":{parent_owner}:{parent_group}:{parent_mode}"
)]
pub struct StickyDenied {
    pub user: String,
    pub path: BPath,
    pub owner: String,
    pub group: String,
    pub mode: String,
    pub parent: BPath,
    pub parent_owner: String,
    pub parent_group: String,
    pub parent_mode: String,
}

impl From<PathError> for NamespaceError {
    fn from(e: PathError) -> Self {
        NamespaceError::InvalidPath { message: e.to_string() }
    }
}

impl NamespaceError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            NamespaceError::NotFound { .. } | NamespaceError::ParentNotFound { .. } => ErrorKind::NotFound,
            NamespaceError::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            NamespaceError::InvalidPath { .. }
            | NamespaceError::NotADirectory { .. }
            | NamespaceError::IsADirectory { .. }
            | NamespaceError::DirectoryNotEmpty { .. }
            | NamespaceError::RenameIntoSelf { .. }
            | NamespaceError::RootOperation { .. }
            | NamespaceError::InvalidReplication { .. }
            | NamespaceError::InvalidBlockSize { .. }
            | NamespaceError::InvalidOwnerName { .. } => ErrorKind::Invalid,
            NamespaceError::PermissionDenied(_)
            | NamespaceError::StickyBit(_)
            | NamespaceError::NotOwner { .. }
            | NamespaceError::NotSuperuser { .. }
            | NamespaceError::NotInGroup { .. } => ErrorKind::PermissionDenied,
            NamespaceError::LeaseMismatch { .. }
            | NamespaceError::NotUnderConstruction { .. }
            | NamespaceError::BlockMismatch { .. }
            | NamespaceError::AlreadyBeingWritten { .. }
            | NamespaceError::NotRecovering { .. }
            | NamespaceError::StaleGenStamp { .. } => ErrorKind::Conflict,
        }
    }
}
