//! Crash-safe file primitives: directory fsync, and whole-file replacement by temp + fsync + rename +
//! directory fsync, so a crash leaves either the old file or the new one, never a torn one.

use crate::error::DatanodeError;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

/// Makes the entries of `dir` (creations, renames, removals) durable.
pub fn fsync_dir(dir: &Path) -> Result<(), DatanodeError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(DatanodeError::io(dir))
}

/// Creates `dir` and its parents, then fsyncs it and its parent so the new entry survives a crash.
pub fn create_dir_durable(dir: &Path) -> Result<(), DatanodeError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(DatanodeError::io(dir))?;
    fsync_dir(dir)?;
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => fsync_dir(parent),
        _ => Ok(()),
    }
}

/// Replaces `path` with `contents` atomically and durably.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), DatanodeError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{:016x}", fastrand::u64(..)));
    let result = (|| {
        let mut f = File::create(&tmp).map_err(DatanodeError::io(&tmp))?;
        f.write_all(contents).map_err(DatanodeError::io(&tmp))?;
        f.sync_all().map_err(DatanodeError::io(&tmp))?;
        fs::rename(&tmp, path).map_err(DatanodeError::io(path))?;
        fsync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
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
}
