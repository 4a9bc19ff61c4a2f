//! Shuffle records: the framing of (key, value) pairs in map output files, the partitioners, and the
//! k-way merge a reducer runs over the sorted runs it fetched.
//!
//! A run is a sequence of records sorted by key, each framed as `klen: u32 LE, vlen: u32 LE, key,
//! value`; a map output file is one run per reduce partition, back to back, with an index of where
//! each ends (kept by the datanode beside it).

use crate::spec::Partitioner;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A key and its value (bytes; text for the built-in and streaming operators).
pub type Record = (Vec<u8>, Vec<u8>);

/// A run ended inside a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shuffle run truncated at byte {at} of {len}")]
pub struct Truncated {
    pub at: usize,
    pub len: usize,
}

/// Appends one framed record.
pub fn put_record(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(value);
}

/// The records of a framed run.
pub fn read_run(bytes: &[u8]) -> Result<Vec<Record>, Truncated> {
    let mut out = Vec::new();
    let mut at = 0;
    let err = |at| Truncated { at, len: bytes.len() };
    while at < bytes.len() {
        let head = bytes.get(at..at + 8).ok_or(err(at))?;
        let k = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
        let v = u32::from_le_bytes(head[4..].try_into().expect("4 bytes")) as usize;
        let body = bytes.get(at + 8..at + 8 + k + v).ok_or(err(at))?;
        out.push((body[..k].to_vec(), body[k..].to_vec()));
        at += 8 + k + v;
    }
    Ok(out)
}

/// FNV-1a, 64 bits: a stable hash (the same on every executor and build).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// The reduce partition of `key` among `partitions`.
pub fn partition_of(p: &Partitioner, partitions: u32, key: &[u8]) -> u32 {
    match p {
        Partitioner::Hash => (fnv1a(key) % partitions.max(1) as u64) as u32,
        Partitioner::Range { bounds } => bounds.partition_point(|b| b.as_slice() <= key) as u32,
    }
}

/// `partitions - 1` split points from a sample of keys (TeraSort's sampler): evenly spaced in the
/// sorted sample. Fewer distinct keys than partitions give repeated bounds (empty partitions).
pub fn range_bounds(mut sample: Vec<Vec<u8>>, partitions: u32) -> Vec<Vec<u8>> {
    sample.sort();
    if sample.is_empty() {
        return vec![Vec::new(); partitions.saturating_sub(1) as usize];
    }
    (1..partitions as usize)
        .map(|i| sample[(i * sample.len() / partitions as usize).min(sample.len() - 1)].clone())
        .collect()
}

/// Merges runs sorted by key into one sorted sequence; equal keys keep the order of their runs
/// (stable), so a reducer's output does not depend on fetch timing.
pub fn merge(runs: Vec<Vec<Record>>) -> impl Iterator<Item = Record> {
    let mut iters: Vec<std::vec::IntoIter<Record>> = runs.into_iter().map(Vec::into_iter).collect();
    let mut heap = BinaryHeap::new();
    for (i, it) in iters.iter_mut().enumerate() {
        if let Some((k, v)) = it.next() {
            heap.push(Reverse((k, i, v)));
        }
    }
    std::iter::from_fn(move || {
        let Reverse((k, i, v)) = heap.pop()?;
        if let Some((k2, v2)) = iters[i].next() {
            heap.push(Reverse((k2, i, v2)));
        }
        Some((k, v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_round_trips_and_truncation_is_an_error() {
        let mut b = Vec::new();
        put_record(&mut b, b"key", b"value");
        put_record(&mut b, b"", b"");
        assert_eq!(
            read_run(&b).unwrap(),
            vec![(b"key".to_vec(), b"value".to_vec()), (vec![], vec![])]
        );
        assert!(read_run(&b[..b.len() - 1]).is_err());
        assert!(read_run(&b[..5]).is_err());
    }

    #[test]
    fn range_partitions_are_in_key_order() {
        let sample: Vec<Vec<u8>> = (0..100u8).map(|i| vec![i]).collect();
        let bounds = range_bounds(sample, 4);
        assert_eq!(bounds, vec![vec![25], vec![50], vec![75]]);
        let p = Partitioner::Range { bounds };
        let parts: Vec<u32> = (0..100u8).map(|i| partition_of(&p, 4, &[i])).collect();
        assert!(parts.is_sorted());
        assert_eq!(parts[0], 0);
        assert_eq!(parts[99], 3);
        assert_eq!(
            partition_of(&Partitioner::Hash, 7, b"x"),
            partition_of(&Partitioner::Hash, 7, b"x")
        );
    }

    #[test]
    fn merge_is_sorted_and_stable() {
        let r = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect()
        };
        let out: Vec<Record> =
            merge(vec![r(&[("a", "1"), ("c", "1")]), r(&[("a", "2"), ("b", "2")]), r(&[])]).collect();
        assert_eq!(out, r(&[("a", "1"), ("a", "2"), ("b", "2"), ("c", "1")]) as Vec<Record>);
    }
}
