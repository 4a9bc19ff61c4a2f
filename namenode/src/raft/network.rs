//! Client side of the Raft transport: one lazily connected gRPC channel per peer. Requests and replies
//! are openraft's own types, encoded with [`encode`](super::encode); a reply carries the remote
//! `Result`, so a peer's Raft error comes back as a `RemoteError`, and a transport failure as
//! `Unreachable` (openraft backs off before retrying). Channels are opened through the member's
//! [`Connector`] (plain, unless a test filters the links).

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
use tonic::transport::Endpoint;

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
        }
    }
}

pub struct PeerClient {
    target: MemberId,
    addr: String,
    client: Option<RaftTransportClient<Channel>>,
    partition: Partition,
    connector: Connector,
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
        let client = self.client.as_mut().expect("connected above");
        let mut request = tonic::Request::new(RaftPayload { data: encode(req) });
        request.set_timeout(option.hard_ttl());
        let reply = match rpc {
            Rpc::Append => client.append_entries(request).await,
            Rpc::Vote => client.vote(request).await,
            Rpc::Snapshot => client.install_snapshot(request).await,
        };
        let reply = match reply {
            Ok(r) => r.into_inner(),
            Err(status) => {
                self.client = None;
                return Err(unreachable(status.to_string(), &self.addr));
            }
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
