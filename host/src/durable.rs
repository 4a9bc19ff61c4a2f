//! Crash-safe file primitives. [`write_atomic`] replaces a whole file so that a crash at any point
//! leaves either the old contents or the new, never a torn file: the bytes go to a temp file beside
//! the target (a random name, so concurrent writers of one file never share it), which is fsynced,
//! renamed over the target, and the directory fsynced so the rename itself survives. A failed write
//! removes its temp file.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// An I/O failure, with the path it happened on.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct PathIoError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

fn at(path: &Path) -> impl FnOnce(std::io::Error) -> PathIoError + '_ {
    move |source| PathIoError {
        path: path.to_path_buf(),
        source,
    }
}

/// Makes the entries of `dir` (creations, renames, removals) durable.
pub fn fsync_dir(dir: &Path) -> Result<(), PathIoError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(at(dir))
}

/// Creates `dir` and its parents, then fsyncs it and its parent so the new entry survives a crash.
pub fn create_dir_durable(dir: &Path) -> Result<(), PathIoError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(at(dir))?;
    fsync_dir(dir)?;
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => fsync_dir(parent),
        _ => Ok(()),
    }
}

/// Removes its file when dropped, unless [`TempFile::keep`] was called (after the rename).
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Replaces `path` with `contents` atomically and durably.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), PathIoError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let tmp = TempFile {
        path: dir.join(format!(".{name}.tmp.{:016x}", fastrand::u64(..))),
        armed: true,
    };
    let mut f = File::create(&tmp.path).map_err(at(&tmp.path))?;
    f.write_all(contents).map_err(at(&tmp.path))?;
    f.sync_all().map_err(at(&tmp.path))?;
    drop(f);
    fs::rename(&tmp.path, path).map_err(at(path))?;
    tmp.keep();
    fsync_dir(dir)
}

/// Whether `name` is a temp file [`write_atomic`] leaves behind when the process dies mid-write (to
/// clean up at start).
pub fn is_temp_of(name: &str, target: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|n| n.strip_prefix(target))
        .and_then(|n| n.strip_prefix(".tmp."))
        .is_some_and(|suffix| suffix.len() == 16 && suffix.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_write_removes_its_temp_file_and_keeps_the_old_contents() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        write_atomic(&p, b"old").unwrap();
        // Renaming a file over a non-empty directory fails after the temp file is written.
        let target = dir.path().join("d");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("x"), b"").unwrap();
        let e = write_atomic(&target, b"new").unwrap_err();
        assert_eq!(e.path, target);
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".tmp.")), "{names:?}");
        assert_eq!(fs::read(&p).unwrap(), b"old");
    }

    #[test]
    fn temp_names_are_recognised() {
        assert!(is_temp_of(".snapshot.bin.tmp.00112233445566aa", "snapshot.bin"));
        assert!(!is_temp_of("snapshot.bin", "snapshot.bin"));
        assert!(!is_temp_of(".snapshot.bin.tmp.xyz", "snapshot.bin"));
        assert!(!is_temp_of(".other.tmp.00112233445566aa", "snapshot.bin"));
    }
}
