//! Garbage: replicas no file needs, found by a walk over the block map a slice at a time (the monitor
//! looks up each slice's owners in the namespace, then hands them to [`BlockManager::collect_garbage`]).
//!
//! - Orphans: blocks no file owns (a deleted file's replicas reported to a member that was not leader
//!   then, made-up or stale reports), deleted once they have been orphans for the grace period.
//! - Stale replicas: older generation stamps than their closed file's block, deleted once a current
//!   replica is live.

use super::BlockManager;
use crate::state::namespace::BlockMeta;
use basalt_common::{BlockId, DatanodeId, GenStamp};
use std::time::{Duration, Instant};

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
    /// A file owns it at this generation stamp; `open` while it is the block being written.
    File { gen_stamp: GenStamp, open: bool },
}

impl BlockManager {
    /// Up to `n` reported blocks from position `from` of the block map, and the position after them
    /// (`None` at the end): a walk of every reported block, a slice at a time.
    pub fn replica_slice(&self, from: usize, n: usize) -> (Vec<BlockId>, Option<usize>) {
        let end = from.saturating_add(n).min(self.replicas.len());
        let ids = (from.min(end)..end)
            .filter_map(|i| self.replicas.get_index(i).map(|(b, _)| *b))
            .collect();
        (ids, (end < self.replicas.len()).then_some(end))
    }

    /// Queues for deletion the replicas no file needs, among the `owners`' blocks (a slice of the block
    /// map with each block's owner in the namespace): blocks no file owns once they have been orphans
    /// for `grace` (a file's blocks may be reported before a new leader has applied the entry that
    /// created them), and replicas older than their closed file's block (left behind by a pipeline or
    /// lease recovery). Blocks being written are left alone: their recovery may still re-stamp them.
    pub fn collect_garbage(
        &mut self,
        owners: impl IntoIterator<Item = (BlockId, BlockOwner)>,
        now: Instant,
        grace: Duration,
    ) -> GarbageSummary {
        let mut summary = GarbageSummary::default();
        let mut drops = Vec::new();
        for (block, owner) in owners {
            let Some(holders) = self.replicas.get(&block) else {
                continue; // gone since the slice was taken
            };
            match owner {
                BlockOwner::None => {
                    let since = *self.orphans.entry(block).or_insert(now);
                    if now.saturating_duration_since(since) >= grace {
                        drops.extend(holders.keys().map(|h| (block, *h)));
                        summary.orphans += holders.len();
                    }
                }
                BlockOwner::File { gen_stamp, open: false } => {
                    self.orphans.remove(&block);
                    // Stale replicas go only once a current one is live: never delete the last copy.
                    let current = holders
                        .iter()
                        .filter(|(h, r)| {
                            r.gen_stamp >= gen_stamp && self.nodes.get(h).is_some_and(|n| self.is_live(n, now))
                        })
                        .count();
                    for (h, r) in holders {
                        if r.gen_stamp < gen_stamp && current > 0 {
                            drops.push((block, *h));
                            summary.stale += 1;
                        }
                    }
                }
                BlockOwner::File { open: true, .. } => {
                    self.orphans.remove(&block);
                }
            }
        }
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

    fn stamped(id: u64, gs: u64) -> BlockMeta {
        BlockMeta {
            id: BlockId(id),
            gen_stamp: GenStamp(gs),
            len: 10,
        }
    }

    #[test]
    fn orphans_after_grace_and_stale_replicas_of_closed_files() {
        let t0 = Instant::now();
        let grace = Duration::from_secs(60);
        let mut bm = BlockManager::new(Duration::from_secs(10));
        for id in 1..=2 {
            bm.register(rec(id), NodeStats::default(), t0);
        }
        bm.incremental(DatanodeId(1), &[stamped(1, 5), stamped(2, 5), stamped(3, 1)], &[])
            .unwrap();
        bm.incremental(DatanodeId(2), &[stamped(1, 4), stamped(2, 4)], &[])
            .unwrap();
        // Block 1: closed file at stamp 5; block 2: being written at stamp 5; block 3: no owner.
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
        // The walk, in slices of two.
        let sweep = |bm: &mut BlockManager, now| {
            let (mut total, mut from) = (GarbageSummary::default(), Some(0));
            while let Some(f) = from {
                let (ids, next) = bm.replica_slice(f, 2);
                let g = bm.collect_garbage(ids.into_iter().map(|b| (b, owner(b))), now, grace);
                total.orphans += g.orphans;
                total.stale += g.stale;
                from = next;
            }
            total
        };
        assert_eq!(sweep(&mut bm, t0), GarbageSummary { orphans: 0, stale: 1 });
        assert_eq!(sweep(&mut bm, t0 + grace), GarbageSummary { orphans: 1, stale: 0 });
        assert!(bm.orphans.is_empty(), "a dropped orphan is forgotten");
        let deletes =
            |bm: &mut BlockManager, id| bm.heartbeat(DatanodeId(id), NodeStats::default(), t0).unwrap().deletes;
        assert_eq!(deletes(&mut bm, 1), vec![stamped(3, 1)]);
        assert_eq!(
            deletes(&mut bm, 2),
            vec![stamped(1, 4)],
            "the old replica of the block being written is kept"
        );
    }

    #[test]
    fn an_orphan_that_finds_its_file_is_forgiven() {
        let t0 = Instant::now();
        let grace = Duration::from_secs(60);
        let mut bm = BlockManager::new(Duration::from_secs(10));
        bm.register(rec(1), NodeStats::default(), t0);
        bm.incremental(DatanodeId(1), &[stamped(7, 1)], &[]).unwrap();
        bm.collect_garbage([(BlockId(7), BlockOwner::None)], t0, grace);
        let owned = BlockOwner::File {
            gen_stamp: GenStamp(1),
            open: false,
        };
        bm.collect_garbage([(BlockId(7), owned)], t0 + grace / 2, grace);
        // Unowned again later: the grace starts over.
        let g = bm.collect_garbage([(BlockId(7), BlockOwner::None)], t0 + grace, grace);
        assert_eq!(g.orphans, 0);
        assert_eq!(bm.replica_slice(0, 10), (vec![BlockId(7)], None));
        assert_eq!(bm.replica_slice(1, 10), (vec![], None));
    }
}
