//! The metadata state as an openraft state machine, with snapshots in files.
//!
//! The state (namespace, last applied log id, membership) lives in memory behind an `RwLock` shared with
//! the RPC services, which read it directly. A snapshot is the encoded state in one file,
//! `<dir>/snapshot.bin`: magic, format version, CRC32C of the body, then the body. It is written to a
//! temp name, fsynced, renamed and the directory fsynced (`basalt_host::write_atomic`), so a crash
//! leaves the old or the new snapshot, never a torn one; a snapshot older than the one on disk (a build
//! that finished after an install) is not written. At start the state is the snapshot; openraft replays
//! the log tail on top of it.
//!
//! Everything O(state) runs on a blocking thread, never on the async runtime: applying entries, the
//! copy a snapshot is built from (under the read lock: writers wait for the copy, not for the encoding;
//! they wait at a gate, not in the lock's queue, so readers go on meanwhile), encoding, decoding,
//! checksums, file IO, and dropping a replaced state (after the lock is released). The copy itself is
//! still O(state) (about 0.1 s per 100k files): writes pause for it once per snapshot.

use super::{LogId, MemberId, Membership, TypeConfig, encode};
use crate::state::codec::decode_or_upgrade;
use crate::state::{MetaState, Response, legacy};
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    EntryPayload, ErrorSubject, ErrorVerb, OptionalSend, RaftSnapshotBuilder, SnapshotMeta, StorageError,
    StorageIOError,
};
use serde::{Deserialize, Serialize};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

const SNAPSHOT_MAGIC: &[u8; 8] = b"BSLTSNAP";
const SNAPSHOT_FILE: &str = "snapshot.bin";

type StorageResult<T> = Result<T, StorageError<MemberId>>;

/// The replicated state and what Raft knows of it: what a snapshot holds. Derefs to the
/// [`MetaState`] its readers query.
#[derive(Default, Clone, Serialize, Deserialize)]
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

/// A snapshot body of this or the previous format.
fn decode_state(body: &[u8]) -> Result<SmState, crate::state::codec::DecodeError> {
    decode_or_upgrade(body, |v2: legacy::V2SmState| SmState {
        last_applied: v2.last_applied,
        membership: v2.membership,
        meta: legacy::upgrade_state(v2.namespace),
        snapshot_id: String::new(),
    })
}

/// Shared handle to the state for readers.
pub type SharedState = Arc<RwLock<SmState>>;

/// Why a snapshot file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("snapshot {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

pub struct StateMachineStore {
    state: SharedState,
    dir: PathBuf,
    /// The last log id of the snapshot file on disk; held while the file is replaced.
    on_disk: Arc<Mutex<Option<LogId>>>,
    copying: Arc<CopyGate>,
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

/// Frames an encoded state as a snapshot file image.
fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend_from_slice(SNAPSHOT_MAGIC);
    out.extend_from_slice(&crc32c::crc32c(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// Checks a snapshot file image and decodes its state.
fn unframe(path: &Path, bytes: &[u8]) -> Result<SmState, SnapshotError> {
    let corrupt = |reason: String| SnapshotError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    if bytes.len() < 12 || &bytes[..8] != SNAPSHOT_MAGIC {
        return Err(corrupt("bad magic".into()));
    }
    let crc = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    let body = &bytes[12..];
    if crc32c::crc32c(body) != crc {
        return Err(corrupt("checksum mismatch".into()));
    }
    decode_state(body).map_err(|e| corrupt(e.to_string()))
}

/// Writes a snapshot image of the state at `log_id` unless the file on disk is newer. Blocking.
fn write_snapshot(
    dir: &Path,
    on_disk: &Mutex<Option<LogId>>,
    log_id: Option<LogId>,
    image: &[u8],
) -> Result<bool, basalt_host::PathIoError> {
    let mut on_disk = on_disk.lock().expect("snapshot file lock poisoned");
    if *on_disk > log_id {
        return Ok(false);
    }
    basalt_host::write_atomic(&dir.join(SNAPSHOT_FILE), image)?;
    *on_disk = log_id;
    Ok(true)
}

/// Removes the temp files of snapshot writes a crash interrupted (this build's and older builds').
fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if basalt_host::durable::is_temp_of(&name, SNAPSHOT_FILE) || name == "snapshot.bin.tmp" {
            match std::fs::remove_file(e.path()) {
                Ok(()) => tracing::info!(file = %e.path().display(), "removed an interrupted snapshot write"),
                Err(err) => tracing::warn!(file = %e.path().display(), error = %err, "cannot remove a temp file"),
            }
        }
    }
}

impl StateMachineStore {
    /// Opens the state machine, loading the latest snapshot in `dir` if there is one. Blocking.
    pub fn open(dir: &Path) -> Result<Self, SnapshotError> {
        std::fs::create_dir_all(dir).map_err(|source| SnapshotError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        remove_stale_temps(dir);
        let path = dir.join(SNAPSHOT_FILE);
        let state = match std::fs::read(&path) {
            Ok(bytes) => unframe(&path, &bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => SmState::default(),
            Err(source) => return Err(SnapshotError::Io { path, source }),
        };
        Ok(StateMachineStore {
            on_disk: Arc::new(Mutex::new(state.last_applied)),
            copying: Arc::default(),
            state: Arc::new(RwLock::new(state)),
            dir: dir.to_path_buf(),
        })
    }

    pub fn shared(&self) -> SharedState {
        self.state.clone()
    }

    fn snapshot_path(&self) -> PathBuf {
        self.dir.join(SNAPSHOT_FILE)
    }

    fn meta_of(state: &SmState) -> SnapshotMeta<MemberId, openraft::BasicNode> {
        SnapshotMeta {
            last_log_id: state.last_applied,
            last_membership: state.membership.clone(),
            snapshot_id: state.snapshot_id.clone(),
        }
    }
}

/// Builds snapshots from a copy of the state, so writers wait only for the copy.
pub struct SnapshotBuilder {
    state: SharedState,
    dir: PathBuf,
    on_disk: Arc<Mutex<Option<LogId>>>,
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
        let (meta, image, written, copied) = tokio::task::spawn_blocking(move || {
            let start = std::time::Instant::now();
            let mut copy = gate.copy(&state);
            let copied = start.elapsed();
            copy.snapshot_id = match copy.last_applied {
                Some(l) => format!("{}-{}-{}", l.leader_id.term, l.index, fastrand::u32(..)),
                None => format!("0-0-{}", fastrand::u32(..)),
            };
            let image = frame(&encode(&copy));
            let written = write_snapshot(&dir, &on_disk, copy.last_applied, &image)?;
            Ok::<_, basalt_host::PathIoError>((StateMachineStore::meta_of(&copy), image, written, copied))
        })
        .await
        .map_err(|e| snap_err(ErrorVerb::Write, e))?
        .map_err(|e| snap_err(ErrorVerb::Write, e))?;
        if written {
            tracing::info!(snapshot = %meta.snapshot_id, bytes = image.len(), ?copied, "snapshot written");
        } else {
            tracing::info!(snapshot = %meta.snapshot_id, "snapshot built; a newer one is on disk already");
        }
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(image)),
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

    async fn begin_receiving_snapshot(&mut self) -> StorageResult<Box<Cursor<Vec<u8>>>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    // The blocking closure returns openraft's (large) StorageError, as the trait does.
    #[allow(clippy::result_large_err)]
    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<MemberId, openraft::BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> StorageResult<()> {
        let image = snapshot.into_inner();
        let (path, dir, on_disk, shared) = (
            self.snapshot_path(),
            self.dir.clone(),
            self.on_disk.clone(),
            self.state.clone(),
        );
        let meta = meta.clone();
        tokio::task::spawn_blocking(move || {
            let mut state = unframe(&path, &image).map_err(|e| snap_err(ErrorVerb::Read, e))?;
            state.last_applied = meta.last_log_id;
            state.membership = meta.last_membership.clone();
            state.snapshot_id = meta.snapshot_id.clone();
            let framed = frame(&encode(&state));
            write_snapshot(&dir, &on_disk, state.last_applied, &framed).map_err(|e| snap_err(ErrorVerb::Write, e))?;
            let old = std::mem::replace(&mut *shared.write().expect("state lock poisoned"), state);
            drop(old); // outside the lock
            tracing::info!(snapshot = %meta.snapshot_id, "snapshot installed");
            Ok(())
        })
        .await
        .map_err(|e| snap_err(ErrorVerb::Write, e))?
    }

    // The blocking closure returns openraft's (large) StorageError, as the trait does.
    #[allow(clippy::result_large_err)]
    async fn get_current_snapshot(&mut self) -> StorageResult<Option<Snapshot<TypeConfig>>> {
        let path = self.snapshot_path();
        tokio::task::spawn_blocking(move || {
            let image = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(sm_err(ErrorVerb::Read, e)),
            };
            let state = unframe(&path, &image).map_err(|e| snap_err(ErrorVerb::Read, e))?;
            Ok(Some(Snapshot {
                meta: StateMachineStore::meta_of(&state),
                snapshot: Box::new(Cursor::new(image)),
            }))
        })
        .await
        .map_err(|e| snap_err(ErrorVerb::Read, e))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_frame_detects_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let image = frame(&encode(&SmState::default()));
        let path = dir.path().join("s");
        assert!(unframe(&path, &image).is_ok());
        let mut bad = image.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        assert!(matches!(unframe(&path, &bad), Err(SnapshotError::Corrupt { .. })));
        assert!(matches!(unframe(&path, b"short"), Err(SnapshotError::Corrupt { .. })));
    }

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

    #[test]
    fn an_older_snapshot_does_not_replace_a_newer_one_and_interrupted_writes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let log_id = |index| Some(openraft::LogId::new(openraft::CommittedLeaderId::new(1, 1), index));
        let on_disk = Mutex::new(None);
        assert!(write_snapshot(dir.path(), &on_disk, log_id(5), b"five").unwrap());
        assert!(!write_snapshot(dir.path(), &on_disk, log_id(3), b"three").unwrap());
        assert_eq!(std::fs::read(dir.path().join(SNAPSHOT_FILE)).unwrap(), b"five");
        assert!(write_snapshot(dir.path(), &on_disk, log_id(7), b"seven").unwrap());

        for stale in [".snapshot.bin.tmp.0123456789abcdef", "snapshot.bin.tmp"] {
            std::fs::write(dir.path().join(stale), b"torn").unwrap();
        }
        remove_stale_temps(dir.path());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec![SNAPSHOT_FILE.to_string()]);
    }
}
