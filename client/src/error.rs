//! Errors of the client library. [`ClientError::kind`] tells callers what to do; `Display` is the
//! one-line message the CLI prints.

use basalt_common::checksum::ChecksumMismatch;
use basalt_common::path::PathError;
use basalt_common::{BlockId, ErrorKind};
use basalt_proto::RemoteError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The namenode or a datanode answered with an error.
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error(transparent)]
    InvalidPath(#[from] PathError),
    #[error("namenode unreachable at {addrs}: {cause}")]
    NamenodeUnreachable { addrs: String, cause: String },
    #[error("gave up after {secs} s: {last}")]
    DeadlineExceeded { secs: u64, last: String },
    #[error("{path}: {source}")]
    LocalIo { path: PathBuf, source: std::io::Error },
    #[error("could not read {block} of {path}: {reason}")]
    BlockUnreadable {
        path: String,
        block: BlockId,
        reason: String,
    },
    #[error("{block} from {source_addr}: {mismatch}")]
    Corrupt {
        block: BlockId,
        source_addr: String,
        mismatch: ChecksumMismatch,
    },
    #[error("write pipeline for {block} failed: {reason}")]
    Pipeline { block: BlockId, reason: String },
    #[error("is a directory: {0}")]
    IsADirectory(String),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("the writer was already closed or failed")]
    WriterClosed,
    /// A reply lacked a field the protocol requires (a version mismatch or a bug on the other side).
    #[error("malformed reply: no {0}")]
    MalformedReply(&'static str),
    #[error("malformed catalog value in a reply: {0}")]
    MalformedCatalog(#[source] basalt_table::catalog::CodecError),
    #[error("malformed job value in a reply: {0}")]
    MalformedJobValue(#[source] basalt_jobs::codec::CodecError),
    #[error("malformed ring in a reply: {0}")]
    MalformedRing(#[source] basalt_table::ring::RingError),
    #[error("table {keyspace}.{table} does not exist")]
    NoSuchTable { keyspace: String, table: String },
    #[error("table {table} has no column {column}")]
    NoSuchColumn { table: String, column: String },
    /// Every replica of a token range failed its scan.
    #[error("token range ({start}, {end}]: every replica failed ({tried}); last: {last}")]
    ScanFailed {
        start: i64,
        end: i64,
        tried: String,
        last: Box<ClientError>,
    },
}

/// A field a reply must carry, or [`ClientError::MalformedReply`].
pub(crate) fn required<T>(value: Option<T>, what: &'static str) -> Result<T> {
    value.ok_or(ClientError::MalformedReply(what))
}

impl From<tonic::Status> for ClientError {
    fn from(s: tonic::Status) -> Self {
        ClientError::Remote(s.into())
    }
}

impl ClientError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ClientError::Remote(e) => e.kind,
            ClientError::InvalidPath(_)
            | ClientError::InvalidArgument(_)
            | ClientError::IsADirectory(_)
            | ClientError::NoSuchColumn { .. } => ErrorKind::Invalid,
            ClientError::NoSuchTable { .. } => ErrorKind::NotFound,
            ClientError::ScanFailed { .. } => ErrorKind::Unavailable,
            ClientError::NamenodeUnreachable { .. }
            | ClientError::DeadlineExceeded { .. }
            | ClientError::BlockUnreadable { .. }
            | ClientError::Pipeline { .. } => ErrorKind::Unavailable,
            ClientError::LocalIo { .. }
            | ClientError::MalformedReply(_)
            | ClientError::MalformedCatalog(_)
            | ClientError::MalformedRing(_)
            | ClientError::MalformedJobValue(_) => ErrorKind::Internal,
            ClientError::Corrupt { .. } => ErrorKind::Corrupt,
            ClientError::WriterClosed => ErrorKind::Conflict,
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_tell_the_caller_what_to_do() {
        let unreadable = ClientError::BlockUnreadable {
            path: "/f".into(),
            block: BlockId(9),
            reason: "no live replica".into(),
        };
        assert_eq!(unreadable.to_string(), "could not read blk_9 of /f: no live replica");
        let cases = [
            (unreadable, ErrorKind::Unavailable),
            (
                ClientError::NamenodeUnreachable {
                    addrs: "a:1".into(),
                    cause: "refused".into(),
                },
                ErrorKind::Unavailable,
            ),
            (
                ClientError::DeadlineExceeded {
                    secs: 60,
                    last: "safe mode".into(),
                },
                ErrorKind::Unavailable,
            ),
            (ClientError::IsADirectory("/d".into()), ErrorKind::Invalid),
            (ClientError::InvalidArgument("x".into()), ErrorKind::Invalid),
            (ClientError::WriterClosed, ErrorKind::Conflict),
            (ClientError::MalformedReply("status"), ErrorKind::Internal),
            (
                ClientError::from(basalt_proto::to_status(ErrorKind::NotFound, "no such file", None)),
                ErrorKind::NotFound,
            ),
            (
                ClientError::from(tonic::Status::unavailable("reset")),
                ErrorKind::Unavailable,
            ),
        ];
        for (err, kind) in cases {
            assert_eq!(err.kind(), kind, "{err}");
        }
    }
}
