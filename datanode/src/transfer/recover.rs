//! Recovery of a replica whose writer is gone (lease recovery, RecoverReplica from the namenode), and the
//! superseding of an older writer, shared with the pipeline resume of [`super::write`].
//!
//! A newer generation stamp wins over an active writer of the block: [`after_older_writer`] cancels it,
//! waits (at most [`STOP_WAIT`]) until its stream has parked the replica, then runs the store operation.
//!
//! - Step 1 (`finalize` false): stop an older writer, fence the block with the recovery's stamp G (a resume
//!   or recovery below G is refused from then on) and report the replica (`found` false if none).
//! - Step 2 (`finalize` true): cut the replica (parked, or finalized if none is parked) to `length` and
//!   finalize it under G; a finalized replica of that length is only re-stamped. An incremental "received"
//!   report follows. A retry finding the replica finalized at G with that length succeeds unchanged. The
//!   response describes the replica before the call (`finalized`, `gen_stamp`) and its final `length`.

use crate::context::Context;
use crate::error::DatanodeError;
use crate::nn_link::ReportedBlock;
use crate::store::BlockStore;
use basalt_common::{BlockId, GenStamp};
use basalt_proto::pb::{RecoverReplicaRequest, RecoverReplicaResponse};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long a newer stamp waits for an older writer of the block to stop and park its replica.
pub const STOP_WAIT: Duration = Duration::from_secs(5);

/// Serves one RecoverReplica call.
pub(super) async fn recover_replica(
    ctx: &Arc<Context>,
    req: RecoverReplicaRequest,
) -> Result<RecoverReplicaResponse, DatanodeError> {
    let eb = req.block.ok_or(DatanodeError::BadStream {
        reason: "request names no block",
    })?;
    let (block, genstamp) = (BlockId(eb.block_id), GenStamp(eb.gen_stamp));
    if !req.finalize {
        let found = after_older_writer(ctx, block, genstamp, move |s| s.init_recovery(block, genstamp)).await?;
        tracing::info!(%block, recovery = %genstamp, ?found, "replica recovery started");
        return Ok(
            found.map_or_else(RecoverReplicaResponse::default, |r| RecoverReplicaResponse {
                found: true,
                finalized: r.finalized,
                length: r.length,
                gen_stamp: r.genstamp.0,
            }),
        );
    }
    let length = req.length;
    let done = after_older_writer(ctx, block, genstamp, move |s| {
        s.finalize_recovery(block, genstamp, length)
    })
    .await?;
    if done.changed {
        ctx.reports.received(ReportedBlock {
            block,
            genstamp,
            length: done.replica.length,
        });
    }
    Ok(RecoverReplicaResponse {
        found: true,
        finalized: done.before.finalized,
        length: done.replica.length,
        gen_stamp: done.before.genstamp.0,
    })
}

/// Runs `op` on a blocking thread once no writer of `block` older than `genstamp` is active: such a writer is
/// cancelled and awaited first (all within [`STOP_WAIT`]). A writer of the same or a newer stamp is an error.
///
/// An `op` may take the block's finalized replica back out of the store (a resume, a cut): if the replica
/// is no longer listed afterwards, whether `op` succeeded or lost it on the way, it is reported deleted.
pub(super) async fn after_older_writer<T, F>(
    ctx: &Context,
    block: BlockId,
    genstamp: GenStamp,
    op: F,
) -> Result<T, DatanodeError>
where
    T: Send + 'static,
    F: Fn(&BlockStore) -> Result<T, DatanodeError> + Send + Sync + 'static,
{
    let deadline = Instant::now() + STOP_WAIT;
    let op = Arc::new(op);
    loop {
        if let Some(mut gone) = ctx.store.supersede(block, genstamp)? {
            tracing::info!(%block, by = %genstamp, "stopping the older writer of the block");
            // `changed` fails once the writer is gone; nothing is ever sent.
            if tokio::time::timeout_at(deadline, gone.changed()).await.is_err() {
                return Err(DatanodeError::WriterDidNotStop {
                    block,
                    secs: STOP_WAIT.as_secs(),
                });
            }
        }
        let (store, op) = (ctx.store.clone(), op.clone());
        let held = ctx.store.get(block);
        let result = tokio::task::spawn_blocking(move || op(&store))
            .await
            .map_err(|source| DatanodeError::Task { source })?;
        if let Some(r) = held.filter(|_| ctx.store.get(block).is_none()) {
            ctx.reports.deleted(ReportedBlock {
                block,
                genstamp: r.genstamp,
                length: r.length,
            });
        }
        match result {
            // Another older writer started meanwhile: stop it too.
            Err(DatanodeError::WriteInProgress { .. }) if Instant::now() < deadline => continue,
            result => return result,
        }
    }
}
