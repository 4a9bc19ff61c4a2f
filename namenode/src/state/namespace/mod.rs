//! The file namespace: directories, files and their blocks, as a pure sub-machine of the metadata
//! state. [`Namespace::apply`] takes one [`FsCommand`] and returns its result; queries read it. Raft,
//! RPC, time and the request dedup window live outside (`crate::state`).

mod apply;
pub mod command;
pub mod error;
pub mod permission;
mod query;
pub mod symbols;
pub mod types;

#[cfg(test)]
mod tests;

pub use command::{FsCommand, FsOutput};
pub use error::NamespaceError;
pub use permission::{Access, Caller};
pub use types::{
    BlockMeta, ContentSummary, FileMeta, FileStatus, Inode, InodeKind, Lease, Name, OpenFile, Perm, RECOVERY_HOLDER,
    StoredPerm,
};

use basalt_common::{BPath, BlockId, InodeId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use symbols::Symbols;

/// Inode id of the root directory.
pub const ROOT: InodeId = InodeId(1);
/// Largest replication factor a file may ask for.
pub const MAX_REPLICATION: u32 = 32;

/// The whole replicated file namespace.
///
/// Persisted with named fields (see `state::codec`): a field added later needs `#[serde(default)]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Namespace {
    /// Boxed: a map slot stays 16 bytes however the table grows (it doubles).
    inodes: HashMap<InodeId, Box<Inode>>,
    next_inode: u64,
    next_block: u64,
    next_gen: u64,
    /// Which file owns each block.
    block_owner: HashMap<BlockId, InodeId>,
    /// Files under construction (those with a lease): what lease recovery walks, instead of every inode.
    open: BTreeSet<InodeId>,
    /// The names of directories and open files, which is all that walking up to a path needs (a closed
    /// file's name lives only in its parent's child map).
    names: HashMap<InodeId, Name>,
    /// Owner and group names.
    symbols: Symbols,
    /// Access times set explicitly ([`FsCommand::SetTimes`]), by file; any other file's access time is
    /// its modification time. A side table because few files have one and every inode would pay for a
    /// field (the inode size is held by a test).
    #[serde(default)]
    atimes: HashMap<InodeId, u64>,
}

impl Default for Namespace {
    fn default() -> Self {
        Self::new()
    }
}

impl Namespace {
    /// An empty namespace holding only `/`.
    pub fn new() -> Self {
        let mut ns = Namespace {
            inodes: HashMap::new(),
            next_inode: ROOT.0 + 1,
            next_block: 1 << 30,
            next_gen: 1000,
            block_owner: HashMap::new(),
            open: BTreeSet::new(),
            names: HashMap::new(),
            symbols: Symbols::default(),
            atimes: HashMap::new(),
        };
        let root = Inode {
            parent: ROOT,
            perm: ns.store_perm(&Perm::default_dir()),
            mtime_ms: 0,
            kind: InodeKind::Dir {
                children: BTreeMap::new(),
            },
        };
        ns.inodes.insert(ROOT, Box::new(root));
        ns
    }

    /// Builds a namespace from its inodes, each `(id, parent, name, perm, mtime, file)` (`None` for a
    /// directory), in any order; directory entries, the block owners and the open files are derived.
    /// Used to upgrade older formats.
    pub(crate) fn from_parts(
        next_inode: u64,
        next_block: u64,
        next_gen: u64,
        inodes: impl IntoIterator<Item = (InodeId, InodeId, String, Perm, u64, Option<FileMeta>)>,
    ) -> Self {
        let mut ns = Namespace::new();
        ns.next_inode = next_inode;
        ns.next_block = next_block;
        ns.next_gen = next_gen;
        let mut links = Vec::new();
        for (id, parent, name, perm, mtime_ms, file) in inodes {
            let perm = ns.store_perm(&perm);
            let name: Name = name.into();
            let named = match &file {
                None => true,
                Some(f) => f.lease.is_some(),
            };
            let kind = match file {
                None => InodeKind::Dir {
                    children: BTreeMap::new(),
                },
                Some(f) => {
                    for b in &f.blocks {
                        ns.block_owner.insert(b.id, id);
                    }
                    if f.lease.is_some() {
                        ns.open.insert(id);
                    }
                    InodeKind::File(f)
                }
            };
            if id != ROOT {
                if named {
                    ns.names.insert(id, name.clone());
                }
                links.push((parent, name, id));
            }
            ns.inodes.insert(
                id,
                Box::new(Inode {
                    parent,
                    perm,
                    mtime_ms,
                    kind,
                }),
            );
        }
        for (parent, name, id) in links {
            if let Some(InodeKind::Dir { children }) = ns.inodes.get_mut(&parent).map(|i| &mut i.kind) {
                children.insert(name, id);
            }
        }
        ns
    }

    /// Resolves a path to its inode id.
    pub(crate) fn lookup(&self, path: &BPath) -> Option<InodeId> {
        let mut cur = ROOT;
        for comp in path.components() {
            match &self.inodes.get(&cur)?.kind {
                InodeKind::Dir { children } => cur = *children.get(comp)?,
                InodeKind::File(_) => return None,
            }
        }
        Some(cur)
    }

    /// Like [`Self::lookup`], but tells apart a missing entry from a file used as a directory.
    pub(crate) fn resolve(&self, path: &BPath) -> Result<InodeId, NamespaceError> {
        let mut cur = ROOT;
        let mut walked = BPath::root();
        for comp in path.components() {
            match &self.inodes[&cur].kind {
                InodeKind::Dir { children } => {
                    cur = *children
                        .get(comp)
                        .ok_or_else(|| NamespaceError::NotFound { path: path.clone() })?;
                    walked = walked.join(comp)?;
                }
                InodeKind::File(_) => return Err(NamespaceError::NotADirectory { path: walked }),
            }
        }
        Ok(cur)
    }

    pub(crate) fn inode(&self, id: InodeId) -> &Inode {
        &self.inodes[&id]
    }

    /// The permission of an inode as clients see it.
    pub(crate) fn perm_of(&self, p: &StoredPerm) -> Perm {
        Perm {
            owner: self.symbols.name(p.owner).to_string(),
            group: self.symbols.name(p.group).to_string(),
            mode: u32::from(p.mode),
        }
    }

    /// The current generation stamp of `block` in its file, and whether it is the block being written;
    /// `None` when no file owns the block.
    pub fn block_state(&self, block: BlockId) -> Option<(basalt_common::GenStamp, bool)> {
        let owner = self.block_owner.get(&block)?;
        match &self.inodes.get(owner)?.kind {
            InodeKind::File(f) => {
                let writing = f.writing_block().map(|b| b.id);
                f.blocks
                    .iter()
                    .rev()
                    .find(|b| b.id == block)
                    .map(|b| (b.gen_stamp, writing == Some(block)))
            }
            InodeKind::Dir { .. } => None,
        }
    }

    /// Every file under construction, with its lease (in inode order). O(open files).
    pub fn open_files(&self) -> Vec<OpenFile> {
        self.open
            .iter()
            .filter_map(|id| match &self.inodes.get(id)?.kind {
                InodeKind::File(FileMeta { lease: Some(lease), .. }) => Some(OpenFile {
                    path: self.path_of(*id)?,
                    lease: (**lease).clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// How many files are under construction.
    pub fn open_file_count(&self) -> usize {
        self.open.len()
    }

    /// The path of an inode, walking up its parents.
    fn path_of(&self, mut id: InodeId) -> Option<BPath> {
        let mut names = Vec::new();
        while id != ROOT {
            names.push(self.names.get(&id)?);
            id = self.inodes.get(&id)?.parent;
        }
        let mut path = BPath::root();
        for n in names.iter().rev() {
            path = path.join(n).ok()?;
        }
        Some(path)
    }

    /// The file owning `block`, if any.
    pub fn block_owner(&self, block: BlockId) -> Option<InodeId> {
        self.block_owner.get(&block).copied()
    }

    /// Every finished block (all but the one being written) with the replication factor its file wants.
    pub fn complete_blocks_with_replication(&self) -> impl Iterator<Item = (&BlockMeta, u32)> {
        self.files()
            .flat_map(|f| f.finished_blocks().iter().map(move |b| (b, f.replication)))
    }

    /// Every finished block (those a restart must find replicas of).
    pub fn complete_blocks(&self) -> impl Iterator<Item = &BlockMeta> {
        self.complete_blocks_with_replication().map(|(b, _)| b)
    }

    fn files(&self) -> impl Iterator<Item = &FileMeta> {
        self.inodes.values().filter_map(|i| match &i.kind {
            InodeKind::File(f) => Some(f),
            InodeKind::Dir { .. } => None,
        })
    }

    /// Number of (files, directories, blocks), in O(1) from the indexes (no walk of the inodes): the
    /// named inodes are the directories but `/` and the open files (the invariants the property test
    /// checks, with this count against a walk).
    pub fn counts(&self) -> (u64, u64, u64) {
        let dirs = (self.names.len().saturating_sub(self.open.len()) + 1) as u64;
        let files = self.inodes.len() as u64 - dirs;
        (files, dirs, self.block_owner.len() as u64)
    }
}
