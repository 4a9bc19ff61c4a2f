//! The built-in operators and the record ↔ line conversions of the streaming contract.

use super::error::TaskError;
use basalt_jobs::lines::lines;
use basalt_jobs::records::Record;
use basalt_jobs::spec::{InputFormat, MapOp, TERASORT_KEY};
use std::collections::HashMap;

/// The records a built-in map operator makes of a split's bytes, and how many input records it read.
/// Word count emits each distinct word once with its count (the combiner's work, done while reading).
pub fn map_builtin(op: &MapOp, format: InputFormat, data: &[u8]) -> (Vec<Record>, u64) {
    let mut out = Vec::new();
    let mut n = 0;
    match format {
        InputFormat::Records { size } => {
            for rec in data.chunks(size as usize) {
                n += 1;
                let k = TERASORT_KEY.min(rec.len());
                out.push((rec[..k].to_vec(), rec[k..].to_vec()));
            }
        }
        InputFormat::Lines if *op == MapOp::WordCount => {
            // Counted as the words are read (in-mapper combining): one record per distinct word.
            let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
            for line in lines(data) {
                n += 1;
                for w in String::from_utf8_lossy(line).split_whitespace() {
                    match counts.get_mut(w.as_bytes()) {
                        Some(c) => *c += 1,
                        None => {
                            counts.insert(w.as_bytes().to_vec(), 1);
                        }
                    }
                }
            }
            out.extend(counts.into_iter().map(|(w, c)| (w, c.to_string().into_bytes())));
        }
        InputFormat::Lines => {
            for line in lines(data) {
                n += 1;
                match op {
                    MapOp::WordCount => unreachable!("counted above"),
                    MapOp::Grep { pattern } => {
                        let p = pattern.as_bytes();
                        if line.windows(p.len()).any(|w| w == p) {
                            out.push((line.to_vec(), Vec::new()));
                        }
                    }
                    MapOp::Identity | MapOp::Streaming { .. } => out.push((line.to_vec(), Vec::new())),
                }
            }
        }
    }
    (out, n)
}

/// A command's stdout as records: each line split at its first tab (no tab: all key, empty value).
pub fn records_from_lines(stdout: &[u8]) -> Vec<Record> {
    lines(stdout)
        .map(|l| match l.iter().position(|&b| b == b'\t') {
            Some(i) => (l[..i].to_vec(), l[i + 1..].to_vec()),
            None => (l.to_vec(), Vec::new()),
        })
        .collect()
}

/// Records as `key\tvalue` lines (a record with an empty value is its key alone).
pub fn to_lines<'a>(records: impl IntoIterator<Item = &'a Record>) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in records {
        out.extend_from_slice(k);
        if !v.is_empty() {
            out.push(b'\t');
            out.extend_from_slice(v);
        }
        out.push(b'\n');
    }
    out
}

/// The lines of a split as a streaming command's stdin: each line with one `\n`.
pub fn stdin_lines(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 1);
    for l in lines(data) {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

/// Sums the decimal values of each key of sorted records (word count's combiner and reducer).
pub fn sum_sorted(records: impl IntoIterator<Item = Record>) -> Result<Vec<Record>, TaskError> {
    let mut out: Vec<Record> = Vec::new();
    let mut acc: Option<(Vec<u8>, i64)> = None;
    for (k, v) in records {
        let n: i64 = std::str::from_utf8(&v)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| TaskError::NotACount {
                key: String::from_utf8_lossy(&k).into_owned(),
                value: String::from_utf8_lossy(&v).into_owned(),
            })?;
        match &mut acc {
            Some((key, sum)) if *key == k => *sum += n,
            _ => {
                if let Some((key, sum)) = acc.take() {
                    out.push((key, sum.to_string().into_bytes()));
                }
                acc = Some((k, n));
            }
        }
    }
    if let Some((key, sum)) = acc {
        out.push((key, sum.to_string().into_bytes()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_count_splits_on_unicode_whitespace_and_sums() {
        let (recs, n) = map_builtin(&MapOp::WordCount, InputFormat::Lines, "a b\u{3000}é\n\na".as_bytes());
        assert_eq!(n, 3);
        let mut recs = recs;
        recs.sort();
        let sums = sum_sorted(recs).unwrap();
        assert_eq!(to_lines(&sums), "a\t2\nb\t1\né\t1\n".as_bytes());
        assert!(sum_sorted(vec![(b"k".to_vec(), b"x".to_vec())]).is_err());
    }

    #[test]
    fn streaming_lines_round_trip() {
        let recs = records_from_lines(b"k\tv\tw\nlonely\r\nlast");
        assert_eq!(
            recs,
            vec![
                (b"k".to_vec(), b"v\tw".to_vec()),
                (b"lonely".to_vec(), vec![]),
                (b"last".to_vec(), vec![])
            ]
        );
        assert_eq!(to_lines(&recs), b"k\tv\tw\nlonely\nlast\n");
        assert_eq!(stdin_lines(b"a\r\nb"), b"a\nb\n");
    }

    #[test]
    fn terasort_records_split_at_the_key() {
        let data: Vec<u8> = (0..200u8).collect();
        let (recs, n) = map_builtin(&MapOp::Identity, InputFormat::Records { size: 100 }, &data);
        assert_eq!(n, 2);
        assert_eq!(recs[1].0, (100..110u8).collect::<Vec<_>>());
        assert_eq!(recs[1].1.len(), 90);
    }
}
