//! Disk usage of a data directory's filesystem, from `statvfs(3)`.

use crate::error::DatanodeError;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Space figures reported in heartbeats, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Size of the filesystem holding the data directory.
    pub capacity: u64,
    /// Bytes of replicas (data and metadata) this datanode stores.
    pub used: u64,
    /// Bytes still available to this datanode on the filesystem.
    pub remaining: u64,
}

/// Returns `(capacity, available)` of the filesystem holding `path`.
pub fn fs_space(path: &Path) -> Result<(u64, u64), DatanodeError> {
    let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| DatanodeError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "path contains a NUL byte"),
    })?;
    // SAFETY: `c_path` is a valid NUL-terminated string and `st` is a properly sized, writable struct.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut st) };
    if rc != 0 {
        return Err(DatanodeError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::last_os_error(),
        });
    }
    let frsize = st.f_frsize as u64;
    Ok((st.f_blocks as u64 * frsize, st.f_bavail as u64 * frsize))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reports_a_nonzero_filesystem() {
        let dir = tempfile::tempdir().unwrap();
        let (capacity, available) = super::fs_space(dir.path()).unwrap();
        assert!(capacity > 0 && available <= capacity);
    }
}
