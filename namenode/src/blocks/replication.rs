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

use super::{BlockManager, ReplicationTask};
use crate::namespace::BlockMeta;
use basalt_common::placement::{self, Candidate};
use basalt_common::{BlockId, DatanodeId};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What one round scheduled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoundSummary {
    /// Blocks with fewer live replicas than wanted (after this round's scheduling, still pending).
    pub under_replicated: usize,
    /// Blocks with no live replica at all.
    pub missing: usize,
    /// Copies queued this round.
    pub scheduled: usize,
    /// Surplus replicas queued for deletion this round.
    pub trimmed: usize,
}

impl BlockManager {
    pub fn schedule_replication<'a>(
        &mut self,
        blocks: impl Iterator<Item = (&'a BlockMeta, u32)>,
        now: Instant,
        per_node: usize,
        retry_after: Duration,
        rng: &mut fastrand::Rng,
    ) -> RoundSummary {
        let mut summary = RoundSummary::default();
        let mut under: Vec<(usize, BlockMeta, usize, Vec<DatanodeId>)> = Vec::new();
        let mut surplus: Vec<(BlockMeta, Vec<DatanodeId>, usize)> = Vec::new();
        for (b, rf) in blocks {
            let holders: Vec<DatanodeId> = self.locations(b, now).iter().map(|r| r.id).collect();
            let rf = rf as usize;
            match holders.len() {
                0 => summary.missing += 1,
                n if n < rf => {
                    summary.under_replicated += 1;
                    let recent = self
                        .scheduled
                        .get(&b.id)
                        .is_some_and(|t| now.duration_since(*t) < retry_after);
                    if !recent {
                        under.push((n, *b, rf - n, holders));
                    }
                }
                n if n > rf => surplus.push((*b, holders, n - rf)),
                _ => {}
            }
        }
        under.sort_by_key(|(live, ..)| *live);
        let candidates = self.live_candidates(now);
        let mut queued: HashMap<DatanodeId, usize> = HashMap::new();
        for (_, block, need, holders) in under {
            let Some(source) = holders
                .iter()
                .copied()
                .find(|h| queued.get(h).copied().unwrap_or(0) < per_node)
            else {
                continue;
            };
            let pool: Vec<Candidate> = candidates
                .iter()
                .filter(|c| !holders.contains(&c.id) && c.remaining >= block.len)
                .cloned()
                .collect();
            let need = need.min(pool.len());
            if need == 0 {
                continue;
            }
            let Ok(targets) = placement::choose_targets(&pool, need, None, &[], block.len, rng) else {
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

    /// Forgets `node`'s replica of `block` and queues it for deletion there.
    fn drop_replica(&mut self, block: BlockId, node: DatanodeId) {
        let Some(holders) = self.replicas.get_mut(&block) else {
            return;
        };
        let Some(r) = holders.remove(&node) else { return };
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
    use basalt_common::GenStamp;

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
            later,
            1,
            Duration::from_secs(30),
            &mut rng,
        );
        assert_eq!(s.missing, 1, "block 1 lived only on the dead node 1");
    }
}
