//! The block store: finalized replicas on disk and the in-memory map of them, plus the replicas being
//! written and those kept after a broken write.
//!
//! [`layout`] owns every path. [`BlockStore::open`] discards `tmp/` (unfinalized writes) and scans
//! `current/` ([`scan`]); replicas are written through a [`ReplicaWriter`] (temp files, verified appends,
//! fsync + rename + directory fsync on finalize) and read through a [`ReplicaReader`] (every chunk verified).
//! All methods block on disk IO: async callers use `spawn_blocking`.
//!
//! States of a block's replica (changed only under the state lock):
//! - **writing**: a [`ReplicaWriter`] owns temp files under `tmp/`. Its entry carries a cancel signal: a newer
//!   generation stamp (a pipeline resume, a recovery) [`supersede`](BlockStore::supersede)s it and waits
//!   until the writer is gone.
//! - **parked** ("rbw"): a write that ended without a local fault keeps its temp files
//!   ([`ReplicaWriter::park`]): every byte of its length with its checksum. A resume
//!   ([`begin_resume`](BlockStore::begin_resume)) continues it under a newer generation stamp, truncated to
//!   the offset the whole pipeline acknowledged; a recovery finalizes it
//!   ([`finalize_recovery`](BlockStore::finalize_recovery)); otherwise it expires
//!   ([`expire_parked`](BlockStore::expire_parked)). Not in block reports nor in `used`; a restart drops it.
//! - **finalized**: under `current/`, in the map, reported. A resume may turn it back into a parked replica
//!   (the last packet reached this node but not the writer).
//!
//! A recovery's first step ([`init_recovery`](BlockStore::init_recovery)) fences the block with its
//! generation stamp G: writes, resumes and recoveries with a stamp below G are refused until the replica is
//! finalized at G or later, or is gone.

pub mod layout;
mod reader;
mod scan;
mod usage;
mod writer;

pub use layout::Layout;
pub use reader::{ReadChunks, ReplicaReader};
pub use usage::Usage;
pub use writer::ReplicaWriter;

use crate::error::DatanodeError;
use basalt_common::{BlockId, GenStamp};
use basalt_host::{create_dir_durable, fsync_dir};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;

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
        self.length + basalt_common::checksum::meta_len(self.length, self.chunk_size)
    }
}

/// A replica kept under `tmp/` after its write stream ended without a local fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedReplica {
    /// The data kept: `length` bytes (each with its checksum) in the temp files named by the paths.
    pub replica: Replica,
    pub parked_at: Instant,
}

/// A block's replica as a recovery sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaState {
    pub genstamp: GenStamp,
    pub length: u64,
    /// Finalized (its length is final), rather than parked.
    pub finalized: bool,
}

/// The outcome of [`BlockStore::finalize_recovery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// The replica now finalized under the recovery's generation stamp.
    pub replica: Replica,
    /// The replica before this call.
    pub before: ReplicaState,
    /// False when the replica was already finalized so (a retried call): nothing to report.
    pub changed: bool,
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
    writing: HashMap<BlockId, Writing>,
    parked: HashMap<BlockId, ParkedReplica>,
    /// Generation stamp of the latest recovery of a block, while it is unfinished.
    fences: HashMap<BlockId, GenStamp>,
    /// Bytes of finalized replicas.
    used: u64,
}

/// The store's end of an active writer.
#[derive(Debug)]
struct Writing {
    genstamp: GenStamp,
    /// Set to the superseding generation stamp to stop the writer's stream.
    cancel: watch::Sender<Option<GenStamp>>,
    /// Closed once the writer is gone (finalized, parked or discarded).
    gone: watch::Receiver<()>,
}

/// The writer's end of its `writing` entry; dropping it releases the block.
#[derive(Debug)]
struct Reservation {
    store: BlockStore,
    block: BlockId,
    superseded: watch::Receiver<Option<GenStamp>>,
    /// Dropped last: tells whoever superseded the writer that it is gone.
    _gone: watch::Sender<()>,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.store.end_write(self.block);
    }
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
            used,
            ..State::default()
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

    /// The parked replica of `block`, if any.
    pub fn parked(&self, block: BlockId) -> Option<ParkedReplica> {
        self.state().parked.get(&block).cloned()
    }

    /// The replicas being written, with their generation stamps, in block id order.
    pub fn writes(&self) -> Vec<(BlockId, GenStamp)> {
        let mut all: Vec<_> = self.state().writing.iter().map(|(b, w)| (*b, w.genstamp)).collect();
        all.sort();
        all
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
    /// Fails if the same replica is finalized already, a newer one exists (finalized or parked), another write
    /// is running or a newer recovery fences the block. An older parked replica is discarded.
    pub fn begin_write(
        &self,
        block: BlockId,
        genstamp: GenStamp,
        chunk_size: u32,
    ) -> Result<ReplicaWriter, DatanodeError> {
        let (reservation, stale) = {
            let mut state = self.state();
            check_fence(&state, block, genstamp)?;
            check_replaceable(&state, block, genstamp)?;
            if state.writing.contains_key(&block) {
                return Err(DatanodeError::WriteInProgress { block });
            }
            if let Some(p) = state.parked.get(&block)
                && p.replica.genstamp > genstamp
            {
                return Err(DatanodeError::NewerReplicaExists {
                    block,
                    existing: p.replica.genstamp,
                    offered: genstamp,
                });
            }
            let stale = state.parked.remove(&block);
            (self.reserve(&mut state, block, genstamp), stale)
        };
        if let Some(p) = stale {
            tracing::debug!(%block, genstamp = %p.replica.genstamp, "parked replica replaced by a new write");
            remove_files(&p.replica);
        }
        ReplicaWriter::create(block, genstamp, chunk_size, reservation)
    }

    /// Asks the active writer of `block`, if its generation stamp is older than `genstamp`, to stop. Returns
    /// a receiver whose `changed()` fails once that writer is gone, or `None` when no writer is active.
    /// Fails if the active writer is not older, or a newer recovery fences the block.
    pub fn supersede(&self, block: BlockId, genstamp: GenStamp) -> Result<Option<watch::Receiver<()>>, DatanodeError> {
        let state = self.state();
        check_fence(&state, block, genstamp)?;
        let Some(w) = state.writing.get(&block) else {
            return Ok(None);
        };
        match w.genstamp.cmp(&genstamp) {
            Ordering::Equal => Err(DatanodeError::WriteInProgress { block }),
            Ordering::Greater => Err(DatanodeError::GenStampNotNewer {
                block,
                existing: w.genstamp,
                offered: genstamp,
            }),
            Ordering::Less => {
                w.cancel
                    .send_modify(|by| *by = Some(by.map_or(genstamp, |b| b.max(genstamp))));
                Ok(Some(w.gone.clone()))
            }
        }
    }

    /// Continues this node's replica of `block` under the newer `genstamp` from `offset` (pipeline recovery):
    /// the parked replica, else the finalized one (taken back under `tmp/`), cut to `offset`.
    ///
    /// `offset` must be at most the replica's length and a multiple of its chunk size (or the length itself);
    /// `chunk_size` 0 means the replica's, anything else must equal it. An active writer must have been
    /// superseded first ([`BlockStore::supersede`]).
    pub fn begin_resume(
        &self,
        block: BlockId,
        genstamp: GenStamp,
        offset: u64,
        chunk_size: u32,
    ) -> Result<ReplicaWriter, DatanodeError> {
        let (from, finalized, reservation) = {
            let mut state = self.state();
            check_fence(&state, block, genstamp)?;
            if state.writing.contains_key(&block) {
                return Err(DatanodeError::WriteInProgress { block });
            }
            let (current, finalized) = match (state.parked.get(&block), state.replicas.get(&block)) {
                (Some(p), _) => (p.replica.clone(), false),
                (None, Some(r)) => (r.clone(), true),
                (None, None) => return Err(DatanodeError::NoReplicaToResume { block }),
            };
            check_newer(block, current.genstamp, genstamp)?;
            check_replaceable(&state, block, genstamp)?;
            if offset > current.length {
                return Err(DatanodeError::ReplicaTooShort {
                    block,
                    wanted: offset,
                    length: current.length,
                });
            }
            if !offset.is_multiple_of(current.chunk_size as u64) && offset != current.length {
                return Err(DatanodeError::ResumeUnaligned {
                    block,
                    offset,
                    chunk_size: current.chunk_size,
                    length: current.length,
                });
            }
            if chunk_size != 0 && chunk_size != current.chunk_size {
                return Err(DatanodeError::BadStream {
                    reason: "resume names a chunk size other than the replica's",
                });
            }
            let from = if finalized {
                self.unfinalize(&mut state, &current, genstamp)?
            } else {
                state.parked.remove(&block).map_or(current, |p| p.replica)
            };
            (from, finalized, self.reserve(&mut state, block, genstamp))
        };
        let writer = ReplicaWriter::reopen(from, genstamp, offset, reservation)?;
        if finalized {
            fsync_dir(&self.layout().block_dir(block))?;
        }
        Ok(writer)
    }

    /// Recovery step 1: reports the replica of `block` and fences it with the recovery's `genstamp`.
    /// `None` if this node has no replica. Any older writer must have been superseded first.
    pub fn init_recovery(&self, block: BlockId, genstamp: GenStamp) -> Result<Option<ReplicaState>, DatanodeError> {
        let mut state = self.state();
        check_fence(&state, block, genstamp)?;
        if state.writing.contains_key(&block) {
            return Err(DatanodeError::WriteInProgress { block });
        }
        let Some(found) = replica_state(&state, block) else {
            return Ok(None);
        };
        if found.genstamp > genstamp {
            return Err(DatanodeError::NewerReplicaExists {
                block,
                existing: found.genstamp,
                offered: genstamp,
            });
        }
        state.fences.insert(block, genstamp);
        settle_fence(&mut state, block);
        Ok(Some(found))
    }

    /// Recovery step 2: cuts the replica of `block` to `length` and finalizes it under `genstamp`. A retried
    /// call that finds it already finalized so succeeds with `changed` false.
    pub fn finalize_recovery(
        &self,
        block: BlockId,
        genstamp: GenStamp,
        length: u64,
    ) -> Result<Recovered, DatanodeError> {
        enum Plan {
            Done(Replica),
            Restamped(Replica),
            Cut(Replica, Reservation),
        }
        let (before, plan) = {
            let mut state = self.state();
            check_fence(&state, block, genstamp)?;
            if state.writing.contains_key(&block) {
                return Err(DatanodeError::WriteInProgress { block });
            }
            let before = replica_state(&state, block).ok_or(DatanodeError::BlockNotFound { block })?;
            let finalized = (!state.parked.contains_key(&block))
                .then(|| state.replicas.get(&block).cloned())
                .flatten();
            match finalized {
                Some(r) if r.genstamp == genstamp && r.length == length => (before, Plan::Done(r)),
                Some(r) if r.genstamp == genstamp => {
                    return Err(DatanodeError::BlockExists { block, genstamp });
                }
                _ if before.genstamp > genstamp => {
                    return Err(DatanodeError::NewerReplicaExists {
                        block,
                        existing: before.genstamp,
                        offered: genstamp,
                    });
                }
                _ if length > before.length => {
                    return Err(DatanodeError::ReplicaTooShort {
                        block,
                        wanted: length,
                        length: before.length,
                    });
                }
                Some(r) if r.length == length => {
                    let restamped = Replica {
                        genstamp,
                        meta_path: self.layout().meta_path(block, genstamp),
                        ..r.clone()
                    };
                    fs::rename(&r.meta_path, &restamped.meta_path).map_err(DatanodeError::io(&restamped.meta_path))?;
                    state.replicas.insert(block, restamped.clone());
                    settle_fence(&mut state, block);
                    (before, Plan::Restamped(restamped))
                }
                Some(r) => {
                    let moved = self.unfinalize(&mut state, &r, genstamp)?;
                    (before, Plan::Cut(moved, self.reserve(&mut state, block, genstamp)))
                }
                None => {
                    check_replaceable(&state, block, genstamp)?;
                    let p = state
                        .parked
                        .remove(&block)
                        .ok_or(DatanodeError::BlockNotFound { block })?;
                    (before, Plan::Cut(p.replica, self.reserve(&mut state, block, genstamp)))
                }
            }
        };
        let (replica, changed) = match plan {
            Plan::Done(r) => (r, false),
            Plan::Restamped(r) => {
                fsync_dir(&self.layout().block_dir(block))?;
                (r, true)
            }
            Plan::Cut(from, reservation) => {
                let writer = ReplicaWriter::reopen(from, genstamp, length, reservation)?;
                (writer.finalize()?, true)
            }
        };
        if changed {
            tracing::info!(%block, %genstamp, length, from = %before.genstamp, "replica recovered");
        }
        Ok(Recovered {
            replica,
            before,
            changed,
        })
    }

    /// Removes the parked replicas parked for at least `max_age`, with their files. Returns them.
    pub fn expire_parked(&self, max_age: Duration) -> Vec<Replica> {
        let now = Instant::now();
        let expired: Vec<Replica> = {
            let mut state = self.state();
            let expired: Vec<Replica> = state
                .parked
                .extract_if(|_, p| now.saturating_duration_since(p.parked_at) >= max_age)
                .map(|(_, p)| p.replica)
                .collect();
            for r in &expired {
                settle_fence(&mut state, r.block);
            }
            expired
        };
        for r in &expired {
            tracing::info!(block = %r.block, genstamp = %r.genstamp, length = r.length, "parked replica expired");
            remove_files(r);
        }
        expired
    }

    /// Deletes the replica of `block` if its generation stamp is at most `genstamp` (a newer replica is
    /// kept), and likewise a parked replica. Returns the deleted finalized replica.
    pub fn delete(&self, block: BlockId, genstamp: GenStamp) -> Result<Option<Replica>, DatanodeError> {
        let (removed, parked) = {
            let mut state = self.state();
            let removed = match state.replicas.get(&block) {
                Some(r) if r.genstamp <= genstamp => {
                    let r = state.replicas.remove(&block);
                    state.used -= r.as_ref().map_or(0, Replica::disk_bytes);
                    r
                }
                _ => None,
            };
            let parked = match state.parked.get(&block) {
                Some(p) if p.replica.genstamp <= genstamp => state.parked.remove(&block),
                _ => None,
            };
            settle_fence(&mut state, block);
            (removed, parked)
        };
        if let Some(p) = parked {
            tracing::debug!(%block, genstamp = %p.replica.genstamp, "parked replica deleted");
            remove_files(&p.replica);
        }
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
        // The destination directory's fsync makes the renames durable; `tmp/` is emptied at start anyway.
        fsync_dir(&dir)?;
        tracing::debug!(%block, %genstamp, length, "replica finalized");
        Ok(replica)
    }

    /// Called by a writer that stopped early with its data intact: lists it as parked. Returns false (the
    /// caller then discards the files) when a finalized replica at the same or a newer stamp exists.
    fn park(&self, replica: Replica) -> bool {
        let block = replica.block;
        let old = {
            let mut state = self.state();
            if check_replaceable(&state, block, replica.genstamp).is_err() {
                return false;
            }
            let parked = ParkedReplica {
                replica,
                parked_at: Instant::now(),
            };
            state.parked.insert(block, parked)
        };
        if let Some(old) = old {
            remove_files(&old.replica);
        }
        true
    }

    /// Moves a finalized replica back under `tmp/` (named for `genstamp`) and forgets it. The caller holds
    /// the state lock, and fsyncs the block directory after releasing it.
    fn unfinalize(&self, state: &mut State, r: &Replica, genstamp: GenStamp) -> Result<Replica, DatanodeError> {
        let (data_path, meta_path) = self.layout().tmp_paths(r.block, genstamp, fastrand::u64(..));
        fs::rename(&r.meta_path, &meta_path).map_err(DatanodeError::io(&r.meta_path))?;
        if let Err(e) = fs::rename(&r.data_path, &data_path) {
            let _ = fs::rename(&meta_path, &r.meta_path);
            return Err(DatanodeError::io(&r.data_path)(e));
        }
        state.replicas.remove(&r.block);
        state.used -= r.disk_bytes();
        tracing::debug!(block = %r.block, genstamp = %r.genstamp, "finalized replica taken back for a newer stamp");
        Ok(Replica {
            data_path,
            meta_path,
            ..r.clone()
        })
    }

    /// Registers the active writer of `block`; the caller holds the lock and checked that none is active.
    fn reserve(&self, state: &mut State, block: BlockId, genstamp: GenStamp) -> Reservation {
        let (cancel, superseded) = watch::channel(None);
        let (gone_tx, gone) = watch::channel(());
        state.writing.insert(block, Writing { genstamp, cancel, gone });
        Reservation {
            store: self.clone(),
            block,
            superseded,
            _gone: gone_tx,
        }
    }

    fn end_write(&self, block: BlockId) {
        let mut state = self.state();
        state.writing.remove(&block);
        settle_fence(&mut state, block);
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

/// Fails if a recovery newer than `genstamp` fences `block`.
fn check_fence(state: &State, block: BlockId, genstamp: GenStamp) -> Result<(), DatanodeError> {
    match state.fences.get(&block) {
        Some(&recovery) if recovery > genstamp => Err(DatanodeError::RecoveryFenced {
            block,
            recovery,
            offered: genstamp,
        }),
        _ => Ok(()),
    }
}

/// Fails unless `offered` is newer than the replica's `existing` stamp.
fn check_newer(block: BlockId, existing: GenStamp, offered: GenStamp) -> Result<(), DatanodeError> {
    if offered > existing {
        Ok(())
    } else {
        Err(DatanodeError::GenStampNotNewer {
            block,
            existing,
            offered,
        })
    }
}

/// Drops the fence of `block` once it has done its job: the replica is gone, or finalized at (or beyond)
/// the recovery's stamp.
fn settle_fence(state: &mut State, block: BlockId) {
    let Some(&fence) = state.fences.get(&block) else {
        return;
    };
    let pending = state.writing.contains_key(&block)
        || state.parked.contains_key(&block)
        || state.replicas.get(&block).is_some_and(|r| r.genstamp < fence);
    if !pending {
        state.fences.remove(&block);
    }
}

/// The parked replica of `block`, else its finalized one.
fn replica_state(state: &State, block: BlockId) -> Option<ReplicaState> {
    match (state.parked.get(&block), state.replicas.get(&block)) {
        (Some(p), _) => Some(ReplicaState {
            genstamp: p.replica.genstamp,
            length: p.replica.length,
            finalized: false,
        }),
        (None, Some(r)) => Some(ReplicaState {
            genstamp: r.genstamp,
            length: r.length,
            finalized: true,
        }),
        (None, None) => None,
    }
}

/// Removes the files of a replica no longer listed (best effort: `tmp/` is cleared at start anyway).
fn remove_files(r: &Replica) {
    for path in [&r.data_path, &r.meta_path] {
        if let Err(e) = fs::remove_file(path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove replica file");
        }
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
