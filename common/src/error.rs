//! The shared error kind. Every crate has its own error enum with structured fields; each maps onto one
//! [`ErrorKind`] by an exhaustive match, and callers decide from the kind alone whether to retry,
//! redirect to the leader, or give up.

use std::fmt;

/// What a caller should do about an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The metadata member is not the Raft leader: redirect to the hinted leader and retry.
    NotLeader,
    /// The path, block or object does not exist.
    NotFound,
    /// The object already exists.
    AlreadyExists,
    /// The request is malformed or not allowed on this object (bad path, not a directory, ...).
    Invalid,
    /// A transient condition (no leader yet, safe mode, a node unreachable): retry with backoff.
    Unavailable,
    /// Not enough live datanodes or space for the request; retrying will not help until nodes are added.
    Capacity,
    /// Bytes on disk or on the wire failed their checksum.
    Corrupt,
    /// The operation conflicts with concurrent state (lease held by another writer, stale stamp).
    Conflict,
    /// A bug or an unexpected local failure.
    Internal,
    /// The caller may not do this to the object (HDFS permission bits, owner or superuser checks):
    /// retrying as the same user will not help.
    PermissionDenied,
}

impl ErrorKind {
    /// Stable name used on the wire (gRPC metadata) and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotLeader => "not-leader",
            ErrorKind::NotFound => "not-found",
            ErrorKind::AlreadyExists => "already-exists",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Capacity => "capacity",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Internal => "internal",
            ErrorKind::PermissionDenied => "permission-denied",
        }
    }

    /// Inverse of [`ErrorKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "not-leader" => ErrorKind::NotLeader,
            "not-found" => ErrorKind::NotFound,
            "already-exists" => ErrorKind::AlreadyExists,
            "invalid" => ErrorKind::Invalid,
            "unavailable" => ErrorKind::Unavailable,
            "capacity" => ErrorKind::Capacity,
            "corrupt" => ErrorKind::Corrupt,
            "conflict" => ErrorKind::Conflict,
            "internal" => ErrorKind::Internal,
            "permission-denied" => ErrorKind::PermissionDenied,
            _ => return None,
        })
    }

    /// Whether retrying the same request later (or elsewhere) may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::NotLeader | ErrorKind::Unavailable)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for k in [
            ErrorKind::NotLeader,
            ErrorKind::NotFound,
            ErrorKind::AlreadyExists,
            ErrorKind::Invalid,
            ErrorKind::Unavailable,
            ErrorKind::Capacity,
            ErrorKind::Corrupt,
            ErrorKind::Conflict,
            ErrorKind::Internal,
            ErrorKind::PermissionDenied,
        ] {
            assert_eq!(ErrorKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ErrorKind::parse("nonsense"), None);
    }
}
