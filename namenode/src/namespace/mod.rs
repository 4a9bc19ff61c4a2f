//! The namespace: the replicated, in-memory state machine of files, directories, their blocks and the
//! datanode identities. Pure: [`Namespace::apply`] takes a log entry and returns its result; queries
//! read it. Raft, RPC and time live outside.

mod apply;
pub mod command;
pub mod error;
mod query;
pub mod types;

#[cfg(test)]
mod tests;

pub use command::{Batch, COMMAND_VERSION, Command, Output, Request, Response};
pub use error::NamespaceError;
pub use types::{
    AdminState, BlockMeta, ContentSummary, DatanodeRecord, FileMeta, FileStatus, Inode, InodeKind, Lease, OpenFile,
    Perm, RECOVERY_HOLDER,
};

use basalt_common::{BPath, BlockId, DatanodeId, InodeId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Inode id of the root directory.
pub const ROOT: InodeId = InodeId(1);
/// Largest replication factor a file may ask for.
pub const MAX_REPLICATION: u32 = 32;
/// Applied (client, request id) results are remembered for retries for at least this long (batch time)…
const DEDUP_MIN_AGE_MS: u64 = 120_000;
/// …and at least this many, but never more than [`DEDUP_MAX`].
const DEDUP_MIN: usize = 65_536;
const DEDUP_MAX: usize = 1 << 20;

/// The whole replicated namespace.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Namespace {
    inodes: HashMap<InodeId, Inode>,
    next_inode: u64,
    next_block: u64,
    next_gen: u64,
    /// Which file owns each block.
    block_owner: HashMap<BlockId, InodeId>,
    datanodes: BTreeMap<DatanodeId, DatanodeRecord>,
    /// Datanodes not in service (being or done being decommissioned).
    admin_states: BTreeMap<DatanodeId, AdminState>,
    /// Recent requests with the batch time they were applied at, oldest first: the eviction order of
    /// `recent_index`, which holds their results for idempotent retries.
    recent: VecDeque<((String, u64), u64)>,
    /// Time of the batch being applied.
    clock_ms: u64,
    recent_index: HashMap<(String, u64), Response>,
}

impl Default for Namespace {
    fn default() -> Self {
        Self::new()
    }
}

impl Namespace {
    /// An empty namespace holding only `/`.
    pub fn new() -> Self {
        let root = Inode {
            id: ROOT,
            parent: ROOT,
            name: String::new(),
            perm: Perm::default_dir(),
            mtime_ms: 0,
            kind: InodeKind::Dir {
                children: BTreeMap::new(),
            },
        };
        Namespace {
            inodes: HashMap::from([(ROOT, root)]),
            next_inode: ROOT.0 + 1,
            next_block: 1 << 30,
            next_gen: 1000,
            block_owner: HashMap::new(),
            datanodes: BTreeMap::new(),
            admin_states: BTreeMap::new(),
            recent: VecDeque::new(),
            clock_ms: 0,
            recent_index: HashMap::new(),
        }
    }

    /// Applies one log entry. Requests already applied (same client and request id) return their first
    /// result again without changing anything.
    pub fn apply(&mut self, req: &Request) -> Response {
        if req.version != COMMAND_VERSION {
            return Response(Err(NamespaceError::UnsupportedVersion { version: req.version }));
        }
        let key = (req.client.clone(), req.request_id);
        if req.request_id != 0
            && let Some(prev) = self.recent_index.get(&key)
        {
            return prev.clone();
        }
        let resp = Response(self.apply_command(&req.client, &req.command));
        if req.request_id != 0 {
            self.recent.push_back((key.clone(), self.clock_ms));
            self.recent_index.insert(key, resp.clone());
            let horizon = self.clock_ms.saturating_sub(DEDUP_MIN_AGE_MS);
            while let Some((_, at)) = self.recent.front()
                && (self.recent.len() > DEDUP_MAX || (self.recent.len() > DEDUP_MIN && *at < horizon))
            {
                if let Some((old, _)) = self.recent.pop_front() {
                    self.recent_index.remove(&old);
                }
            }
        }
        resp
    }

    /// Applies one log entry's batch of requests, in order, at the batch's time.
    pub fn apply_batch(&mut self, batch: &Batch) -> Vec<Response> {
        self.clock_ms = self.clock_ms.max(batch.time_ms);
        batch.requests.iter().map(|r| self.apply(r)).collect()
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
    pub(crate) fn resolve(&self, path: &BPath) -> Result<&Inode, NamespaceError> {
        let mut cur = &self.inodes[&ROOT];
        let mut walked = BPath::root();
        for comp in path.components() {
            match &cur.kind {
                InodeKind::Dir { children } => {
                    let id = children
                        .get(comp)
                        .ok_or_else(|| NamespaceError::NotFound { path: path.clone() })?;
                    cur = &self.inodes[id];
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

    /// The datanodes that have registered, by id.
    pub fn datanodes(&self) -> &BTreeMap<DatanodeId, DatanodeRecord> {
        &self.datanodes
    }

    /// Datanodes not in service, with their state.
    pub fn admin_states(&self) -> &BTreeMap<DatanodeId, AdminState> {
        &self.admin_states
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

    /// Every file under construction, with its lease (in no particular order).
    pub fn open_files(&self) -> Vec<OpenFile> {
        self.inodes
            .values()
            .filter_map(|inode| match &inode.kind {
                InodeKind::File(FileMeta { lease: Some(lease), .. }) => Some(OpenFile {
                    path: self.path_of(inode.id)?,
                    lease: lease.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// How many files are under construction.
    pub fn open_file_count(&self) -> usize {
        self.files().filter(|f| f.lease.is_some()).count()
    }

    /// The path of an inode, walking up its parents.
    fn path_of(&self, mut id: InodeId) -> Option<BPath> {
        let mut names = Vec::new();
        while id != ROOT {
            let inode = self.inodes.get(&id)?;
            names.push(inode.name.as_str());
            id = inode.parent;
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

    /// Number of (files, directories, blocks).
    pub fn counts(&self) -> (u64, u64, u64) {
        let dirs = self.inodes.values().filter(|i| i.is_dir()).count() as u64;
        let files = self.inodes.len() as u64 - dirs;
        (files, dirs, self.block_owner.len() as u64)
    }
}
