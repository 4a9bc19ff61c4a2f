//! Incremental block reports: what was received, deleted or found corrupt since the last report, queued once per
//! namenode link. A queue is bounded; on overflow (a namenode unreachable for long) it is dropped and the
//! link sends a full block report instead, which supersedes it.

use basalt_common::{BlockId, GenStamp};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Most block events a queue holds before it gives up and asks for a full report.
const MAX_QUEUED: usize = 100_000;

/// A block as reported to a namenode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportedBlock {
    pub block: BlockId,
    pub genstamp: GenStamp,
    pub length: u64,
}

/// What a link takes out of its queue in one go.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Batch {
    pub received: Vec<ReportedBlock>,
    pub deleted: Vec<ReportedBlock>,
    /// Replicas found corrupt and moved aside (no longer held).
    pub corrupt: Vec<ReportedBlock>,
    /// Events were dropped: send a full block report.
    pub overflowed: bool,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.received.is_empty() && self.deleted.is_empty() && self.corrupt.is_empty() && !self.overflowed
    }
}

/// What happened to a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Received,
    Deleted,
    Corrupt,
}

/// The queue of one namenode link.
#[derive(Debug, Default)]
pub struct ReportQueue {
    pending: Mutex<Batch>,
    notify: Notify,
}

impl ReportQueue {
    fn push(&self, event: ReportedBlock, what: Event) {
        {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if p.received.len() + p.deleted.len() + p.corrupt.len() >= MAX_QUEUED {
                *p = Batch {
                    overflowed: true,
                    ..Batch::default()
                };
            }
            if !p.overflowed {
                match what {
                    Event::Received => p.received.push(event),
                    Event::Deleted => p.deleted.push(event),
                    Event::Corrupt => p.corrupt.push(event),
                }
            }
        }
        self.notify.notify_one();
    }

    /// Takes everything queued.
    pub fn take(&self) -> Batch {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Waits until something is queued (returns at once if a push happened since the last wait).
    pub async fn notified(&self) {
        self.notify.notified().await
    }
}

/// Fans block events out to every namenode link.
#[derive(Debug, Default)]
pub struct Reports {
    queues: std::sync::RwLock<Vec<Arc<ReportQueue>>>,
}

impl Reports {
    /// A queue for one more link (a metadata member added at run time).
    pub fn add(&self) -> Arc<ReportQueue> {
        let q = Arc::new(ReportQueue::default());
        self.queues.write().unwrap_or_else(|e| e.into_inner()).push(q.clone());
        q
    }

    pub fn received(&self, event: ReportedBlock) {
        self.push(event, Event::Received);
    }

    pub fn deleted(&self, event: ReportedBlock) {
        self.push(event, Event::Deleted);
    }

    /// A replica failed verification and was moved aside.
    pub fn corrupt(&self, event: ReportedBlock) {
        self.push(event, Event::Corrupt);
    }

    fn push(&self, event: ReportedBlock, what: Event) {
        self.queues
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .for_each(|q| q.push(event, what));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_reach_every_queue_and_overflow_asks_for_a_full_report() {
        let reports = Reports::default();
        let queues = [reports.add(), reports.add()];
        let ev = ReportedBlock {
            block: BlockId(1),
            genstamp: GenStamp(1),
            length: 10,
        };
        reports.received(ev);
        reports.deleted(ev);
        reports.corrupt(ev);
        for q in &queues {
            assert_eq!(
                q.take(),
                Batch {
                    received: vec![ev],
                    deleted: vec![ev],
                    corrupt: vec![ev],
                    overflowed: false
                }
            );
            assert!(q.take().is_empty());
        }
        for _ in 0..=MAX_QUEUED {
            reports.received(ev);
        }
        let b = queues[0].take();
        assert!(b.overflowed && b.received.is_empty());
    }
}
