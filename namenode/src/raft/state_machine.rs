//! The metadata state as an openraft state machine, with snapshots in files.
//!
//! The state (namespace, last applied log id, membership) lives in memory behind an `RwLock` shared with
//! the RPC services, which read it directly. A snapshot is the encoded state in one file,
//! `<dir>/snapshot.bin`, written to a temp name, fsynced, renamed and the directory fsynced
//! (`basalt_host::write_atomic`), so a crash leaves the old or the new snapshot, never a torn one; a
//! snapshot older than the one on disk (a build that finished after an install) is not written. At
//! start the state is the snapshot; openraft replays the log tail on top of it.
//!
//! File layout (format 3), all integers little-endian:
//!
//! ```text
//! "BSLTSNP3" | crc32c u32 of everything after it | header length u32 | header | body
//! header = codec-encoded { last_applied, membership, snapshot_id }   (read alone for the meta)
//! body   = codec-encoded MetaState                                     (streamed when loading)
//! ```
//!
//! Format 2 (`"BSLTSNAP" | crc32c u32 | bincode body`) is still read (`crate::state::legacy`). Loading
//! streams the body from the file instead of reading it whole, and returns the decoder's freed memory
//! to the system afterwards, so start-up peaks near the steady state.
//!
//! Everything O(state) runs on a blocking thread, never on the async runtime: applying entries, the
//! copy a snapshot is built from (under the read lock: writers wait for the copy, not for the encoding;
//! they wait at a gate, not in the lock's queue, so readers go on meanwhile), encoding, decoding,
//! checksums, file IO, and dropping a replaced state (after the lock is released). The copy itself is
//! still O(state) (about 0.1 s per 100k files): writes pause for it once per snapshot.

use super::{LogId, MemberId, Membership, TypeConfig};
use crate::state::codec;
use crate::state::{MetaState, Response, legacy};
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    EntryPayload, ErrorSubject, ErrorVerb, OptionalSend, RaftSnapshotBuilder, SnapshotMeta, StorageError,
    StorageIOError,
};
use serde::{Deserialize, Serialize};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

const SNAPSHOT_MAGIC: &[u8; 8] = b"BSLTSNP3";
const SNAPSHOT_MAGIC_V2: &[u8; 8] = b"BSLTSNAP";
/// Magic, checksum and header length.
const PREFIX: usize = 16;
const SNAPSHOT_FILE: &str = "snapshot.bin";
/// The directory of a member's data dir that holds its snapshot.
pub const SNAPSHOT_DIR: &str = "snapshots";

/// The snapshot file of the member whose data dir is `data_dir`.
pub fn snapshot_file(data_dir: &Path) -> PathBuf {
    data_dir.join(SNAPSHOT_DIR).join(SNAPSHOT_FILE)
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

/// What a snapshot file says of itself besides the state.
#[derive(Serialize, Deserialize)]
struct Header {
    last_applied: Option<LogId>,
    membership: Membership,
    snapshot_id: String,
}

/// A format-2 snapshot body.
fn decode_v2(body: &[u8]) -> Result<SmState, codec::DecodeError> {
    match body.split_first() {
        Some((&codec::LEGACY_FORMAT_V2, rest)) => {
            let v2: legacy::V2SmState = bincode::deserialize(rest)?;
            Ok(SmState {
                last_applied: v2.last_applied,
                membership: v2.membership,
                meta: legacy::upgrade_state(v2.namespace),
                snapshot_id: String::new(),
            })
        }
        Some((&v, _)) => Err(codec::DecodeError::Version(v)),
        None => Err(codec::DecodeError::Empty),
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

/// The snapshot file image of `state`.
fn frame(state: &SmState) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(SNAPSHOT_MAGIC);
    out.extend_from_slice(&[0; 8]);
    codec::encode_into(
        &mut out,
        &Header {
            last_applied: state.last_applied,
            membership: state.membership.clone(),
            snapshot_id: state.snapshot_id.clone(),
        },
    );
    let header_len = (out.len() - PREFIX) as u32;
    codec::encode_into(&mut out, &state.meta);
    out[12..16].copy_from_slice(&header_len.to_le_bytes());
    let crc = crc32c::crc32c(&out[12..]);
    out[8..12].copy_from_slice(&crc.to_le_bytes());
    out
}

fn corrupt(path: &Path, reason: impl Into<String>) -> SnapshotError {
    SnapshotError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Checks a snapshot file image; returns its header and body (format 3), or its decoded state
/// (format 2, which has no separate header).
fn check_image<'a>(path: &Path, bytes: &'a [u8]) -> Result<Result<(Header, &'a [u8]), SmState>, SnapshotError> {
    let magic = bytes.get(..8).ok_or_else(|| corrupt(path, "truncated"))?;
    if magic == SNAPSHOT_MAGIC_V2 {
        let crc = u32::from_le_bytes(
            bytes
                .get(8..12)
                .ok_or_else(|| corrupt(path, "truncated"))?
                .try_into()
                .expect("4 bytes"),
        );
        let body = &bytes[12..];
        if crc32c::crc32c(body) != crc {
            return Err(corrupt(path, "checksum mismatch"));
        }
        return decode_v2(body).map(Err).map_err(|e| corrupt(path, e.to_string()));
    }
    if magic != SNAPSHOT_MAGIC || bytes.len() < PREFIX {
        return Err(corrupt(path, "bad magic"));
    }
    let crc = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if crc32c::crc32c(&bytes[12..]) != crc {
        return Err(corrupt(path, "checksum mismatch"));
    }
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
    let header_end = PREFIX
        .checked_add(header_len)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| corrupt(path, "header length past the end"))?;
    let header: Header = codec::decode(&bytes[PREFIX..header_end]).map_err(|e| corrupt(path, e.to_string()))?;
    Ok(Ok((header, &bytes[header_end..])))
}

/// Checks a snapshot file image and decodes its state.
fn unframe(path: &Path, bytes: &[u8]) -> Result<SmState, SnapshotError> {
    match check_image(path, bytes)? {
        Err(v2) => Ok(v2),
        Ok((h, body)) => Ok(SmState {
            last_applied: h.last_applied,
            membership: h.membership,
            meta: codec::decode(body).map_err(|e| corrupt(path, e.to_string()))?,
            snapshot_id: h.snapshot_id,
        }),
    }
}

/// The meta of a snapshot file image, without decoding its state (format 3).
fn image_meta(path: &Path, bytes: &[u8]) -> Result<SnapshotMeta<MemberId, openraft::BasicNode>, SnapshotError> {
    Ok(match check_image(path, bytes)? {
        Err(v2) => StateMachineStore::meta_of(&v2),
        Ok((h, _)) => SnapshotMeta {
            last_log_id: h.last_applied,
            last_membership: h.membership,
            snapshot_id: h.snapshot_id,
        },
    })
}

/// A reader that checksums what passes through it.
struct Crc<R> {
    inner: R,
    crc: u32,
}

impl<R: Read> Read for Crc<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc = crc32c::crc32c_append(self.crc, &buf[..n]);
        Ok(n)
    }
}

/// Loads a snapshot file, streaming its body through the decoder (format 3; a format-2 file is read
/// whole). The state is only returned once the whole file's checksum matched.
fn load(path: &Path) -> Result<Option<SmState>, SnapshotError> {
    let io = |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => std::io::BufReader::with_capacity(1 << 20, f),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let mut prefix = [0u8; PREFIX];
    file.read_exact(&mut prefix[..8])
        .map_err(|_| corrupt(path, "truncated"))?;
    if &prefix[..8] != SNAPSHOT_MAGIC {
        let mut bytes = prefix[..8].to_vec();
        file.read_to_end(&mut bytes).map_err(io)?;
        return unframe(path, &bytes).map(Some);
    }
    file.read_exact(&mut prefix[8..])
        .map_err(|_| corrupt(path, "truncated"))?;
    let want = u32::from_le_bytes(prefix[8..12].try_into().expect("4 bytes"));
    let header_len = u32::from_le_bytes(prefix[12..16].try_into().expect("4 bytes")) as u64;
    let mut r = Crc {
        inner: file,
        crc: crc32c::crc32c(&prefix[12..]),
    };
    let mut header_bytes = Vec::new();
    (&mut r).take(header_len).read_to_end(&mut header_bytes).map_err(io)?;
    if header_bytes.len() as u64 != header_len {
        return Err(corrupt(path, "truncated header"));
    }
    let header: Header = codec::decode(&header_bytes).map_err(|e| corrupt(path, e.to_string()))?;
    let meta: MetaState = codec::decode_from(&mut r).map_err(|e| corrupt(path, e.to_string()))?;
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).map_err(io)?;
    if r.crc != want {
        return Err(corrupt(path, "checksum mismatch"));
    }
    if !rest.is_empty() {
        return Err(corrupt(path, format!("{} bytes after the state", rest.len())));
    }
    Ok(Some(SmState {
        last_applied: header.last_applied,
        membership: header.membership,
        meta,
        snapshot_id: header.snapshot_id,
    }))
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
        let state = load(&dir.join(SNAPSHOT_FILE))?.unwrap_or_default();
        release_freed_memory();
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
            let image = frame(&copy);
            let meta = StateMachineStore::meta_of(&copy);
            let log_id = copy.last_applied;
            drop(copy);
            release_freed_memory();
            let written = write_snapshot(&dir, &on_disk, log_id, &image)?;
            Ok::<_, basalt_host::PathIoError>((meta, image, written, copied))
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
            drop(image);
            state.last_applied = meta.last_log_id;
            state.membership = meta.last_membership.clone();
            state.snapshot_id = meta.snapshot_id.clone();
            let framed = frame(&state);
            write_snapshot(&dir, &on_disk, state.last_applied, &framed).map_err(|e| snap_err(ErrorVerb::Write, e))?;
            drop(framed);
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
        let path = self.snapshot_path();
        tokio::task::spawn_blocking(move || {
            let image = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(sm_err(ErrorVerb::Read, e)),
            };
            let meta = image_meta(&path, &image).map_err(|e| snap_err(ErrorVerb::Read, e))?;
            Ok(Some(Snapshot {
                meta,
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
    use crate::state::Request;
    use crate::state::namespace::{FsCommand, Perm};

    fn sample() -> SmState {
        let mut s = SmState::default();
        for i in 0..50 {
            let path = basalt_common::BPath::parse(&format!("/d/f{i}")).unwrap();
            let cmd = FsCommand::Mkdirs {
                path,
                parents: true,
                perm: Perm::default_dir(),
                mtime_ms: 1,
            };
            s.meta.apply(&Request::new("c", i + 1, cmd));
        }
        s.snapshot_id = "1-50-7".into();
        s
    }

    #[test]
    fn snapshot_frame_detects_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let image = frame(&SmState::default());
        let path = dir.path().join("s");
        assert!(unframe(&path, &image).is_ok());
        let mut bad = image.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        assert!(matches!(unframe(&path, &bad), Err(SnapshotError::Corrupt { .. })));
        assert!(matches!(unframe(&path, b"short"), Err(SnapshotError::Corrupt { .. })));
        // A header length past the end is an error, not a panic.
        let mut long = image.clone();
        long[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        let crc = crc32c::crc32c(&long[12..]);
        long[8..12].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(unframe(&path, &long), Err(SnapshotError::Corrupt { .. })));
    }

    #[test]
    fn a_snapshot_file_streams_back_and_its_meta_reads_alone() {
        let dir = tempfile::tempdir().unwrap();
        let state = sample();
        let image = frame(&state);
        basalt_host::write_atomic(&dir.path().join(SNAPSHOT_FILE), &image).unwrap();
        let path = dir.path().join(SNAPSHOT_FILE);
        let back = load(&path).unwrap().unwrap();
        assert_eq!(back.snapshot_id, "1-50-7");
        assert_eq!(back.namespace.counts(), state.namespace.counts());
        assert_eq!(back.dedup_len(), 50);
        assert_eq!(image_meta(&path, &image).unwrap().snapshot_id, "1-50-7");
        assert!(load(&dir.path().join("none")).unwrap().is_none());
        // Any flipped byte is caught, streamed or not.
        for at in [9, 13, 20, image.len() / 2, image.len() - 1] {
            let mut bad = image.clone();
            bad[at] ^= 0x40;
            std::fs::write(&path, &bad).unwrap();
            assert!(load(&path).is_err(), "flip at {at} not detected");
        }
        // Trailing garbage too.
        let mut long = image.clone();
        long.push(0);
        std::fs::write(&path, &long).unwrap();
        assert!(load(&path).is_err());
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
