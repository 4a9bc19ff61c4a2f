//! A sweep: one pass of the replication monitor over every finished block, fed a slice at a time so
//! that neither the state lock nor the block-manager lock is held for more than a slice (the driver is
//! `crate::monitor`, which also walks the namespace to produce the slices).
//!
//! 1. [`Sweep::new`]: the admin states and the nodes still in a write pipeline, as the sweep starts.
//! 2. [`BlockManager::sweep_blocks`], once per slice: each block's live replicas are counted. A block at
//!    its factor ends its copy in flight and its corrupt record, and its surplus replicas (a node came
//!    back) are queued for deletion, from the fullest nodes. A block short of it is counted, queued for
//!    a copy unless one is in flight, and keeps its decommissioning holders from being drained.
//! 3. [`BlockManager::finish_sweep`]: the decommissioning nodes with nothing left to copy elsewhere
//!    (and in no pipeline, at the start or the end) are drained; the copy queue, most endangered first.
//! 4. [`BlockManager::schedule_copies`], once a round, takes copies from the front of the queue: each
//!    is checked again, then queued on a live holder with room in this round (at most `per_node`
//!    copies per source), to targets chosen by placement; it goes out in that holder's next heartbeat.
//!
//! A [`SweepMode::Count`] sweep only counts (safe mode, followers): it changes nothing.

use super::{AdminStates, BlockManager, ReplicationTask};
use crate::state::cluster::AdminState;
use crate::state::namespace::BlockMeta;
use basalt_common::DatanodeId;
use basalt_common::placement;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

/// What one pass found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoundSummary {
    /// Blocks with fewer live replicas than wanted (at least one).
    pub under_replicated: usize,
    /// Blocks with no live replica at all.
    pub missing: usize,
    /// Copies queued since the previous pass ended.
    pub scheduled: usize,
    /// Surplus replicas queued for deletion.
    pub trimmed: usize,
    /// Decommissioning nodes whose every block now has its replication factor elsewhere.
    pub drained: Vec<DatanodeId>,
    /// Finished blocks with a live replica (what safe mode waits for).
    pub reported: u64,
    /// Finished blocks in the namespace.
    pub blocks: u64,
}

/// What a sweep may do besides counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepMode {
    /// Count reported and short blocks only.
    Count,
    /// Also trim surplus replicas, queue copies and drain decommissioning nodes (the leader).
    Heal,
}

/// A block short of its replication factor, waiting for a copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Under {
    pub block: BlockMeta,
    pub replication: u32,
    /// Live replicas counted towards the factor when the sweep saw it (fewest first in the queue).
    pub counted: usize,
}

/// One pass in progress.
#[derive(Debug)]
pub struct Sweep {
    mode: SweepMode,
    admin: AdminStates,
    busy: HashSet<DatanodeId>,
    /// Decommissioning nodes: their blocks still short of the factor elsewhere.
    drain: HashMap<DatanodeId, usize>,
    under: Vec<Under>,
    summary: RoundSummary,
}

impl Sweep {
    /// A sweep starting with these admin states and pipeline nodes (`busy`).
    pub fn new(mode: SweepMode, admin: AdminStates, busy: HashSet<DatanodeId>) -> Self {
        let drain = admin
            .iter()
            .filter(|(_, s)| **s == AdminState::Decommissioning)
            .map(|(id, _)| (*id, 0))
            .collect();
        Sweep {
            mode,
            admin,
            busy,
            drain,
            under: Vec::new(),
            summary: RoundSummary::default(),
        }
    }

    pub fn mode(&self) -> SweepMode {
        self.mode
    }
}

impl BlockManager {
    /// Step 2: one slice of finished blocks, each with the replication its file wants.
    pub fn sweep_blocks<'a>(
        &mut self,
        sweep: &mut Sweep,
        blocks: impl IntoIterator<Item = (&'a BlockMeta, u32)>,
        now: Instant,
        retry_after: Duration,
    ) {
        let heal = sweep.mode == SweepMode::Heal;
        for (b, rf) in blocks {
            let holders: Vec<DatanodeId> = self.live_holders(b, now).map(|n| n.record.id).collect();
            let counted = holders.iter().filter(|h| !sweep.admin.contains_key(h)).count();
            let rf = rf as usize;
            sweep.summary.blocks += 1;
            if holders.is_empty() {
                sweep.summary.missing += 1;
            } else {
                sweep.summary.reported += 1;
            }
            if counted >= rf {
                if heal {
                    if self.scheduled.remove(&b.id).is_some() {
                        self.copies_done += 1;
                    }
                    self.corrupt.remove(&b.id);
                    if counted > rf {
                        let in_service: Vec<_> = holders.into_iter().filter(|h| !sweep.admin.contains_key(h)).collect();
                        sweep.summary.trimmed += self.trim(b, in_service, counted - rf);
                    }
                }
                continue;
            }
            for h in &holders {
                if let Some(n) = sweep.drain.get_mut(h) {
                    *n += 1;
                }
            }
            if holders.is_empty() {
                continue;
            }
            sweep.summary.under_replicated += 1;
            if heal && !self.copy_in_flight(b, now, retry_after) {
                sweep.under.push(Under {
                    block: *b,
                    replication: rf as u32,
                    counted,
                });
            }
        }
    }

    /// Step 3: the sweep's summary and copy queue (most endangered first). `admin` and `busy` are the
    /// admin states and pipeline nodes as the sweep ends.
    pub fn finish_sweep(
        &mut self,
        sweep: Sweep,
        admin: &AdminStates,
        busy: &HashSet<DatanodeId>,
        now: Instant,
    ) -> (RoundSummary, VecDeque<Under>) {
        let Sweep {
            mode,
            drain,
            mut under,
            mut summary,
            busy: busy_at_start,
            ..
        } = sweep;
        if mode == SweepMode::Count {
            return (summary, VecDeque::new());
        }
        for (id, left) in &drain {
            // Only a live node whose full report arrived is known to hold nothing more than it reported.
            let known = self.nodes.get(id).is_some_and(|n| n.reported && self.is_live(n, now));
            let still = admin.get(id) == Some(&AdminState::Decommissioning);
            if *left == 0 && known && still && !busy.contains(id) && !busy_at_start.contains(id) {
                summary.drained.push(*id);
            }
        }
        summary.drained.sort();
        self.drain_remaining = drain;
        under.sort_by_key(|u| u.counted);
        (summary, under.into())
    }

    /// Step 4: queues copies for up to `examine` blocks from the front of `queue`; a block that cannot
    /// be copied this round (its holders have no room left) stays in front for the next. Returns the
    /// number of copies queued.
    #[allow(clippy::too_many_arguments)]
    pub fn schedule_copies(
        &mut self,
        queue: &mut VecDeque<Under>,
        admin: &AdminStates,
        now: Instant,
        per_node: usize,
        retry_after: Duration,
        rng: &mut fastrand::Rng,
        examine: usize,
    ) -> usize {
        let candidates = self.live_candidates(admin, now);
        let mut queued: HashMap<DatanodeId, usize> = HashMap::new();
        let mut kept = Vec::new();
        let mut scheduled = 0;
        for _ in 0..examine {
            let Some(u) = queue.pop_front() else { break };
            if self.copy_in_flight(&u.block, now, retry_after) {
                continue;
            }
            // The block may have changed since the sweep saw it.
            let mut sources: Vec<DatanodeId> = self.live_holders(&u.block, now).map(|n| n.record.id).collect();
            let counted = sources.iter().filter(|h| !admin.contains_key(h)).count();
            let rf = u.replication as usize;
            if sources.is_empty() || counted >= rf {
                continue;
            }
            // Spread the copying over the holders; a retry after a failed copy likely picks another one.
            rng.shuffle(&mut sources);
            let Some(source) = sources
                .iter()
                .copied()
                .find(|h| queued.get(h).copied().unwrap_or(0) < per_node)
            else {
                kept.push(u);
                continue;
            };
            let block = u.block;
            let room = candidates
                .iter()
                .filter(|c| !sources.contains(&c.id) && c.remaining >= block.len)
                .count();
            let need = (rf - counted).min(room);
            if need == 0 {
                kept.push(u);
                continue;
            }
            let Ok(targets) = placement::choose_targets(&candidates, need, None, &sources, block.len, rng) else {
                kept.push(u);
                continue;
            };
            let targets = targets
                .iter()
                .filter_map(|t| self.nodes.get(t))
                .map(|n| n.record.clone())
                .collect();
            if let Some(node) = self.nodes.get_mut(&source) {
                node.pending_replications.push(ReplicationTask { block, targets });
                *queued.entry(source).or_default() += 1;
                self.scheduled.insert(block.id, now);
                scheduled += 1;
            }
        }
        for u in kept.into_iter().rev() {
            queue.push_front(u);
        }
        scheduled
    }

    /// A copy of `block` was scheduled less than `retry_after` ago.
    fn copy_in_flight(&self, block: &BlockMeta, now: Instant, retry_after: Duration) -> bool {
        self.scheduled
            .get(&block.id)
            .is_some_and(|t| now.saturating_duration_since(*t) < retry_after)
    }

    /// Queues `extra` of the `holders`' replicas of `block` for deletion, from the fullest nodes.
    fn trim(&mut self, block: &BlockMeta, mut holders: Vec<DatanodeId>, extra: usize) -> usize {
        holders.sort_by_key(|h| self.nodes.get(h).map_or(u64::MAX, |n| n.stats.remaining));
        let mut trimmed = 0;
        for h in holders.into_iter().take(extra) {
            self.drop_replica(block.id, h);
            trimmed += 1;
        }
        trimmed
    }
}

#[cfg(test)]
mod tests;
