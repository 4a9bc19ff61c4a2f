//! Client side of the Raft transport: one lazily connected gRPC channel per peer. Requests and replies
//! are openraft's own types, encoded with [`encode`](super::encode); a reply carries the remote
//! `Result`, so a peer's Raft error comes back as a `RemoteError`, a peer that cannot be reached as
//! `Unreachable` (openraft backs off 500 ms before retrying it), and a slow answer as a `Network`
//! error (retried at the next heartbeat). Channels are opened through the member's [`Connector`]
//! (plain, unless a test filters the links).
//!
//! **Delivery outlives openraft's timeout.** openraft 0.9 gives every AppendEntries the heartbeat
//! interval as its deadline, and a follower answers only once the entries are on disk; a loaded disk
//! (a datanode's fsyncs on the same file system) easily takes longer. Were the request cancelled at
//! that deadline, the follower would never see it, hear no leader, and depose a healthy one. So each
//! request runs in a task of its own, with a longer deadline ([`DELIVERY_DEADLINE`]): when openraft
//! stops waiting, the request still arrives, the follower still counts the leader alive and stores
//! the entries, and the leader's next attempt finds them there. At most [`IN_FLIGHT`] such requests
//! per peer are outstanding; beyond that an attempt fails at once.

use super::{MemberId, TypeConfig, decode, encode};
use basalt_proto::link::{Channel, Connector};
use basalt_proto::pb::RaftPayload;
use basalt_proto::pb::raft_transport_client::RaftTransportClient;
use openraft::BasicNode;
use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::Semaphore;
use tonic::transport::Endpoint;

/// How long a request to a peer may take once sent, whatever openraft's own deadline.
pub const DELIVERY_DEADLINE: Duration = Duration::from_secs(2);
/// Requests to one peer outstanding at once.
pub const IN_FLIGHT: usize = 16;

/// Members this member must not send to (fault injection for partition tests; empty otherwise).
pub type Partition = Arc<RwLock<BTreeSet<MemberId>>>;

/// Creates a [`PeerClient`] per target member.
#[derive(Clone, Default)]
pub struct NetworkFactory {
    pub partition: Partition,
    pub connector: Connector,
}

impl RaftNetworkFactory<TypeConfig> for NetworkFactory {
    type Network = PeerClient;

    async fn new_client(&mut self, target: MemberId, node: &BasicNode) -> PeerClient {
        PeerClient {
            target,
            addr: node.addr.clone(),
            client: None,
            partition: self.partition.clone(),
            connector: self.connector.clone(),
            in_flight: Arc::new(Semaphore::new(IN_FLIGHT)),
        }
    }
}

pub struct PeerClient {
    target: MemberId,
    addr: String,
    client: Option<RaftTransportClient<Channel>>,
    partition: Partition,
    connector: Connector,
    /// Permits for the requests outstanding to this peer (see the module docs).
    in_flight: Arc<Semaphore>,
}

#[derive(Debug, thiserror::Error)]
#[error("raft peer {addr}: {message}")]
struct TransportError {
    addr: String,
    message: String,
}

enum Rpc {
    Append,
    Vote,
    Snapshot,
}

impl PeerClient {
    async fn call<Req, Resp, E>(
        &mut self,
        rpc: Rpc,
        req: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<MemberId, BasicNode, RaftError<MemberId, E>>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let unreachable = |message: String, addr: &str| {
            RPCError::Unreachable(Unreachable::new(&TransportError {
                addr: addr.to_string(),
                message,
            }))
        };
        if self
            .partition
            .read()
            .expect("partition lock poisoned")
            .contains(&self.target)
        {
            return Err(unreachable("partitioned (fault injection)".into(), &self.addr));
        }
        if self.client.is_none() {
            let endpoint = Endpoint::from_shared(format!("http://{}", self.addr))
                .map_err(|e| unreachable(e.to_string(), &self.addr))?
                .connect_timeout(option.hard_ttl())
                .tcp_nodelay(true);
            let channel = self
                .connector
                .connect(endpoint)
                .await
                .map_err(|e| unreachable(e.to_string(), &self.addr))?;
            self.client = Some(
                RaftTransportClient::new(channel)
                    .max_decoding_message_size(basalt_common::MAX_RPC_MESSAGE * 4)
                    .max_encoding_message_size(basalt_common::MAX_RPC_MESSAGE * 4),
            );
        }
        let mut client = self.client.clone().expect("connected above");
        let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
            return Err(RPCError::Network(NetworkError::new(&TransportError {
                addr: self.addr.clone(),
                message: format!("{IN_FLIGHT} requests to this peer are still outstanding"),
            })));
        };
        let mut request = tonic::Request::new(RaftPayload { data: encode(req) });
        request.set_timeout(option.hard_ttl().max(DELIVERY_DEADLINE));
        // Detached: dropping this future (openraft's timeout) does not cancel the request.
        let sent = tokio::spawn(async move {
            let _permit = permit;
            match rpc {
                Rpc::Append => client.append_entries(request).await,
                Rpc::Vote => client.vote(request).await,
                Rpc::Snapshot => client.install_snapshot(request).await,
            }
        });
        let reply = match sent.await {
            Ok(Ok(r)) => r.into_inner(),
            // Refused, reset, not connected: unreachable (and a new channel next time).
            Ok(Err(status)) if matches!(status.code(), tonic::Code::Unavailable | tonic::Code::Unknown) => {
                self.client = None;
                return Err(unreachable(status.to_string(), &self.addr));
            }
            // Too slow (or the peer failed the call): retried at the next heartbeat, without backoff.
            Ok(Err(status)) => {
                return Err(RPCError::Network(NetworkError::new(&TransportError {
                    addr: self.addr.clone(),
                    message: status.to_string(),
                })));
            }
            Err(e) => return Err(unreachable(format!("request task failed: {e}"), &self.addr)),
        };
        let result: Result<Resp, RaftError<MemberId, E>> =
            decode(&reply.data).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        result.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<MemberId>, RPCError<MemberId, BasicNode, RaftError<MemberId>>> {
        self.call(Rpc::Append, &rpc, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<MemberId>,
        RPCError<MemberId, BasicNode, RaftError<MemberId, InstallSnapshotError>>,
    > {
        self.call(Rpc::Snapshot, &rpc, &option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<MemberId>,
        option: RPCOption,
    ) -> Result<VoteResponse<MemberId>, RPCError<MemberId, BasicNode, RaftError<MemberId>>> {
        self.call(Rpc::Vote, &rpc, &option).await
    }
}
