//! Calls to the metadata group with leader discovery and retry.
//!
//! A call goes to the last known leader (initially the first member). `NotLeader` with a hint redirects
//! at once; `NotLeader` without one, a refused connection or another transient error moves on to the
//! next member after a backoff. Transport failures give up after `connect_timeout` without any member
//! answering; transient server states (safe mode, an election) are retried until `op_timeout`. Every
//! mutation carries a request id that the namenode deduplicates, so a retried call is applied once.
//!
//! Every call names its caller ([`CallerId`], gRPC metadata `basalt-user`): the namenode checks HDFS
//! permissions against that user.

use crate::error::{ClientError, Result};
use basalt_common::{ErrorKind, MAX_RPC_MESSAGE};
use basalt_proto::RemoteError;
use basalt_proto::link::{Channel, Connector};
use basalt_proto::pb::client_protocol_client::ClientProtocolClient;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::transport::Endpoint;

pub type NnClient = ClientProtocolClient<Channel>;

/// The user a client calls as, with the metadata value that names it on the wire. Cheap to clone.
#[derive(Clone, Debug)]
pub struct CallerId {
    name: Arc<str>,
    value: tonic::metadata::AsciiMetadataValue,
}

impl CallerId {
    pub fn new(name: &str) -> Self {
        CallerId {
            name: name.into(),
            value: basalt_proto::caller::user_value(name),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `msg` as a request of this caller.
    pub fn request<T>(&self, msg: T) -> tonic::Request<T> {
        let mut r = tonic::Request::new(msg);
        basalt_proto::caller::set_user(r.metadata_mut(), &self.value);
        r
    }
}

/// Timeouts of namenode calls.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Give up when no member could be reached for this long.
    pub connect_timeout: Duration,
    /// Give up retrying transient errors (safe mode, no leader) after this long.
    pub op_timeout: Duration,
    /// Deadline of a single RPC.
    pub rpc_timeout: Duration,
}

impl Default for RetryPolicy {
    /// `BASALT_CONNECT_TIMEOUT_MS` overrides the connect timeout (default 5 s).
    fn default() -> Self {
        let connect_ms = std::env::var("BASALT_CONNECT_TIMEOUT_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5000);
        RetryPolicy {
            connect_timeout: Duration::from_millis(connect_ms),
            op_timeout: Duration::from_secs(60),
            rpc_timeout: Duration::from_secs(30),
        }
    }
}

pub struct NamenodeClient {
    members: Vec<String>,
    leader: Mutex<String>,
    channels: Mutex<HashMap<String, Channel>>,
    policy: RetryPolicy,
    connector: Connector,
}

fn endpoint(addr: &str, timeout: Duration) -> std::result::Result<Endpoint, ClientError> {
    let uri = if addr.contains("://") {
        addr.to_string()
    } else {
        format!("http://{addr}")
    };
    Ok(Endpoint::from_shared(uri)
        .map_err(|e| ClientError::InvalidArgument(format!("bad namenode address {addr:?}: {e}")))?
        .connect_timeout(Duration::from_secs(3))
        .timeout(timeout)
        .tcp_nodelay(true))
}

impl NamenodeClient {
    /// `members` is a comma-separated list of metadata member addresses.
    pub fn new(members: &str, policy: RetryPolicy) -> Result<Self> {
        let members: Vec<String> = members
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect();
        if members.is_empty() {
            return Err(ClientError::InvalidArgument("no namenode address given".into()));
        }
        for m in &members {
            endpoint(m, policy.rpc_timeout)?;
        }
        Ok(NamenodeClient {
            leader: Mutex::new(members[0].clone()),
            members,
            channels: Mutex::new(HashMap::new()),
            policy,
            connector: Connector::default(),
        })
    }

    /// Opens the channels to members through `connector` (instead of plain ones).
    pub fn with_connector(mut self, connector: Connector) -> Self {
        self.connector = connector;
        self
    }

    pub fn members(&self) -> &[String] {
        &self.members
    }

    /// The (lazily connected) channel to one member.
    pub fn channel(&self, addr: &str) -> Result<Channel> {
        let mut channels = self.channels.lock().expect("channel lock poisoned");
        Ok(match channels.get(addr) {
            Some(c) => c.clone(),
            None => {
                let c = self.connector.connect_lazy(endpoint(addr, self.policy.rpc_timeout)?);
                channels.insert(addr.to_string(), c.clone());
                c
            }
        })
    }

    fn next_member(&self, after: &str) -> String {
        let i = self.members.iter().position(|m| m == after).map(|i| i + 1).unwrap_or(0);
        self.members[i % self.members.len()].clone()
    }

    /// Runs `f` on a client-protocol client of the leader (see [`Self::call_on`]).
    pub async fn call<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: Fn(NnClient) -> Fut,
        Fut: Future<Output = std::result::Result<tonic::Response<T>, tonic::Status>>,
    {
        self.call_on(
            |ch| {
                ClientProtocolClient::new(ch)
                    .max_decoding_message_size(MAX_RPC_MESSAGE)
                    .max_encoding_message_size(MAX_RPC_MESSAGE)
            },
            f,
        )
        .await
    }

    /// Runs `f` on a service client (made by `make` from a channel) of the leader, redirecting and
    /// retrying as described in the module docs.
    pub async fn call_on<C, T, M, F, Fut>(&self, make: M, f: F) -> Result<T>
    where
        M: Fn(Channel) -> C,
        F: Fn(C) -> Fut,
        Fut: Future<Output = std::result::Result<tonic::Response<T>, tonic::Status>>,
    {
        let start = Instant::now();
        let mut unreachable_since: Option<Instant> = None;
        let mut backoff = Duration::from_millis(20);
        loop {
            let addr = self.leader.lock().expect("leader lock poisoned").clone();
            let err = match f(make(self.channel(&addr)?)).await {
                Ok(resp) => return Ok(resp.into_inner()),
                Err(status) => RemoteError::from(status),
            };
            let transport = err.transport && err.kind == ErrorKind::Unavailable;
            match err.kind {
                ErrorKind::NotLeader if err.leader.is_some() => {
                    unreachable_since = None;
                    let hint = err.leader.clone().expect("checked");
                    *self.leader.lock().expect("leader lock poisoned") = hint;
                    if start.elapsed() > self.policy.op_timeout {
                        return Err(ClientError::DeadlineExceeded {
                            secs: start.elapsed().as_secs(),
                            last: err.message,
                        });
                    }
                    // Redirect at once the first time; a hint pointing back and forth gets the backoff.
                    if backoff > Duration::from_millis(20) {
                        tokio::time::sleep(backoff).await;
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
                ErrorKind::NotLeader | ErrorKind::Unavailable => {
                    if transport {
                        let since = *unreachable_since.get_or_insert_with(Instant::now);
                        if since.elapsed() >= self.policy.connect_timeout {
                            return Err(ClientError::NamenodeUnreachable {
                                addrs: self.members.join(","),
                                cause: err.message,
                            });
                        }
                    } else {
                        unreachable_since = None;
                    }
                    if start.elapsed() > self.policy.op_timeout {
                        return Err(ClientError::DeadlineExceeded {
                            secs: start.elapsed().as_secs(),
                            last: err.message,
                        });
                    }
                    if transport || err.kind == ErrorKind::NotLeader {
                        *self.leader.lock().expect("leader lock poisoned") = self.next_member(&addr);
                    }
                    tokio::time::sleep(
                        backoff + Duration::from_millis(fastrand::u64(..=backoff.as_millis() as u64 / 2)),
                    )
                    .await;
                    // Short: during an election this polls for the new leader, which is found by the
                    // first poll after it is elected.
                    backoff = (backoff * 2).min(Duration::from_millis(100));
                }
                _ => return Err(ClientError::Remote(err)),
            }
        }
    }
}

/// Calls `method` on the metadata leader with `req` (cloned per attempt) as `caller` (a
/// [`CallerId`]), through [`NamenodeClient::call`]; with `make =>`, on the service client `make` builds
/// from a channel.
macro_rules! nn_call {
    ($nn:expr, $caller:expr, $method:ident, $req:expr) => {{
        let req = $req;
        let caller: &$crate::namenode::CallerId = $caller;
        $nn.call(|mut c| {
            let r = caller.request(req.clone());
            async move { c.$method(r).await }
        })
        .await
    }};
    ($nn:expr, $caller:expr, $make:expr => $method:ident, $req:expr) => {{
        let req = $req;
        let caller: &$crate::namenode::CallerId = $caller;
        $nn.call_on($make, |mut c| {
            let r = caller.request(req.clone());
            async move { c.$method(r).await }
        })
        .await
    }};
}
pub(crate) use nn_call;

#[cfg(test)]
mod tests;
