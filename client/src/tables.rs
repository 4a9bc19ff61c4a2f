//! The tables feature's metadata calls: schema changes, the catalog and the token ring.

use crate::error::{ClientError, Result};
use crate::fs::{Client, Inner};
use crate::namenode::nn_call;
use basalt_common::DatanodeId;
use basalt_proto::pb;
use basalt_table::catalog::{self, CatalogSnapshot, SchemaChange, SchemaChangeOutput};
use basalt_table::ring::Ring;
use std::collections::BTreeMap;

/// A datanode of the ring, as the client reaches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RingNode {
    pub id: DatanodeId,
    pub addr: String,
    pub host: String,
    pub rack: String,
}

/// The token ring with the datanodes that own its tokens.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RingView {
    pub ring: Ring,
    pub nodes: BTreeMap<DatanodeId, RingNode>,
}

impl RingView {
    /// Builds the view from a GetRing reply (every field checked).
    pub fn from_pb(resp: pb::GetRingResponse) -> Result<RingView> {
        let mut nodes = BTreeMap::new();
        for e in &resp.entries {
            nodes.entry(DatanodeId(e.datanode_id)).or_insert_with(|| RingNode {
                id: DatanodeId(e.datanode_id),
                addr: e.addr.clone(),
                host: e.host.clone(),
                rack: e.rack.clone(),
            });
        }
        let racks = nodes.values().map(|n| (n.id, n.rack.clone())).collect();
        let ring = Ring::new(
            resp.version,
            resp.entries.iter().map(|e| (e.token, DatanodeId(e.datanode_id))),
            racks,
        )
        .map_err(ClientError::MalformedRing)?;
        Ok(RingView { ring, nodes })
    }
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
        let resp = nn_call!(self.inner.nn, schema_change, req)?;
        catalog::decode(&resp.output).map_err(ClientError::MalformedCatalog)
    }

    /// The catalog as the leader has it (linearizable: it includes every schema change acknowledged
    /// before the call).
    pub async fn catalog(&self) -> Result<CatalogSnapshot> {
        let req = pb::GetCatalogRequest {
            known_version: 0,
            linearizable: true,
        };
        let resp = nn_call!(self.inner.nn, get_catalog, req)?;
        catalog::decode(&resp.catalog).map_err(ClientError::MalformedCatalog)
    }

    /// The token ring and the datanodes that own it (linearizable, as [`Client::catalog`]).
    pub async fn ring(&self) -> Result<RingView> {
        let resp = nn_call!(self.inner.nn, get_ring, pb::GetRingRequest { linearizable: true })?;
        RingView::from_pb(resp)
    }
}
