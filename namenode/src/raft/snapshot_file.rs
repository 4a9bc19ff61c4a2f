//! The snapshot file: its layout, and how it is written, read and replaced. No path here holds a whole
//! snapshot image in memory: the body is encoded into the file and decoded from it as a stream, and a
//! snapshot travels (to openraft, to a follower) as an open file, never as bytes.
//!
//! File layout (format 3), all integers little-endian:
//!
//! ```text
//! "BSLTSNP3" | crc32c u32 of everything after it | header length u32 | header | body
//! header = codec-encoded { last_applied, membership, snapshot_id }   (read alone for the meta)
//! body   = codec-encoded MetaState                                     (streamed both ways)
//! ```
//!
//! Format 2 (`"BSLTSNAP" | crc32c u32 | bincode body`) is still read (`crate::state::legacy`), whole.
//!
//! Replacing the file is crash-safe: a new image (built here or received from the leader) is written
//! to a temp file beside it (`.snapshot.bin.tmp.<16 hex>`, the name `basalt_host::write_atomic`
//! uses), fsynced, renamed over `snapshot.bin` and the directory fsynced. A temp file is removed when
//! its [`TempSnapshot`] is dropped unpublished, and at start when a crash left it behind. Blocking.

use super::{LogId, MemberId, Membership};
use crate::state::codec;
use crate::state::{MetaState, legacy};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::state_machine::SmState;

const SNAPSHOT_MAGIC: &[u8; 8] = b"BSLTSNP3";
const SNAPSHOT_MAGIC_V2: &[u8; 8] = b"BSLTSNAP";
/// Magic, checksum and header length.
const PREFIX: usize = 16;
pub(super) const SNAPSHOT_FILE: &str = "snapshot.bin";
/// Buffer of the streamed reads and writes.
const IO_BUFFER: usize = 1 << 20;

pub type Meta = openraft::SnapshotMeta<MemberId, openraft::BasicNode>;

/// Why a snapshot file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("snapshot {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

/// What a snapshot file says of itself besides the state.
#[derive(Serialize, Deserialize)]
struct Header {
    last_applied: Option<LogId>,
    membership: Membership,
    snapshot_id: String,
}

/// The meta of a state: what its snapshot is known by.
pub fn meta_of(state: &SmState) -> Meta {
    Meta {
        last_log_id: state.last_applied,
        last_membership: state.membership.clone(),
        snapshot_id: state.snapshot_id.clone(),
    }
}

fn corrupt(path: &Path, reason: impl Into<String>) -> SnapshotError {
    SnapshotError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
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

/// Checksums what passes through it, either way.
struct Crc<T> {
    inner: T,
    crc: u32,
}

impl<R: Read> Read for Crc<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc = crc32c::crc32c_append(self.crc, &buf[..n]);
        Ok(n)
    }
}

impl<W: Write> Write for Crc<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc = crc32c::crc32c_append(self.crc, &buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the format-3 image of `state` at the start of `out`, the body streamed through the
/// encoder; returns the image's length.
pub fn write_image<W: Write + Seek>(out: &mut W, state: &SmState) -> std::io::Result<u64> {
    let header = codec::encode(&Header {
        last_applied: state.last_applied,
        membership: state.membership.clone(),
        snapshot_id: state.snapshot_id.clone(),
    });
    let header_len = u32::try_from(header.len()).map_err(std::io::Error::other)?;
    out.seek(SeekFrom::Start(0))?;
    let mut w = BufWriter::with_capacity(IO_BUFFER, &mut *out);
    w.write_all(SNAPSHOT_MAGIC)?;
    w.write_all(&[0; 4])?; // the checksum, written last
    let mut w = Crc { inner: w, crc: 0 };
    w.write_all(&header_len.to_le_bytes())?;
    w.write_all(&header)?;
    codec::encode_to(&mut w, &state.meta)?;
    let crc = w.crc;
    let mut w = w.inner;
    let len = w.stream_position()?;
    w.seek(SeekFrom::Start(8))?;
    w.write_all(&crc.to_le_bytes())?;
    w.flush()?;
    Ok(len)
}

/// Reads a snapshot image from `r` (`path` names it in errors), streaming a format-3 body through the
/// decoder; a format-2 image is read whole. The state is only returned once the whole image's
/// checksum matched. The flag says whether the image was format 3.
pub fn read_image(path: &Path, mut r: impl Read) -> Result<(SmState, bool), SnapshotError> {
    let io = |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut prefix = [0u8; PREFIX];
    r.read_exact(&mut prefix[..8]).map_err(|_| corrupt(path, "truncated"))?;
    if &prefix[..8] == SNAPSHOT_MAGIC_V2 {
        let mut bytes = Vec::new();
        r.read_to_end(&mut bytes).map_err(io)?;
        let (crc, body) = bytes.split_at_checked(4).ok_or_else(|| corrupt(path, "truncated"))?;
        if crc32c::crc32c(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
            return Err(corrupt(path, "checksum mismatch"));
        }
        return decode_v2(body)
            .map(|s| (s, false))
            .map_err(|e| corrupt(path, e.to_string()));
    }
    if &prefix[..8] != SNAPSHOT_MAGIC {
        return Err(corrupt(path, "bad magic"));
    }
    r.read_exact(&mut prefix[8..]).map_err(|_| corrupt(path, "truncated"))?;
    let want = u32::from_le_bytes(prefix[8..12].try_into().expect("4 bytes"));
    let header_len = u32::from_le_bytes(prefix[12..16].try_into().expect("4 bytes")) as u64;
    let mut r = Crc {
        inner: r,
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
    let state = SmState {
        last_applied: header.last_applied,
        membership: header.membership,
        meta,
        snapshot_id: header.snapshot_id,
    };
    Ok((state, true))
}

/// Loads the snapshot file at `path`, if there is one.
pub fn load(path: &Path) -> Result<Option<SmState>, SnapshotError> {
    match File::open(path) {
        Ok(f) => read_image(path, std::io::BufReader::with_capacity(IO_BUFFER, f)).map(|(s, _)| Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SnapshotError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// A temp file beside the snapshot file, removed on drop unless published.
pub struct TempSnapshot {
    path: PathBuf,
    pub file: File,
    armed: bool,
}

impl TempSnapshot {
    /// Creates an empty temp file in `dir`, open for reading and writing.
    pub fn create(dir: &Path) -> Result<TempSnapshot, basalt_host::PathIoError> {
        let path = dir.join(format!(".{SNAPSHOT_FILE}.tmp.{:016x}", fastrand::u64(..)));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| basalt_host::PathIoError {
                path: path.clone(),
                source,
            })?;
        Ok(TempSnapshot {
            path,
            file,
            armed: true,
        })
    }

    /// Whether `file` is this temp file (the same inode).
    pub fn is(&self, file: &File) -> bool {
        use std::os::unix::fs::MetadataExt;
        match (self.file.metadata(), file.metadata()) {
            (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
            _ => false,
        }
    }
}

impl Drop for TempSnapshot {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Makes `tmp` (holding the image of the snapshot `meta`) the snapshot file of `dir` unless the one on
/// disk (`on_disk`, held while the file is replaced) is newer. Returns the image opened for reading
/// from its start, published or not (an unpublished one lives on as an unlinked file), and whether it
/// was published.
pub fn publish(
    dir: &Path,
    on_disk: &Mutex<Option<Meta>>,
    meta: &Meta,
    mut tmp: TempSnapshot,
) -> Result<(File, bool), basalt_host::PathIoError> {
    let at = |path: &Path| {
        let path = path.to_path_buf();
        move |source| basalt_host::PathIoError { path, source }
    };
    tmp.file.sync_all().map_err(at(&tmp.path))?;
    let mut on_disk = on_disk.lock().expect("snapshot file lock poisoned");
    let published = on_disk.as_ref().and_then(|m| m.last_log_id) <= meta.last_log_id;
    if published {
        let target = dir.join(SNAPSHOT_FILE);
        std::fs::rename(&tmp.path, &target).map_err(at(&target))?;
        tmp.armed = false;
        basalt_host::fsync_dir(dir)?;
        *on_disk = Some(meta.clone());
    }
    drop(on_disk);
    let mut file = tmp.file.try_clone().map_err(at(&tmp.path))?;
    file.seek(SeekFrom::Start(0)).map_err(at(&tmp.path))?;
    Ok((file, published))
}

/// Opens the snapshot file for reading, with its meta; `None` if there is no snapshot.
pub fn open_current(dir: &Path, on_disk: &Mutex<Option<Meta>>) -> Result<Option<(Meta, File)>, std::io::Error> {
    let on_disk = on_disk.lock().expect("snapshot file lock poisoned");
    let Some(meta) = on_disk.as_ref() else {
        return Ok(None);
    };
    Ok(Some((meta.clone(), File::open(dir.join(SNAPSHOT_FILE))?)))
}

/// Removes the temp files of snapshot writes a crash interrupted (this build's and older builds').
pub fn remove_stale_temps(dir: &Path) {
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

#[cfg(test)]
mod tests;
