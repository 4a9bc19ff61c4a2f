//! The datanode's error enum. Every variant carries the ids and paths needed to act on it; the caller-facing
//! [`ErrorKind`] is derived by one exhaustive match, and [`DatanodeError::to_status`] is the only way an
//! error leaves the process over gRPC.

use basalt_common::checksum::{ChecksumMismatch, MetaHeaderError};
use basalt_common::config::InvalidConfig;
use basalt_common::{BlockId, DatanodeId, ErrorKind, GenStamp};
use std::path::PathBuf;

/// gRPC metadata entry naming the datanode (decimal id) whose failure broke a write pipeline.
pub use basalt_proto::status::BAD_DATANODE_KEY;

/// Everything that can go wrong in a datanode.
#[derive(Debug, thiserror::Error)]
pub enum DatanodeError {
    #[error(transparent)]
    Config(#[from] InvalidConfig),
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("datanode id file {path} is malformed")]
    IdentityCorrupt { path: PathBuf },
    #[error("data directory {path} is in use by another datanode")]
    DirLocked { path: PathBuf },
    #[error(transparent)]
    CqlUsers(#[from] crate::tables::cql_server::auth::UsersFileError),
    #[error("cannot connect the WebHDFS gateway's client to {namenodes}: {source}")]
    WebHdfsClient {
        namenodes: String,
        source: basalt_client::ClientError,
    },
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("block {block} not found")]
    BlockNotFound { block: BlockId },
    #[error("block {block} has generation stamp {actual}, not the requested {requested}")]
    StaleGenStamp {
        block: BlockId,
        requested: GenStamp,
        actual: GenStamp,
    },
    #[error("block {block} {genstamp} is already finalized")]
    BlockExists { block: BlockId, genstamp: GenStamp },
    #[error("block {block} is already being written")]
    WriteInProgress { block: BlockId },
    #[error("block {block} exists with newer generation stamp {existing} (write offered {offered})")]
    NewerReplicaExists {
        block: BlockId,
        existing: GenStamp,
        offered: GenStamp,
    },
    #[error("block {block}: generation stamp {offered} is not newer than the replica's {existing}")]
    GenStampNotNewer {
        block: BlockId,
        existing: GenStamp,
        offered: GenStamp,
    },
    #[error("block {block} is under recovery with generation stamp {recovery}; {offered} is older")]
    RecoveryFenced {
        block: BlockId,
        recovery: GenStamp,
        offered: GenStamp,
    },
    #[error("no replica of block {block} to resume")]
    NoReplicaToResume { block: BlockId },
    #[error("replica of block {block} has {length} bytes, fewer than the {wanted} asked for")]
    ReplicaTooShort { block: BlockId, wanted: u64, length: u64 },
    #[error(
        "resume of block {block} at offset {offset}: not a multiple of the chunk size {chunk_size} nor the replica length {length}"
    )]
    ResumeUnaligned {
        block: BlockId,
        offset: u64,
        chunk_size: u32,
        length: u64,
    },
    #[error("write of block {block} {genstamp} was superseded by generation stamp {by}")]
    Superseded {
        block: BlockId,
        genstamp: GenStamp,
        by: GenStamp,
    },
    #[error("the writer of block {block} did not stop within {secs}s")]
    WriterDidNotStop { block: BlockId, secs: u64 },
    #[error("checksum mismatch in block {block}: {source}")]
    Checksum { block: BlockId, source: ChecksumMismatch },
    #[error("replica metadata of block {block} at {path} is unreadable: {source}")]
    BadMeta {
        block: BlockId,
        path: PathBuf,
        source: MetaHeaderError,
    },
    #[error("replica of block {block} is inconsistent: data is {data_len} bytes but meta holds {sums} checksums")]
    MetaLength { block: BlockId, data_len: u64, sums: u64 },
    #[error("replica file {path} of block {block} is shorter than its recorded length")]
    Truncated { block: BlockId, path: PathBuf },
    #[error("read of block {block} at offset {offset} is beyond its length {length}")]
    OffsetBeyondEnd { block: BlockId, offset: u64, length: u64 },
    #[error("write of block {block}: packet {seqno} at offset {offset}, expected offset {expected}")]
    OutOfOrder {
        block: BlockId,
        seqno: u64,
        offset: u64,
        expected: u64,
    },
    #[error("write of block {block}: packet {seqno} is malformed: {reason}")]
    BadPacket {
        block: BlockId,
        seqno: u64,
        reason: &'static str,
    },
    #[error("write stream is malformed: {reason}")]
    BadStream { reason: &'static str },
    #[error("write of block {block}: client stream failed: {source}")]
    Upstream { block: BlockId, source: tonic::Status },
    #[error("pipeline datanode {node} ({addr}) is unreachable: {source}")]
    DownstreamUnreachable {
        node: DatanodeId,
        addr: String,
        source: tonic::transport::Error,
    },
    #[error("pipeline datanode {node} failed: {message}")]
    DownstreamFailed {
        node: DatanodeId,
        kind: ErrorKind,
        message: String,
    },
    #[error("pipeline datanode {node} did not acknowledge packet {seqno} within {secs}s")]
    DownstreamTimeout { node: DatanodeId, seqno: u64, secs: u64 },
    #[error("pipeline datanode {node} acknowledged packet {got}, expected {expected}")]
    DownstreamAckOrder { node: DatanodeId, expected: u64, got: u64 },
    #[error("namenode {addr}: {source}")]
    Namenode {
        addr: String,
        source: basalt_proto::RemoteError,
    },
    #[error("write of block {block}: the local replica writer stopped")]
    WriterStopped { block: BlockId },
    #[error("datanode is shutting down")]
    ShuttingDown,
    #[error("background task failed: {source}")]
    Task { source: tokio::task::JoinError },
    #[error("catalog version {wanted} not reached (this datanode has {have})")]
    CatalogBehind { wanted: u64, have: u64 },
    #[error("namenode {addr} sent a malformed catalog or ring: {reason}")]
    MalformedCatalog { addr: String, reason: String },
    #[error(transparent)]
    TableStore(#[from] crate::tables::store::TableStoreError),
}

impl DatanodeError {
    /// What a caller should do about this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DatanodeError::Config(_) => ErrorKind::Invalid,
            DatanodeError::Io { .. } => ErrorKind::Internal,
            DatanodeError::IdentityCorrupt { .. } => ErrorKind::Corrupt,
            DatanodeError::DirLocked { .. } => ErrorKind::Conflict,
            DatanodeError::Bind { .. } => ErrorKind::Unavailable,
            DatanodeError::WebHdfsClient { .. } => ErrorKind::Invalid,
            DatanodeError::CqlUsers(_) => ErrorKind::Invalid,
            DatanodeError::BlockNotFound { .. } => ErrorKind::NotFound,
            DatanodeError::StaleGenStamp { .. } => ErrorKind::NotFound,
            DatanodeError::BlockExists { .. } => ErrorKind::AlreadyExists,
            DatanodeError::WriteInProgress { .. } => ErrorKind::Conflict,
            DatanodeError::NewerReplicaExists { .. } => ErrorKind::Conflict,
            DatanodeError::GenStampNotNewer { .. } => ErrorKind::Conflict,
            DatanodeError::RecoveryFenced { .. } => ErrorKind::Conflict,
            DatanodeError::NoReplicaToResume { .. } => ErrorKind::NotFound,
            DatanodeError::ReplicaTooShort { .. } => ErrorKind::Invalid,
            DatanodeError::ResumeUnaligned { .. } => ErrorKind::Invalid,
            DatanodeError::Superseded { .. } => ErrorKind::Conflict,
            DatanodeError::WriterDidNotStop { .. } => ErrorKind::Unavailable,
            DatanodeError::Checksum { .. } => ErrorKind::Corrupt,
            DatanodeError::BadMeta { .. } => ErrorKind::Corrupt,
            DatanodeError::MetaLength { .. } => ErrorKind::Corrupt,
            DatanodeError::Truncated { .. } => ErrorKind::Corrupt,
            DatanodeError::OffsetBeyondEnd { .. } => ErrorKind::Invalid,
            DatanodeError::OutOfOrder { .. } => ErrorKind::Invalid,
            DatanodeError::BadPacket { .. } => ErrorKind::Invalid,
            DatanodeError::BadStream { .. } => ErrorKind::Invalid,
            DatanodeError::Upstream { .. } => ErrorKind::Unavailable,
            DatanodeError::DownstreamUnreachable { .. } => ErrorKind::Unavailable,
            DatanodeError::DownstreamFailed { kind, .. } => *kind,
            DatanodeError::DownstreamTimeout { .. } => ErrorKind::Unavailable,
            DatanodeError::DownstreamAckOrder { .. } => ErrorKind::Internal,
            DatanodeError::Namenode { source, .. } => source.kind,
            DatanodeError::WriterStopped { .. } => ErrorKind::Internal,
            DatanodeError::ShuttingDown => ErrorKind::Unavailable,
            DatanodeError::Task { .. } => ErrorKind::Internal,
            DatanodeError::CatalogBehind { .. } => ErrorKind::Unavailable,
            DatanodeError::MalformedCatalog { .. } => ErrorKind::Internal,
            DatanodeError::TableStore(e) => e.kind(),
        }
    }

    /// The pipeline datanode this error blames, if it is a downstream failure.
    pub fn bad_datanode(&self) -> Option<DatanodeId> {
        match self {
            DatanodeError::DownstreamUnreachable { node, .. }
            | DatanodeError::DownstreamTimeout { node, .. }
            | DatanodeError::DownstreamAckOrder { node, .. } => Some(*node),
            // Whatever the downstream node answered, the pipeline cannot go on through it.
            DatanodeError::DownstreamFailed { node, .. } => Some(*node),
            _ => None,
        }
    }

    /// The gRPC status for this error; a blamed pipeline datanode is named in [`BAD_DATANODE_KEY`].
    pub fn to_status(&self) -> tonic::Status {
        let mut status = basalt_proto::to_status(self.kind(), self.to_string(), None);
        if let Some(Ok(v)) = self.bad_datanode().map(|n| n.0.to_string().parse()) {
            status.metadata_mut().insert(BAD_DATANODE_KEY, v);
        }
        status
    }

    /// Builds an [`DatanodeError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> DatanodeError {
        let path = path.into();
        move |source| DatanodeError::Io { path, source }
    }
}

impl From<basalt_host::PathIoError> for DatanodeError {
    fn from(e: basalt_host::PathIoError) -> Self {
        DatanodeError::Io {
            path: e.path,
            source: e.source,
        }
    }
}

impl From<DatanodeError> for tonic::Status {
    fn from(e: DatanodeError) -> Self {
        e.to_status()
    }
}

/// Reads the datanode a remote status blames, as set by [`DatanodeError::to_status`].
pub fn bad_datanode_of(status: &tonic::Status) -> Option<DatanodeId> {
    basalt_proto::status::bad_datanode_of(status).map(DatanodeId)
}
