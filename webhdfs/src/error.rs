//! The errors of a WebHDFS request and their one exit: Hadoop's `RemoteException` body with the status
//! code clients map to their own exception types (HdfsCLI's `HdfsError`, fsspec's `FileNotFoundError`,
//! `PermissionError`, ...).
//!
//! | error | exception | status |
//! | --- | --- | --- |
//! | a bad parameter, an unknown op, a bad path | `IllegalArgumentException` | 400 |
//! | not found | `FileNotFoundException` | 404 |
//! | already exists | `FileAlreadyExistsException` | 400 |
//! | permission denied, `doas` refused | `AccessControlException` | 403 |
//! | lease held by another writer | `AlreadyBeingCreatedException` | 403 |
//! | anything else (unavailable, corrupt, internal) | `IOException` | 500 |

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use basalt_client::ClientError;
use basalt_common::ErrorKind;

/// Why a WebHDFS request failed.
#[derive(Debug, thiserror::Error)]
pub enum WebHdfsError {
    #[error("Invalid value for webhdfs parameter \"{param}\": {value:?} {reason}")]
    BadParam {
        param: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("Required parameter \"{param}\" is missing")]
    MissingParam { param: &'static str },
    #[error("Invalid value for webhdfs parameter \"op\": No enum constant {op:?}")]
    UnknownOp { op: String },
    #[error("Invalid value for webhdfs parameter \"op\": {op} is not a {method} operation")]
    WrongMethod { op: &'static str, method: String },
    #[error("Invalid operation {op} on a datanode: send it to the namenode")]
    WrongOp { op: &'static str },
    #[error("Offset={offset} out of the range [0, {length}]; OPEN, path={path}")]
    OffsetOutOfRange { offset: u64, length: u64, path: String },
    #[error("Path is not a file: {path}")]
    NotAFile { path: String },
    #[error("Invalid path: {reason}")]
    BadPath { reason: String },
    #[error("User {user} is not allowed to impersonate {doas}")]
    DoAsRefused { user: String, doas: String },
    #[error("Failed to find datanode, suggest to check cluster health")]
    NoDatanode,
    #[error("The request body ended early after {received} bytes: {reason}")]
    BodyInterrupted { received: u64, reason: String },
    #[error("Request headers of {bytes} bytes exceed the limit of {limit}")]
    HeadersTooLarge { bytes: usize, limit: usize },
    #[error("Request URI of {bytes} bytes exceeds the limit of {limit}")]
    UriTooLong { bytes: usize, limit: usize },
    /// Hadoop's wording, which clients match ("does not exist": HdfsCLI's upload).
    #[error("File does not exist: {path} ({source})")]
    NotFound { path: String, source: ClientError },
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// What a [`WebHdfsError`] is to a Hadoop client: its exception and status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exception {
    pub name: &'static str,
    pub java_class: &'static str,
    pub status: StatusCode,
}

const ILLEGAL_ARGUMENT: Exception = Exception {
    name: "IllegalArgumentException",
    java_class: "java.lang.IllegalArgumentException",
    status: StatusCode::BAD_REQUEST,
};
const NOT_FOUND: Exception = Exception {
    name: "FileNotFoundException",
    java_class: "java.io.FileNotFoundException",
    status: StatusCode::NOT_FOUND,
};
const ALREADY_EXISTS: Exception = Exception {
    name: "FileAlreadyExistsException",
    java_class: "org.apache.hadoop.fs.FileAlreadyExistsException",
    status: StatusCode::BAD_REQUEST,
};
const ACCESS_CONTROL: Exception = Exception {
    name: "AccessControlException",
    java_class: "org.apache.hadoop.security.AccessControlException",
    status: StatusCode::FORBIDDEN,
};
const BEING_CREATED: Exception = Exception {
    name: "AlreadyBeingCreatedException",
    java_class: "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException",
    status: StatusCode::FORBIDDEN,
};
const IO: Exception = Exception {
    name: "IOException",
    java_class: "java.io.IOException",
    status: StatusCode::INTERNAL_SERVER_ERROR,
};

impl WebHdfsError {
    pub fn exception(&self) -> Exception {
        match self {
            WebHdfsError::BadParam { .. }
            | WebHdfsError::MissingParam { .. }
            | WebHdfsError::UnknownOp { .. }
            | WebHdfsError::WrongMethod { .. }
            | WebHdfsError::WrongOp { .. }
            | WebHdfsError::OffsetOutOfRange { .. }
            | WebHdfsError::BadPath { .. } => ILLEGAL_ARGUMENT,
            WebHdfsError::NotAFile { .. } | WebHdfsError::NotFound { .. } => NOT_FOUND,
            WebHdfsError::DoAsRefused { .. } => ACCESS_CONTROL,
            WebHdfsError::NoDatanode | WebHdfsError::BodyInterrupted { .. } => IO,
            WebHdfsError::HeadersTooLarge { .. } => Exception {
                status: StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                ..ILLEGAL_ARGUMENT
            },
            WebHdfsError::UriTooLong { .. } => Exception {
                status: StatusCode::URI_TOO_LONG,
                ..ILLEGAL_ARGUMENT
            },
            WebHdfsError::Client(e) => of_kind(e.kind()),
        }
    }
}

/// The exception of a client error, by its kind alone.
pub fn of_kind(kind: ErrorKind) -> Exception {
    match kind {
        ErrorKind::NotFound => NOT_FOUND,
        ErrorKind::AlreadyExists => ALREADY_EXISTS,
        ErrorKind::Invalid => ILLEGAL_ARGUMENT,
        ErrorKind::PermissionDenied => ACCESS_CONTROL,
        ErrorKind::Conflict => BEING_CREATED,
        ErrorKind::NotLeader
        | ErrorKind::Unavailable
        | ErrorKind::Capacity
        | ErrorKind::Corrupt
        | ErrorKind::Internal => IO,
    }
}

/// Hadoop's error body.
pub fn remote_exception(e: Exception, message: &str) -> serde_json::Value {
    serde_json::json!({
        "RemoteException": {
            "exception": e.name,
            "javaClassName": e.java_class,
            "message": message,
        }
    })
}

impl IntoResponse for WebHdfsError {
    fn into_response(self) -> Response {
        let e = self.exception();
        if e.status.is_server_error() {
            tracing::warn!(error = %self, "WebHDFS request failed");
        }
        (e.status, axum::Json(remote_exception(e, &self.to_string()))).into_response()
    }
}

impl WebHdfsError {
    /// A client error about the request's `path`, in Hadoop's words where clients read them.
    pub fn about(self, path: &basalt_common::BPath) -> Self {
        match self {
            WebHdfsError::Client(source) if source.kind() == ErrorKind::NotFound => WebHdfsError::NotFound {
                path: path.to_string(),
                source,
            },
            e => e,
        }
    }
}

pub type Result<T> = std::result::Result<T, WebHdfsError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_hadoop_exceptions_and_codes() {
        let cases: Vec<(WebHdfsError, &str, u16)> = vec![
            (
                WebHdfsError::UnknownOp { op: "NOPE".into() },
                "IllegalArgumentException",
                400,
            ),
            (
                WebHdfsError::MissingParam { param: "destination" },
                "IllegalArgumentException",
                400,
            ),
            (
                WebHdfsError::DoAsRefused {
                    user: "bob".into(),
                    doas: "root".into(),
                },
                "AccessControlException",
                403,
            ),
            (
                WebHdfsError::Client(ClientError::InvalidArgument("x".into())),
                "IllegalArgumentException",
                400,
            ),
            (WebHdfsError::NoDatanode, "IOException", 500),
        ];
        for (err, name, code) in cases {
            let e = err.exception();
            assert_eq!((e.name, e.status.as_u16()), (name, code), "{err}");
        }
        for (kind, name, code) in [
            (ErrorKind::NotFound, "FileNotFoundException", 404),
            (ErrorKind::AlreadyExists, "FileAlreadyExistsException", 400),
            (ErrorKind::PermissionDenied, "AccessControlException", 403),
            (ErrorKind::Unavailable, "IOException", 500),
        ] {
            let e = of_kind(kind);
            assert_eq!((e.name, e.status.as_u16()), (name, code));
        }
    }

    #[test]
    fn the_body_is_hadoops_remote_exception() {
        let body = remote_exception(NOT_FOUND, "File does not exist: /x");
        assert_eq!(
            body.to_string(),
            r#"{"RemoteException":{"exception":"FileNotFoundException","javaClassName":"java.io.FileNotFoundException","message":"File does not exist: /x"}}"#
        );
    }
}
