//! The calls of the permissions work (caller identity, chmod, chown, touch) that WebHDFS makes, in one
//! place: the client library's own (`as_user`, `set_permission`, `set_owner`, `set_times`).

use basalt_client::{Client, Result};

/// The client acting as `user` (its namenode calls carry that user).
pub fn as_user(client: &Client, user: &str) -> Client {
    client.as_user(user)
}

pub async fn set_permission(client: &Client, path: &str, mode: u32) -> Result<()> {
    client.set_permission(path, mode).await
}

pub async fn set_owner(client: &Client, path: &str, owner: Option<&str>, group: Option<&str>) -> Result<()> {
    client.set_owner(path, owner, group).await
}

pub async fn set_times(client: &Client, path: &str, mtime_ms: Option<u64>, atime_ms: Option<u64>) -> Result<()> {
    client.set_times(path, mtime_ms, atime_ms).await
}
