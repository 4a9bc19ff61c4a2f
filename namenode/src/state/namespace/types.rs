//! Values of the replicated namespace: inodes, blocks, permissions and the file status answered to clients.
//!
//! Inodes are kept small, as they are the namenode's memory: a file's name is stored once, as the key of
//! its parent's child map (inline when short); owner and group are interned symbols; the lease of a file
//! being written is boxed (most files are closed).

use super::symbols::Sym;
use basalt_common::{BPath, BlockId, DatanodeId, GenStamp, InodeId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The name of an inode within its directory (stored inline up to 24 bytes).
pub type Name = compact_str::CompactString;

/// Permission bits kept per inode: `rwx` for owner, group, other, plus setuid/setgid/sticky.
pub const MODE_MASK: u32 = 0o7777;

/// Owner, group and POSIX-style mode bits of an inode, as commands carry them and clients see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Perm {
    pub owner: String,
    pub group: String,
    pub mode: u32,
}

impl Perm {
    pub fn default_dir() -> Self {
        Perm {
            owner: "basalt".into(),
            group: "supergroup".into(),
            mode: 0o755,
        }
    }
}

/// [`Perm`] as an inode stores it: interned owner and group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPerm {
    pub owner: Sym,
    pub group: Sym,
    pub mode: u16,
}

/// A block of a file as the namespace records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlockMeta {
    pub id: BlockId,
    pub gen_stamp: GenStamp,
    pub len: u64,
}

/// Lease holder of a file whose writer is gone, while the namenode recovers it.
pub const RECOVERY_HOLDER: &str = "basalt-lease-recovery";

/// The writer holding a file open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub holder: String,
    pub since_ms: u64,
    /// Datanodes writing the last block, in pipeline order: where lease recovery finds its replicas.
    pub pipeline: Vec<DatanodeId>,
    /// The last block is being written (added since the file was opened). False right after an append:
    /// the last block is then a finished one and must be left as it is.
    pub last_block_open: bool,
}

impl Lease {
    /// A lease just taken by `holder` (no block being written yet).
    pub fn new(holder: &str, since_ms: u64) -> Self {
        Lease {
            holder: holder.to_string(),
            since_ms,
            pipeline: Vec::new(),
            last_block_open: false,
        }
    }

    /// The last block is now being written by `pipeline`.
    pub fn start_block(&mut self, pipeline: &[DatanodeId]) {
        self.pipeline = pipeline.to_vec();
        self.last_block_open = true;
    }
}

/// A file under construction, as lease recovery sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenFile {
    pub path: BPath,
    pub lease: Lease,
}

/// A file's block size, kept in 512-byte units in 4 bytes (sizes are validated to be multiples of
/// 512 up to 1 TiB when a file is created); persisted in bytes, as a `u64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockSize(u32);

/// The unit block sizes are multiples of.
pub const BLOCK_SIZE_UNIT: u64 = 512;

impl BlockSize {
    /// `bytes`, a positive multiple of [`BLOCK_SIZE_UNIT`] below 2 TiB; `None` otherwise.
    pub fn from_bytes(bytes: u64) -> Option<Self> {
        if bytes == 0 || !bytes.is_multiple_of(BLOCK_SIZE_UNIT) {
            return None;
        }
        u32::try_from(bytes / BLOCK_SIZE_UNIT).ok().map(BlockSize)
    }

    pub fn bytes(self) -> u64 {
        u64::from(self.0) * BLOCK_SIZE_UNIT
    }
}

impl Serialize for BlockSize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.bytes())
    }
}

impl<'de> Deserialize<'de> for BlockSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bytes = u64::deserialize(d)?;
        BlockSize::from_bytes(bytes).ok_or_else(|| serde::de::Error::custom(format!("invalid block size {bytes}")))
    }
}

/// What a file is beyond its inode header (40 bytes: it is in every file's inode).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    pub replication: u32,
    pub block_size: BlockSize,
    pub blocks: Vec<BlockMeta>,
    /// `Some` while the file is under construction.
    pub lease: Option<Box<Lease>>,
}

impl FileMeta {
    pub fn length(&self) -> u64 {
        self.blocks.iter().map(|b| b.len).sum()
    }

    /// The last block, if it is being written (the file is open and a block was added since).
    pub fn writing_block(&self) -> Option<&BlockMeta> {
        self.blocks
            .last()
            .filter(|_| self.lease.as_ref().is_some_and(|l| l.last_block_open))
    }

    /// Every block but the one being written.
    pub fn finished_blocks(&self) -> &[BlockMeta] {
        let writing = usize::from(self.writing_block().is_some());
        &self.blocks[..self.blocks.len() - writing]
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InodeKind {
    Dir { children: BTreeMap<Name, InodeId> },
    File(FileMeta),
}

/// A directory or a file. Its id is its key in the inode table; its name is the key of its entry in
/// the parent's child map.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inode {
    pub parent: InodeId,
    pub perm: StoredPerm,
    pub mtime_ms: u64,
    pub kind: InodeKind,
}

impl Inode {
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, InodeKind::Dir { .. })
    }
}

/// The status of a file or directory, as returned by stat and list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStatus {
    pub path: BPath,
    pub inode: InodeId,
    pub is_dir: bool,
    pub length: u64,
    pub replication: u32,
    pub block_size: u64,
    pub mtime_ms: u64,
    /// Access time: a file's is its modification time unless set ([`super::FsCommand::SetTimes`]);
    /// a directory's is 0 (as HDFS reports).
    #[serde(default)]
    pub atime_ms: u64,
    pub perm: Perm,
    pub under_construction: bool,
    pub block_count: u64,
    /// Entries of a directory; 0 for a file.
    #[serde(default)]
    pub children: u64,
}

/// Totals below a path, as `du` reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentSummary {
    pub length: u64,
    pub files: u64,
    pub directories: u64,
    /// Bytes including replication.
    pub space_consumed: u64,
}
