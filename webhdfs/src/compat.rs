//! The calls of the permissions work (caller identity, chmod, chown, touch) that WebHDFS makes, in one
//! place. Until the client has them, the caller is the gateway's own user and the set operations are
//! refused.

use basalt_client::{Client, ClientError, Result};

/// The client acting as `user` (its namenode calls carry that user).
pub fn as_user(client: &Client, _user: &str) -> Client {
    client.clone()
}

fn unsupported(op: &str) -> ClientError {
    ClientError::InvalidArgument(format!("{op} is not supported yet"))
}

pub async fn set_permission(_client: &Client, _path: &str, _mode: u32) -> Result<()> {
    Err(unsupported("SETPERMISSION"))
}

pub async fn set_owner(_client: &Client, _path: &str, _owner: Option<&str>, _group: Option<&str>) -> Result<()> {
    Err(unsupported("SETOWNER"))
}

pub async fn set_times(_client: &Client, _path: &str, _mtime_ms: Option<u64>, _atime_ms: Option<u64>) -> Result<()> {
    Err(unsupported("SETTIMES"))
}

/// When the file was last read (Hadoop's accessTime).
pub fn atime_ms(s: &basalt_client::FileStatus) -> u64 {
    s.mtime_ms
}
