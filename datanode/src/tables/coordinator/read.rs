//! A coordinated read of one partition: data from the closest replica, digests from as many others as
//! the consistency level needs, and on a mismatch a full read of those replicas, reconciliation, and a
//! **blocking read repair**: the stale replicas get what they lack before the answer goes out, so that
//! a QUORUM read followed by another QUORUM read never goes back in time.
//!
//! Phases:
//! 1. **Availability.** Too few replicas believed alive: `Unavailable`, nothing sent.
//! 2. **Data and digests.** The first contacted replica (replicas come closest first) returns data, the
//!    others a digest of theirs. A replica that fails in transport is replaced by the next alive one not
//!    yet asked (and marked down); when none is left, or the timeout passes, `ReadTimeout` says how many
//!    answered and whether the data did.
//! 3. **Agreement.** All digests equal the data's: that is the answer.
//! 4. **Repair.** Otherwise every contacted replica returns data; the [`Resolve`]r merges them (newest
//!    cells win, tombstones shadow) and says what each one lacks; those repairs are written to them
//!    (bounded by the timeout; a repair that does not land becomes a hint), then the merged partition is
//!    the answer.

use super::error::CoordinatorError;
use super::liveness::Liveness;
use super::replicas::{HintSink, ReadAnswer, Replicas};
use basalt_common::DatanodeId;
use basalt_proto::RemoteError;
use basalt_table::Consistency;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use std::sync::Arc;
use std::time::Duration;

/// The merge of replica answers: the merged partition (encoded), and for each answer, in order, the
/// encoded partition update that brings it up to the merge (`None` when it is not stale).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub merged: Vec<u8>,
    pub repairs: Vec<Option<Vec<u8>>>,
}

/// Merges replica answers (each replica's encoded partition) into one and says what each answer
/// lacks.
pub trait Resolve: Send + Sync {
    fn resolve(&self, answers: &[(DatanodeId, Vec<u8>)]) -> Result<Resolved, CoordinatorError>;
}

/// What a coordinated read needs besides the command.
pub struct ReadContext<R: Replicas> {
    pub replicas: Arc<R>,
    pub liveness: Arc<Liveness>,
    pub hints: Arc<dyn HintSink>,
    pub timeout: Duration,
}

/// How a read went, for metrics and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOutcome {
    /// The encoded partition.
    pub partition: Vec<u8>,
    /// Replicas that answered.
    pub answered: Vec<DatanodeId>,
    /// Replicas repaired before the answer.
    pub repaired: Vec<DatanodeId>,
}

/// Reads with the encoded `command` from `replicas` (closest first) at `consistency`.
pub async fn read<R: Replicas>(
    ctx: &ReadContext<R>,
    replicas: &[DatanodeId],
    consistency: Consistency,
    command: Arc<Vec<u8>>,
    resolver: &dyn Resolve,
) -> Result<ReadOutcome, CoordinatorError> {
    let required = match consistency.required(replicas.len()) {
        Some(r) if consistency.readable() => r,
        _ => {
            return Err(CoordinatorError::BadConsistency {
                consistency,
                operation: "a read",
            });
        }
    };
    let mut contacts: Vec<DatanodeId> = replicas.iter().copied().filter(|n| ctx.liveness.is_alive(*n)).collect();
    if contacts.len() < required {
        return Err(CoordinatorError::Unavailable {
            consistency,
            required,
            alive: contacts.len(),
        });
    }
    let deadline = tokio::time::Instant::now() + ctx.timeout;
    // Replicas beyond the level's count stand in for contacted ones that fail.
    let mut spare = contacts.split_off(required).into_iter();

    // Phase 2: data from the first, digests from the others.
    let mut calls = FuturesUnordered::new();
    for (i, node) in contacts.iter().enumerate() {
        calls.push(call(ctx, *node, command.clone(), i != 0, deadline));
    }
    let mut data: Option<(DatanodeId, ReadAnswer)> = None;
    let mut digests: Vec<(DatanodeId, ReadAnswer)> = Vec::new();
    let mut refusal = None;
    while data.is_none() || digests.len() + 1 < required {
        let Some((node, digest_only, result)) = calls.next().await else {
            break;
        };
        match result {
            Ok(answer) => {
                ctx.liveness.succeeded(node);
                if digest_only {
                    digests.push((node, answer));
                } else {
                    data = Some((node, answer));
                }
            }
            Err(Failure::Refused(e)) => {
                refusal.get_or_insert(CoordinatorError::Replica {
                    node,
                    kind: e.kind,
                    message: e.message,
                });
            }
            Err(failure) => {
                if let Failure::Transport = failure {
                    ctx.liveness.failed(node);
                }
                // Ask the next alive replica in its place, for what this one was to give.
                if let Some(next) = spare.find(|n| ctx.liveness.is_alive(*n)) {
                    calls.push(call(ctx, next, command.clone(), digest_only, deadline));
                }
            }
        }
    }
    let Some((data_node, data)) = data else {
        return Err(refusal.unwrap_or(CoordinatorError::ReadTimeout {
            consistency,
            received: digests.len(),
            block_for: required,
            data_present: false,
        }));
    };
    if digests.len() + 1 < required {
        return Err(refusal.unwrap_or(CoordinatorError::ReadTimeout {
            consistency,
            received: digests.len() + 1,
            block_for: required,
            data_present: true,
        }));
    }
    let mut answered: Vec<DatanodeId> = std::iter::once(data_node)
        .chain(digests.iter().map(|(n, _)| *n))
        .collect();

    // Phase 3: agreement.
    if digests.iter().all(|(_, d)| d.digest == data.digest) {
        return Ok(ReadOutcome {
            partition: data.partition,
            answered,
            repaired: Vec::new(),
        });
    }

    // Phase 4: full data from the digest replicas, merge, repair.
    tracing::debug!(replicas = ?answered, "digest mismatch: reading data from every contacted replica");
    let mut full: FuturesUnordered<_> = digests
        .iter()
        .map(|(n, _)| call(ctx, *n, command.clone(), false, deadline))
        .collect();
    let mut answers = vec![(data_node, data.partition)];
    while let Some((node, _, result)) = full.next().await {
        match result {
            Ok(a) => answers.push((node, a.partition)),
            Err(_) => {
                return Err(CoordinatorError::ReadTimeout {
                    consistency,
                    received: answers.len(),
                    block_for: required,
                    data_present: true,
                });
            }
        }
    }
    let Resolved { merged, repairs } = resolver.resolve(&answers)?;
    let mut writes = FuturesUnordered::new();
    let mut repaired = Vec::new();
    for ((node, _), repair) in answers.iter().zip(repairs) {
        if let Some(repair) = repair {
            repaired.push(*node);
            let call = ctx.replicas.apply(*node, Arc::new(vec![repair.clone()]));
            writes.push(async move { (*node, repair, tokio::time::timeout_at(deadline, call).await) });
        }
    }
    while let Some((node, repair, result)) = writes.next().await {
        if !matches!(result, Ok(Ok(()))) {
            tracing::warn!(datanode = %node, "read repair did not land: hinted");
            ctx.hints.hint(node, &[repair]);
        }
    }
    answered.sort();
    Ok(ReadOutcome {
        partition: merged,
        answered,
        repaired,
    })
}

enum Failure {
    Transport,
    Timeout,
    Refused(RemoteError),
}

async fn call<R: Replicas>(
    ctx: &ReadContext<R>,
    node: DatanodeId,
    command: Arc<Vec<u8>>,
    digest_only: bool,
    deadline: tokio::time::Instant,
) -> (DatanodeId, bool, Result<ReadAnswer, Failure>) {
    let result = match tokio::time::timeout_at(deadline, ctx.replicas.read(node, command, digest_only)).await {
        Ok(Ok(a)) => Ok(a),
        Ok(Err(e)) if e.transport => Err(Failure::Transport),
        Ok(Err(e)) => Err(Failure::Refused(e)),
        Err(_) => Err(Failure::Timeout),
    };
    (node, digest_only, result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::coordinator::Partitions;
    use basalt_common::ErrorKind;
    use futures::future::BoxFuture;
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// Each replica holds one number; newer is larger. Down replicas refuse connections, hung ones
    /// never answer.
    #[derive(Default)]
    struct Fake {
        data: Mutex<HashMap<DatanodeId, u8>>,
        down: Mutex<Vec<DatanodeId>>,
        hung: Mutex<Vec<DatanodeId>>,
    }

    impl Replicas for Fake {
        fn apply(&self, node: DatanodeId, p: Partitions) -> BoxFuture<'static, Result<(), RemoteError>> {
            if let Some(v) = p.first() {
                let mut data = self.data.lock().unwrap();
                let e = data.entry(node).or_default();
                *e = (*e).max(v[0]);
            }
            Box::pin(async { Ok(()) })
        }

        fn read(
            &self,
            node: DatanodeId,
            _c: Arc<Vec<u8>>,
            digest_only: bool,
        ) -> BoxFuture<'static, Result<ReadAnswer, RemoteError>> {
            let down = self.down.lock().unwrap().contains(&node);
            let hung = self.hung.lock().unwrap().contains(&node);
            let v = *self.data.lock().unwrap().get(&node).unwrap_or(&0);
            Box::pin(async move {
                if hung {
                    futures::future::pending::<()>().await;
                }
                if down {
                    return Err(RemoteError {
                        kind: ErrorKind::Unavailable,
                        message: "refused".into(),
                        leader: None,
                        transport: true,
                    });
                }
                Ok(ReadAnswer {
                    partition: if digest_only { Vec::new() } else { vec![v] },
                    digest: vec![v],
                })
            })
        }
    }

    struct Max;

    impl Resolve for Max {
        fn resolve(&self, answers: &[(DatanodeId, Vec<u8>)]) -> Result<Resolved, CoordinatorError> {
            let max = answers.iter().map(|(_, a)| a[0]).max().unwrap();
            Ok(Resolved {
                merged: vec![max],
                repairs: answers.iter().map(|(_, a)| (a[0] < max).then(|| vec![max])).collect(),
            })
        }
    }

    struct NoHints;

    impl HintSink for NoHints {
        fn hint(&self, _t: DatanodeId, _p: &[Vec<u8>]) {}
    }

    fn setup(values: &[(u64, u8)]) -> (ReadContext<Fake>, Arc<Fake>) {
        let fake = Arc::new(Fake::default());
        for (n, v) in values {
            fake.data.lock().unwrap().insert(DatanodeId(*n), *v);
        }
        let ctx = ReadContext {
            replicas: fake.clone(),
            liveness: Arc::new(Liveness::default()),
            hints: Arc::new(NoHints),
            timeout: Duration::from_millis(300),
        };
        (ctx, fake)
    }

    const RF3: [DatanodeId; 3] = [DatanodeId(1), DatanodeId(2), DatanodeId(3)];

    fn cmd() -> Arc<Vec<u8>> {
        Arc::new(Vec::new())
    }

    #[tokio::test]
    async fn agreeing_replicas_answer_without_repair() {
        let (ctx, _) = setup(&[(1, 5), (2, 5), (3, 1)]);
        let out = read(&ctx, &RF3, Consistency::Quorum, cmd(), &Max).await.unwrap();
        assert_eq!(out.partition, vec![5]);
        assert!(out.repaired.is_empty());
        assert_eq!(out.answered.len(), 2, "QUORUM of 3 asks two");
    }

    #[tokio::test]
    async fn a_stale_replica_is_repaired_before_the_answer() {
        let (ctx, fake) = setup(&[(1, 1), (2, 7), (3, 7)]);
        let out = read(&ctx, &RF3, Consistency::Quorum, cmd(), &Max).await.unwrap();
        assert_eq!(out.partition, vec![7]);
        assert_eq!(out.repaired, vec![DatanodeId(1)]);
        assert_eq!(fake.data.lock().unwrap()[&DatanodeId(1)], 7);
        // ALL reads see every replica agree now.
        let out = read(&ctx, &RF3, Consistency::All, cmd(), &Max).await.unwrap();
        assert!(out.repaired.is_empty());
    }

    #[tokio::test]
    async fn a_failed_replica_is_replaced_by_a_spare() {
        let (ctx, fake) = setup(&[(1, 3), (2, 3), (3, 3)]);
        fake.down.lock().unwrap().push(DatanodeId(1));
        let out = read(&ctx, &RF3, Consistency::Quorum, cmd(), &Max).await.unwrap();
        assert_eq!(out.partition, vec![3]);
        assert!(!ctx.liveness.is_alive(DatanodeId(1)));
        let err = read(&ctx, &RF3, Consistency::All, cmd(), &Max).await.unwrap_err();
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
    async fn hung_replicas_time_out_with_the_counts() {
        let (ctx, fake) = setup(&[(1, 3), (2, 3), (3, 3)]);
        fake.hung.lock().unwrap().extend([DatanodeId(2), DatanodeId(3)]);
        let err = read(&ctx, &RF3, Consistency::Quorum, cmd(), &Max).await.unwrap_err();
        assert_eq!(
            err,
            CoordinatorError::ReadTimeout {
                consistency: Consistency::Quorum,
                received: 1,
                block_for: 2,
                data_present: true
            }
        );
        let err = read(&ctx, &RF3, Consistency::Any, cmd(), &Max).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
    }
}
