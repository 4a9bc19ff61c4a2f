//! The shuffle directory's layout, owned here alone:
//!
//! ```text
//! <data-dir>/shuffle/
//!   j<job>/
//!     s<stage>-m<map>-a<attempt>.data    one sorted run per reduce partition, back to back
//!     s<stage>-m<map>-a<attempt>.index   where each run ends and its CRC32C (published last)
//!     .tmp-...                           a write in progress (removed when it fails)
//! ```
//!
//! The index is `"BSHX"`, a version byte (1), a `u32` count, then per partition its end offset (`u64`)
//! and CRC32C (`u32`), then a CRC32C of everything before it; all little-endian. A map output exists
//! once its index does: the data file is renamed into place first.

use std::path::{Path, PathBuf};

const MAGIC: &[u8; 4] = b"BSHX";
const VERSION: u8 = 1;

/// One map attempt's output, as named on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputKey {
    pub job: u64,
    pub stage: u32,
    pub map: u32,
    pub attempt: u32,
}

#[derive(Clone, Debug)]
pub struct ShuffleLayout {
    root: PathBuf,
}

impl ShuffleLayout {
    pub fn new(data_dir: &Path) -> Self {
        ShuffleLayout {
            root: data_dir.join("shuffle"),
        }
    }

    pub fn job_dir(&self, job: u64) -> PathBuf {
        self.root.join(format!("j{job}"))
    }

    fn stem(k: &OutputKey) -> String {
        format!("s{}-m{}-a{}", k.stage, k.map, k.attempt)
    }

    pub fn data(&self, k: &OutputKey) -> PathBuf {
        self.job_dir(k.job).join(format!("{}.data", Self::stem(k)))
    }

    pub fn index(&self, k: &OutputKey) -> PathBuf {
        self.job_dir(k.job).join(format!("{}.index", Self::stem(k)))
    }

    pub fn temp(&self, k: &OutputKey, what: &str) -> PathBuf {
        let nonce = fastrand::u64(..);
        self.job_dir(k.job)
            .join(format!(".tmp-{}.{what}.{nonce:016x}", Self::stem(k)))
    }
}

/// Where each partition's run ends, with its CRC32C.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Index {
    pub parts: Vec<(u64, u32)>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("shuffle index is malformed or corrupt")]
pub struct BadIndex;

impl Index {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(13 + self.parts.len() * 12);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&(self.parts.len() as u32).to_le_bytes());
        for (end, crc) in &self.parts {
            out.extend_from_slice(&end.to_le_bytes());
            out.extend_from_slice(&crc.to_le_bytes());
        }
        let crc = crc32c::crc32c(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    pub fn decode(b: &[u8]) -> Result<Index, BadIndex> {
        if b.len() < 13 || &b[..4] != MAGIC || b[4] != VERSION {
            return Err(BadIndex);
        }
        let (body, sum) = b.split_at(b.len() - 4);
        if crc32c::crc32c(body) != u32::from_le_bytes(sum.try_into().map_err(|_| BadIndex)?) {
            return Err(BadIndex);
        }
        let n = u32::from_le_bytes(body[5..9].try_into().map_err(|_| BadIndex)?) as usize;
        if body.len() != 9 + n * 12 {
            return Err(BadIndex);
        }
        let parts = body[9..]
            .chunks_exact(12)
            .map(|c| {
                (
                    u64::from_le_bytes(c[..8].try_into().expect("8 bytes")),
                    u32::from_le_bytes(c[8..].try_into().expect("4 bytes")),
                )
            })
            .collect();
        Ok(Index { parts })
    }

    /// Byte range and CRC32C of partition `p`.
    pub fn range(&self, p: usize) -> Option<(u64, u64, u32)> {
        let (end, crc) = *self.parts.get(p)?;
        let start = if p == 0 { 0 } else { self.parts[p - 1].0 };
        Some((start, end, crc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_round_trips_and_rejects_damage() {
        let i = Index {
            parts: vec![(10, 1), (10, 2), (35, 3)],
        };
        let b = i.encode();
        assert_eq!(Index::decode(&b), Ok(i.clone()));
        assert_eq!(i.range(1), Some((10, 10, 2)));
        assert_eq!(i.range(2), Some((10, 35, 3)));
        assert_eq!(i.range(3), None);
        for at in 0..b.len() {
            let mut bad = b.clone();
            bad[at] ^= 1;
            assert_eq!(Index::decode(&bad), Err(BadIndex), "byte {at}");
        }
        assert_eq!(Index::decode(&b[..b.len() - 1]), Err(BadIndex));
    }

    #[test]
    fn names_are_per_attempt() {
        let l = ShuffleLayout::new(Path::new("/d"));
        let k = OutputKey {
            job: 3,
            stage: 0,
            map: 7,
            attempt: 2,
        };
        assert_eq!(l.data(&k), Path::new("/d/shuffle/j3/s0-m7-a2.data"));
        assert_eq!(l.index(&k), Path::new("/d/shuffle/j3/s0-m7-a2.index"));
        assert!(l.temp(&k, "data").starts_with("/d/shuffle/j3"));
    }
}
