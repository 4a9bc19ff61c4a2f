//! The datanode's identity: a random [`DatanodeId`] chosen at first start and kept in
//! `<data_dir>/datanode.id`. (The host id, which tells clients they share a filesystem, is
//! `basalt_host::host_id`, computed the same way by the client.)
//!
//! File format (version line, then the id in decimal):
//! ```text
//! basalt-datanode-id v1
//! 1234567890
//! ```

use crate::error::DatanodeError;
use basalt_common::DatanodeId;
use basalt_host::write_atomic;
use std::path::Path;

/// Name of the identity file in the data directory.
pub const ID_FILE: &str = "datanode.id";
const VERSION_LINE: &str = "basalt-datanode-id v1";

/// Reads the datanode id from `data_dir`, or creates and persists a new random one.
pub fn load_or_create_id(data_dir: &Path) -> Result<DatanodeId, DatanodeError> {
    let path = data_dir.join(ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text).ok_or(DatanodeError::IdentityCorrupt { path }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let id = DatanodeId(fastrand::u64(1..));
            write_atomic(&path, encode(id).as_bytes())?;
            tracing::info!(%id, "created datanode identity");
            Ok(id)
        }
        Err(source) => Err(DatanodeError::Io { path, source }),
    }
}

fn encode(id: DatanodeId) -> String {
    format!("{VERSION_LINE}\n{}\n", id.0)
}

fn parse(text: &str) -> Option<DatanodeId> {
    let mut lines = text.lines();
    if lines.next()? != VERSION_LINE {
        return None;
    }
    let id: u64 = lines.next()?.trim().parse().ok()?;
    (id != 0 && lines.all(|l| l.trim().is_empty())).then_some(DatanodeId(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_id(dir.path()).unwrap();
        let b = load_or_create_id(dir.path()).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.0, 0);
        assert_eq!(parse(&encode(a)), Some(a));
    }

    #[test]
    fn malformed_id_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(ID_FILE), "basalt-datanode-id v9\n1\n").unwrap();
        assert!(matches!(
            load_or_create_id(dir.path()),
            Err(DatanodeError::IdentityCorrupt { .. })
        ));
        assert_eq!(parse("basalt-datanode-id v1\n0\n"), None);
        assert_eq!(parse("basalt-datanode-id v1\nabc\n"), None);
    }
}
