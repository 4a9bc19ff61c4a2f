//! The datanode's [`Replicas`]: itself through its own table store (no network hop), every other
//! datanode through the `TableReplica` gRPC service, over channels opened once per node and kept.

use crate::tables::coordinator::{Partitions, ReadAnswer, Replicas};
use basalt_common::{DatanodeId, ErrorKind, MAX_RPC_MESSAGE};
use basalt_proto::RemoteError;
use basalt_proto::link::{Channel, Connector};
use basalt_proto::pb;
use basalt_proto::pb::table_replica_client::TableReplicaClient;
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tonic::transport::Endpoint;

/// A page of a range read: encoded partitions in token order, and whether the range is exhausted.
#[derive(Clone, Debug, Default)]
pub struct ScanPage {
    pub partitions: Vec<Vec<u8>>,
    pub exhausted: bool,
}

/// This node's own replica: what the `TableReplica` service serves, also called directly when the
/// coordinator is a replica itself.
pub trait LocalReplica: Send + Sync + 'static {
    /// The catalog version this replica has applied.
    fn catalog_version(&self) -> u64;
    fn apply(&self, catalog_version: u64, partitions: Partitions) -> BoxFuture<'static, Result<(), RemoteError>>;
    fn read(
        &self,
        catalog_version: u64,
        command: Arc<Vec<u8>>,
        digest_only: bool,
    ) -> BoxFuture<'static, Result<ReadAnswer, RemoteError>>;
    /// A page of a range read.
    fn scan(&self, catalog_version: u64, command: Vec<u8>) -> BoxFuture<'static, Result<ScanPage, RemoteError>>;
}

/// Where datanodes listen, by id (from the ring the namenode publishes).
pub trait AddressBook: Send + Sync + 'static {
    fn addr(&self, node: DatanodeId) -> Option<String>;
}

pub struct GrpcReplicas {
    me: DatanodeId,
    local: Arc<dyn LocalReplica>,
    book: Arc<dyn AddressBook>,
    connector: Connector,
    channels: Mutex<HashMap<String, Channel>>,
}

impl GrpcReplicas {
    pub fn new(me: DatanodeId, local: Arc<dyn LocalReplica>, book: Arc<dyn AddressBook>, connector: Connector) -> Self {
        GrpcReplicas {
            me,
            local,
            book,
            connector,
            channels: Mutex::default(),
        }
    }

    fn client(&self, node: DatanodeId) -> Result<TableReplicaClient<Channel>, RemoteError> {
        let addr = self.book.addr(node).ok_or_else(|| RemoteError {
            kind: ErrorKind::Unavailable,
            message: format!("no address known for datanode {node}"),
            leader: None,
            transport: true,
        })?;
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        let channel = match channels.get(&addr) {
            Some(c) => c.clone(),
            None => {
                let endpoint = Endpoint::from_shared(format!("http://{addr}"))
                    .map_err(|e| RemoteError {
                        kind: ErrorKind::Invalid,
                        message: format!("bad datanode address {addr:?}: {e}"),
                        leader: None,
                        transport: true,
                    })?
                    .connect_timeout(Duration::from_secs(2))
                    .tcp_nodelay(true);
                let c = self.connector.connect_lazy(endpoint);
                channels.insert(addr, c.clone());
                c
            }
        };
        Ok(TableReplicaClient::new(channel)
            .max_decoding_message_size(MAX_RPC_MESSAGE)
            .max_encoding_message_size(MAX_RPC_MESSAGE))
    }

    /// A page of a range read from `node`.
    pub fn scan(&self, node: DatanodeId, command: Vec<u8>) -> BoxFuture<'static, Result<ScanPage, RemoteError>> {
        let version = self.local.catalog_version();
        if node == self.me {
            return self.local.scan(version, command);
        }
        let client = self.client(node);
        Box::pin(async move {
            let r = client?
                .scan_range(pb::ReplicaScanRequest {
                    catalog_version: version,
                    command,
                })
                .await
                .map_err(RemoteError::from)?
                .into_inner();
            Ok(ScanPage {
                partitions: r.partitions,
                exhausted: r.exhausted,
            })
        })
    }
}

impl GrpcReplicas {
    /// What `node` serves besides gRPC.
    pub fn node_info(&self, node: DatanodeId) -> BoxFuture<'static, Result<pb::NodeInfoResponse, RemoteError>> {
        let client = self.client(node);
        let catalog_version = self.local.catalog_version();
        Box::pin(async move {
            Ok(client?
                .node_info(pb::NodeInfoRequest { catalog_version })
                .await
                .map_err(RemoteError::from)?
                .into_inner())
        })
    }
}

impl Replicas for GrpcReplicas {
    fn apply(&self, node: DatanodeId, partitions: Partitions) -> BoxFuture<'static, Result<(), RemoteError>> {
        let version = self.local.catalog_version();
        if node == self.me {
            return self.local.apply(version, partitions);
        }
        let client = self.client(node);
        Box::pin(async move {
            client?
                .apply(pb::ReplicaApplyRequest {
                    catalog_version: version,
                    partitions: partitions.to_vec(),
                })
                .await
                .map_err(RemoteError::from)?;
            Ok(())
        })
    }

    fn read(
        &self,
        node: DatanodeId,
        command: Arc<Vec<u8>>,
        digest_only: bool,
    ) -> BoxFuture<'static, Result<ReadAnswer, RemoteError>> {
        let version = self.local.catalog_version();
        if node == self.me {
            return self.local.read(version, command, digest_only);
        }
        let client = self.client(node);
        Box::pin(async move {
            let r = client?
                .read(pb::ReplicaReadRequest {
                    catalog_version: version,
                    command: command.to_vec(),
                    digest_only,
                })
                .await
                .map_err(RemoteError::from)?
                .into_inner();
            Ok(ReadAnswer {
                partition: r.partition,
                digest: r.digest,
            })
        })
    }
}

/// The `TableReplica` gRPC service: this node's replica, for other coordinators.
pub struct ReplicaService {
    pub local: Arc<dyn LocalReplica>,
    /// This node's CQL address (for `NodeInfo`).
    pub cql: Arc<crate::tables::exec::nodes::CqlNodes>,
    /// This node's catalog (`NodeInfo` catches up with the asker's).
    pub schema: Arc<crate::tables::schema_view::SchemaView>,
}

/// How long `NodeInfo` waits to catch up with the asker's catalog.
const NODE_INFO_CATCH_UP: Duration = Duration::from_millis(300);

fn status(e: RemoteError) -> tonic::Status {
    basalt_proto::to_status(e.kind, e.message, None)
}

#[tonic::async_trait]
impl pb::table_replica_server::TableReplica for ReplicaService {
    async fn apply(
        &self,
        req: tonic::Request<pb::ReplicaApplyRequest>,
    ) -> Result<tonic::Response<pb::ReplicaApplyResponse>, tonic::Status> {
        let r = req.into_inner();
        self.local
            .apply(r.catalog_version, Arc::new(r.partitions))
            .await
            .map_err(status)?;
        Ok(tonic::Response::new(pb::ReplicaApplyResponse {}))
    }

    async fn read(
        &self,
        req: tonic::Request<pb::ReplicaReadRequest>,
    ) -> Result<tonic::Response<pb::ReplicaReadResponse>, tonic::Status> {
        let r = req.into_inner();
        let a = self
            .local
            .read(r.catalog_version, Arc::new(r.command), r.digest_only)
            .await
            .map_err(status)?;
        Ok(tonic::Response::new(pb::ReplicaReadResponse {
            partition: a.partition,
            digest: a.digest,
        }))
    }

    async fn scan_range(
        &self,
        req: tonic::Request<pb::ReplicaScanRequest>,
    ) -> Result<tonic::Response<pb::ReplicaScanResponse>, tonic::Status> {
        let r = req.into_inner();
        let page = self.local.scan(r.catalog_version, r.command).await.map_err(status)?;
        Ok(tonic::Response::new(pb::ReplicaScanResponse {
            partitions: page.partitions,
            exhausted: page.exhausted,
        }))
    }

    async fn node_info(
        &self,
        req: tonic::Request<pb::NodeInfoRequest>,
    ) -> Result<tonic::Response<pb::NodeInfoResponse>, tonic::Status> {
        let asked = req.into_inner().catalog_version;
        if asked > self.local.catalog_version() {
            // Behind the asker: catch up if it is quick, else answer with what this node has.
            let _ = self.schema.refresh_at_least(asked, NODE_INFO_CATCH_UP).await;
        }
        Ok(tonic::Response::new(pb::NodeInfoResponse {
            cql_address: self.cql.own().map(|a| a.to_string()).unwrap_or_default(),
            catalog_version: self.local.catalog_version(),
        }))
    }
}
