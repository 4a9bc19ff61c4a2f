//! Commands a namenode hands out in heartbeat replies: delete replicas up to a generation stamp, finalized
//! (then reported deleted) or parked, and replicate a replica to other datanodes. Each runs in its own task so heartbeats keep their pace.

use super::ReportedBlock;
use crate::context::Context;
use crate::transfer::replicate::replicate;
use basalt_common::{BlockId, GenStamp};
use basalt_proto::pb::datanode_command::Command;
use basalt_proto::pb::{DatanodeCommand, ExtendedBlock};
use std::sync::Arc;

/// Starts the work of each command.
pub fn execute(ctx: &Arc<Context>, commands: Vec<DatanodeCommand>) {
    for command in commands.into_iter().filter_map(|c| c.command) {
        match command {
            Command::Delete(d) => {
                tokio::spawn(delete_blocks(ctx.clone(), d.blocks));
            }
            Command::Replicate(r) => {
                let Some(eb) = r.block else { continue };
                let (block, genstamp) = (BlockId(eb.block_id), GenStamp(eb.gen_stamp));
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    if let Err(e) = replicate(ctx, block, genstamp, r.targets).await {
                        tracing::warn!(%block, %genstamp, error = %e, "replication failed");
                    }
                });
            }
        }
    }
}

async fn delete_blocks(ctx: Arc<Context>, blocks: Vec<ExtendedBlock>) {
    for eb in blocks {
        let (block, genstamp) = (BlockId(eb.block_id), GenStamp(eb.gen_stamp));
        let store = ctx.store.clone();
        match tokio::task::spawn_blocking(move || store.delete(block, genstamp)).await {
            Ok(Ok(Some(r))) => {
                tracing::info!(%block, genstamp = %r.genstamp, "replica deleted on namenode command");
                ctx.reports.deleted(ReportedBlock {
                    block,
                    genstamp: r.genstamp,
                    length: r.length,
                });
            }
            Ok(Ok(None)) => tracing::debug!(%block, %genstamp, "delete command for a replica not held"),
            Ok(Err(e)) => tracing::warn!(%block, error = %e, "replica deletion failed"),
            Err(e) => tracing::warn!(%block, error = %e, "replica deletion task failed"),
        }
    }
}
