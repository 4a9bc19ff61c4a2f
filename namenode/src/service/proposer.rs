//! Group commit of client requests. openraft 0.9 appends, replicates and applies every proposal as its
//! own log entry, with a log write and a flush request each; under many concurrent clients that per-entry
//! work, not the disk, caps throughput. So requests are proposed in batches: while up to
//! [`IN_FLIGHT`] batches are being committed, new requests queue, and the next batch takes every
//! request queued (up to [`MAX_BATCH`]) as one log entry. Each request in it is applied in order and
//! answered on its own; a lone request is proposed at once, so light load pays no extra latency.
//!
//! An idle leader proposes an empty batch every [`IDLE_TICK`]: it carries the leader's time, so state
//! that ages with the batch clock (the request dedup window) is freed without waiting for traffic.

use super::ServiceError;
use crate::raft::Raft;
use crate::state::{Batch, Request, Response};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Batches being committed at once.
pub const IN_FLIGHT: usize = 4;
/// Most requests in one log entry (keeps entries and AppendEntries messages small).
pub const MAX_BATCH: usize = 256;
/// Requests queued before callers wait (backpressure).
const QUEUE: usize = 16 * 1024;
/// A batch not committed within this long is answered Unavailable (openraft may never answer a
/// proposal, e.g. one a deposed leader appended); the outcome is then unknown, and a retry with the same
/// request id is safe (the state machine applies a request id once).
const COMMIT_TIMEOUT: Duration = Duration::from_secs(30);
/// An idle leader moves the batch clock this often.
pub const IDLE_TICK: Duration = Duration::from_secs(30);

struct Pending {
    req: Request,
    done: oneshot::Sender<Result<Response, ServiceError>>,
}

pub struct Proposer {
    tx: mpsc::Sender<Pending>,
}

impl Proposer {
    /// Starts the batching task for member `id`; it ends when the proposer is dropped.
    /// Each batch's size is observed in `batch_sizes`.
    pub fn start(raft: Raft, id: u64, batch_sizes: basalt_metrics::Histogram) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(raft, id, rx, batch_sizes));
        Proposer { tx }
    }

    /// Proposes `req` and waits until its batch is committed and applied.
    pub async fn propose(&self, req: Request) -> Result<Response, ServiceError> {
        let (done, rx) = oneshot::channel();
        self.tx
            .send(Pending { req, done })
            .await
            .map_err(|_| ServiceError::ShuttingDown)?;
        rx.await.unwrap_or(Err(ServiceError::ProposalDropped))
    }
}

async fn run(raft: Raft, id: u64, mut rx: mpsc::Receiver<Pending>, batch_sizes: basalt_metrics::Histogram) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut idle = tokio::time::interval(IDLE_TICK);
    idle.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    idle.tick().await;
    loop {
        let first = tokio::select! {
            p = rx.recv() => match p {
                Some(p) => p,
                None => return,
            },
            _ = idle.tick() => {
                if raft.metrics().borrow().current_leader == Some(id) {
                    let raft = raft.clone();
                    tokio::spawn(async move {
                        let tick = Batch { time_ms: super::now_ms(), requests: Vec::new() };
                        // Best effort: a lost tick is followed by the next one.
                        let _ = tokio::time::timeout(COMMIT_TIMEOUT, raft.client_write(tick)).await;
                    });
                }
                continue;
            }
        };
        idle.reset();
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        // Everything that queued while the slots were busy goes into this batch; requests whose caller
        // gave up meanwhile are left out.
        let mut batch: Vec<Pending> = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        batch.retain(|p| !p.done.is_closed());
        if batch.is_empty() {
            continue;
        }
        batch_sizes.observe(batch.len() as f64);
        let raft = raft.clone();
        tokio::spawn(async move {
            let _slot = permit;
            let (requests, dones): (Vec<Request>, Vec<_>) = batch.into_iter().map(|p| (p.req, p.done)).unzip();
            let entry = Batch {
                time_ms: super::now_ms(),
                requests,
            };
            let answers = match tokio::time::timeout(COMMIT_TIMEOUT, raft.client_write(entry)).await {
                Ok(Ok(resp)) => Ok(resp.data),
                Ok(Err(e)) => Err(ServiceError::from_client_write(id, e)),
                Err(_) => Err(ServiceError::CommitTimeout {
                    timeout: COMMIT_TIMEOUT,
                }),
            };
            match answers {
                Ok(responses) => {
                    for (done, r) in dones.into_iter().zip(responses) {
                        let _ = done.send(Ok(r));
                    }
                }
                Err(e) => {
                    for done in dones {
                        let _ = done.send(Err(e.clone()));
                    }
                }
            }
        });
    }
}
