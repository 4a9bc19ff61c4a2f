//! The namenode's side of WebHDFS: every metadata op answered through the client library as the
//! caller, and the data ops (OPEN, CREATE, APPEND, and GETFILECHECKSUM, which reads the file) sent on
//! to a datanode with `307 Temporary Redirect`, as HDFS does.
//!
//! Choosing the datanode: for OPEN and GETFILECHECKSUM one holding the file's first block, one on
//! the caller's host first; for CREATE and APPEND (and an empty file) any live datanode serving HTTP,
//! the caller's host first, else one at random. The `Location` carries the request's parameters, the
//! caller as `user.name` (a `doas` was checked here and is resolved), and `namenoderpcaddress`;
//! `noredirect=true` answers `200 {"Location": ...}` instead.

use crate::compat;
use crate::error::{Result, WebHdfsError};
use crate::json;
use crate::op::Op;
use crate::request::WebRequest;
use crate::url::url;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use basalt_client::{Client, ClientError};
use basalt_common::ErrorKind;
use std::net::IpAddr;
use std::sync::Arc;

/// What the namenode's WebHDFS handlers share.
pub struct NamenodeGateway {
    /// Connected to the metadata group; each request acts through it as its caller.
    pub client: Client,
    /// The namenode's gRPC address, `namenoderpcaddress` in redirects.
    pub rpc_addr: String,
    /// Whether a user may act as another (`doas`): the namenode's superuser test.
    pub may_impersonate: Box<dyn Fn(String) -> futures::future::BoxFuture<'static, bool> + Send + Sync>,
}

pub(crate) async fn handle(State(gw): State<Arc<NamenodeGateway>>, req: Request) -> Response {
    let (parts, _body) = req.into_parts();
    match WebRequest::parse(&parts) {
        Ok(r) => {
            let path = r.path.clone();
            gw.serve(r).await.unwrap_or_else(|e| e.about(&path).into_response())
        }
        Err(e) => e.into_response(),
    }
}

/// Parameters a redirect does not pass on (it writes its own).
const NOT_FORWARDED: [&str; 5] = ["op", "user.name", "doas", "noredirect", "namenoderpcaddress"];

impl NamenodeGateway {
    async fn serve(&self, r: WebRequest) -> Result<Response> {
        let superuser = match &r.doas {
            Some(_) => (self.may_impersonate)(r.user.clone()).await,
            None => false,
        };
        let user = r.effective_user(|_| superuser)?.to_string();
        let client = compat::as_user(&self.client, &user);
        let path = r.path.as_str();
        let p = &r.params;
        let ok = |v: serde_json::Value| Ok((StatusCode::OK, Json(v)).into_response());
        match r.op {
            Op::GetFileStatus => ok(json::status_body(&client.stat(path).await?)),
            Op::ListStatus => ok(json::statuses_body(path, &client.list(path).await?)),
            Op::GetContentSummary => ok(json::content_summary_body(&client.content_summary(path).await?)),
            Op::GetHomeDirectory => ok(json::path_body(&format!("/user/{user}"))),
            Op::GetTrashRoot => ok(json::path_body(&format!("/user/{user}/.Trash"))),
            Op::Mkdirs => {
                let mode = p.permission()?;
                let existed = mode.is_some() && client.exists(path).await?;
                client.mkdirs(path, true).await?;
                if let (Some(mode), false) = (mode, existed) {
                    compat::set_permission(&client, path, mode).await?;
                }
                ok(json::boolean_body(true))
            }
            Op::Rename => {
                let dst = p.required("destination")?;
                let dst = basalt_common::BPath::parse(dst).map_err(|e| WebHdfsError::BadParam {
                    param: "destination",
                    value: dst.chars().take(200).collect(),
                    reason: path_reason(&e),
                })?;
                // Hadoop's rename answers false where it cannot rename (no source, taken target).
                ok(json::boolean_body(false_on(
                    client.rename(path, dst.as_str()).await,
                    &[ErrorKind::NotFound, ErrorKind::AlreadyExists],
                )?))
            }
            Op::Delete => {
                let recursive = p.bool("recursive", false)?;
                ok(json::boolean_body(false_on(
                    client.delete(path, recursive).await,
                    &[ErrorKind::NotFound],
                )?))
            }
            Op::SetPermission => {
                compat::set_permission(&client, path, p.permission()?.unwrap_or(0o755)).await?;
                Ok(StatusCode::OK.into_response())
            }
            Op::SetOwner => {
                let (owner, group) = (p.get("owner"), p.get("group"));
                if owner.is_none() && group.is_none() {
                    return Err(WebHdfsError::MissingParam { param: "owner" });
                }
                compat::set_owner(&client, path, owner, group).await?;
                Ok(StatusCode::OK.into_response())
            }
            Op::SetTimes => {
                let mtime = p.time_ms("modificationtime")?;
                let atime = p.time_ms("accesstime")?;
                compat::set_times(&client, path, mtime, atime).await?;
                Ok(StatusCode::OK.into_response())
            }
            Op::SetReplication => {
                let Some(replication) = p.replication()? else {
                    return Err(WebHdfsError::MissingParam { param: "replication" });
                };
                // A directory has no replication: Hadoop answers false.
                if client.stat(path).await?.is_dir {
                    return ok(json::boolean_body(false));
                }
                client.set_replication(path, replication).await?;
                ok(json::boolean_body(true))
            }
            Op::Open | Op::GetFileChecksum | Op::Create | Op::Append => self.redirect(&client, &r, &user).await,
        }
    }

    /// Answers a data op with the datanode to send it to.
    async fn redirect(&self, client: &Client, r: &WebRequest, user: &str) -> Result<Response> {
        let p = &r.params;
        // Check what the datanode would reject before sending the caller there.
        p.positive("buffersize")?;
        let holders: Vec<u64> = match r.op {
            Op::Open | Op::GetFileChecksum => {
                let status = client.stat(r.path.as_str()).await?;
                if status.is_dir {
                    return Err(WebHdfsError::NotAFile {
                        path: r.path.to_string(),
                    });
                }
                if r.op == Op::Open {
                    let offset = p.u64("offset")?.unwrap_or(0);
                    p.u64("length")?;
                    if offset > status.length {
                        return Err(WebHdfsError::OffsetOutOfRange {
                            offset,
                            length: status.length,
                            path: r.path.to_string(),
                        });
                    }
                }
                let blocks = client.block_locations(r.path.as_str()).await?;
                blocks
                    .first()
                    .map(|b| b.locations.iter().map(|d| d.id).collect())
                    .unwrap_or_default()
            }
            Op::Create => {
                p.bool("overwrite", false)?;
                p.replication()?;
                p.positive("blocksize")?;
                p.permission()?;
                Vec::new()
            }
            _ => Vec::new(),
        };
        let datanode = self.pick_datanode(client, &holders, r.peer).await?;
        let mut params: Vec<(&str, &str)> = vec![
            ("op", r.op.name()),
            ("namenoderpcaddress", &self.rpc_addr),
            ("user.name", user),
        ];
        params.extend(p.pairs().into_iter().filter(|(k, _)| !NOT_FORWARDED.contains(k)));
        let location = url(&datanode, &r.path, &params);
        if p.bool("noredirect", false)? {
            return Ok((StatusCode::OK, Json(json::location_body(&location))).into_response());
        }
        let body = Json(json::location_body(&location));
        Ok((StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, location)], body).into_response())
    }

    /// The HTTP address of a datanode for a data op: among `holders` (datanode ids; empty: any live
    /// one), one on the caller's host first.
    async fn pick_datanode(&self, client: &Client, holders: &[u64], peer: Option<IpAddr>) -> Result<String> {
        let status = client.cluster_status().await?;
        let serving: Vec<(u64, &str)> = status
            .datanodes
            .iter()
            .filter(|d| d.live && !d.http_addr.is_empty())
            .filter_map(|d| d.info.as_ref().map(|i| (i.id, d.http_addr.as_str())))
            .collect();
        choose(&serving, holders, peer, fastrand::usize(..))
            .map(str::to_string)
            .ok_or(WebHdfsError::NoDatanode)
    }
}

/// The datanode for a data op, from those `serving` (id, HTTP address): a holder when there are
/// holders (in their order), else any; one whose host is the caller's first; `spin` picks among equals.
pub fn choose<'a>(serving: &[(u64, &'a str)], holders: &[u64], peer: Option<IpAddr>, spin: usize) -> Option<&'a str> {
    let candidates: Vec<&str> = if holders.is_empty() {
        serving.iter().map(|(_, a)| *a).collect()
    } else {
        let held: Vec<&str> = holders
            .iter()
            .filter_map(|h| serving.iter().find(|(id, _)| id == h).map(|(_, a)| *a))
            .collect();
        if held.is_empty() {
            // No holder serves HTTP: any datanode can read the file for the caller.
            serving.iter().map(|(_, a)| *a).collect()
        } else {
            held
        }
    };
    let local: Vec<&str> = match peer {
        Some(ip) => candidates.iter().copied().filter(|a| host_of(a) == Some(ip)).collect(),
        None => Vec::new(),
    };
    let pool = if local.is_empty() { &candidates } else { &local };
    if pool.is_empty() {
        return None;
    }
    // Holders keep their order (nearest first); other choices spread the load.
    if !holders.is_empty() && local.is_empty() {
        return pool.first().copied();
    }
    Some(pool[spin % pool.len()])
}

fn host_of(addr: &str) -> Option<IpAddr> {
    addr.parse::<std::net::SocketAddr>().ok().map(|a| a.ip())
}

fn path_reason(e: &basalt_common::path::PathError) -> &'static str {
    use basalt_common::path::PathError::*;
    match e {
        NotAbsolute { .. } => "must be an absolute path",
        DotComponent { .. } => "must not have '.' or '..' components",
        Nul { .. } => "must not contain a NUL byte",
        TooLong { .. } => "is too long",
        ComponentTooLong { .. } => "has a component that is too long",
    }
}

/// `Ok(true)` for success, `Ok(false)` for an error of one of `kinds`, else the error.
fn false_on(res: std::result::Result<(), ClientError>, kinds: &[ErrorKind]) -> Result<bool> {
    match res {
        Ok(()) => Ok(true),
        Err(e) if kinds.contains(&e.kind()) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datanodes_are_chosen_near_the_caller() {
        let serving = [(1, "10.0.0.1:9864"), (2, "10.0.0.2:9864"), (3, "10.0.0.3:9864")];
        let caller: IpAddr = "10.0.0.2".parse().unwrap();
        let far: IpAddr = "192.168.1.1".parse().unwrap();
        // Any datanode: the caller's host first, whatever the spin.
        for spin in 0..5 {
            assert_eq!(choose(&serving, &[], Some(caller), spin), Some("10.0.0.2:9864"));
        }
        // A far caller: spread over all.
        let picked: std::collections::HashSet<_> = (0..3).map(|s| choose(&serving, &[], Some(far), s)).collect();
        assert_eq!(picked.len(), 3);
        // Holders: the caller's if it holds, else the nearest holder (first).
        assert_eq!(choose(&serving, &[3, 2], Some(caller), 0), Some("10.0.0.2:9864"));
        assert_eq!(choose(&serving, &[3, 1], Some(caller), 1), Some("10.0.0.3:9864"));
        assert_eq!(choose(&serving, &[3, 1], None, 1), Some("10.0.0.3:9864"));
        // Holders that serve no HTTP: any datanode.
        assert!(choose(&serving, &[9], Some(far), 0).is_some());
        assert_eq!(choose(&[], &[], Some(caller), 0), None);
    }
}
