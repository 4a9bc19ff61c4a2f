//! Block placement: which datanodes form a new block's pipeline, and in which order a reader should
//! try a block's replicas. Pure functions over a snapshot of the live datanodes, with injected randomness.
//!
//! Placement follows HDFS's default policy:
//! 1. the first replica on the writer's own host when the writer runs on a datanode, else anywhere;
//! 2. the second on a different rack from the first (when more than one rack is known);
//! 3. the third on the second's rack, on another node; further replicas anywhere.
//!
//! Every choice among equals is "power of two choices" on free space: two random candidates, keep the
//! one with more room, which spreads load while steering data toward emptier nodes.

use crate::ids::DatanodeId;

/// A live datanode as placement sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub id: DatanodeId,
    /// Host identity (hostname or IP) used for "same host" decisions.
    pub host: String,
    /// Rack name; empty when racks are not configured.
    pub rack: String,
    /// Free bytes on the node.
    pub remaining: u64,
}

/// Why no pipeline could be formed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    #[error("no live datanodes")]
    NoLiveDatanodes,
    #[error(
        "only {available} live datanodes with space can take the block, fewer than the replication factor {wanted}"
    )]
    NotEnoughDatanodes { wanted: usize, available: usize },
}

/// Chooses `rf` distinct datanodes for a new block of up to `block_bytes` bytes.
pub fn choose_targets(
    candidates: &[Candidate],
    rf: usize,
    writer_host: Option<&str>,
    exclude: &[DatanodeId],
    block_bytes: u64,
    rng: &mut fastrand::Rng,
) -> Result<Vec<DatanodeId>, PlacementError> {
    if candidates.is_empty() {
        return Err(PlacementError::NoLiveDatanodes);
    }
    let mut pool: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| !exclude.contains(&c.id) && c.remaining >= block_bytes)
        .collect();
    if pool.len() < rf {
        return Err(PlacementError::NotEnoughDatanodes {
            wanted: rf,
            available: pool.len(),
        });
    }
    let racks_known = {
        let first = &pool[0].rack;
        pool.iter().any(|c| &c.rack != first)
    };
    let mut chosen: Vec<&Candidate> = Vec::with_capacity(rf);
    while chosen.len() < rf {
        let pick = match chosen.len() {
            0 => writer_host
                .and_then(|h| pool.iter().position(|c| c.host == h))
                .unwrap_or_else(|| two_choices(&pool, |_| true, rng).expect("pool not empty")),
            1 if racks_known => {
                let rack0 = chosen[0].rack.clone();
                two_choices(&pool, |c| c.rack != rack0, rng)
                    .unwrap_or_else(|| two_choices(&pool, |_| true, rng).expect("pool not empty"))
            }
            2 if racks_known => {
                let rack1 = chosen[1].rack.clone();
                two_choices(&pool, |c| c.rack == rack1, rng)
                    .unwrap_or_else(|| two_choices(&pool, |_| true, rng).expect("pool not empty"))
            }
            _ => two_choices(&pool, |_| true, rng).expect("pool not empty"),
        };
        chosen.push(pool.swap_remove(pick));
    }
    Ok(chosen.into_iter().map(|c| c.id).collect())
}

/// Index in `pool` of the roomier of two random candidates matching `ok`; `None` if none matches.
fn two_choices(pool: &[&Candidate], ok: impl Fn(&Candidate) -> bool, rng: &mut fastrand::Rng) -> Option<usize> {
    let matching: Vec<usize> = (0..pool.len()).filter(|&i| ok(pool[i])).collect();
    match matching.len() {
        0 => None,
        1 => Some(matching[0]),
        n => {
            let a = matching[rng.usize(..n)];
            let b = matching[rng.usize(..n)];
            Some(if pool[b].remaining > pool[a].remaining { b } else { a })
        }
    }
}

/// Distance from a reader to a replica: 0 same host, 1 same rack, 2 elsewhere.
pub fn distance(reader_host: &str, reader_rack: &str, host: &str, rack: &str) -> u8 {
    if reader_host == host {
        0
    } else if !reader_rack.is_empty() && reader_rack == rack {
        1
    } else {
        2
    }
}

/// Orders `items` nearest first by `dist`; replicas at equal distance are shuffled to spread reads.
pub fn sort_nearest<T>(items: &mut [T], dist: impl Fn(&T) -> u8, rng: &mut fastrand::Rng) {
    rng.shuffle(items);
    items.sort_by_key(|t| dist(t));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn node(id: u64, host: &str, rack: &str, remaining: u64) -> Candidate {
        Candidate {
            id: DatanodeId(id),
            host: host.into(),
            rack: rack.into(),
            remaining,
        }
    }

    #[test]
    fn errors_are_specific() {
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(
            choose_targets(&[], 3, None, &[], 1, &mut rng),
            Err(PlacementError::NoLiveDatanodes)
        );
        let two = [node(1, "a", "", 100), node(2, "b", "", 100)];
        assert_eq!(
            choose_targets(&two, 3, None, &[], 1, &mut rng),
            Err(PlacementError::NotEnoughDatanodes {
                wanted: 3,
                available: 2
            })
        );
        // A node without room for the block does not count.
        let full = [node(1, "a", "", 100), node(2, "b", "", 0), node(3, "c", "", 100)];
        assert_eq!(
            choose_targets(&full, 3, None, &[], 10, &mut rng),
            Err(PlacementError::NotEnoughDatanodes {
                wanted: 3,
                available: 2
            })
        );
    }

    #[test]
    fn writer_local_first() {
        let mut rng = fastrand::Rng::with_seed(7);
        let nodes = [node(1, "a", "", 100), node(2, "b", "", 100), node(3, "c", "", 100)];
        for _ in 0..20 {
            let t = choose_targets(&nodes, 2, Some("c"), &[], 1, &mut rng).unwrap();
            assert_eq!(t[0], DatanodeId(3));
        }
    }

    #[test]
    fn prefers_free_space() {
        let mut rng = fastrand::Rng::with_seed(3);
        let nodes = [node(1, "a", "", 1_000), node(2, "b", "", 10), node(3, "c", "", 10)];
        let picks = (0..300)
            .filter(|_| choose_targets(&nodes, 1, None, &[], 1, &mut rng).unwrap()[0] == DatanodeId(1))
            .count();
        assert!(picks > 150, "emptiest node chosen only {picks}/300 times");
    }

    #[test]
    fn sorts_nearest_first() {
        let mut rng = fastrand::Rng::with_seed(5);
        let mut reps = vec![("x", "r2"), ("me", "r1"), ("y", "r1")];
        sort_nearest(&mut reps, |(h, r)| distance("me", "r1", h, r), &mut rng);
        assert_eq!(reps[0].0, "me");
        assert_eq!(reps[1].0, "y");
        assert_eq!(reps[2].0, "x");
    }

    proptest! {
        #[test]
        fn targets_distinct_and_rack_aware(
            nodes in proptest::collection::vec((0u8..4, 0u64..1000), 1..12),
            rf in 1usize..5,
            seed in any::<u64>(),
            excluded in proptest::collection::vec(0u64..12, 0..3),
        ) {
            let cands: Vec<Candidate> = nodes.iter().enumerate()
                .map(|(i, (rack, rem))| node(i as u64, &format!("h{i}"), &format!("r{rack}"), *rem + 1))
                .collect();
            let exclude: Vec<DatanodeId> = excluded.iter().map(|&e| DatanodeId(e)).collect();
            let mut rng = fastrand::Rng::with_seed(seed);
            let eligible = cands.iter().filter(|c| !exclude.contains(&c.id)).count();
            match choose_targets(&cands, rf, None, &exclude, 1, &mut rng) {
                Ok(t) => {
                    prop_assert_eq!(t.len(), rf);
                    let set: HashSet<_> = t.iter().collect();
                    prop_assert_eq!(set.len(), rf);
                    prop_assert!(t.iter().all(|id| !exclude.contains(id)));
                    let racks: HashSet<_> = cands.iter().filter(|c| !exclude.contains(&c.id)).map(|c| &c.rack).collect();
                    if rf >= 2 && racks.len() >= 2 {
                        let chosen_racks: HashSet<_> = t.iter().map(|id| &cands[id.0 as usize].rack).collect();
                        prop_assert!(chosen_racks.len() >= 2, "all replicas on one rack although {} racks exist", racks.len());
                    }
                }
                Err(PlacementError::NotEnoughDatanodes { available, .. }) => {
                    prop_assert!(eligible < rf);
                    prop_assert_eq!(available, eligible);
                }
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
        }
    }
}
