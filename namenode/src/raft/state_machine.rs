//! The metadata state as an openraft state machine, with snapshots in files.
//!
//! The state (namespace, last applied log id, membership) lives in memory behind an `RwLock` shared with
//! the RPC services, which read it directly. A snapshot is the encoded state in one file,
//! `<dir>/snapshot.bin` (layout, streaming and crash-safe replacement: [`super::snapshot_file`]); a
//! snapshot older than the one on disk (a build that finished after an install) is not published. At
//! start the state is the snapshot, streamed from the file; openraft replays the log tail on top of it.
//!
//! openraft's snapshot data (`SnapshotData`) is an open file, never an image in memory: a built
//! snapshot is encoded into its file, the current one is handed out opened (its meta is kept in
//! memory), a follower receives the leader's chunks into a temp file beside the snapshot file, and
//! installing streams that file through the decoder and then renames it into place. The decoder's
//! freed memory is returned to the system after a load, so start-up peaks near the steady state.
//!
//! Everything O(state) runs on a blocking thread, never on the async runtime: applying entries, the
//! copy a snapshot is built from (under the read lock: writers wait for the copy, not for the encoding;
//! they wait at a gate, not in the lock's queue, so readers go on meanwhile), encoding, decoding,
//! checksums, file IO, and dropping a replaced state (after the lock is released). The copy itself is
//! still O(state) (about 0.1 s per 100k files): writes pause for it once per snapshot.

use super::snapshot_file::{self, Meta, TempSnapshot};
use super::{LogId, MemberId, Membership, TypeConfig};
use crate::state::{MetaState, Response};
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    EntryPayload, ErrorSubject, ErrorVerb, OptionalSend, RaftSnapshotBuilder, SnapshotMeta, StorageError,
    StorageIOError,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

pub use super::snapshot_file::SnapshotError;

/// The directory of a member's data dir that holds its snapshot.
pub const SNAPSHOT_DIR: &str = "snapshots";

/// The snapshot file of the member whose data dir is `data_dir`.
pub fn snapshot_file(data_dir: &Path) -> PathBuf {
    data_dir.join(SNAPSHOT_DIR).join(snapshot_file::SNAPSHOT_FILE)
}

type StorageResult<T> = Result<T, StorageError<MemberId>>;

/// The replicated state and what Raft knows of it: what a snapshot holds. Derefs to the
/// [`MetaState`] its readers query.
#[derive(Default, Clone)]
pub struct SmState {
    pub last_applied: Option<LogId>,
    pub membership: Membership,
    pub meta: MetaState,
    /// Id of the snapshot this state was last saved as (informational).
    pub snapshot_id: String,
}

impl std::ops::Deref for SmState {
    type Target = MetaState;
    fn deref(&self) -> &MetaState {
        &self.meta
    }
}

/// Gives the memory a large decode or copy freed back to the system (glibc keeps it otherwise, and
/// the namenode's footprint would stay at its start-up peak).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's free lists; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Shared handle to the state for readers.
pub type SharedState = Arc<RwLock<SmState>>;

pub struct StateMachineStore {
    state: SharedState,
    dir: PathBuf,
    /// The meta of the snapshot file on disk; held while the file is replaced.
    on_disk: Arc<Mutex<Option<Meta>>>,
    copying: Arc<CopyGate>,
    /// The temp file the snapshot being received from the leader is written to (removed when a
    /// newer stream begins or the state machine closes, unless installed).
    receiving: Option<TempSnapshot>,
}

/// Open while a snapshot's copy of the state is taken. `apply` waits at the gate (asynchronously)
/// instead of queueing for the write lock: a writer queued behind the copy would hold every new reader
/// (the RPC services, on the async runtime) behind it for the whole copy.
#[derive(Default)]
struct CopyGate {
    copying: std::sync::atomic::AtomicBool,
    done: tokio::sync::Notify,
}

impl CopyGate {
    /// Copies the state with the gate closed. Blocking.
    fn copy(&self, state: &SharedState) -> SmState {
        use std::sync::atomic::Ordering;
        self.copying.store(true, Ordering::SeqCst);
        let copy = state.read().expect("state lock poisoned").clone();
        self.copying.store(false, Ordering::SeqCst);
        self.done.notify_waiters();
        copy
    }

    /// Returns once no copy is being taken.
    async fn pass(&self) {
        use std::sync::atomic::Ordering;
        loop {
            let done = self.done.notified();
            if !self.copying.load(Ordering::SeqCst) {
                return;
            }
            done.await;
        }
    }
}

fn sm_err(verb: ErrorVerb, e: impl std::error::Error + 'static) -> StorageError<MemberId> {
    StorageIOError::new(ErrorSubject::StateMachine, verb, openraft::AnyError::new(&e)).into()
}

fn snap_err(verb: ErrorVerb, e: impl std::error::Error + 'static) -> StorageError<MemberId> {
    StorageIOError::new(ErrorSubject::Snapshot(None), verb, openraft::AnyError::new(&e)).into()
}

impl StateMachineStore {
    /// Opens the state machine, loading the latest snapshot in `dir` if there is one. Blocking.
    pub fn open(dir: &Path) -> Result<Self, SnapshotError> {
        std::fs::create_dir_all(dir).map_err(|source| SnapshotError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        snapshot_file::remove_stale_temps(dir);
        let loaded = snapshot_file::load(&dir.join(snapshot_file::SNAPSHOT_FILE))?;
        release_freed_memory();
        Ok(StateMachineStore {
            on_disk: Arc::new(Mutex::new(loaded.as_ref().map(snapshot_file::meta_of))),
            copying: Arc::default(),
            state: Arc::new(RwLock::new(loaded.unwrap_or_default())),
            dir: dir.to_path_buf(),
            receiving: None,
        })
    }

    pub fn shared(&self) -> SharedState {
        self.state.clone()
    }
}

/// Builds snapshots from a copy of the state, so writers wait only for the copy.
pub struct SnapshotBuilder {
    state: SharedState,
    dir: PathBuf,
    on_disk: Arc<Mutex<Option<Meta>>>,
    copying: Arc<CopyGate>,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> StorageResult<Snapshot<TypeConfig>> {
        let (state, dir, on_disk, gate) = (
            self.state.clone(),
            self.dir.clone(),
            self.on_disk.clone(),
            self.copying.clone(),
        );
        let (meta, file, bytes, published, copied) = tokio::task::spawn_blocking(move || {
            let start = std::time::Instant::now();
            let mut copy = gate.copy(&state);
            let copied = start.elapsed();
            copy.snapshot_id = match copy.last_applied {
                Some(l) => format!("{}-{}-{}", l.leader_id.term, l.index, fastrand::u32(..)),
                None => format!("0-0-{}", fastrand::u32(..)),
            };
            let mut tmp = TempSnapshot::create(&dir)?;
            let bytes =
                snapshot_file::write_image(&mut tmp.file, &copy).map_err(|source| basalt_host::PathIoError {
                    path: dir.clone(),
                    source,
                })?;
            let meta = snapshot_file::meta_of(&copy);
            drop(copy);
            release_freed_memory();
            let (file, published) = snapshot_file::publish(&dir, &on_disk, &meta, tmp)?;
            Ok::<_, basalt_host::PathIoError>((meta, file, bytes, published, copied))
        })
        .await
        .map_err(|e| snap_err(ErrorVerb::Write, e))?
        .map_err(|e| snap_err(ErrorVerb::Write, e))?;
        if published {
            tracing::info!(snapshot = %meta.snapshot_id, bytes, ?copied, "snapshot written");
        } else {
            tracing::info!(snapshot = %meta.snapshot_id, "snapshot built; a newer one is on disk already");
        }
        Ok(Snapshot {
            meta,
            snapshot: Box::new(tokio::fs::File::from_std(file)),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachineStore {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> StorageResult<(Option<LogId>, Membership)> {
        let s = self.state.read().expect("state lock poisoned");
        Ok((s.last_applied, s.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> StorageResult<Vec<Vec<Response>>>
    where
        I: IntoIterator<Item = openraft::Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<_> = entries.into_iter().collect();
        self.copying.pass().await;
        let state = self.state.clone();
        // On a blocking thread: the write lock may have to wait for a reader's copy of the state.
        tokio::task::spawn_blocking(move || {
            let mut s = state.write().expect("state lock poisoned");
            let mut out = Vec::with_capacity(entries.len());
            for entry in entries {
                s.last_applied = Some(entry.log_id);
                out.push(match entry.payload {
                    EntryPayload::Blank => Vec::new(),
                    EntryPayload::Normal(batch) => s.meta.apply_batch(&batch),
                    EntryPayload::Membership(m) => {
                        s.membership = Membership::new(Some(entry.log_id), m);
                        Vec::new()
                    }
                });
            }
            out
        })
        .await
        .map_err(|e| sm_err(ErrorVerb::Write, e))
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder {
            state: self.state.clone(),
            dir: self.dir.clone(),
            on_disk: self.on_disk.clone(),
            copying: self.copying.clone(),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> StorageResult<Box<tokio::fs::File>> {
        let dir = self.dir.clone();
        let tmp = tokio::task::spawn_blocking(move || TempSnapshot::create(&dir))
            .await
            .map_err(|e| snap_err(ErrorVerb::Write, e))?
            .map_err(|e| snap_err(ErrorVerb::Write, e))?;
        let file = tmp.file.try_clone().map_err(|e| snap_err(ErrorVerb::Write, e))?;
        self.receiving = Some(tmp); // drops (removes) the file of an abandoned stream
        Ok(Box::new(tokio::fs::File::from_std(file)))
    }

    // The blocking closure returns openraft's (large) StorageError, as the trait does.
    #[allow(clippy::result_large_err)]
    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<MemberId, openraft::BasicNode>,
        snapshot: Box<tokio::fs::File>,
    ) -> StorageResult<()> {
        let received = snapshot.into_std().await;
        let receiving = self.receiving.take();
        let (dir, on_disk, shared) = (self.dir.clone(), self.on_disk.clone(), self.state.clone());
        let meta = meta.clone();
        tokio::task::spawn_blocking(move || {
            use std::io::{Seek, SeekFrom};
            let path = dir.join(snapshot_file::SNAPSHOT_FILE);
            let mut reader = &received;
            reader
                .seek(SeekFrom::Start(0))
                .map_err(|e| snap_err(ErrorVerb::Read, e))?;
            let reader = std::io::BufReader::with_capacity(1 << 20, reader);
            let (mut state, v3) = snapshot_file::read_image(&path, reader).map_err(|e| snap_err(ErrorVerb::Read, e))?;
            // The leader's file says what its meta says; anything else (an older format, a file not
            // received through `begin_receiving_snapshot`) is written anew.
            let as_received = v3 && snapshot_file::meta_of(&state) == meta;
            state.last_applied = meta.last_log_id;
            state.membership = meta.last_membership.clone();
            state.snapshot_id = meta.snapshot_id.clone();
            let tmp = match receiving {
                Some(tmp) if as_received && tmp.is(&received) => tmp,
                _ => {
                    let mut tmp = TempSnapshot::create(&dir).map_err(|e| snap_err(ErrorVerb::Write, e))?;
                    snapshot_file::write_image(&mut tmp.file, &state).map_err(|e| snap_err(ErrorVerb::Write, e))?;
                    tmp
                }
            };
            drop(received);
            snapshot_file::publish(&dir, &on_disk, &meta, tmp).map_err(|e| snap_err(ErrorVerb::Write, e))?;
            let old = std::mem::replace(&mut *shared.write().expect("state lock poisoned"), state);
            drop(old); // outside the lock
            release_freed_memory();
            tracing::info!(snapshot = %meta.snapshot_id, "snapshot installed");
            Ok(())
        })
        .await
        .map_err(|e| snap_err(ErrorVerb::Write, e))?
    }

    // The blocking closure returns openraft's (large) StorageError, as the trait does.
    #[allow(clippy::result_large_err)]
    async fn get_current_snapshot(&mut self) -> StorageResult<Option<Snapshot<TypeConfig>>> {
        let (dir, on_disk) = (self.dir.clone(), self.on_disk.clone());
        let current = tokio::task::spawn_blocking(move || snapshot_file::open_current(&dir, &on_disk))
            .await
            .map_err(|e| snap_err(ErrorVerb::Read, e))?
            .map_err(|e| sm_err(ErrorVerb::Read, e))?;
        Ok(current.map(|(meta, file)| Snapshot {
            meta,
            snapshot: Box::new(tokio::fs::File::from_std(file)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writers_wait_at_the_gate_while_a_copy_is_taken() {
        use std::sync::atomic::Ordering;
        let gate = Arc::new(CopyGate::default());
        gate.pass().await; // open: passes at once
        gate.copying.store(true, Ordering::SeqCst);
        let waiting = tokio::spawn({
            let gate = gate.clone();
            async move { gate.pass().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        let state: SharedState = Arc::default();
        gate.copy(&state); // closes, copies, opens, wakes the writer
        waiting.await.unwrap();
        assert!(!gate.copying.load(Ordering::SeqCst));
    }
}
