//! Replication monitor: bring every closed file's blocks back to their replication factor.
//!
//! Each round (on the leader, out of safe mode):
//! 1. find blocks with fewer live replicas than wanted, most endangered first (1 live replica before 2),
//!    skipping blocks whose copy was scheduled less than `retry_after` ago (in flight);
//! 2. for each, a source (a live holder with fewer than `per_node` copies queued this round) and targets
//!    chosen by placement among live nodes not holding it; the copy is queued on the source and sent in
//!    its next heartbeat reply (ReplicateBlock), so work is throttled per node;
//! 3. blocks with more live replicas than wanted (a node came back) get the surplus queued for deletion.
//!
//! A copy that arrives is reported by its target like any write, which ends the under-replication.

use super::{AdminStates, BlockManager, ReplicationTask};
use crate::state::cluster::AdminState;
use crate::state::namespace::BlockMeta;
use basalt_common::placement;
use basalt_common::{BlockId, DatanodeId, GenStamp};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// What one round scheduled.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoundSummary {
    /// Blocks with fewer live replicas than wanted (after this round's scheduling, still pending).
    pub under_replicated: usize,
    /// Blocks with no live replica at all.
    pub missing: usize,
    /// Copies queued this round.
    pub scheduled: usize,
    /// Surplus replicas queued for deletion this round.
    pub trimmed: usize,
    /// Decommissioning nodes whose every block now has its replication factor elsewhere.
    pub drained: Vec<DatanodeId>,
}

/// What one garbage round queued for deletion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GarbageSummary {
    /// Replicas of blocks no file owns, past the grace period.
    pub orphans: usize,
    /// Replicas at an older generation stamp than their closed file's block.
    pub stale: usize,
}

/// How the namespace sees a reported block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockOwner {
    /// No file owns it.
    None,
    /// A file owns it at this generation stamp; `open` while the file is under construction.
    File { gen_stamp: GenStamp, open: bool },
}

/// A block short of its replication factor.
struct Under {
    block: BlockMeta,
    /// Copies to make.
    need: usize,
    /// Live holders (copy sources), decommissioning ones included.
    sources: Vec<DatanodeId>,
    /// How many of them count towards the factor (in service).
    counted: usize,
}

impl BlockManager {
    /// One replication round over every finished block (with the replication each wants). Replicas on
    /// decommissioning nodes (`admin`) do not count towards the factor but serve as copy sources; a
    /// decommissioning node is drained once none of its blocks lacks the factor elsewhere and it is in no
    /// pipeline of a block being written (`busy`).
    #[allow(clippy::too_many_arguments)]
    pub fn schedule_replication<'a>(
        &mut self,
        blocks: impl Iterator<Item = (&'a BlockMeta, u32)>,
        admin: &AdminStates,
        busy: &HashSet<DatanodeId>,
        now: Instant,
        per_node: usize,
        retry_after: Duration,
        rng: &mut fastrand::Rng,
    ) -> RoundSummary {
        let mut summary = RoundSummary::default();
        let mut under: Vec<Under> = Vec::new();
        let mut surplus: Vec<(BlockMeta, Vec<DatanodeId>, usize)> = Vec::new();
        let mut drain: HashMap<DatanodeId, usize> = admin
            .iter()
            .filter(|(_, s)| **s == AdminState::Decommissioning)
            .map(|(id, _)| (*id, 0))
            .collect();
        for (b, rf) in blocks {
            let holders: Vec<DatanodeId> = self.live_holders(b, now).map(|n| n.record.id).collect();
            let counted = holders.iter().filter(|h| !admin.contains_key(h)).count();
            let rf = rf as usize;
            if holders.is_empty() {
                summary.missing += 1;
            }
            if counted >= rf {
                if self.scheduled.remove(&b.id).is_some() {
                    self.copies_done += 1;
                }
                self.corrupt.remove(&b.id);
                if counted > rf {
                    let in_service = holders.into_iter().filter(|h| !admin.contains_key(h)).collect();
                    surplus.push((*b, in_service, counted - rf));
                }
                continue;
            }
            for h in &holders {
                if let Some(n) = drain.get_mut(h) {
                    *n += 1;
                }
            }
            if holders.is_empty() {
                continue;
            }
            summary.under_replicated += 1;
            let recent = self
                .scheduled
                .get(&b.id)
                .is_some_and(|t| now.duration_since(*t) < retry_after);
            if !recent {
                under.push(Under {
                    block: *b,
                    need: rf - counted,
                    sources: holders,
                    counted,
                });
            }
        }
        for (id, left) in &drain {
            // Only a live node whose full report arrived is known to hold nothing more than it reported.
            let known = self.nodes.get(id).is_some_and(|n| n.reported && self.is_live(n, now));
            if *left == 0 && known && !busy.contains(id) {
                summary.drained.push(*id);
            }
        }
        summary.drained.sort();
        self.drain_remaining = drain;
        under.sort_by_key(|u| u.counted);
        let candidates = self.live_candidates(admin, now);
        let mut queued: HashMap<DatanodeId, usize> = HashMap::new();
        for Under {
            block,
            need,
            mut sources,
            ..
        } in under
        {
            // Spread the copying over the holders; a retry after a failed copy likely picks another one.
            rng.shuffle(&mut sources);
            let Some(source) = sources
                .iter()
                .copied()
                .find(|h| queued.get(h).copied().unwrap_or(0) < per_node)
            else {
                continue;
            };
            let room = candidates
                .iter()
                .filter(|c| !sources.contains(&c.id) && c.remaining >= block.len)
                .count();
            let need = need.min(room);
            if need == 0 {
                continue;
            }
            let Ok(targets) = placement::choose_targets(&candidates, need, None, &sources, block.len, rng) else {
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
                summary.scheduled += 1;
            }
        }
        for (block, mut holders, extra) in surplus {
            // Trim from the fullest nodes.
            holders.sort_by_key(|h| self.nodes.get(h).map_or(u64::MAX, |n| n.stats.remaining));
            for h in holders.into_iter().take(extra) {
                self.drop_replica(block.id, h);
                summary.trimmed += 1;
            }
        }
        summary
    }

    /// Queues for deletion the replicas no file needs: blocks no file owns once they have been orphans
    /// for `grace` (a file's blocks may be reported before a new leader has applied the entry that
    /// created them), and replicas older than their closed file's block (left behind by a pipeline or
    /// lease recovery). Blocks of open files are left alone: their recovery may still re-stamp them.
    pub fn collect_garbage(
        &mut self,
        owner: impl Fn(BlockId) -> BlockOwner,
        now: Instant,
        grace: Duration,
    ) -> GarbageSummary {
        let mut summary = GarbageSummary::default();
        let mut drops = Vec::new();
        let mut seen = HashSet::new();
        for (block, holders) in &self.replicas {
            match owner(*block) {
                BlockOwner::None => {
                    seen.insert(*block);
                    let since = *self.orphans.entry(*block).or_insert(now);
                    if now.saturating_duration_since(since) >= grace {
                        drops.extend(holders.keys().map(|h| (*block, *h)));
                        summary.orphans += holders.len();
                    }
                }
                BlockOwner::File { gen_stamp, open: false } => {
                    // Stale replicas go only once a current one is live: never delete the last copy.
                    let current = holders
                        .iter()
                        .filter(|(h, r)| {
                            r.gen_stamp >= gen_stamp && self.nodes.get(h).is_some_and(|n| self.is_live(n, now))
                        })
                        .count();
                    for (h, r) in holders {
                        if r.gen_stamp < gen_stamp && current > 0 {
                            drops.push((*block, *h));
                            summary.stale += 1;
                        }
                    }
                }
                BlockOwner::File { open: true, .. } => {}
            }
        }
        self.orphans.retain(|b, _| seen.contains(b));
        for (block, node) in drops {
            self.drop_replica(block, node);
        }
        summary
    }

    /// Forgets `node`'s replica of `block` and queues it for deletion there.
    pub(super) fn drop_replica(&mut self, block: BlockId, node: DatanodeId) {
        let Some(r) = self.remove_holder(block, node) else {
            return;
        };
        if let Some(n) = self.nodes.get_mut(&node) {
            n.blocks.remove(&block);
            n.pending_deletes.push(BlockMeta {
                id: block,
                gen_stamp: r.gen_stamp,
                len: r.len,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::NodeStats;
    use crate::blocks::test_record as rec;

    fn blk(id: u64) -> BlockMeta {
        BlockMeta {
            id: BlockId(id),
            gen_stamp: GenStamp(1),
            len: 10,
        }
    }

    #[test]
    fn most_endangered_first_throttled_and_surplus_trimmed() {
        let t0 = Instant::now();
        let mut bm = BlockManager::new(Duration::from_secs(10));
        let stats = NodeStats {
            capacity: 100,
            used: 0,
            remaining: 100,
            active_transfers: 0,
        };
        for id in 1..=4 {
            bm.register(rec(id), stats, t0);
        }
        // Block 1 has one replica, block 2 has two, block 3 has four (RF 3 for all).
        bm.incremental(DatanodeId(1), &[blk(1), blk(2), blk(3)], &[]).unwrap();
        bm.incremental(DatanodeId(2), &[blk(2), blk(3)], &[]).unwrap();
        bm.incremental(DatanodeId(3), &[blk(3)], &[]).unwrap();
        bm.incremental(DatanodeId(4), &[blk(3)], &[]).unwrap();
        let blocks = [(blk(1), 3), (blk(2), 3), (blk(3), 3)];
        let mut rng = fastrand::Rng::with_seed(1);
        // One copy per source per round: node 1 is the only source of block 1, so it goes first.
        let s = bm.schedule_replication(
            blocks.iter().map(|(b, r)| (b, *r)),
            &AdminStates::new(),
            &HashSet::new(),
            t0,
            1,
            Duration::from_secs(30),
            &mut rng,
        );
        assert_eq!((s.under_replicated, s.scheduled, s.trimmed, s.missing), (2, 2, 1, 0));
        let work = bm.heartbeat(DatanodeId(1), stats, t0).unwrap();
        assert_eq!(work.replications.len(), 1);
        assert_eq!(work.replications[0].block.id, BlockId(1));
        assert_eq!(work.replications[0].targets.len(), 2, "two copies make three replicas");
        assert!(work.replications[0].targets.iter().all(|t| t.id != DatanodeId(1)));
        // Copies in flight are not scheduled again before the retry interval.
        let s = bm.schedule_replication(
            blocks.iter().map(|(b, r)| (b, *r)),
            &AdminStates::new(),
            &HashSet::new(),
            t0,
            1,
            Duration::from_secs(30),
            &mut rng,
        );
        assert_eq!(s.scheduled, 0);
        // A dead holder no longer counts.
        let later = t0 + Duration::from_secs(11);
        for id in 2..=4 {
            bm.heartbeat(DatanodeId(id), stats, later).unwrap();
        }
        let s = bm.schedule_replication(
            blocks.iter().map(|(b, r)| (b, *r)),
            &AdminStates::new(),
            &HashSet::new(),
            later,
            1,
            Duration::from_secs(30),
            &mut rng,
        );
        assert_eq!(s.missing, 1, "block 1 lived only on the dead node 1");
    }

    fn stats() -> NodeStats {
        NodeStats {
            capacity: 100,
            used: 0,
            remaining: 100,
            active_transfers: 0,
        }
    }

    #[test]
    fn decommissioning_replicas_do_not_count_and_drain() {
        let t0 = Instant::now();
        let mut bm = BlockManager::new(Duration::from_secs(10));
        for id in 1..=4 {
            bm.register(rec(id), stats(), t0);
        }
        for id in 1..=3 {
            bm.full_report(DatanodeId(id), &[blk(1)]).unwrap();
        }
        let draining: AdminStates = [(DatanodeId(3), AdminState::Decommissioning)].into_iter().collect();
        assert!(
            bm.live_candidates(&draining, t0).iter().all(|c| c.id != DatanodeId(3)),
            "no new replicas on a draining node"
        );
        let mut rng = fastrand::Rng::with_seed(2);
        let blocks = [(blk(1), 3)];
        let s = bm.schedule_replication(
            blocks.iter().map(|(b, r)| (b, *r)),
            &draining,
            &HashSet::new(),
            t0,
            4,
            Duration::from_secs(30),
            &mut rng,
        );
        assert_eq!((s.under_replicated, s.scheduled), (1, 1));
        assert!(s.drained.is_empty());
        assert_eq!(bm.blocks_to_drain(DatanodeId(3)), Some(1));
        // The copy lands on node 4: node 3 is drained, and its replica is not trimmed as surplus.
        bm.incremental(DatanodeId(4), &[blk(1)], &[]).unwrap();
        let s = bm.schedule_replication(
            blocks.iter().map(|(b, r)| (b, *r)),
            &draining,
            &HashSet::new(),
            t0,
            4,
            Duration::from_secs(30),
            &mut rng,
        );
        assert_eq!((s.under_replicated, s.trimmed), (0, 0));
        assert_eq!(s.drained, vec![DatanodeId(3)]);
        assert_eq!(bm.healing_counts().1, 1, "one block healed by a copy");
    }

    #[test]
    fn orphans_after_grace_and_stale_replicas_of_closed_files() {
        let t0 = Instant::now();
        let grace = Duration::from_secs(60);
        let mut bm = BlockManager::new(Duration::from_secs(10));
        for id in 1..=2 {
            bm.register(rec(id), stats(), t0);
        }
        let stamped = |id, gs| BlockMeta {
            gen_stamp: GenStamp(gs),
            ..blk(id)
        };
        bm.incremental(DatanodeId(1), &[stamped(1, 5), stamped(2, 5), stamped(3, 1)], &[])
            .unwrap();
        bm.incremental(DatanodeId(2), &[stamped(1, 4), stamped(2, 4)], &[])
            .unwrap();
        // Block 1: closed file at stamp 5; block 2: open file at stamp 5; block 3: no owner.
        let owner = |b: BlockId| match b.0 {
            1 => BlockOwner::File {
                gen_stamp: GenStamp(5),
                open: false,
            },
            2 => BlockOwner::File {
                gen_stamp: GenStamp(5),
                open: true,
            },
            _ => BlockOwner::None,
        };
        let g = bm.collect_garbage(owner, t0, grace);
        assert_eq!(g, GarbageSummary { orphans: 0, stale: 1 });
        let g = bm.collect_garbage(owner, t0 + grace, grace);
        assert_eq!(g, GarbageSummary { orphans: 1, stale: 0 });
        let deletes = |bm: &mut BlockManager, id| bm.heartbeat(DatanodeId(id), stats(), t0).unwrap().deletes;
        assert_eq!(deletes(&mut bm, 1), vec![stamped(3, 1)]);
        assert_eq!(
            deletes(&mut bm, 2),
            vec![stamped(1, 4)],
            "the open file's old replica is kept"
        );
    }

    #[test]
    fn corrupt_replicas_are_tracked_until_replaced() {
        let t0 = Instant::now();
        let mut bm = BlockManager::new(Duration::from_secs(10));
        for id in 1..=3 {
            bm.register(rec(id), stats(), t0);
            bm.incremental(DatanodeId(id), &[blk(1)], &[]).unwrap();
        }
        bm.report_corrupt(DatanodeId(2), &[blk(1)]).unwrap();
        assert_eq!(bm.corrupt_replicas(BlockId(1)), 1);
        assert_eq!(bm.locations(&blk(1), t0).len(), 2);
        let mut rng = fastrand::Rng::with_seed(3);
        let blocks = [(blk(1), 3)];
        bm.schedule_replication(
            blocks.iter().map(|(b, r)| (b, *r)),
            &AdminStates::new(),
            &HashSet::new(),
            t0,
            4,
            Duration::from_secs(30),
            &mut rng,
        );
        assert_eq!(
            bm.corrupt_replicas(BlockId(1)),
            1,
            "still corrupt until a good copy lands"
        );
        bm.incremental(DatanodeId(2), &[blk(1)], &[]).unwrap();
        bm.schedule_replication(
            blocks.iter().map(|(b, r)| (b, *r)),
            &AdminStates::new(),
            &HashSet::new(),
            t0,
            4,
            Duration::from_secs(30),
            &mut rng,
        );
        assert_eq!(bm.corrupt_replicas(BlockId(1)), 0);
    }
}
