//! Hinted handoff: the background loop that finds down replicas coming back and replays the hints
//! stored for them, oldest first, a bounded batch at a time (the throttle), deleting each hint once
//! the replica acknowledged it.
//!
//! It also probes replicas believed down (an empty apply), so that a returning node is seen alive
//! without waiting for client traffic to try it.

use super::liveness::Liveness;
use super::replicas::{HintSink, Replicas};
use basalt_common::DatanodeId;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// One stored hint: its key in the hint log, and the encoded partitions the target lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hint {
    pub key: Vec<u8>,
    pub partitions: Vec<Vec<u8>>,
}

/// The durable hint log of this coordinator.
pub trait HintLog: HintSink {
    /// Replicas that have hints waiting.
    fn targets(&self) -> Vec<DatanodeId>;
    /// The oldest hints for `target`, at most `limit`.
    fn pending(&self, target: DatanodeId, limit: usize) -> Vec<Hint>;
    /// Deletes delivered hints.
    fn remove(&self, keys: &[Vec<u8>]);
}

/// How the replay runs.
#[derive(Clone, Copy, Debug)]
pub struct HandoffConfig {
    /// How often down replicas are probed and hints looked for.
    pub interval: Duration,
    /// Hints sent per round to one replica (the throttle: at most this many per interval).
    pub batch: usize,
    pub timeout: Duration,
}

/// Runs until `shutdown` turns true.
pub async fn run<R: Replicas>(
    replicas: Arc<R>,
    liveness: Arc<Liveness>,
    log: Arc<dyn HintLog>,
    config: HandoffConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(config.interval) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
        for node in liveness.down_nodes() {
            if let Ok(Ok(())) = tokio::time::timeout(config.timeout, replicas.probe(node)).await {
                liveness.succeeded(node);
            }
        }
        let log2 = log.clone();
        let Ok(targets) = tokio::task::spawn_blocking(move || log2.targets()).await else {
            continue;
        };
        for target in targets {
            if liveness.is_alive(target) {
                replay_round(&*replicas, &liveness, &log, target, config).await;
            }
        }
    }
}

/// Sends one batch of `target`'s hints; returns how many were delivered.
pub async fn replay_round<R: Replicas>(
    replicas: &R,
    liveness: &Liveness,
    log: &Arc<dyn HintLog>,
    target: DatanodeId,
    config: HandoffConfig,
) -> usize {
    let log2 = log.clone();
    let Ok(hints) = tokio::task::spawn_blocking(move || log2.pending(target, config.batch)).await else {
        return 0;
    };
    let mut delivered = Vec::new();
    for hint in hints {
        let call = replicas.apply(target, Arc::new(hint.partitions));
        match tokio::time::timeout(config.timeout, call).await {
            Ok(Ok(())) => delivered.push(hint.key),
            Ok(Err(e)) => {
                if e.transport {
                    liveness.failed(target);
                }
                tracing::debug!(datanode = %target, error = %e, "hint replay stopped");
                break;
            }
            Err(_) => break,
        }
    }
    let n = delivered.len();
    if n > 0 {
        tracing::info!(datanode = %target, hints = n, "hints replayed");
        let log2 = log.clone();
        let _ = tokio::task::spawn_blocking(move || log2.remove(&delivered)).await;
    }
    n
}
