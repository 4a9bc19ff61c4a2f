//! The namenode's background loop, on every member (the healing duties only on the leader). Each tick
//! (100 ms) it does one unit of work and reports it; it ends when `stop` turns true.
//!
//! 1. **Leadership.** Leases follow it: a new leader gives every holder a full hard limit.
//! 2. **Sweep.** A pass over every finished block ([`crate::blocks::sweep`]) advances by at most
//!    [`SWEEP_BUDGET`] of work per tick, on a blocking thread: a slice of the namespace walk
//!    ([`crate::walk`]) is read under the state lock, then counted under the block-manager lock, never
//!    both at once, each held for one slice only. After the namespace, the reported replicas are walked
//!    the same way for garbage: replicas of blocks no file owns (after the orphan grace) and replicas
//!    older than their closed file's block. A new pass starts a second after the previous one did
//!    (at once while in safe mode). On a follower, or in safe mode, the pass only counts.
//! 3. **Safe mode.** It ends when a pass finds enough blocks reported; on the leader that pass must
//!    have run after a read barrier, so the state it compared with is up to date.
//! 4. **Healing** (leader, out of safe mode, once a second): copies from the last pass's queue (at
//!    most [`REPLICATION_PER_NODE`] per source), decommissioned marks for the drained nodes, and lease
//!    recovery of the files whose holder is silent.
//! 5. **Status.** The pass's summary goes to `Core::last_round` (cluster status), changes are logged.

use crate::blocks::sweep::{Sweep, SweepMode, Under};
use crate::blocks::{BlockOwner, GarbageSummary, RoundSummary};
use crate::service::{Core, ServiceError};
use crate::state::cluster::{AdminState, ClusterCommand};
use crate::state::namespace::Namespace;
use crate::walk::Walk;
use basalt_common::{BPath, BlockId, DatanodeId};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Tick of the loop.
const TICK: Duration = Duration::from_millis(100);
/// Ticks per healing round.
const ROUND_TICKS: u64 = 10;
/// Time between the starts of two passes (out of safe mode).
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
/// Most work a pass does per tick (a slice overruns it by at most one slice).
const SWEEP_BUDGET: Duration = Duration::from_millis(20);
/// Blocks per slice: how long the state or block-manager lock is held at a time.
const SLICE: usize = 2048;
/// Blocks of the copy queue examined per round.
const EXAMINE: usize = 4096;
/// Deadline of a proposal the monitor makes.
const PROPOSAL_TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline of one lease recovery attempt.
const RECOVERY_TIMEOUT: Duration = Duration::from_secs(60);
/// A failed lease recovery is tried again after this long.
const LEASE_RECOVERY_RETRY: Duration = Duration::from_secs(5);
/// Copies queued per source datanode per round (one round a second).
const REPLICATION_PER_NODE: usize = 4;
/// A scheduled copy not reported within this long is scheduled again.
const REPLICATION_RETRY: Duration = Duration::from_secs(10);

/// Runs the loop until `stop` turns true.
pub async fn monitor(core: Arc<Core>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks = 0u64;
    let mut work = Some(Work::default());
    let mut last_garbage = GarbageSummary::default();
    // Decommissioned marks being proposed.
    let marking: Arc<Mutex<HashSet<DatanodeId>>> = Arc::default();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        ticks += 1;
        let leading = core.is_leader();
        core.leases
            .lock()
            .expect("lease lock poisoned")
            .set_leading(leading, Instant::now());
        let safe_mode = core.safe_mode.lock().expect("safe mode lock poisoned").is_on();
        if leading && safe_mode && core.read_barrier().await.is_err() {
            continue;
        }
        let mode = if leading && !safe_mode {
            SweepMode::Heal
        } else {
            SweepMode::Count
        };
        let round = leading && !safe_mode && ticks.is_multiple_of(ROUND_TICKS);
        let (w, finished, scheduled) = {
            let (core, mut w) = (core.clone(), work.take().unwrap_or_default());
            match tokio::task::spawn_blocking(move || {
                let finished = w.advance(&core, mode, leading, !safe_mode);
                let scheduled = if round { w.schedule(&core) } else { 0 };
                (w, finished, scheduled)
            })
            .await
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "the block sweep failed; starting over");
                    (Work::default(), None, 0)
                }
            }
        };
        work = Some(w);
        if scheduled > 0 {
            tracing::debug!(scheduled, "copies queued");
        }
        if let Some((summary, garbage)) = finished {
            if safe_mode {
                let mut sm = core.safe_mode.lock().expect("safe mode lock poisoned");
                if sm.update(summary.reported, summary.blocks) {
                    tracing::info!(reported = summary.reported, total = summary.blocks, "left safe mode");
                }
            }
            report(&core, &summary, garbage, &mut last_garbage);
            for node in summary.drained.iter().copied() {
                mark_decommissioned(&core, &marking, node);
            }
        }
        if round {
            recover_leases(&core);
        }
    }
}

/// The loop's state between ticks (moved to the blocking thread and back).
#[derive(Default)]
struct Work {
    pass: Option<Pass>,
    /// When the last pass started.
    started: Option<Instant>,
    /// Copies to make, from the last finished pass, most endangered first.
    queue: VecDeque<Under>,
    /// Copies queued since the last pass finished.
    scheduled: usize,
}

/// A pass in progress: the sweep, the namespace walk feeding it, then the replica walk for garbage.
struct Pass {
    /// Started while this member led (and, in safe mode, after a read barrier).
    leader: bool,
    sweep: Sweep,
    walk: Walk,
    /// Position of the replica walk in the block map; `None` once it is done.
    replicas: Option<usize>,
    garbage: GarbageSummary,
}

impl Work {
    /// Advances the pass by up to [`SWEEP_BUDGET`] (starting one if due); returns its summary when it
    /// ends. `paced`: wait [`SWEEP_INTERVAL`] between the starts of two passes.
    fn advance(
        &mut self,
        core: &Core,
        mode: SweepMode,
        leader: bool,
        paced: bool,
    ) -> Option<(RoundSummary, GarbageSummary)> {
        let start = Instant::now();
        if self
            .pass
            .as_ref()
            .is_some_and(|p| p.sweep.mode() != mode || p.leader != leader)
        {
            // Leadership or safe mode changed: start over in the new mode.
            self.pass = None;
            self.queue.clear();
        }
        if self.pass.is_none() {
            let due = !paced
                || self
                    .started
                    .is_none_or(|t| start.saturating_duration_since(t) >= SWEEP_INTERVAL);
            if !due {
                return None;
            }
            let (admin, busy) = {
                let state = core.state();
                (state.cluster.admin_states().clone(), busy_nodes(&state.namespace))
            };
            self.started = Some(start);
            self.pass = Some(Pass {
                leader,
                sweep: Sweep::new(mode, admin, busy),
                walk: Walk::new(BPath::root()),
                replicas: (mode == SweepMode::Heal).then_some(0),
                garbage: GarbageSummary::default(),
            });
        }
        let pass = self.pass.as_mut().expect("started above");
        while start.elapsed() < SWEEP_BUDGET {
            if !pass.walk.is_done() {
                let mut blocks = Vec::with_capacity(SLICE);
                {
                    let state = core.state();
                    let walked = pass.walk.step(&state.namespace, SLICE, |_, f| {
                        blocks.extend(f.finished_blocks().iter().map(|b| (*b, f.replication)));
                    });
                    if let Err(e) = walked {
                        // The root always exists: this is a bug, not a reason to stop healing.
                        tracing::error!(error = %e, "namespace walk failed");
                        self.pass = None;
                        return None;
                    }
                }
                core.blocks().sweep_blocks(
                    &mut pass.sweep,
                    blocks.iter().map(|(b, r)| (b, *r)),
                    Instant::now(),
                    REPLICATION_RETRY,
                );
            } else if let Some(from) = pass.replicas {
                let (ids, next) = core.blocks().replica_slice(from, SLICE);
                let owners: Vec<(BlockId, BlockOwner)> = {
                    let state = core.state();
                    ids.into_iter().map(|b| (b, owner(&state.namespace, b))).collect()
                };
                let g = core
                    .blocks()
                    .collect_garbage(owners, Instant::now(), core.config.orphan_grace);
                pass.garbage.orphans += g.orphans;
                pass.garbage.stale += g.stale;
                pass.replicas = next;
            } else {
                let pass = self.pass.take().expect("in progress");
                let (admin, busy) = {
                    let state = core.state();
                    (state.cluster.admin_states().clone(), busy_nodes(&state.namespace))
                };
                let (mut summary, queue) = core.blocks().finish_sweep(pass.sweep, &admin, &busy, Instant::now());
                if mode == SweepMode::Heal {
                    self.queue = queue;
                    summary.scheduled = std::mem::take(&mut self.scheduled);
                }
                return Some((summary, pass.garbage));
            }
        }
        None
    }

    /// One healing round: copies from the front of the queue.
    fn schedule(&mut self, core: &Core) -> usize {
        let admin = core.state().cluster.admin_states().clone();
        let mut bm = core.blocks();
        let mut rng = core.rng.lock().expect("rng lock poisoned");
        let n = bm.schedule_copies(
            &mut self.queue,
            &admin,
            Instant::now(),
            REPLICATION_PER_NODE,
            REPLICATION_RETRY,
            &mut rng,
            EXAMINE,
        );
        self.scheduled += n;
        n
    }
}

/// Nodes still in the pipeline of a block being written (or recovered): they hold data no other node
/// may have yet, so they are not drained until that block is finished. O(open files).
fn busy_nodes(ns: &Namespace) -> HashSet<DatanodeId> {
    ns.open_files()
        .iter()
        .filter(|f| f.lease.last_block_open)
        .flat_map(|f| f.lease.pipeline.iter().copied())
        .collect()
}

fn owner(ns: &Namespace, block: BlockId) -> BlockOwner {
    match ns.block_state(block) {
        None => BlockOwner::None,
        Some((gen_stamp, open)) => BlockOwner::File { gen_stamp, open },
    }
}

/// Publishes a finished pass and logs what changed.
fn report(core: &Core, summary: &RoundSummary, garbage: GarbageSummary, last_garbage: &mut GarbageSummary) {
    let last = std::mem::replace(
        &mut *core.last_round.lock().expect("round lock poisoned"),
        summary.clone(),
    );
    if summary.under_replicated != last.under_replicated
        || summary.missing != last.missing
        || summary.scheduled != last.scheduled
        || summary.trimmed != last.trimmed
    {
        tracing::info!(
            under_replicated = summary.under_replicated,
            missing = summary.missing,
            scheduled = summary.scheduled,
            trimmed = summary.trimmed,
            "replication monitor"
        );
    }
    if garbage != *last_garbage && garbage != GarbageSummary::default() {
        tracing::info!(
            orphans = garbage.orphans,
            stale = garbage.stale,
            "replicas no file needs queued for deletion"
        );
    }
    *last_garbage = garbage;
}

/// Proposes `node` decommissioned (once at a time), if it still is decommissioning: an operator's
/// cancel meanwhile wins.
fn mark_decommissioned(core: &Arc<Core>, marking: &Arc<Mutex<HashSet<DatanodeId>>>, node: DatanodeId) {
    if !marking.lock().expect("marking lock poisoned").insert(node) {
        return; // a proposal for it is in flight
    }
    let (core, marking) = (core.clone(), marking.clone());
    let cmd = ClusterCommand::SetAdminState {
        datanode: node,
        state: AdminState::Decommissioned,
        from: Some(AdminState::Decommissioning),
    };
    tokio::spawn(async move {
        match tokio::time::timeout(PROPOSAL_TIMEOUT, core.propose("namenode", 0, cmd)).await {
            Ok(Ok(_)) => {
                tracing::info!(datanode = %node, "decommissioned: every block it held has its replication elsewhere")
            }
            Ok(Err(e)) => tracing::warn!(datanode = %node, error = %e, "could not mark decommissioned"),
            Err(_) => tracing::warn!(datanode = %node, "marking decommissioned timed out"),
        }
        marking.lock().expect("marking lock poisoned").remove(&node);
    });
}

/// Starts the recovery of every file whose lease holder has been silent for the hard limit.
fn recover_leases(core: &Arc<Core>) {
    let open = core.state().namespace.open_files();
    let (due, term) =
        core.leases
            .lock()
            .expect("lease lock poisoned")
            .due(open, Instant::now(), core.config.lease_hard_limit);
    for file in due {
        let core = core.clone();
        tokio::spawn(async move {
            let path = file.path.clone();
            let res = tokio::time::timeout(RECOVERY_TIMEOUT, crate::recovery::recover(core.clone(), file))
                .await
                .unwrap_or_else(|_| {
                    Err(ServiceError::RecoveryTimedOut {
                        path: path.clone(),
                        timeout: RECOVERY_TIMEOUT,
                    })
                });
            if let Err(e) = &res {
                tracing::warn!(%path, error = %e, "lease recovery failed; it will be retried");
            }
            core.leases.lock().expect("lease lock poisoned").finished(
                &path,
                term,
                res.is_ok(),
                Instant::now(),
                LEASE_RECOVERY_RETRY,
            );
        });
    }
}
