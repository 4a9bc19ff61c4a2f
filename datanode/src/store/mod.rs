//! The block store: finalized replicas on disk and the in-memory map of them.
//!
//! [`layout`] owns every path. [`BlockStore::open`] discards `tmp/` (unfinalized writes) and scans
//! `current/` ([`scan`]); replicas are written through a [`ReplicaWriter`] (temp files, verified appends,
//! fsync + rename + directory fsync on finalize) and read through a [`ReplicaReader`] (every chunk verified).
//! All methods block on disk IO: async callers use `spawn_blocking`.

pub mod layout;
mod reader;
mod scan;
mod usage;
mod writer;

pub use layout::Layout;
pub use reader::{ReadChunks, ReplicaReader};
pub use usage::Usage;
pub use writer::ReplicaWriter;

use crate::durable::{create_dir_durable, fsync_dir};
use crate::error::DatanodeError;
use basalt_common::{BlockId, GenStamp};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// A finalized replica as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    pub block: BlockId,
    pub genstamp: GenStamp,
    /// Length of the data in bytes.
    pub length: u64,
    pub chunk_size: u32,
    pub data_path: PathBuf,
    pub meta_path: PathBuf,
}

impl Replica {
    /// Bytes on disk: data plus metadata.
    pub fn disk_bytes(&self) -> u64 {
        let sums = self.length.div_ceil(self.chunk_size as u64) * 4;
        self.length + basalt_common::checksum::META_HEADER_LEN as u64 + sums
    }
}

/// The replicas of one data directory. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct BlockStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    layout: Layout,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    replicas: HashMap<BlockId, Replica>,
    writing: HashSet<BlockId>,
    used: u64,
}

impl BlockStore {
    /// Opens (creating if needed) the store in `data_dir`: clears `tmp/` and scans `current/`.
    pub fn open(data_dir: impl Into<PathBuf>) -> Result<Self, DatanodeError> {
        let layout = Layout::new(data_dir);
        for dir in [
            layout.root().to_path_buf(),
            layout.current(),
            layout.tmp(),
            layout.corrupt(),
        ] {
            create_dir_durable(&dir)?;
        }
        let discarded = clear_dir(&layout.tmp())?;
        if discarded > 0 {
            tracing::info!(discarded, "discarded unfinalized replica files from tmp/");
        }
        let replicas = scan::scan(&layout)?;
        let used = replicas.values().map(Replica::disk_bytes).sum();
        tracing::info!(replicas = replicas.len(), used, "block store opened");
        let state = State {
            replicas,
            writing: HashSet::new(),
            used,
        };
        Ok(BlockStore {
            inner: Arc::new(Inner {
                layout,
                state: Mutex::new(state),
            }),
        })
    }

    pub fn layout(&self) -> &Layout {
        &self.inner.layout
    }

    /// The finalized replica of `block`, if any.
    pub fn get(&self, block: BlockId) -> Option<Replica> {
        self.state().replicas.get(&block).cloned()
    }

    /// The finalized replica of `block` with exactly generation stamp `genstamp`.
    pub fn lookup(&self, block: BlockId, genstamp: GenStamp) -> Result<Replica, DatanodeError> {
        match self.get(block) {
            None => Err(DatanodeError::BlockNotFound { block }),
            Some(r) if r.genstamp != genstamp => Err(DatanodeError::StaleGenStamp {
                block,
                requested: genstamp,
                actual: r.genstamp,
            }),
            Some(r) => Ok(r),
        }
    }

    /// Opens a verified reader of `block` at `genstamp`.
    pub fn open_reader(&self, block: BlockId, genstamp: GenStamp) -> Result<ReplicaReader, DatanodeError> {
        ReplicaReader::open(self.lookup(block, genstamp)?)
    }

    /// Every finalized replica, in block id order.
    pub fn replicas(&self) -> Vec<Replica> {
        let mut all: Vec<Replica> = self.state().replicas.values().cloned().collect();
        all.sort_by_key(|r| r.block);
        all
    }

    /// Number of finalized replicas.
    pub fn len(&self) -> usize {
        self.state().replicas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Capacity and remaining space of the filesystem, and the bytes of replicas stored.
    pub fn usage(&self) -> Result<Usage, DatanodeError> {
        let (capacity, remaining) = usage::fs_space(self.layout().root())?;
        Ok(Usage {
            capacity,
            used: self.state().used,
            remaining,
        })
    }

    /// Reserves `block` for a new replica at `genstamp` and creates its temp files.
    ///
    /// Fails if the same replica is finalized already, a newer one exists, or another write is running.
    pub fn begin_write(
        &self,
        block: BlockId,
        genstamp: GenStamp,
        chunk_size: u32,
    ) -> Result<ReplicaWriter, DatanodeError> {
        {
            let mut state = self.state();
            check_replaceable(&state, block, genstamp)?;
            if !state.writing.insert(block) {
                return Err(DatanodeError::WriteInProgress { block });
            }
        }
        ReplicaWriter::create(self.clone(), block, genstamp, chunk_size)
    }

    /// Deletes the replica of `block` if its generation stamp is at most `genstamp` (a newer replica is
    /// kept). Returns the deleted replica.
    pub fn delete(&self, block: BlockId, genstamp: GenStamp) -> Result<Option<Replica>, DatanodeError> {
        let removed = {
            let mut state = self.state();
            match state.replicas.get(&block) {
                Some(r) if r.genstamp <= genstamp => {
                    let r = state.replicas.remove(&block);
                    state.used -= r.as_ref().map_or(0, Replica::disk_bytes);
                    r
                }
                _ => None,
            }
        };
        if let Some(r) = &removed {
            for path in [&r.data_path, &r.meta_path] {
                match fs::remove_file(path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(DatanodeError::io(path)(e)),
                    _ => {}
                }
            }
            fsync_dir(&self.layout().block_dir(block))?;
            tracing::debug!(%block, genstamp = %r.genstamp, "replica deleted");
        }
        Ok(removed)
    }

    /// Moves a replica found bad out of `current/` into `corrupt/` and forgets it. Returns it if it was
    /// still listed with `genstamp`.
    pub fn quarantine(&self, block: BlockId, genstamp: GenStamp) -> Option<Replica> {
        let removed = {
            let mut state = self.state();
            match state.replicas.get(&block) {
                Some(r) if r.genstamp == genstamp => {
                    let r = state.replicas.remove(&block);
                    state.used -= r.as_ref().map_or(0, Replica::disk_bytes);
                    r
                }
                _ => None,
            }
        }?;
        scan::move_aside(self.layout(), &removed.data_path);
        scan::move_aside(self.layout(), &removed.meta_path);
        tracing::warn!(%block, %genstamp, "corrupt replica moved to corrupt/");
        Some(removed)
    }

    /// Called by a writer's finalize: renames its temp files into place and lists the replica.
    fn publish(
        &self,
        block: BlockId,
        genstamp: GenStamp,
        length: u64,
        chunk_size: u32,
        tmp_data: &Path,
        tmp_meta: &Path,
    ) -> Result<Replica, DatanodeError> {
        let layout = self.layout();
        let dir = layout.block_dir(block);
        create_dir_durable(&dir)?;
        let replica = Replica {
            block,
            genstamp,
            length,
            chunk_size,
            data_path: layout.data_path(block),
            meta_path: layout.meta_path(block, genstamp),
        };
        {
            let mut state = self.state();
            check_replaceable(&state, block, genstamp)?;
            // Meta first: a crash between the renames leaves a meta without data, which the scan sets aside.
            fs::rename(tmp_meta, &replica.meta_path).map_err(DatanodeError::io(&replica.meta_path))?;
            fs::rename(tmp_data, &replica.data_path).map_err(DatanodeError::io(&replica.data_path))?;
            if let Some(old) = state.replicas.insert(block, replica.clone()) {
                state.used -= old.disk_bytes();
                if old.meta_path != replica.meta_path {
                    let _ = fs::remove_file(&old.meta_path);
                }
            }
            state.used += replica.disk_bytes();
        }
        fsync_dir(&dir)?;
        fsync_dir(&layout.tmp())?;
        tracing::debug!(%block, %genstamp, length, "replica finalized");
        Ok(replica)
    }

    fn end_write(&self, block: BlockId) {
        self.state().writing.remove(&block);
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the map half-updated in a way later calls trip on.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn check_replaceable(state: &State, block: BlockId, genstamp: GenStamp) -> Result<(), DatanodeError> {
    match state.replicas.get(&block) {
        Some(r) if r.genstamp == genstamp => Err(DatanodeError::BlockExists { block, genstamp }),
        Some(r) if r.genstamp > genstamp => Err(DatanodeError::NewerReplicaExists {
            block,
            existing: r.genstamp,
            offered: genstamp,
        }),
        _ => Ok(()),
    }
}

/// Removes every entry of `dir`; returns how many were removed.
fn clear_dir(dir: &Path) -> Result<usize, DatanodeError> {
    let mut removed = 0;
    for entry in fs::read_dir(dir).map_err(DatanodeError::io(dir))? {
        let path = entry.map_err(DatanodeError::io(dir))?.path();
        let result = if path.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        result.map_err(DatanodeError::io(&path))?;
        removed += 1;
    }
    if removed > 0 {
        fsync_dir(dir)?;
    }
    Ok(removed)
}
