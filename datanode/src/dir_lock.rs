//! [`DirLock`]: an exclusive `flock(2)` on `<data_dir>/in_use.lock`, so two datanodes never share a data
//! directory. The kernel releases it when the process dies.

use crate::error::DatanodeError;
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::Path;

/// Held for the life of a running datanode.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock on `lock_path`, failing at once if another process holds it.
    pub fn acquire(lock_path: &Path, data_dir: &Path) -> Result<Self, DatanodeError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path)
            .map_err(DatanodeError::io(lock_path))?;
        // SAFETY: the descriptor is valid for the lifetime of `file`.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            return Err(match err.raw_os_error() {
                Some(libc::EWOULDBLOCK) => DatanodeError::DirLocked {
                    path: data_dir.to_path_buf(),
                },
                _ => DatanodeError::Io {
                    path: lock_path.to_path_buf(),
                    source: err,
                },
            });
        }
        Ok(DirLock { _file: file })
    }
}
