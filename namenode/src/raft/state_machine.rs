//! The metadata state as an openraft state machine, with snapshots in files.
//!
//! The state (namespace, last applied log id, membership) lives in memory behind an `RwLock` shared with
//! the RPC services, which read it directly. A snapshot is the encoded state in one file,
//! `<dir>/snapshot.bin`: magic, format version, CRC32C of the body, then the body. It is written to a
//! temp name, fsynced, renamed and the directory fsynced, so a crash leaves the old or the new snapshot,
//! never a torn one. At start the state is the snapshot; openraft replays the log tail on top of it.

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
use std::sync::{Arc, RwLock};

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

impl StateMachineStore {
    /// Opens the state machine, loading the latest snapshot in `dir` if there is one.
    pub fn open(dir: &Path) -> Result<Self, SnapshotError> {
        std::fs::create_dir_all(dir).map_err(|source| SnapshotError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(SNAPSHOT_FILE);
        let state = match std::fs::read(&path) {
            Ok(bytes) => unframe(&path, &bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => SmState::default(),
            Err(source) => return Err(SnapshotError::Io { path, source }),
        };
        Ok(StateMachineStore {
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
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> StorageResult<Snapshot<TypeConfig>> {
        let mut copy = self.state.read().expect("state lock poisoned").clone();
        let id = match copy.last_applied {
            Some(l) => format!("{}-{}-{}", l.leader_id.term, l.index, fastrand::u32(..)),
            None => format!("0-0-{}", fastrand::u32(..)),
        };
        copy.snapshot_id = id;
        let dir = self.dir.clone();
        let (meta, image) = tokio::task::spawn_blocking(move || {
            let image = frame(&encode(&copy));
            basalt_host::write_atomic(&dir.join(SNAPSHOT_FILE), &image)
                .map(|_| (StateMachineStore::meta_of(&copy), image))
        })
        .await
        .map_err(|e| snap_err(ErrorVerb::Write, e))?
        .map_err(|e| snap_err(ErrorVerb::Write, e))?;
        tracing::info!(snapshot = %meta.snapshot_id, bytes = image.len(), "snapshot written");
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
        let mut s = self.state.write().expect("state lock poisoned");
        let mut out = Vec::new();
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
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder {
            state: self.state.clone(),
            dir: self.dir.clone(),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> StorageResult<Box<Cursor<Vec<u8>>>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<MemberId, openraft::BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> StorageResult<()> {
        let image = snapshot.into_inner();
        let path = self.snapshot_path();
        let mut state = unframe(&path, &image).map_err(|e| snap_err(ErrorVerb::Read, e))?;
        state.last_applied = meta.last_log_id;
        state.membership = meta.last_membership.clone();
        state.snapshot_id = meta.snapshot_id.clone();
        let dir = self.dir.clone();
        let framed = frame(&encode(&state));
        tokio::task::spawn_blocking(move || basalt_host::write_atomic(&dir.join(SNAPSHOT_FILE), &framed))
            .await
            .map_err(|e| snap_err(ErrorVerb::Write, e))?
            .map_err(|e| snap_err(ErrorVerb::Write, e))?;
        *self.state.write().expect("state lock poisoned") = state;
        tracing::info!(snapshot = %meta.snapshot_id, "snapshot installed");
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> StorageResult<Option<Snapshot<TypeConfig>>> {
        let path = self.snapshot_path();
        let image = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(sm_err(ErrorVerb::Read, e)),
        };
        let state = unframe(&path, &image).map_err(|e| snap_err(ErrorVerb::Read, e))?;
        Ok(Some(Snapshot {
            meta: Self::meta_of(&state),
            snapshot: Box::new(Cursor::new(image)),
        }))
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
}
