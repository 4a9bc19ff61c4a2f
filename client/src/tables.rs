//! The tables feature's metadata calls: schema changes, the catalog and the token ring.

use crate::error::{ClientError, Result};
use crate::fs::{Client, Inner};
use crate::namenode::nn_call;
use basalt_common::DatanodeId;
use basalt_proto::pb;
use basalt_table::catalog::{self, CatalogSnapshot, SchemaChange, SchemaChangeOutput};
use basalt_table::ring::{RingNode, RingView};

/// A GetRing reply as a ring view (every entry checked: a token twice is an error).
fn ring_from_pb(resp: pb::GetRingResponse) -> Result<RingView> {
    let entries = resp.entries.into_iter().map(|e| {
        let node = RingNode {
            id: DatanodeId(e.datanode_id),
            addr: e.addr,
            host: e.host,
            rack: e.rack,
        };
        (e.token, node)
    });
    RingView::new(resp.version, entries).map_err(ClientError::MalformedRing)
}

impl Client {
    /// Applies a schema change through the metadata leader. Retried with the same request id, so a
    /// retry after a lost reply returns the first result instead of applying twice.
    pub async fn schema_change(&self, change: &SchemaChange) -> Result<SchemaChangeOutput> {
        let req = pb::SchemaChangeRequest {
            change: catalog::encode(change),
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
        };
        let resp = nn_call!(self.inner.nn, &self.caller, schema_change, req)?;
        catalog::decode(&resp.output).map_err(ClientError::MalformedCatalog)
    }

    /// The catalog as the leader has it (linearizable: it includes every schema change acknowledged
    /// before the call).
    pub async fn catalog(&self) -> Result<CatalogSnapshot> {
        let req = pb::GetCatalogRequest {
            known_version: 0,
            linearizable: true,
        };
        let resp = nn_call!(self.inner.nn, &self.caller, get_catalog, req)?;
        catalog::decode(&resp.catalog).map_err(ClientError::MalformedCatalog)
    }

    /// The token ring and the datanodes that own it (linearizable, as [`Client::catalog`]).
    pub async fn ring(&self) -> Result<RingView> {
        let resp = nn_call!(
            self.inner.nn,
            &self.caller,
            get_ring,
            pb::GetRingRequest { linearizable: true }
        )?;
        ring_from_pb(resp)
    }
}

/// One datanode's answer to [`Client::table_status`].
#[derive(Debug)]
pub struct NodeTableStatus {
    pub datanode: DatanodeId,
    pub addr: String,
    /// The node's store, or why it could not be asked (not live, unreachable, an error answer).
    pub status: Result<pb::TableStatusResponse>,
}

impl Client {
    /// Every registered datanode's table store: tables with row and byte estimates, pending hints,
    /// unhealthy tables. The nodes are asked at once; a dead or unreachable one has its error.
    pub async fn table_status(&self) -> Result<Vec<NodeTableStatus>> {
        let cluster = self.cluster_status().await?;
        let asks = cluster.datanodes.iter().filter_map(|d| {
            let info = d.info.as_ref()?;
            let (id, addr, live) = (DatanodeId(info.id), info.addr.clone(), d.live);
            Some(async move {
                let status = if live {
                    match self.inner.tables.client(&addr) {
                        Ok(mut c) => c
                            .table_status(pb::TableStatusRequest {})
                            .await
                            .map(|r| r.into_inner())
                            .map_err(ClientError::from),
                        Err(e) => Err(e),
                    }
                } else {
                    Err(ClientError::Remote(basalt_proto::RemoteError {
                        kind: basalt_common::ErrorKind::Unavailable,
                        message: "the datanode is not live".into(),
                        leader: None,
                        transport: false,
                    }))
                };
                NodeTableStatus {
                    datanode: id,
                    addr,
                    status,
                }
            })
        });
        let mut out = futures::future::join_all(asks).await;
        out.sort_by(|a, b| a.addr.cmp(&b.addr));
        Ok(out)
    }
}
