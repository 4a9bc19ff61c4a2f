//! Batched read index. A linearizable read must wait for a read-index round (the leader confirms with
//! a quorum that it still leads, then this member applies up to the commit index of that moment) that
//! *started after the read arrived*. One round can serve every read waiting when it starts: reads that
//! arrive while a round is in flight wait for the next one. So at most one round is in flight, and under
//! load each round serves many reads instead of one quorum round trip per read.

use super::ServiceError;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// A round that takes longer fails its reads (Unavailable: the client retries, perhaps elsewhere).
const ROUND_TIMEOUT: Duration = Duration::from_secs(10);

type Round = Pin<Box<dyn Future<Output = Result<(), ServiceError>> + Send>>;
type StartRound = dyn Fn() -> Round + Send + Sync;

pub struct ReadIndex {
    start_round: Box<StartRound>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    running: bool,
    waiting: Vec<oneshot::Sender<Result<(), ServiceError>>>,
}

impl ReadIndex {
    /// `start_round` runs one read-index round (openraft's `ensure_linearizable`).
    pub fn new(start_round: impl Fn() -> Round + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(ReadIndex {
            start_round: Box::new(start_round),
            state: Mutex::default(),
        })
    }

    /// Waits for a read-index round that started after this call.
    pub async fn barrier(self: &Arc<Self>) -> Result<(), ServiceError> {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut st = self.state.lock().expect("read index lock poisoned");
            st.waiting.push(tx);
            !std::mem::replace(&mut st.running, true)
        };
        if start {
            let me = self.clone();
            tokio::spawn(async move { me.drive().await });
        }
        rx.await.unwrap_or(Err(ServiceError::ReadIndexDropped))
    }

    /// Runs rounds while reads wait; each round answers the reads that were waiting when it started.
    async fn drive(self: Arc<Self>) {
        // If this task ends abnormally (a panic), its waiting reads fail and the next read starts a new
        // driver. A normal end clears
        // `running` under the same lock that saw no read waiting, so no read is left without a driver.
        struct Running<'a>(&'a Mutex<State>);
        impl Drop for Running<'_> {
            fn drop(&mut self) {
                let mut st = self.0.lock().unwrap_or_else(|e| e.into_inner());
                st.running = false;
                // Reads queued meanwhile fail (dropped senders) rather than wait for a driver.
                st.waiting.clear();
            }
        }
        let running = Running(&self.state);
        loop {
            let batch = {
                let mut st = self.state.lock().expect("read index lock poisoned");
                if st.waiting.is_empty() {
                    st.running = false;
                    std::mem::forget(running);
                    return;
                }
                std::mem::take(&mut st.waiting)
            };
            let res = tokio::time::timeout(ROUND_TIMEOUT, (self.start_round)())
                .await
                .unwrap_or(Err(ServiceError::ReadIndexTimeout { timeout: ROUND_TIMEOUT }));
            for w in batch {
                let _ = w.send(res.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::sync::Semaphore;

    #[tokio::test]
    async fn reads_share_rounds_that_start_after_them() {
        let rounds = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Semaphore::new(0));
        let ri = {
            let (rounds, gate) = (rounds.clone(), gate.clone());
            ReadIndex::new(move || {
                let (rounds, gate) = (rounds.clone(), gate.clone());
                Box::pin(async move {
                    let n = rounds.fetch_add(1, Ordering::SeqCst);
                    gate.acquire().await.unwrap().forget();
                    if n == 2 {
                        Err(ServiceError::ReadIndexDropped)
                    } else {
                        Ok(())
                    }
                })
            })
        };
        // The first read starts round 0 alone.
        let first = tokio::spawn({
            let ri = ri.clone();
            async move { ri.barrier().await }
        });
        while rounds.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        // Ten reads arrive during round 0: they all wait for round 1, which serves them together.
        let later: Vec<_> = (0..10)
            .map(|_| {
                let ri = ri.clone();
                tokio::spawn(async move { ri.barrier().await })
            })
            .collect();
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            rounds.load(Ordering::SeqCst),
            1,
            "no second round while the first is in flight"
        );
        gate.add_permits(1);
        first.await.unwrap().unwrap();
        gate.add_permits(1);
        for r in later {
            r.await.unwrap().unwrap();
        }
        assert_eq!(rounds.load(Ordering::SeqCst), 2);
        // A failed round fails the reads it serves.
        gate.add_permits(1);
        assert!(ri.barrier().await.is_err());
    }
}
