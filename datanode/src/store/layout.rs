//! The on-disk layout of a data directory, and nothing else: every path the datanode reads or writes is
//! built here, and every file name found on disk is parsed here.
//!
//! ```text
//! <data_dir>/datanode.id                                 identity (see `identity`)
//! <data_dir>/in_use.lock                                 exclusive lock of the running datanode
//! <data_dir>/current/subdir<A>/subdir<B>/blk_<id>        finalized replica data
//! <data_dir>/current/subdir<A>/subdir<B>/blk_<id>_<gs>.meta   MetaHeader + one LE u32 CRC32C per chunk
//! <data_dir>/tmp/blk_<id>_<gs>.<nonce>[.meta]            replicas being written or parked (discarded at start)
//! <data_dir>/corrupt/<original name>.<nonce>             replicas moved aside by the scanner or a read
//! ```
//! `A = (id >> 16) & 0x1f` and `B = (id >> 8) & 0x1f`: at most 32 x 32 leaf directories.

use basalt_common::{BlockId, GenStamp};
use std::path::{Path, PathBuf};

/// Directory names under the data directory.
pub const CURRENT: &str = "current";
pub const TMP: &str = "tmp";
pub const CORRUPT: &str = "corrupt";
pub const LOCK_FILE: &str = "in_use.lock";

/// What a file name under `current/` denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaFile {
    Data(BlockId),
    Meta(BlockId, GenStamp),
}

/// Builds the paths of one data directory.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Layout { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn current(&self) -> PathBuf {
        self.root.join(CURRENT)
    }

    pub fn tmp(&self) -> PathBuf {
        self.root.join(TMP)
    }

    pub fn corrupt(&self) -> PathBuf {
        self.root.join(CORRUPT)
    }

    pub fn lock_file(&self) -> PathBuf {
        self.root.join(LOCK_FILE)
    }

    /// The leaf directory of a finalized replica.
    pub fn block_dir(&self, block: BlockId) -> PathBuf {
        let a = (block.0 >> 16) & 0x1f;
        let b = (block.0 >> 8) & 0x1f;
        self.current().join(format!("subdir{a}")).join(format!("subdir{b}"))
    }

    pub fn data_path(&self, block: BlockId) -> PathBuf {
        self.block_dir(block).join(data_name(block))
    }

    pub fn meta_path(&self, block: BlockId, gs: GenStamp) -> PathBuf {
        self.block_dir(block).join(meta_name(block, gs))
    }

    /// Data and meta paths of an in-progress replica; `nonce` keeps concurrent attempts apart.
    pub fn tmp_paths(&self, block: BlockId, gs: GenStamp, nonce: u64) -> (PathBuf, PathBuf) {
        let base = format!("blk_{}_{}.{nonce:016x}", block.0, gs.0);
        (self.tmp().join(&base), self.tmp().join(format!("{base}.meta")))
    }

    /// Where a bad file is moved to: its name plus a nonce under `corrupt/`.
    pub fn corrupt_path(&self, original: &Path, nonce: u64) -> PathBuf {
        let name = original
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.corrupt().join(format!("{name}.{nonce:016x}"))
    }
}

pub fn data_name(block: BlockId) -> String {
    format!("blk_{}", block.0)
}

pub fn meta_name(block: BlockId, gs: GenStamp) -> String {
    format!("blk_{}_{}.meta", block.0, gs.0)
}

/// Parses a file name found in a leaf directory of `current/`.
pub fn parse_name(name: &str) -> Option<ReplicaFile> {
    let rest = name.strip_prefix("blk_")?;
    if let Some(stem) = rest.strip_suffix(".meta") {
        let (id, gs) = stem.split_once('_')?;
        return Some(ReplicaFile::Meta(BlockId(parse_u64(id)?), GenStamp(parse_u64(gs)?)));
    }
    Some(ReplicaFile::Data(BlockId(parse_u64(rest)?)))
}

/// Strict decimal: no sign, no leading zeros (so a name has exactly one spelling).
fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || (s.len() > 1 && s.starts_with('0')) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fan_out_is_bounded_and_stable() {
        let l = Layout::new("/d");
        let b = BlockId(0x0012_3456);
        assert_eq!(
            l.data_path(b),
            PathBuf::from("/d/current/subdir18/subdir20/blk_1193046")
        );
        assert_eq!(
            l.meta_path(b, GenStamp(7)),
            PathBuf::from("/d/current/subdir18/subdir20/blk_1193046_7.meta")
        );
        assert_eq!(
            l.block_dir(BlockId(u64::MAX)),
            PathBuf::from("/d/current/subdir31/subdir31")
        );
    }

    #[test]
    fn foreign_names_are_ignored() {
        for n in [
            "blk_",
            "blk_x",
            "blk_01",
            "blk_1_2",
            "blk_1.meta",
            "blk_-1",
            "foo",
            "blk_1_2.meta.tmp",
        ] {
            assert_eq!(parse_name(n), None, "{n}");
        }
    }

    proptest! {
        #[test]
        fn names_round_trip(id in any::<u64>(), gs in any::<u64>()) {
            let (b, g) = (BlockId(id), GenStamp(gs));
            prop_assert_eq!(parse_name(&data_name(b)), Some(ReplicaFile::Data(b)));
            prop_assert_eq!(parse_name(&meta_name(b, g)), Some(ReplicaFile::Meta(b, g)));
        }
    }
}
