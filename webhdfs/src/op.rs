//! The WebHDFS operations (`op=`), each with the HTTP method Hadoop serves it on.

use crate::error::{Result, WebHdfsError};
use axum::http::Method;

/// A WebHDFS operation this gateway serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    GetFileStatus,
    ListStatus,
    GetContentSummary,
    GetFileChecksum,
    GetHomeDirectory,
    GetTrashRoot,
    Open,
    Mkdirs,
    Rename,
    SetPermission,
    SetOwner,
    SetReplication,
    SetTimes,
    Create,
    Append,
    Delete,
}

const OPS: [(&str, Op); 16] = [
    ("GETFILESTATUS", Op::GetFileStatus),
    ("LISTSTATUS", Op::ListStatus),
    ("GETCONTENTSUMMARY", Op::GetContentSummary),
    ("GETFILECHECKSUM", Op::GetFileChecksum),
    ("GETHOMEDIRECTORY", Op::GetHomeDirectory),
    ("GETTRASHROOT", Op::GetTrashRoot),
    ("OPEN", Op::Open),
    ("MKDIRS", Op::Mkdirs),
    ("RENAME", Op::Rename),
    ("SETPERMISSION", Op::SetPermission),
    ("SETOWNER", Op::SetOwner),
    ("SETREPLICATION", Op::SetReplication),
    ("SETTIMES", Op::SetTimes),
    ("CREATE", Op::Create),
    ("APPEND", Op::Append),
    ("DELETE", Op::Delete),
];

impl Op {
    /// Parses `op` (any case, as Hadoop accepts it) and checks that `method` is the op's.
    pub fn parse(op: &str, method: &Method) -> Result<Op> {
        let upper = op.to_ascii_uppercase();
        let Some(&(_, parsed)) = OPS.iter().find(|(name, _)| *name == upper) else {
            return Err(WebHdfsError::UnknownOp { op: op.to_string() });
        };
        if parsed.method() != *method && !(parsed.method() == Method::GET && *method == Method::HEAD) {
            return Err(WebHdfsError::WrongMethod {
                op: parsed.name(),
                method: method.to_string(),
            });
        }
        Ok(parsed)
    }

    pub fn name(self) -> &'static str {
        OPS.iter()
            .find(|(_, o)| *o == self)
            .map(|(n, _)| *n)
            .expect("every op is named")
    }

    pub fn method(self) -> Method {
        match self {
            Op::GetFileStatus
            | Op::ListStatus
            | Op::GetContentSummary
            | Op::GetFileChecksum
            | Op::GetHomeDirectory
            | Op::GetTrashRoot
            | Op::Open => Method::GET,
            Op::Mkdirs
            | Op::Rename
            | Op::SetPermission
            | Op::SetOwner
            | Op::SetReplication
            | Op::SetTimes
            | Op::Create => Method::PUT,
            Op::Append => Method::POST,
            Op::Delete => Method::DELETE,
        }
    }

    /// Whether the op moves file data (served by a datanode after a redirect).
    pub fn is_data(self) -> bool {
        matches!(self, Op::Open | Op::Create | Op::Append)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_parse_in_any_case_on_their_method() {
        assert_eq!(Op::parse("liststatus", &Method::GET).unwrap(), Op::ListStatus);
        assert_eq!(Op::parse("Create", &Method::PUT).unwrap(), Op::Create);
        assert_eq!(Op::parse("APPEND", &Method::POST).unwrap(), Op::Append);
        assert_eq!(Op::parse("delete", &Method::DELETE).unwrap(), Op::Delete);
        assert!(matches!(
            Op::parse("NOPE", &Method::GET),
            Err(WebHdfsError::UnknownOp { .. })
        ));
        assert!(matches!(
            Op::parse("MKDIRS", &Method::GET),
            Err(WebHdfsError::WrongMethod { op: "MKDIRS", .. })
        ));
        for (name, op) in OPS {
            assert_eq!(op.name(), name);
            assert_eq!(Op::parse(name, &op.method()).unwrap(), op);
        }
    }
}
