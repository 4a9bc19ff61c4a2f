//! The token ring: which datanodes hold the rows of a token.
//!
//! Each datanode owns a few tokens (vnodes) of the Murmur3 token space (`i64`, as Cassandra's
//! Murmur3Partitioner). A token `t` belongs to the first vnode token `>= t`, wrapping past the
//! largest one to the smallest: vnode token `v` owns the range `(previous vnode token, v]`. The
//! replicas of a token are the first RF distinct datanodes met walking clockwise from its owner; the
//! rack-aware strategy takes datanodes of racks not yet used first, then fills with the skipped ones
//! in ring order (Cassandra's NetworkTopologyStrategy within one data center).
//!
//! [`allocate_tokens`] chooses a joining node's tokens so that ownership stays balanced: each new
//! token takes a share of the largest range of the node that owns the most, sized so that the new
//! node ends with an equal share of the ring (the idea of Cassandra's token allocation, on primary
//! ranges). Pure and deterministic given its seed.

use crate::schema::Replication;
use basalt_common::DatanodeId;
use std::collections::{BTreeMap, BTreeSet};

/// The number of tokens in the ring, as a float (2^64).
const SPACE: f64 = 18_446_744_073_709_551_616.0;

/// Why a set of tokens is not a ring.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    #[error("token {token} is owned by both datanode {first} and datanode {second}")]
    DuplicateToken {
        token: i64,
        first: DatanodeId,
        second: DatanodeId,
    },
}

/// A range of tokens `(start, end]` (wrapping when `start >= end`) and its primary owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenRange {
    /// Exclusive.
    pub start: i64,
    /// Inclusive: the vnode token.
    pub end: i64,
    pub owner: DatanodeId,
}

impl TokenRange {
    /// How many tokens the range holds (2^64 for the whole ring of a single vnode).
    pub fn size(&self) -> u128 {
        range_size(self.start, self.end)
    }

    /// Whether `token` falls in the range.
    pub fn contains(&self, token: i64) -> bool {
        if self.start < self.end {
            token > self.start && token <= self.end
        } else {
            token > self.start || token <= self.end
        }
    }
}

/// Tokens in `(start, end]`, wrapping; `start == end` is the whole ring.
fn range_size(start: i64, end: i64) -> u128 {
    let d = end.wrapping_sub(start) as u64;
    if d == 0 { 1u128 << 64 } else { d as u128 }
}

/// The ring at one version of the cluster state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ring {
    version: u64,
    /// Sorted by token, tokens distinct.
    tokens: Vec<(i64, DatanodeId)>,
    racks: BTreeMap<DatanodeId, String>,
}

impl Ring {
    /// A ring of the given vnode tokens; `racks` names each datanode's rack (a node without one is in
    /// rack `""`).
    pub fn new(
        version: u64,
        tokens: impl IntoIterator<Item = (i64, DatanodeId)>,
        racks: BTreeMap<DatanodeId, String>,
    ) -> Result<Ring, RingError> {
        let mut tokens: Vec<(i64, DatanodeId)> = tokens.into_iter().collect();
        tokens.sort();
        for w in tokens.windows(2) {
            if w[0].0 == w[1].0 {
                return Err(RingError::DuplicateToken {
                    token: w[0].0,
                    first: w[0].1,
                    second: w[1].1,
                });
            }
        }
        Ok(Ring { version, tokens, racks })
    }

    /// The version of the cluster state's tokens this ring was built from.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The vnode tokens with their owners, in token order.
    pub fn tokens(&self) -> &[(i64, DatanodeId)] {
        &self.tokens
    }

    /// The datanodes that own tokens.
    pub fn nodes(&self) -> BTreeSet<DatanodeId> {
        self.tokens.iter().map(|(_, n)| *n).collect()
    }

    /// A datanode's tokens, in order.
    pub fn tokens_of(&self, node: DatanodeId) -> Vec<i64> {
        self.tokens
            .iter()
            .filter(|(_, n)| *n == node)
            .map(|(t, _)| *t)
            .collect()
    }

    /// A datanode's rack (`""` when unknown).
    pub fn rack(&self, node: DatanodeId) -> &str {
        self.racks.get(&node).map(String::as_str).unwrap_or("")
    }

    /// The index of the vnode that owns `token`.
    fn owner_index(&self, token: i64) -> usize {
        let i = self.tokens.partition_point(|(t, _)| *t < token);
        if i == self.tokens.len() { 0 } else { i }
    }

    /// The primary owner of `token`; `None` on an empty ring.
    pub fn primary(&self, token: i64) -> Option<DatanodeId> {
        (!self.is_empty()).then(|| self.tokens[self.owner_index(token)].1)
    }

    /// The replicas of `token`, primary first: the first RF distinct datanodes clockwise (distinct
    /// racks first for the rack-aware strategy). Fewer when the ring has fewer nodes.
    pub fn replicas(&self, token: i64, replication: &Replication) -> Vec<DatanodeId> {
        let rf = replication.factor() as usize;
        if self.is_empty() || rf == 0 {
            return Vec::new();
        }
        let start = self.owner_index(token);
        let clockwise = (0..self.tokens.len()).map(|k| self.tokens[(start + k) % self.tokens.len()].1);
        let mut out: Vec<DatanodeId> = Vec::with_capacity(rf);
        if !replication.rack_aware() {
            for n in clockwise {
                if !out.contains(&n) {
                    out.push(n);
                    if out.len() == rf {
                        break;
                    }
                }
            }
            return out;
        }
        let mut racks_used: BTreeSet<&str> = BTreeSet::new();
        let mut skipped: Vec<DatanodeId> = Vec::new();
        for n in clockwise {
            if out.contains(&n) || skipped.contains(&n) {
                continue;
            }
            if racks_used.insert(self.rack(n)) {
                out.push(n);
                if out.len() == rf {
                    return out;
                }
            } else {
                skipped.push(n);
            }
        }
        out.extend(skipped.into_iter().take(rf - out.len()));
        out
    }

    /// Every vnode's range `(previous token, token]` with its primary owner, in token order (the
    /// first one wraps from the largest token).
    pub fn ranges(&self) -> Vec<TokenRange> {
        let n = self.tokens.len();
        (0..n)
            .map(|i| TokenRange {
                start: self.tokens[(i + n - 1) % n].0,
                end: self.tokens[i].0,
                owner: self.tokens[i].1,
            })
            .collect()
    }

    /// The share of the token space each datanode owns as primary (the shares sum to 1).
    pub fn ownership(&self) -> BTreeMap<DatanodeId, f64> {
        let mut out: BTreeMap<DatanodeId, f64> = BTreeMap::new();
        for r in self.ranges() {
            *out.entry(r.owner).or_default() += r.size() as f64 / SPACE;
        }
        out
    }
}

/// A datanode of the ring as coordinators and clients reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RingNode {
    pub id: DatanodeId,
    pub addr: String,
    pub host: String,
    pub rack: String,
}

/// The ring with the addresses of the datanodes that own its tokens (what `GetRing` answers).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RingView {
    pub ring: Ring,
    pub nodes: BTreeMap<DatanodeId, RingNode>,
}

impl RingView {
    /// A view of vnode entries `(token, owner)`; the owner's rack is its record's.
    pub fn new(version: u64, entries: impl IntoIterator<Item = (i64, RingNode)>) -> Result<RingView, RingError> {
        let mut nodes = BTreeMap::new();
        let mut tokens = Vec::new();
        for (token, node) in entries {
            tokens.push((token, node.id));
            nodes.entry(node.id).or_insert(node);
        }
        let racks = nodes.values().map(|n: &RingNode| (n.id, n.rack.clone())).collect();
        Ok(RingView {
            ring: Ring::new(version, tokens, racks)?,
            nodes,
        })
    }

    /// The replicas of `token` with their addresses, primary first.
    pub fn replica_nodes(&self, token: i64, replication: &Replication) -> Vec<&RingNode> {
        self.ring
            .replicas(token, replication)
            .into_iter()
            .filter_map(|id| self.nodes.get(&id))
            .collect()
    }
}

/// SplitMix64: a small deterministic random source for token allocation.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Chooses `vnodes` tokens for `node` joining `ring` (its tokens already in the ring, if any, are
/// ignored: the node is treated as new). Deterministic given `seed`.
///
/// The first node spreads its tokens evenly from a random offset. A later node aims at an equal share
/// `1/(n+1)` of the ring, `1/((n+1)·vnodes)` per token: each token goes into the largest range of the
/// node that currently owns the most, taking that much of it (at most three quarters of the range, so
/// the old owner keeps some), with a little jitter so that two nodes joining the same ring differ.
/// `rack` is recorded for symmetry with the strategies; allocation balances primary ownership.
pub fn allocate_tokens(ring: &Ring, node: DatanodeId, _rack: &str, vnodes: u32, seed: u64) -> Vec<i64> {
    let mut rng = SplitMix(seed ^ node.0.wrapping_mul(0xA24B_AED4_963E_E407));
    let vnodes = vnodes.max(1) as usize;
    let others: Vec<(i64, DatanodeId)> = ring.tokens.iter().copied().filter(|(_, n)| *n != node).collect();
    if others.is_empty() {
        let step = (1u128 << 64) / vnodes as u128;
        let offset = rng.next() as u128 % step;
        let mut out: Vec<i64> = (0..vnodes as u128)
            .map(|i| (i64::MIN as i128 + (offset + i * step) as i128) as i64)
            .map(|t| if t == i64::MIN { t + 1 } else { t })
            .collect();
        out.sort();
        out.dedup();
        return out;
    }
    let mut work = Ring {
        version: ring.version,
        tokens: others,
        racks: ring.racks.clone(),
    };
    let n_after = work.nodes().len() + 1;
    let quota = SPACE / (n_after as f64 * vnodes as f64);
    let mut mine = Vec::with_capacity(vnodes);
    // A token that lands on an existing one (vanishingly rare) costs an attempt, not a vnode.
    for _ in 0..vnodes * 4 {
        if mine.len() == vnodes {
            break;
        }
        let own = work.ownership();
        let Some((&donor, _)) = own
            .iter()
            .filter(|(n, _)| **n != node)
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(a.0)))
        else {
            break;
        };
        let Some(range) = work
            .ranges()
            .into_iter()
            .filter(|r| r.owner == donor && r.size() >= 4)
            .max_by_key(|r| (r.size(), std::cmp::Reverse(r.end)))
        else {
            break;
        };
        // Jitter of ±1% of the quota.
        let jitter = 0.98 + (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * 0.04;
        let size = range.size() as f64;
        let take = (quota * jitter).min(size * 0.75).max(1.0) as u128;
        let token = (range.start as i128 + take as i128) as u64 as i64;
        let token = if token == i64::MIN { token + 1 } else { token };
        if work.tokens.binary_search_by_key(&token, |(t, _)| *t).is_ok() {
            continue;
        }
        let at = work.tokens.partition_point(|(t, _)| *t < token);
        work.tokens.insert(at, (token, node));
        mine.push(token);
    }
    mine.sort();
    mine
}

#[cfg(test)]
mod tests;
