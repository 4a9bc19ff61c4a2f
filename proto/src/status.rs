//! Errors on the wire. A failed call carries a gRPC code derived from the [`ErrorKind`], the kind itself
//! in the `basalt-kind` metadata entry, the one-line message, and for [`ErrorKind::NotLeader`] the
//! leader's address in `basalt-leader`.

use basalt_common::ErrorKind;
use tonic::{Code, Status};

const KIND_KEY: &str = "basalt-kind";
const LEADER_KEY: &str = "basalt-leader";
/// Metadata entry naming the write-pipeline datanode a failure blames (its id).
pub const BAD_DATANODE_KEY: &str = "basalt-bad-datanode";

/// The pipeline datanode a write failure blames, if the status names one.
pub fn bad_datanode_of(status: &Status) -> Option<u64> {
    status.metadata().get(BAD_DATANODE_KEY)?.to_str().ok()?.parse().ok()
}

/// Builds the status for an error of `kind` with a user-facing `message`.
pub fn to_status(kind: ErrorKind, message: impl Into<String>, leader: Option<&str>) -> Status {
    let code = match kind {
        ErrorKind::NotLeader => Code::FailedPrecondition,
        ErrorKind::NotFound => Code::NotFound,
        ErrorKind::AlreadyExists => Code::AlreadyExists,
        ErrorKind::Invalid => Code::InvalidArgument,
        ErrorKind::Unavailable => Code::Unavailable,
        ErrorKind::Capacity => Code::ResourceExhausted,
        ErrorKind::Corrupt => Code::DataLoss,
        ErrorKind::Conflict => Code::Aborted,
        ErrorKind::Internal => Code::Internal,
        ErrorKind::PermissionDenied => Code::PermissionDenied,
    };
    let mut status = Status::new(code, message);
    if let Ok(v) = kind.as_str().parse() {
        status.metadata_mut().insert(KIND_KEY, v);
    }
    if let Some(Ok(v)) = leader.map(|l| l.parse()) {
        status.metadata_mut().insert(LEADER_KEY, v);
    }
    status
}

/// An error reported by a remote Basalt service (or by the transport reaching it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RemoteError {
    pub kind: ErrorKind,
    pub message: String,
    /// For [`ErrorKind::NotLeader`]: the current leader's address, when the member knows it.
    pub leader: Option<String>,
    /// True when no Basalt service produced the error: the transport failed (refused, reset, timeout).
    pub transport: bool,
}

impl From<Status> for RemoteError {
    fn from(s: Status) -> Self {
        let meta_kind = s
            .metadata()
            .get(KIND_KEY)
            .and_then(|v| v.to_str().ok())
            .and_then(ErrorKind::parse);
        let kind = meta_kind.unwrap_or(match s.code() {
            // No Basalt kind: the failure is the transport's (connection refused, reset, deadline).
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown => ErrorKind::Unavailable,
            Code::NotFound => ErrorKind::NotFound,
            Code::AlreadyExists => ErrorKind::AlreadyExists,
            Code::InvalidArgument | Code::OutOfRange => ErrorKind::Invalid,
            Code::ResourceExhausted => ErrorKind::Capacity,
            Code::DataLoss => ErrorKind::Corrupt,
            Code::Aborted | Code::FailedPrecondition => ErrorKind::Conflict,
            Code::PermissionDenied => ErrorKind::PermissionDenied,
            _ => ErrorKind::Internal,
        });
        let leader = s
            .metadata()
            .get(LEADER_KEY)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let message = if meta_kind.is_some() {
            s.message().to_string()
        } else {
            // A transport failure: the useful part (e.g. "Connection refused") is in the source chain.
            let mut m = s.message().to_string();
            let mut source = std::error::Error::source(&s);
            while let Some(e) = source {
                let text = e.to_string();
                if !m.contains(&text) {
                    m.push_str(": ");
                    m.push_str(&text);
                }
                source = e.source();
            }
            m
        };
        RemoteError {
            kind,
            message,
            leader,
            transport: meta_kind.is_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_kind_message_and_leader() {
        let s = to_status(ErrorKind::NotLeader, "not the leader", Some("127.0.0.1:9000"));
        let e = RemoteError::from(s);
        assert_eq!(e.kind, ErrorKind::NotLeader);
        assert_eq!(e.message, "not the leader");
        assert_eq!(e.leader.as_deref(), Some("127.0.0.1:9000"));

        let e = RemoteError::from(to_status(ErrorKind::NotFound, "no such file: /x", None));
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.leader, None);

        let denied = "Permission denied: user=alice, access=WRITE, inode=\"/data\":root:supergroup:drwxr-xr-x";
        let s = to_status(ErrorKind::PermissionDenied, denied, None);
        assert_eq!(s.code(), Code::PermissionDenied);
        let e = RemoteError::from(s);
        assert_eq!(e.kind, ErrorKind::PermissionDenied);
        assert_eq!(e.to_string(), denied);
    }

    #[test]
    fn transport_failures_are_unavailable() {
        let e = RemoteError::from(Status::unavailable("connection refused"));
        assert_eq!(e.kind, ErrorKind::Unavailable);
        assert!(e.kind.is_retryable());
    }
}
