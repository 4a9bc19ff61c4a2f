//! Soft state of the block layer: which datanodes are alive and which replicas each holds. Rebuilt from
//! registrations, heartbeats and block reports after every start (and, on a new leader, after a
//! failover); never persisted. Pure: every call takes `now`, so liveness is testable without waiting.
//!
//! Every call does bounded work, so the caller can hold the lock around it briefly: a full block report
//! is applied in chunks ([`BlockManager::begin_full_report`]), the monitor's sweep in slices
//! ([`sweep`]: re-replication, surplus trimming, decommission draining), and the block map is walked
//! by position for garbage (`garbage`: orphan and stale replicas, [`BlockManager::replica_slice`]).

mod garbage;
mod safe_mode;
pub mod sweep;

pub use garbage::{BlockOwner, GarbageSummary};
pub use safe_mode::{SafeMode, SafeModeStatus};
pub use sweep::{RoundSummary, Sweep, SweepMode, Under};

use crate::state::cluster::{AdminState, DatanodeRecord};
use crate::state::namespace::BlockMeta;
use basalt_common::placement::Candidate;
use basalt_common::{BlockId, DatanodeId, GenStamp};
use indexmap::IndexMap;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Datanodes not in service, from the replicated namespace (absent: in service).
pub type AdminStates = BTreeMap<DatanodeId, AdminState>;
use std::time::{Duration, Instant};

/// Load figures a datanode sends with each heartbeat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    pub capacity: u64,
    pub used: u64,
    pub remaining: u64,
    pub active_transfers: u32,
}

/// What the namenode knows of one datanode.
#[derive(Clone, Debug)]
pub struct DatanodeState {
    pub record: DatanodeRecord,
    pub stats: NodeStats,
    pub last_heartbeat: Instant,
    pub blocks: HashSet<BlockId>,
    /// A full block report arrived since the node (re-)registered: `blocks` is complete.
    pub reported: bool,
    /// Replicas this node should delete, sent with the next heartbeat replies.
    pub pending_deletes: Vec<BlockMeta>,
    /// Counts the node's full reports, so a newer one supersedes one still being applied.
    report_epoch: u64,
    /// Copies this node should make (it holds a live replica), sent with the next heartbeat reply.
    pub pending_replications: Vec<ReplicationTask>,
    /// Where its CQL native protocol server listens ("" when none), as it registered: soft state.
    pub cql_addr: String,
    /// Where its HTTP server listens ("" when none), as it registered: soft state.
    pub http_addr: String,
}

/// Copy `block` from the node it is queued on to `targets` (a pipeline, in order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicationTask {
    pub block: BlockMeta,
    pub targets: Vec<DatanodeRecord>,
}

/// Work handed to a datanode in a heartbeat reply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeWork {
    pub deletes: Vec<BlockMeta>,
    pub replications: Vec<ReplicationTask>,
}

/// A replica as reported by a datanode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Replica {
    gen_stamp: GenStamp,
    len: u64,
}

/// The replicas of one block, by holder: a handful (its replication factor), so a boxed slice scanned
/// in order beats a map in both memory (a 16-byte slot in [`BlockManager`]'s table plus 24 bytes a
/// replica) and speed; the block map is the namenode's largest structure after the inodes.
#[derive(Clone, Debug, Default)]
struct Holders(Box<[(DatanodeId, Replica)]>);

type HolderRef<'a> = (&'a DatanodeId, &'a Replica);

impl Holders {
    fn get(&self, id: &DatanodeId) -> Option<&Replica> {
        self.0.iter().find(|(h, _)| h == id).map(|(_, r)| r)
    }

    /// Records `id`'s replica, returning the one it replaces.
    fn insert(&mut self, id: DatanodeId, r: Replica) -> Option<Replica> {
        if let Some((_, old)) = self.0.iter_mut().find(|(h, _)| *h == id) {
            return Some(std::mem::replace(old, r));
        }
        let mut v = std::mem::take(&mut self.0).into_vec();
        v.push((id, r));
        self.0 = v.into_boxed_slice();
        None
    }

    fn remove(&mut self, id: &DatanodeId) -> Option<Replica> {
        let at = self.0.iter().position(|(h, _)| h == id)?;
        let mut v = std::mem::take(&mut self.0).into_vec();
        let (_, r) = v.remove(at);
        self.0 = v.into_boxed_slice();
        Some(r)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn keys(&self) -> impl Iterator<Item = &DatanodeId> {
        self.0.iter().map(|(h, _)| h)
    }

    fn iter(&self) -> impl Iterator<Item = HolderRef<'_>> {
        self.0.iter().map(|(h, r)| (h, r))
    }
}

impl<'a> IntoIterator for &'a Holders {
    type Item = HolderRef<'a>;
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (DatanodeId, Replica)>, fn(&'a (DatanodeId, Replica)) -> HolderRef<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(h, r)| (h, r))
    }
}

/// Most replicas a heartbeat reply asks a datanode to delete; the rest wait for the next heartbeats (a
/// big orphan sweep must not make one reply too large to send).
pub const DELETES_PER_HEARTBEAT: usize = 10_000;

/// A full block report being applied in chunks ([`BlockManager::begin_full_report`]).
#[derive(Debug)]
pub struct FullReport {
    node: DatanodeId,
    /// Which report of the node this is: a newer one supersedes it.
    epoch: u64,
}

/// The datanode is not registered here: it must register and send a full block report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("datanode {0} is not registered")]
pub struct UnknownDatanode(pub DatanodeId);

pub struct BlockManager {
    nodes: HashMap<DatanodeId, DatanodeState>,
    /// Every reported block and its holders. Removal is `swap_remove` (O(1)): a walk by position may
    /// miss a block moved behind it, which the next walk sees.
    replicas: IndexMap<BlockId, Holders>,
    dead_after: Duration,
    /// When a copy of each block was last scheduled (copies in flight are not scheduled again); an entry
    /// stays until the block is back at its replication factor.
    scheduled: HashMap<BlockId, Instant>,
    /// Blocks brought back to their replication factor by scheduled copies (since this manager started).
    copies_done: u64,
    /// Replicas reported corrupt (moved aside by their datanode), until the block is whole again.
    corrupt: HashMap<BlockId, HashSet<DatanodeId>>,
    /// Decommissioning nodes: how many of their blocks still lack their replication factor elsewhere.
    drain_remaining: HashMap<DatanodeId, usize>,
    /// Blocks no file owns, since when (deleted after a grace period).
    orphans: HashMap<BlockId, Instant>,
}

impl BlockManager {
    pub fn new(dead_after: Duration) -> Self {
        BlockManager {
            nodes: HashMap::new(),
            replicas: IndexMap::new(),
            dead_after,
            scheduled: HashMap::new(),
            copies_done: 0,
            corrupt: HashMap::new(),
            drain_remaining: HashMap::new(),
            orphans: HashMap::new(),
        }
    }

    /// While `id` is decommissioning: how many of its blocks are not yet at RF elsewhere (as of the last
    /// replication round).
    pub fn blocks_to_drain(&self, id: DatanodeId) -> Option<usize> {
        self.drain_remaining.get(&id).copied()
    }

    /// Records replicas a datanode found corrupt (and moved aside): they are no longer held there.
    pub fn report_corrupt(&mut self, id: DatanodeId, blocks: &[BlockMeta]) -> Result<(), UnknownDatanode> {
        self.incremental(id, &[], blocks)?;
        for b in blocks {
            self.corrupt.entry(b.id).or_default().insert(id);
        }
        Ok(())
    }

    /// Datanodes that reported a corrupt replica of `block` not yet replaced.
    pub fn corrupt_replicas(&self, block: BlockId) -> usize {
        self.corrupt.get(&block).map_or(0, HashSet::len)
    }

    /// (copies in flight, blocks healed by copies so far, blocks with corrupt replicas).
    pub fn healing_counts(&self) -> (usize, u64, usize) {
        (self.scheduled.len(), self.copies_done, self.corrupt.len())
    }

    /// (block copies, replica deletions) queued for the datanodes' next heartbeat replies.
    pub fn queue_lengths(&self) -> (usize, usize) {
        self.nodes.values().fold((0, 0), |(r, d), n| {
            (r + n.pending_replications.len(), d + n.pending_deletes.len())
        })
    }

    /// Records where a registered datanode serves CQL and HTTP ("" for none).
    pub fn set_service_addrs(&mut self, id: DatanodeId, cql: String, http: String) {
        if let Some(n) = self.nodes.get_mut(&id) {
            n.cql_addr = cql;
            n.http_addr = http;
        }
    }

    /// Registers (or re-registers) a datanode. A re-registration keeps what it reported before until
    /// its next full report replaces it.
    pub fn register(&mut self, record: DatanodeRecord, stats: NodeStats, now: Instant) {
        let id = record.id;
        match self.nodes.get_mut(&id) {
            Some(n) => {
                n.record = record;
                n.stats = stats;
                n.last_heartbeat = now;
                n.reported = false;
            }
            None => {
                self.nodes.insert(
                    id,
                    DatanodeState {
                        record,
                        stats,
                        last_heartbeat: now,
                        blocks: HashSet::new(),
                        reported: false,
                        pending_deletes: Vec::new(),
                        pending_replications: Vec::new(),
                        report_epoch: 0,
                        cql_addr: String::new(),
                        http_addr: String::new(),
                    },
                );
            }
        }
    }

    /// Records a heartbeat and returns the work queued for the node (at most
    /// [`DELETES_PER_HEARTBEAT`] deletions).
    pub fn heartbeat(&mut self, id: DatanodeId, stats: NodeStats, now: Instant) -> Result<NodeWork, UnknownDatanode> {
        let node = self.nodes.get_mut(&id).ok_or(UnknownDatanode(id))?;
        node.stats = stats;
        node.last_heartbeat = now;
        let keep = node.pending_deletes.len().saturating_sub(DELETES_PER_HEARTBEAT);
        Ok(NodeWork {
            deletes: node.pending_deletes.split_off(keep),
            replications: std::mem::take(&mut node.pending_replications),
        })
    }

    /// Replaces everything known about the node's replicas with a full report, at once (see
    /// [`BlockManager::begin_full_report`] for a big report).
    pub fn full_report(&mut self, id: DatanodeId, blocks: &[BlockMeta]) -> Result<(), UnknownDatanode> {
        let reported: HashSet<BlockId> = blocks.iter().map(|b| b.id).collect();
        let (report, before) = self.begin_full_report(id)?;
        self.add_report_chunk(&report, blocks);
        let gone: Vec<BlockId> = before.into_iter().filter(|b| !reported.contains(b)).collect();
        self.forget_replicas(&report, &gone);
        self.end_full_report(&report);
        Ok(())
    }

    /// Starts replacing what is known of the node's replicas with a full report applied in chunks,
    /// the caller releasing the lock in between: [`add_report_chunk`](Self::add_report_chunk) for the
    /// reported replicas, [`forget_replicas`](Self::forget_replicas) for those held before (returned
    /// here) and not reported now, then [`end_full_report`](Self::end_full_report). Meanwhile the
    /// node's replicas are partly old, partly new. A newer report of the node supersedes this one: its
    /// later chunks are ignored.
    pub fn begin_full_report(&mut self, id: DatanodeId) -> Result<(FullReport, HashSet<BlockId>), UnknownDatanode> {
        let node = self.nodes.get_mut(&id).ok_or(UnknownDatanode(id))?;
        node.report_epoch += 1;
        let report = FullReport {
            node: id,
            epoch: node.report_epoch,
        };
        Ok((report, std::mem::take(&mut node.blocks)))
    }

    /// Whether `report` is still the node's latest.
    fn current(&self, report: &FullReport) -> bool {
        self.nodes
            .get(&report.node)
            .is_some_and(|n| n.report_epoch == report.epoch)
    }

    /// Adds one chunk of a full report's replicas; `false` if a newer report superseded it.
    pub fn add_report_chunk(&mut self, report: &FullReport, blocks: &[BlockMeta]) -> bool {
        self.current(report) && self.incremental(report.node, blocks, &[]).is_ok()
    }

    /// Forgets the node's replicas of `blocks`, which it held before the report but did not report
    /// (unless reported meanwhile); `false` if a newer report superseded this one.
    pub fn forget_replicas(&mut self, report: &FullReport, blocks: &[BlockId]) -> bool {
        if !self.current(report) {
            return false;
        }
        for b in blocks {
            if !self.nodes.get(&report.node).is_some_and(|n| n.blocks.contains(b)) {
                self.remove_holder(*b, report.node);
            }
        }
        true
    }

    /// Ends a full report: the node's replicas are all known.
    pub fn end_full_report(&mut self, report: &FullReport) {
        if self.current(report)
            && let Some(n) = self.nodes.get_mut(&report.node)
        {
            n.reported = true;
        }
    }

    /// Forgets `node`'s replica of `block` (not its entry in the node's block set), and the block
    /// when it was the last; returns the replica.
    fn remove_holder(&mut self, block: BlockId, node: DatanodeId) -> Option<Replica> {
        let holders = self.replicas.get_mut(&block)?;
        let r = holders.remove(&node);
        if holders.is_empty() {
            self.replicas.swap_remove(&block);
            self.orphans.remove(&block);
        }
        r
    }

    /// Applies replicas received and deleted since the last report.
    pub fn incremental(
        &mut self,
        id: DatanodeId,
        received: &[BlockMeta],
        deleted: &[BlockMeta],
    ) -> Result<(), UnknownDatanode> {
        let node = self.nodes.get_mut(&id).ok_or(UnknownDatanode(id))?;
        for b in received {
            node.blocks.insert(b.id);
            self.replicas.entry(b.id).or_default().insert(
                id,
                Replica {
                    gen_stamp: b.gen_stamp,
                    len: b.len,
                },
            );
        }
        for b in deleted {
            // A deletion of an older stamp than recorded (the node re-stamped its replica, and the two
            // reports came in one batch) leaves the newer replica in place.
            let newer = self
                .replicas
                .get(&b.id)
                .and_then(|h| h.get(&id))
                .is_some_and(|r| r.gen_stamp > b.gen_stamp);
            if newer {
                continue;
            }
            if let Some(n) = self.nodes.get_mut(&id) {
                n.blocks.remove(&b.id);
            }
            self.remove_holder(b.id, id);
        }
        Ok(())
    }

    pub fn is_live(&self, node: &DatanodeState, now: Instant) -> bool {
        now.saturating_duration_since(node.last_heartbeat) < self.dead_after
    }

    /// Live datanodes in service (per the replicated `admin` states) as placement candidates.
    pub fn live_candidates(&self, admin: &AdminStates, now: Instant) -> Vec<Candidate> {
        self.nodes
            .values()
            .filter(|n| self.is_live(n, now) && !admin.contains_key(&n.record.id))
            .map(|n| Candidate {
                id: n.record.id,
                host: n.record.host.clone(),
                rack: n.record.rack.clone(),
                remaining: n.stats.remaining,
            })
            .collect()
    }

    pub fn node(&self, id: DatanodeId) -> Option<&DatanodeState> {
        self.nodes.get(&id)
    }

    /// Live datanodes holding a replica of `block` at its generation stamp or newer.
    pub fn live_holders<'a>(&'a self, block: &BlockMeta, now: Instant) -> impl Iterator<Item = &'a DatanodeState> + 'a {
        let gen_stamp = block.gen_stamp;
        self.replicas
            .get(&block.id)
            .into_iter()
            .flatten()
            .filter(move |(_, r)| r.gen_stamp >= gen_stamp)
            .filter_map(|(id, _)| self.nodes.get(id))
            .filter(move |n| self.is_live(n, now))
    }

    /// [`live_holders`](Self::live_holders)' records.
    pub fn locations(&self, block: &BlockMeta, now: Instant) -> Vec<&DatanodeRecord> {
        self.live_holders(block, now).map(|n| &n.record).collect()
    }

    /// Every node that reported a replica of `block` (any generation stamp, live or not).
    pub fn holders(&self, block: BlockId) -> Vec<DatanodeId> {
        self.replicas
            .get(&block)
            .map(|h| h.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Forgets `blocks` (their file was deleted or overwritten) and queues their replicas for deletion.
    pub fn invalidate(&mut self, blocks: &[BlockMeta]) {
        for b in blocks {
            self.corrupt.remove(&b.id);
            self.scheduled.remove(&b.id);
            for node in self.holders(b.id) {
                self.drop_replica(b.id, node);
            }
        }
    }

    /// Every known datanode with its liveness, in id order.
    pub fn nodes(&self, now: Instant) -> Vec<(&DatanodeState, bool)> {
        let mut v: Vec<_> = self.nodes.values().map(|n| (n, self.is_live(n, now))).collect();
        v.sort_by_key(|(n, _)| n.record.id);
        v
    }
}

/// A datanode record for tests: id, loopback address from the id, one host per node.
#[cfg(test)]
pub(crate) fn test_record(id: u64) -> DatanodeRecord {
    DatanodeRecord {
        id: DatanodeId(id),
        addr: format!("127.0.0.1:{}", 5000 + id),
        host: format!("h{id}"),
        host_id: format!("m{id}"),
        rack: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_record as rec;

    fn blk(id: u64, gen_stamp: u64) -> BlockMeta {
        BlockMeta {
            id: BlockId(id),
            gen_stamp: GenStamp(gen_stamp),
            len: 10,
        }
    }

    #[test]
    fn holders_behave_as_a_small_map() {
        let r = |g| Replica {
            gen_stamp: GenStamp(g),
            len: 1,
        };
        let mut h = Holders::default();
        assert!(h.is_empty());
        assert_eq!(h.insert(DatanodeId(1), r(5)), None);
        assert_eq!(h.insert(DatanodeId(2), r(6)), None);
        assert_eq!(h.insert(DatanodeId(1), r(7)), Some(r(5)), "replaced, not added");
        assert_eq!(h.len(), 2);
        assert_eq!(h.get(&DatanodeId(1)), Some(&r(7)));
        assert_eq!(h.keys().copied().collect::<Vec<_>>(), [DatanodeId(1), DatanodeId(2)]);
        assert_eq!(h.remove(&DatanodeId(1)), Some(r(7)));
        assert_eq!(h.remove(&DatanodeId(1)), None);
        assert_eq!((&h).into_iter().count(), 1);
        assert_eq!(h.iter().next(), Some((&DatanodeId(2), &r(6))));
    }

    #[test]
    fn liveness_follows_heartbeats() {
        let t0 = Instant::now();
        let mut bm = BlockManager::new(Duration::from_secs(10));
        bm.register(rec(1), NodeStats::default(), t0);
        assert_eq!(
            bm.live_candidates(&AdminStates::new(), t0 + Duration::from_secs(5))
                .len(),
            1
        );
        assert!(
            bm.live_candidates(&AdminStates::new(), t0 + Duration::from_secs(11))
                .is_empty()
        );
        bm.heartbeat(DatanodeId(1), NodeStats::default(), t0 + Duration::from_secs(11))
            .unwrap();
        assert_eq!(
            bm.live_candidates(&AdminStates::new(), t0 + Duration::from_secs(12))
                .len(),
            1
        );
        assert_eq!(
            bm.heartbeat(DatanodeId(9), NodeStats::default(), t0),
            Err(UnknownDatanode(DatanodeId(9)))
        );
    }

    #[test]
    fn reports_and_locations() {
        let t0 = Instant::now();
        let mut bm = BlockManager::new(Duration::from_secs(10));
        bm.register(rec(1), NodeStats::default(), t0);
        bm.register(rec(2), NodeStats::default(), t0);
        bm.full_report(DatanodeId(1), &[blk(100, 5), blk(101, 5)]).unwrap();
        bm.incremental(DatanodeId(2), &[blk(100, 4)], &[]).unwrap();
        // The replica on node 2 has a stale generation stamp.
        assert_eq!(bm.locations(&blk(100, 5), t0).len(), 1);
        // A new full report replaces the old one.
        bm.full_report(DatanodeId(1), &[blk(101, 5)]).unwrap();
        assert!(bm.locations(&blk(100, 5), t0).is_empty());
        // Invalidation queues deletes for the next heartbeat.
        bm.invalidate(&[blk(101, 5)]);
        let work = bm.heartbeat(DatanodeId(1), NodeStats::default(), t0).unwrap();
        assert_eq!(work.deletes, vec![blk(101, 5)]);
        assert_eq!(
            bm.heartbeat(DatanodeId(1), NodeStats::default(), t0).unwrap(),
            NodeWork::default()
        );
    }

    #[test]
    fn a_full_report_in_chunks_replaces_the_old_one_and_a_newer_report_wins() {
        let t0 = Instant::now();
        let mut bm = BlockManager::new(Duration::from_secs(10));
        bm.register(rec(1), NodeStats::default(), t0);
        bm.full_report(DatanodeId(1), &[blk(1, 1), blk(2, 1), blk(3, 1)])
            .unwrap();
        // The new report: 2 and 3 (3 restamped), 4 and 5 new; 1 is gone.
        let new = [blk(2, 1), blk(3, 2), blk(4, 1), blk(5, 1)];
        let (report, before) = bm.begin_full_report(DatanodeId(1)).unwrap();
        for chunk in new.chunks(3) {
            assert!(bm.add_report_chunk(&report, chunk));
        }
        let gone: Vec<BlockId> = before.into_iter().filter(|b| !new.iter().any(|n| n.id == *b)).collect();
        assert_eq!(gone, vec![BlockId(1)]);
        assert!(bm.forget_replicas(&report, &gone));
        bm.end_full_report(&report);
        assert!(bm.node(DatanodeId(1)).unwrap().reported);
        assert!(bm.holders(BlockId(1)).is_empty());
        assert_eq!(bm.locations(&blk(3, 2), t0).len(), 1);
        assert_eq!(bm.node(DatanodeId(1)).unwrap().blocks.len(), 4);
        assert_eq!(bm.replicas.len(), 4);

        // A report superseded half-way stops there; the newer one is applied whole.
        let (old, _) = bm.begin_full_report(DatanodeId(1)).unwrap();
        let (newer, _) = bm.begin_full_report(DatanodeId(1)).unwrap();
        assert!(!bm.add_report_chunk(&old, &[blk(9, 1)]));
        assert!(bm.add_report_chunk(&newer, &[blk(2, 1)]));
        bm.end_full_report(&old);
        assert!(bm.holders(BlockId(9)).is_empty());
    }

    #[test]
    fn heartbeats_hand_out_deletions_in_bounded_batches() {
        let t0 = Instant::now();
        let mut bm = BlockManager::new(Duration::from_secs(10));
        bm.register(rec(1), NodeStats::default(), t0);
        let blocks: Vec<BlockMeta> = (0..DELETES_PER_HEARTBEAT as u64 + 5).map(|i| blk(i, 1)).collect();
        bm.full_report(DatanodeId(1), &blocks).unwrap();
        bm.invalidate(&blocks);
        let hb = |bm: &mut BlockManager| {
            bm.heartbeat(DatanodeId(1), NodeStats::default(), t0)
                .unwrap()
                .deletes
                .len()
        };
        assert_eq!(hb(&mut bm), DELETES_PER_HEARTBEAT);
        assert_eq!(hb(&mut bm), 5);
        assert_eq!(hb(&mut bm), 0);
    }
}
