//! The tables feature's metadata RPCs: schema changes through the log, the catalog and the ring for
//! datanodes and clients, and the leader's token allocation for datanodes that register without
//! tokens.
//!
//! Token allocation, once per datanode:
//! 1. a datanode registers (or, registered at a follower, is recorded at its first heartbeat to the
//!    leader) and its identity is in the replicated state;
//! 2. the leader, holding [`Core::ring_alloc`] so that two joining nodes do not split the same ranges,
//!    checks the applied state: a node that has tokens keeps them (re-registration changes nothing);
//! 3. it chooses `table_vnodes` tokens with `basalt_table::ring::allocate_tokens` against the current
//!    ring and proposes `SetTokens`; the state machine refuses a token another node owns, so the ring
//!    stays consistent even if two leaders overlap.

use super::convert::datanode_to_pb;
use super::{Core, ServiceError};
use crate::state::cluster::ClusterCommand;
use basalt_common::DatanodeId;
use basalt_proto::pb;
use basalt_table::catalog::{self, SchemaChange};
use basalt_table::ring::allocate_tokens;
use std::sync::Arc;

fn malformed(what: &'static str) -> impl FnOnce(catalog::CodecError) -> ServiceError {
    move |e| ServiceError::MalformedCatalogValue {
        what,
        source: Arc::new(e),
    }
}

/// Applies one schema change through the log (leader only; retry-safe by client name and request id).
pub(super) async fn schema_change(
    core: &Core,
    r: pb::SchemaChangeRequest,
) -> Result<pb::SchemaChangeResponse, ServiceError> {
    let change: SchemaChange = catalog::decode(&r.change).map_err(malformed("schema change"))?;
    let out = core.write(&r.client_name, r.request_id, change).await?;
    Ok(pb::SchemaChangeResponse {
        version: out.version,
        output: catalog::encode(&out),
    })
}

/// The catalog, unless the caller has its version already.
pub(super) async fn get_catalog(core: &Core, r: pb::GetCatalogRequest) -> Result<pb::GetCatalogResponse, ServiceError> {
    if r.linearizable {
        core.read_barrier().await?;
    }
    let state = core.state();
    let version = state.catalog.version();
    let catalog = if version == r.known_version && r.known_version != 0 {
        Vec::new()
    } else {
        catalog::encode(&state.catalog.snapshot())
    };
    Ok(pb::GetCatalogResponse { version, catalog })
}

/// The ring with the records of the datanodes that own tokens.
pub(super) async fn get_ring(core: &Core, r: pb::GetRingRequest) -> Result<pb::GetRingResponse, ServiceError> {
    if r.linearizable {
        core.read_barrier().await?;
    }
    let state = core.state();
    let cluster = &state.cluster;
    let ring = cluster.ring();
    let entries = ring
        .tokens()
        .iter()
        .map(|(token, id)| {
            let rec = cluster.datanodes().get(id);
            pb::RingEntry {
                token: *token,
                datanode_id: id.0,
                addr: rec.map(|r| r.addr.clone()).unwrap_or_default(),
                rack: rec.map(|r| r.rack.clone()).unwrap_or_default(),
                host: rec.map(|r| r.host.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let datanodes = ring
        .nodes()
        .iter()
        .filter_map(|id| cluster.datanodes().get(id))
        .map(datanode_to_pb)
        .collect();
    Ok(pb::GetRingResponse {
        version: ring.version(),
        entries,
        datanodes,
    })
}

/// Gives a registered datanode its ring tokens if it has none (leader only; see the module doc).
pub(super) async fn ensure_tokens(core: &Core, id: DatanodeId) -> Result<(), ServiceError> {
    if !core.is_leader() {
        return Ok(());
    }
    let _turn = core.ring_alloc.lock().await;
    let (ring, rack) = {
        let state = core.state();
        let Some(rec) = state.cluster.datanodes().get(&id) else {
            return Ok(());
        };
        if !state.cluster.tokens(id).is_empty() {
            return Ok(());
        }
        (state.cluster.ring(), rec.rack.clone())
    };
    let seed = core.rng.lock().expect("rng lock poisoned").u64(..);
    let tokens = allocate_tokens(&ring, id, &rack, core.config.table_vnodes, seed);
    core.propose("namenode", 0, ClusterCommand::SetTokens { datanode: id, tokens })
        .await?;
    tracing::info!(datanode = %id, vnodes = core.config.table_vnodes, "ring tokens allocated");
    Ok(())
}

/// [`ensure_tokens`] in the background, logging a failure (the next heartbeat tries again).
pub(super) fn spawn_ensure_tokens(core: Arc<Core>, id: DatanodeId) {
    tokio::spawn(async move {
        if let Err(e) = ensure_tokens(&core, id).await {
            tracing::warn!(datanode = %id, error = %e, "could not allocate ring tokens");
        }
    });
}
