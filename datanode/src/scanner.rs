//! The block scanner: re-verifies every finalized replica in the background so corruption is found
//! before a reader needs the block.
//!
//! One pass reads each replica through the verifying reader (every chunk against its CRC32C), at most
//! `bytes_per_sec` (the pace is enforced after each 1 MiB piece), then waits `pause` before the next
//! pass. A replica that fails is moved aside (`corrupt/`) and reported corrupt, so the namenode's
//! replication monitor copies a good replica back. Replicas written or deleted meanwhile are simply
//! picked up or skipped by the next pass.

use crate::context::Context;
use crate::store::{Replica, ReplicaReader};
use basalt_common::ErrorKind;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Bytes verified per step.
const PIECE: u64 = 1 << 20;

/// Scanner settings, taken from [`crate::DatanodeConfig`]'s `scan_rate` and `scan_pause`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanConfig {
    /// Verification bandwidth cap.
    pub bytes_per_sec: u64,
    /// Wait between passes.
    pub pause: Duration,
}

/// Runs passes until `shutdown` turns true.
pub(crate) async fn run_scanner(ctx: Arc<Context>, config: ScanConfig, mut shutdown: watch::Receiver<bool>) {
    loop {
        let (replicas, found) = scan_pass(&ctx, config, &mut shutdown).await;
        if found > 0 {
            tracing::warn!(replicas, corrupt = found, "scan pass found corrupt replicas");
        } else {
            tracing::debug!(replicas, "scan pass clean");
        }
        tokio::select! {
            _ = shutdown.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(config.pause) => {}
        }
    }
}

/// One pass; returns (replicas checked, corrupt ones found).
async fn scan_pass(ctx: &Arc<Context>, config: ScanConfig, shutdown: &mut watch::Receiver<bool>) -> (usize, usize) {
    let start = Instant::now();
    let mut bytes = 0u64;
    let mut found = 0;
    let replicas = ctx.store.replicas();
    for replica in &replicas {
        let mut offset = 0;
        let mut reader = None;
        loop {
            if *shutdown.borrow() {
                return (replicas.len(), found);
            }
            match verify_piece(ctx, replica, &mut reader, offset).await {
                Ok(None) => break,
                Ok(Some(next)) => {
                    bytes += next - offset;
                    offset = next;
                }
                Err(kind) => {
                    if kind == ErrorKind::Corrupt {
                        found += 1;
                        crate::transfer::quarantine(ctx, replica.block, replica.genstamp).await;
                    }
                    break; // gone (deleted meanwhile) or moved aside
                }
            }
            // Keep to the bandwidth cap: stay behind `bytes / rate` seconds since the pass began.
            let due = start + Duration::from_secs_f64(bytes as f64 / config.bytes_per_sec.max(1) as f64);
            if due > Instant::now() {
                tokio::select! {
                    _ = shutdown.wait_for(|s| *s) => return (replicas.len(), found),
                    _ = tokio::time::sleep_until(due) => {}
                }
            }
        }
    }
    (replicas.len(), found)
}

/// Verifies the piece at `offset` through `reader` (opened on the first piece and kept for the next);
/// the next offset, `None` at the end, or the error's kind.
async fn verify_piece(
    ctx: &Arc<Context>,
    replica: &Replica,
    reader: &mut Option<ReplicaReader>,
    offset: u64,
) -> Result<Option<u64>, ErrorKind> {
    if offset >= replica.length {
        return Ok(None);
    }
    let store = ctx.store.clone();
    let (block, genstamp) = (replica.block, replica.genstamp);
    let held = reader.take();
    let (kept, result) = tokio::task::spawn_blocking(move || {
        let r = match held {
            Some(r) => r,
            None => match store.open_reader(block, genstamp) {
                Ok(r) => r,
                Err(e) => return (None, Err(e.kind())),
            },
        };
        let result = r.read(offset, PIECE).map_err(|e| {
            tracing::warn!(%block, %genstamp, error = %e, "scanner found a bad replica");
            e.kind()
        });
        (
            Some(r),
            result.map(|chunks| Some(chunks.offset + chunks.data.len() as u64)),
        )
    })
    .await
    .map_err(|_| ErrorKind::Internal)?;
    *reader = kept;
    result
}
