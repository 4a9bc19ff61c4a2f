//! Lease recovery: close a file whose writer is gone, at a length every surviving replica agrees on.
//!
//! 1. `RecoverLease` (a log entry) takes the lease over and gives the last block a new generation stamp.
//! 2. Each datanode that may hold the block (the write pipeline, plus any reported holder) is asked for
//!    its replica (`RecoverReplica`, step 1). This also stops a writer still attached on that node, and
//!    fences it: its old generation stamp is refused from then on.
//! 3. The length: a replica finalized before the recovery has its final length, and that wins;
//!    otherwise the shortest replica's length (bytes beyond it reached only some nodes, so the writer
//!    never saw them acknowledged). Replicas shorter than a finalized length are left out.
//! 4. Each participant cuts its replica to that length and finalizes it under the new stamp (step 2).
//! 5. `CommitRecovery` records the block's length and closes the file. If no node had a replica, the
//!    last block is dropped (nothing in it was acknowledged to a writer that is still around to care).
//!
//! A recovery that fails part-way leaves the lease with the recovery holder; the monitor starts it
//! again later, with yet another generation stamp, so a half-done earlier attempt cannot interfere.

use crate::service::error::FsOutputExt;
use crate::service::{Core, ServiceError, now_ms};
use crate::state::namespace::{BlockMeta, FsCommand, OpenFile};
use basalt_common::DatanodeId;
use basalt_proto::link::{Channel, Connector};
use basalt_proto::pb;
use basalt_proto::pb::data_transfer_client::DataTransferClient;
use basalt_proto::{RemoteError, pb::RecoverReplicaResponse};
use std::sync::Arc;
use std::time::Duration;
use tonic::transport::Endpoint;

/// Deadline of each call to a datanode (step 1 may wait for a writer to let go).
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// Recovers one file; `Err` says why it must be tried again.
pub async fn recover(core: Arc<Core>, file: OpenFile) -> Result<(), ServiceError> {
    let path = file.path.clone();
    let cmd = FsCommand::RecoverLease {
        path: path.clone(),
        holder: file.lease.holder.clone(),
    };
    let (last, pipeline) = core.propose("namenode", 0, cmd).await?.recovery()?;
    tracing::info!(%path, holder = %file.lease.holder, block = ?last.map(|b| b.id), "lease recovery started");
    let last = match last {
        None => None,
        Some(block) => recover_block(&core, block, &pipeline).await?,
    };
    let cmd = FsCommand::CommitRecovery {
        path: path.clone(),
        last,
        mtime_ms: now_ms(),
    };
    let freed = core.propose("namenode", 0, cmd).await?.freed()?;
    core.free_blocks(&freed);
    match last {
        Some(b) => tracing::info!(%path, block = %b.id, length = b.len, "lease recovered: file closed"),
        None => tracing::info!(%path, "lease recovered: file closed without its empty last block"),
    }
    Ok(())
}

/// A datanode's answer to step 1, and the connection step 2 goes over.
struct Found {
    node: DatanodeId,
    addr: String,
    client: DataTransferClient<Channel>,
    finalized: bool,
    length: u64,
}

/// Steps 2–4 for the last block at its new stamp; `None` when no replica was found.
async fn recover_block(
    core: &Core,
    block: BlockMeta,
    pipeline: &[DatanodeId],
) -> Result<Option<BlockMeta>, ServiceError> {
    let mut nodes: Vec<DatanodeId> = pipeline.to_vec();
    for h in core.blocks().holders(block.id) {
        if !nodes.contains(&h) {
            nodes.push(h);
        }
    }
    let (addrs, mut unreachable) = {
        let state = core.state();
        let records = state.cluster.datanodes();
        let addrs: Vec<(DatanodeId, String)> = nodes
            .iter()
            .filter_map(|id| records.get(id).map(|r| (*id, r.addr.clone())))
            .collect();
        let unknown = nodes.len() - addrs.len();
        (addrs, unknown)
    };
    // Step 1 on every node at once: a slow node costs one timeout, not one per node.
    let answers = futures::future::join_all(addrs.into_iter().map(|(node, addr)| async move {
        let mut client = connect(&core.connector, node, &addr).await?;
        let r = call(&mut client, node, &addr, block, false, 0).await?;
        Ok::<_, ServiceError>((node, addr, client, r))
    }))
    .await;
    let mut found = Vec::new();
    for answer in answers {
        match answer {
            Ok((node, addr, client, r)) if r.found => found.push(Found {
                node,
                addr,
                client,
                finalized: r.finalized,
                length: r.length,
            }),
            Ok(_) => {}
            Err(e) => {
                unreachable += 1;
                tracing::warn!(block = %block.id, error = %e, "replica recovery: datanode did not answer");
            }
        }
    }
    if found.is_empty() {
        if unreachable > 0 {
            // A node that did not answer may come back with its replica; give up on it only once it is dead.
            let bm = core.blocks();
            let now = std::time::Instant::now();
            let any_live = nodes.iter().filter_map(|id| bm.node(*id)).any(|n| bm.is_live(n, now));
            if any_live {
                return Err(ServiceError::NoReplicaYet { block: block.id });
            }
        }
        return Ok(None);
    }
    let length = match found.iter().filter(|f| f.finalized).map(|f| f.length).max() {
        Some(l) => l,
        None => found.iter().map(|f| f.length).min().expect("not empty"),
    };
    let finals = futures::future::join_all(
        found
            .into_iter()
            .filter(|f| f.length >= length)
            .map(|mut f| async move {
                let r = call(&mut f.client, f.node, &f.addr, block, true, length).await;
                if let Err(e) = &r {
                    tracing::warn!(block = %block.id, error = %e, "replica recovery: finalize failed");
                }
                r.is_ok()
            }),
    )
    .await;
    let done = finals.into_iter().filter(|ok| *ok).count();
    if done == 0 {
        return Err(ServiceError::NothingFinalized { block: block.id });
    }
    tracing::info!(block = %block.id, gen_stamp = %block.gen_stamp, length, replicas = done, "block recovered");
    Ok(Some(BlockMeta {
        id: block.id,
        gen_stamp: block.gen_stamp,
        len: length,
    }))
}

/// A connection to datanode `node` at `addr` for the recovery calls.
async fn connect(
    connector: &Connector,
    node: DatanodeId,
    addr: &str,
) -> Result<DataTransferClient<Channel>, ServiceError> {
    let unreachable = |e| ServiceError::DatanodeUnreachable {
        node,
        addr: addr.to_string(),
        source: Arc::new(e),
    };
    let endpoint = Endpoint::from_shared(format!("http://{addr}"))
        .map_err(unreachable)?
        .connect_timeout(Duration::from_secs(3))
        .timeout(CALL_TIMEOUT);
    Ok(DataTransferClient::new(
        connector.connect(endpoint).await.map_err(unreachable)?,
    ))
}

/// One RecoverReplica step on `node` (`finalize`: step 2, at `length`).
async fn call(
    client: &mut DataTransferClient<Channel>,
    node: DatanodeId,
    addr: &str,
    block: BlockMeta,
    finalize: bool,
    length: u64,
) -> Result<RecoverReplicaResponse, ServiceError> {
    let req = pb::RecoverReplicaRequest {
        block: Some(pb::ExtendedBlock {
            block_id: block.id.0,
            gen_stamp: block.gen_stamp.0,
            length: 0,
        }),
        finalize,
        length,
    };
    client
        .recover_replica(req)
        .await
        .map(|r| r.into_inner())
        .map_err(|s| ServiceError::DatanodeFailed {
            node,
            addr: addr.to_string(),
            source: RemoteError::from(s),
        })
}
