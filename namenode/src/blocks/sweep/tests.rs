use super::*;
use crate::blocks::NodeStats;
use crate::blocks::test_record as rec;
use basalt_common::{BlockId, GenStamp};

/// One whole round at once, the way the monitor does it in slices (here of one block each): a sweep,
/// then copies from its queue.
#[allow(clippy::too_many_arguments)]
fn round<'a>(
    bm: &mut BlockManager,
    blocks: impl Iterator<Item = (&'a BlockMeta, u32)>,
    admin: &AdminStates,
    busy: &HashSet<DatanodeId>,
    now: Instant,
    per_node: usize,
    retry_after: Duration,
    rng: &mut fastrand::Rng,
) -> RoundSummary {
    let mut sweep = Sweep::new(SweepMode::Heal, admin.clone(), busy.clone());
    for b in blocks {
        bm.sweep_blocks(&mut sweep, [b], now, retry_after);
    }
    let (mut summary, mut queue) = bm.finish_sweep(sweep, admin, busy, now);
    summary.scheduled = bm.schedule_copies(&mut queue, admin, now, per_node, retry_after, rng, usize::MAX);
    summary
}

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
    let s = round(
        &mut bm,
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
    let s = round(
        &mut bm,
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
    let s = round(
        &mut bm,
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
    let s = round(
        &mut bm,
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
    let s = round(
        &mut bm,
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
    round(
        &mut bm,
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
    round(
        &mut bm,
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

#[test]
fn a_throttled_copy_waits_in_the_queue_for_the_next_round() {
    let t0 = Instant::now();
    let mut bm = BlockManager::new(Duration::from_secs(10));
    for id in 1..=3 {
        bm.register(rec(id), stats(), t0);
    }
    bm.incremental(DatanodeId(1), &[blk(1), blk(2)], &[]).unwrap();
    let admin = AdminStates::new();
    let mut sweep = Sweep::new(SweepMode::Heal, admin.clone(), HashSet::new());
    let blocks = [(blk(1), 2), (blk(2), 2)];
    bm.sweep_blocks(
        &mut sweep,
        blocks.iter().map(|(b, r)| (b, *r)),
        t0,
        Duration::from_secs(30),
    );
    let (summary, mut queue) = bm.finish_sweep(sweep, &admin, &HashSet::new(), t0);
    assert_eq!((summary.under_replicated, summary.reported, summary.blocks), (2, 2, 2));
    let mut rng = fastrand::Rng::with_seed(4);
    let copy = |bm: &mut BlockManager, queue: &mut VecDeque<Under>, rng: &mut fastrand::Rng| {
        bm.schedule_copies(queue, &admin, t0, 1, Duration::from_secs(30), rng, 10)
    };
    // Node 1 is the only source and copies one block per round.
    assert_eq!(copy(&mut bm, &mut queue, &mut rng), 1);
    assert_eq!(queue.len(), 1);
    assert_eq!(copy(&mut bm, &mut queue, &mut rng), 1);
    assert!(queue.is_empty());
    assert_eq!(bm.heartbeat(DatanodeId(1), stats(), t0).unwrap().replications.len(), 2);
}

#[test]
fn a_counting_sweep_changes_nothing() {
    let t0 = Instant::now();
    let mut bm = BlockManager::new(Duration::from_secs(10));
    for id in 1..=3 {
        bm.register(rec(id), stats(), t0);
        bm.incremental(DatanodeId(id), &[blk(1)], &[]).unwrap();
    }
    let mut sweep = Sweep::new(SweepMode::Count, AdminStates::new(), HashSet::new());
    let blocks = [(blk(1), 1), (blk(2), 1)];
    bm.sweep_blocks(
        &mut sweep,
        blocks.iter().map(|(b, r)| (b, *r)),
        t0,
        Duration::from_secs(30),
    );
    let (summary, queue) = bm.finish_sweep(sweep, &AdminStates::new(), &HashSet::new(), t0);
    assert_eq!(
        (summary.reported, summary.blocks, summary.missing, summary.trimmed),
        (1, 2, 1, 0)
    );
    assert!(queue.is_empty());
    assert_eq!(bm.locations(&blk(1), t0).len(), 3, "the surplus is left alone");
}
