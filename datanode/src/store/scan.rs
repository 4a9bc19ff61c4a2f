//! The start-up scan of `current/`: rebuilds the replica map from file names and metadata headers, and
//! moves anything inconsistent (data without meta, meta without data, undecodable header, meta length not
//! matching the data, stale generation stamps) aside into `corrupt/`.

use super::Replica;
use super::layout::{Layout, ReplicaFile, parse_name};
use crate::error::DatanodeError;
use basalt_common::checksum::{META_HEADER_LEN, MetaHeader};
use basalt_common::{BlockId, GenStamp};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Files of one block found in a leaf directory.
#[derive(Default)]
struct Found {
    data: Option<PathBuf>,
    metas: Vec<(GenStamp, PathBuf)>,
}

/// Scans `current/` and returns the valid replicas.
pub fn scan(layout: &Layout) -> Result<HashMap<BlockId, Replica>, DatanodeError> {
    let mut replicas = HashMap::new();
    for a in subdirs(&layout.current())? {
        for b in subdirs(&a)? {
            let mut found: HashMap<BlockId, Found> = HashMap::new();
            for entry in fs::read_dir(&b).map_err(DatanodeError::io(&b))? {
                let path = entry.map_err(DatanodeError::io(&b))?.path();
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                match parse_name(&name) {
                    Some(ReplicaFile::Data(id)) => found.entry(id).or_default().data = Some(path),
                    Some(ReplicaFile::Meta(id, gs)) => found.entry(id).or_default().metas.push((gs, path)),
                    None => tracing::warn!(path = %path.display(), "ignoring unknown file in current/"),
                }
            }
            for (block, files) in found {
                if let Some(replica) = resolve(layout, block, files)
                    && let Some(dup) = replicas.insert(block, replica)
                {
                    tracing::warn!(%block, path = %dup.data_path.display(), "duplicate replica set aside");
                    move_aside(layout, &dup.data_path);
                    move_aside(layout, &dup.meta_path);
                }
            }
        }
    }
    Ok(replicas)
}

/// Turns the files of one block into a replica, setting aside whatever does not fit.
fn resolve(layout: &Layout, block: BlockId, mut files: Found) -> Option<Replica> {
    files.metas.sort_by_key(|(gs, _)| std::cmp::Reverse(*gs));
    let mut metas = files.metas.into_iter();
    let (data_path, (genstamp, meta_path)) = match (files.data, metas.next()) {
        (Some(d), Some(m)) => (d, m),
        (data, meta) => {
            tracing::warn!(%block, "replica without data or metadata set aside");
            data.iter()
                .chain(meta.iter().map(|(_, p)| p))
                .for_each(|p| move_aside(layout, p));
            return None;
        }
    };
    for (gs, stale) in metas {
        tracing::warn!(%block, genstamp = %gs, "stale replica metadata set aside");
        move_aside(layout, &stale);
    }
    match check(block, &data_path, &meta_path) {
        Ok((length, chunk_size)) => Some(Replica {
            block,
            genstamp,
            length,
            chunk_size,
            data_path,
            meta_path,
        }),
        Err(e) => {
            tracing::warn!(%block, error = %e, "bad replica set aside");
            move_aside(layout, &data_path);
            move_aside(layout, &meta_path);
            None
        }
    }
}

/// Decodes the meta header and checks the checksum count against the data length.
fn check(block: BlockId, data_path: &Path, meta_path: &Path) -> Result<(u64, u32), DatanodeError> {
    let length = fs::metadata(data_path).map_err(DatanodeError::io(data_path))?.len();
    let mut meta = File::open(meta_path).map_err(DatanodeError::io(meta_path))?;
    let meta_len = meta.metadata().map_err(DatanodeError::io(meta_path))?.len();
    let mut header = Vec::with_capacity(META_HEADER_LEN);
    (&mut meta)
        .take(META_HEADER_LEN as u64)
        .read_to_end(&mut header)
        .map_err(DatanodeError::io(meta_path))?;
    let header = MetaHeader::decode(&header).map_err(|source| DatanodeError::BadMeta {
        block,
        path: meta_path.to_path_buf(),
        source,
    })?;
    let sums = meta_len.saturating_sub(META_HEADER_LEN as u64) / 4;
    let expected_len = basalt_common::checksum::meta_len(length, header.chunk_size);
    if meta_len != expected_len {
        return Err(DatanodeError::MetaLength {
            block,
            data_len: length,
            sums,
        });
    }
    Ok((length, header.chunk_size))
}

/// Moves `path` into `corrupt/` (best effort: a failure is logged, the file then stays ignored).
pub fn move_aside(layout: &Layout, path: &Path) {
    let target = layout.corrupt_path(path, fastrand::u64(..));
    if let Err(e) = fs::rename(path, &target) {
        tracing::warn!(path = %path.display(), error = %e, "cannot move bad replica file aside");
    }
}

/// The `subdir*` directories in `dir`.
fn subdirs(dir: &Path) -> Result<Vec<PathBuf>, DatanodeError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(DatanodeError::io(dir))? {
        let entry = entry.map_err(DatanodeError::io(dir))?;
        let is_subdir = entry.file_name().to_string_lossy().starts_with("subdir");
        if is_subdir && entry.file_type().map_err(DatanodeError::io(entry.path()))?.is_dir() {
            out.push(entry.path());
        }
    }
    Ok(out)
}
