//! A coordinated write: send the mutation to every replica, answer once the consistency level's
//! number of replicas acknowledged it, and leave a hint for every replica that is down or did not
//! acknowledge in time (Cassandra's hinted handoff).
//!
//! Phases:
//! 1. **Availability.** Replicas believed down ([`Liveness`]) are not contacted; if fewer replicas than
//!    the level requires are alive the write fails with `Unavailable` before anything is sent (except at
//!    `ANY`, where a hint is acknowledgement enough). Down replicas get a hint right away.
//! 2. **Fan-out.** Every alive replica is called at once, each call bounded by the write timeout.
//! 3. **Acknowledgement.** The write returns as soon as `required` replicas acknowledged. A write that
//!    does not collect them before the timeout fails with `WriteTimeout` (received, block for); the
//!    mutation may still have landed on some replicas, as in Cassandra.
//! 4. **Hand-off.** Calls still running continue in the background; each replica that fails or times
//!    out gets a hint, so the write reaches it when it is back.

use super::error::{CoordinatorError, WriteType};
use super::liveness::Liveness;
use super::replicas::{HintSink, Partitions, Replicas};
use basalt_common::DatanodeId;
use basalt_proto::RemoteError;
use basalt_table::Consistency;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use std::sync::Arc;
use std::time::Duration;

/// What a coordinated write needs besides the mutation.
pub struct WriteContext<R: Replicas> {
    pub replicas: Arc<R>,
    pub liveness: Arc<Liveness>,
    pub hints: Arc<dyn HintSink>,
    pub timeout: Duration,
    /// Replicas down for longer than this get no more hints (Cassandra's `max_hint_window`).
    pub hint_window: Duration,
}

impl<R: Replicas> Clone for WriteContext<R> {
    fn clone(&self) -> Self {
        WriteContext {
            replicas: self.replicas.clone(),
            liveness: self.liveness.clone(),
            hints: self.hints.clone(),
            timeout: self.timeout,
            hint_window: self.hint_window,
        }
    }
}

/// How a write went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Replicas that acknowledged before the write returned.
    pub acked: Vec<DatanodeId>,
    /// Replicas that were hinted before the write returned.
    pub hinted: Vec<DatanodeId>,
}

/// Writes `partitions` (all of them owned by `replicas`) at `consistency`.
pub async fn write<R: Replicas>(
    ctx: &WriteContext<R>,
    replicas: &[DatanodeId],
    consistency: Consistency,
    write_type: WriteType,
    partitions: Partitions,
) -> Result<WriteOutcome, CoordinatorError> {
    let required = consistency
        .required(replicas.len())
        .ok_or(CoordinatorError::BadConsistency {
            consistency,
            operation: "a write without a condition",
        })?;
    let (alive, down): (Vec<_>, Vec<_>) = replicas.iter().partition(|n| ctx.liveness.is_alive(**n));
    if consistency != Consistency::Any && alive.len() < required {
        return Err(CoordinatorError::Unavailable {
            consistency,
            required,
            alive: alive.len(),
        });
    }
    let mut outcome = WriteOutcome {
        acked: Vec::new(),
        hinted: Vec::new(),
    };
    for node in down {
        if hint(ctx, node, &partitions) {
            outcome.hinted.push(node);
        }
    }
    // At ANY a stored hint counts as the acknowledgement.
    let hint_acks = if consistency == Consistency::Any {
        outcome.hinted.len()
    } else {
        0
    };
    let mut calls: FuturesUnordered<_> = alive
        .into_iter()
        .map(|node| {
            let call = ctx.replicas.apply(node, partitions.clone());
            let timeout = ctx.timeout;
            async move { (node, tokio::time::timeout(timeout, call).await) }
        })
        .collect();
    let mut refusal: Option<CoordinatorError> = None;
    while outcome.acked.len() + hint_acks < required {
        let Some((node, result)) = calls.next().await else {
            break;
        };
        match settle(ctx, node, result, &partitions) {
            Settled::Acked => outcome.acked.push(node),
            Settled::Hinted => outcome.hinted.push(node),
            Settled::Refused(e) => {
                tracing::warn!(datanode = %node, error = %e, "replica refused a write");
                refusal.get_or_insert(e);
            }
        }
    }
    let enough =
        outcome.acked.len() + hint_acks >= required || (consistency == Consistency::Any && !outcome.hinted.is_empty());
    if !calls.is_empty() {
        // The rest land (or get their hint) in the background.
        let ctx = ctx.clone();
        let partitions = partitions.clone();
        tokio::spawn(async move {
            while let Some((node, result)) = calls.next().await {
                if let Settled::Refused(e) = settle(&ctx, node, result, &partitions) {
                    tracing::warn!(datanode = %node, error = %e, "replica refused a write");
                }
            }
        });
    }
    if enough {
        return Ok(outcome);
    }
    // A replica that refused outright (its store is unhealthy, it lags the schema) says more than a
    // count would. Refusals are not hinted: replaying what a replica refuses would not help it.
    if let Some(e) = refusal {
        return Err(e);
    }
    Err(CoordinatorError::WriteTimeout {
        consistency,
        received: outcome.acked.len(),
        block_for: required,
        write_type,
    })
}

enum Settled {
    Acked,
    /// Failed in transport or timed out, and hinted.
    Hinted,
    /// The replica answered with an error of its own.
    Refused(CoordinatorError),
}

fn settle<R: Replicas>(
    ctx: &WriteContext<R>,
    node: DatanodeId,
    result: Result<Result<(), RemoteError>, tokio::time::error::Elapsed>,
    partitions: &Partitions,
) -> Settled {
    match result {
        Ok(Ok(())) => {
            ctx.liveness.succeeded(node);
            Settled::Acked
        }
        Ok(Err(e)) if !e.transport => Settled::Refused(CoordinatorError::Replica {
            node,
            kind: e.kind,
            message: e.message,
        }),
        Ok(Err(e)) => {
            tracing::debug!(datanode = %node, error = %e, "replica write failed");
            ctx.liveness.failed(node);
            hint(ctx, node, partitions);
            Settled::Hinted
        }
        Err(_) => {
            tracing::debug!(datanode = %node, "replica write timed out");
            hint(ctx, node, partitions);
            Settled::Hinted
        }
    }
}

/// Hints `partitions` for `node` unless it has been down past the hint window. True if hinted.
fn hint<R: Replicas>(ctx: &WriteContext<R>, node: DatanodeId, partitions: &Partitions) -> bool {
    if partitions.is_empty() {
        return false;
    }
    if ctx.liveness.down_for(node).is_some_and(|d| d > ctx.hint_window) {
        tracing::debug!(datanode = %node, "down past the hint window: no hint");
        return false;
    }
    ctx.hints.hint(node, partitions);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::coordinator::ReadAnswer;
    use basalt_common::ErrorKind;
    use futures::future::BoxFuture;
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// How a fake replica behaves.
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Up,
        /// Refuses connections.
        Down,
        /// Never answers.
        Hang,
        /// Answers with an error of its own.
        Refuse,
    }

    #[derive(Default)]
    struct Fake {
        modes: Mutex<HashMap<DatanodeId, Mode>>,
        applied: Mutex<Vec<DatanodeId>>,
    }

    impl Fake {
        fn mode(&self, n: DatanodeId) -> Mode {
            *self.modes.lock().unwrap().get(&n).unwrap_or(&Mode::Up)
        }
    }

    fn transport_error() -> RemoteError {
        RemoteError {
            kind: ErrorKind::Unavailable,
            message: "connection refused".into(),
            leader: None,
            transport: true,
        }
    }

    impl Replicas for Fake {
        fn apply(&self, node: DatanodeId, _p: Partitions) -> BoxFuture<'static, Result<(), RemoteError>> {
            let mode = self.mode(node);
            if mode == Mode::Up {
                self.applied.lock().unwrap().push(node);
            }
            Box::pin(async move {
                match mode {
                    Mode::Up => Ok(()),
                    Mode::Down => Err(transport_error()),
                    Mode::Hang => futures::future::pending().await,
                    Mode::Refuse => Err(RemoteError {
                        kind: ErrorKind::Invalid,
                        message: "unknown column v".into(),
                        leader: None,
                        transport: false,
                    }),
                }
            })
        }

        fn read(
            &self,
            _node: DatanodeId,
            _c: Arc<Vec<u8>>,
            _d: bool,
        ) -> BoxFuture<'static, Result<ReadAnswer, RemoteError>> {
            unreachable!("writes only")
        }
    }

    #[derive(Default)]
    struct Hints(Mutex<Vec<DatanodeId>>);

    impl HintSink for Hints {
        fn hint(&self, target: DatanodeId, _p: &[Vec<u8>]) {
            self.0.lock().unwrap().push(target);
        }
    }

    fn setup(modes: &[(u64, Mode)]) -> (WriteContext<Fake>, Arc<Fake>, Arc<Hints>) {
        let fake = Arc::new(Fake::default());
        for (n, m) in modes {
            fake.modes.lock().unwrap().insert(DatanodeId(*n), *m);
        }
        let hints = Arc::new(Hints::default());
        let ctx = WriteContext {
            replicas: fake.clone(),
            liveness: Arc::new(Liveness::default()),
            hints: hints.clone(),
            // Only the hanging replicas wait it out.
            timeout: Duration::from_millis(300),
            hint_window: Duration::from_secs(3 * 3600),
        };
        (ctx, fake, hints)
    }

    const RF3: [DatanodeId; 3] = [DatanodeId(1), DatanodeId(2), DatanodeId(3)];

    fn mutation() -> Partitions {
        Arc::new(vec![vec![1, 2, 3]])
    }

    #[tokio::test]
    async fn quorum_with_one_replica_down_succeeds_and_hints_it() {
        let (ctx, _fake, hints) = setup(&[(2, Mode::Down)]);
        let out = write(&ctx, &RF3, Consistency::Quorum, WriteType::Simple, mutation())
            .await
            .unwrap();
        assert_eq!(out.acked.len(), 2);
        basalt_wait::wait_until("node 2 hinted", Duration::from_secs(5), async || {
            hints.0.lock().unwrap().contains(&DatanodeId(2))
        })
        .await;
        assert!(!ctx.liveness.is_alive(DatanodeId(2)));
        // Known down now: the next write at ALL is refused before anything is sent.
        let err = write(&ctx, &RF3, Consistency::All, WriteType::Simple, mutation())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            CoordinatorError::Unavailable {
                consistency: Consistency::All,
                required: 3,
                alive: 2
            }
        );
    }

    #[tokio::test]
    async fn a_hanging_replica_times_out_with_the_counts_and_is_hinted() {
        let (ctx, _fake, hints) = setup(&[(2, Mode::Hang), (3, Mode::Hang)]);
        let err = write(&ctx, &RF3, Consistency::Quorum, WriteType::Simple, mutation())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            CoordinatorError::WriteTimeout {
                consistency: Consistency::Quorum,
                received: 1,
                block_for: 2,
                write_type: WriteType::Simple
            }
        );
        let mut hinted = hints.0.lock().unwrap().clone();
        hinted.sort();
        assert_eq!(hinted, vec![DatanodeId(2), DatanodeId(3)]);
    }

    #[tokio::test]
    async fn one_returns_at_the_first_ack_and_the_rest_still_land() {
        let (ctx, fake, _hints) = setup(&[]);
        write(&ctx, &RF3, Consistency::One, WriteType::Simple, mutation())
            .await
            .unwrap();
        basalt_wait::wait_until("three replicas applied", Duration::from_secs(5), async || {
            fake.applied.lock().unwrap().len() == 3
        })
        .await;
    }

    #[tokio::test]
    async fn any_succeeds_on_hints_alone() {
        let (ctx, _fake, hints) = setup(&[(1, Mode::Down), (2, Mode::Down), (3, Mode::Down)]);
        for n in RF3 {
            ctx.liveness.failed(n);
        }
        let out = write(&ctx, &RF3, Consistency::Any, WriteType::Simple, mutation())
            .await
            .unwrap();
        assert_eq!(out.hinted.len(), 3);
        assert_eq!(hints.0.lock().unwrap().len(), 3);
        let err = write(&ctx, &RF3, Consistency::One, WriteType::Simple, mutation())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), basalt_common::ErrorKind::Unavailable);
    }

    #[tokio::test]
    async fn a_replica_refusal_is_reported_as_itself() {
        let (ctx, _fake, _hints) = setup(&[(1, Mode::Refuse), (2, Mode::Refuse), (3, Mode::Refuse)]);
        let err = write(&ctx, &RF3, Consistency::Quorum, WriteType::Simple, mutation())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                CoordinatorError::Replica {
                    kind: ErrorKind::Invalid,
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
