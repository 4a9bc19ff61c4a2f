//! Read-only queries over the namespace: stat, list, block lists and content summaries.

use super::types::{BlockMeta, ContentSummary, FileStatus, InodeKind};
use super::{Namespace, NamespaceError};
use basalt_common::{BPath, InodeId};

type Result<T> = std::result::Result<T, NamespaceError>;

/// Largest number of entries one list call returns; the client pages with `start_after`.
pub const LIST_PAGE: usize = 1000;

impl Namespace {
    pub(crate) fn status_of(&self, path: BPath, id: InodeId) -> FileStatus {
        let inode = self.inode(id);
        match &inode.kind {
            InodeKind::Dir { children } => FileStatus {
                path,
                inode: id,
                is_dir: true,
                length: 0,
                replication: 0,
                block_size: 0,
                mtime_ms: inode.mtime_ms,
                atime_ms: 0,
                perm: self.perm_of(&inode.perm),
                under_construction: false,
                block_count: 0,
                children: children.len() as u64,
            },
            InodeKind::File(f) => FileStatus {
                path,
                inode: id,
                is_dir: false,
                length: f.length(),
                replication: f.replication,
                block_size: f.block_size.bytes(),
                mtime_ms: inode.mtime_ms,
                atime_ms: self.atimes.get(&id).copied().unwrap_or(inode.mtime_ms),
                perm: self.perm_of(&inode.perm),
                under_construction: f.lease.is_some(),
                block_count: f.blocks.len() as u64,
                children: 0,
            },
        }
    }

    /// Status of inode `id` as `path`, if it still exists (a file just created may be gone again).
    pub fn status_of_inode(&self, path: &BPath, id: InodeId) -> Option<FileStatus> {
        self.inodes.contains_key(&id).then(|| self.status_of(path.clone(), id))
    }

    /// Status of one path.
    pub fn stat(&self, path: &BPath) -> Result<FileStatus> {
        let id = self.resolve(path)?;
        Ok(self.status_of(path.clone(), id))
    }

    /// Entries of a directory in name order after `start_after` (at most `limit`, capped at
    /// [`LIST_PAGE`]), and whether more follow. Listing a file returns the file itself.
    pub fn list(&self, path: &BPath, start_after: &str, limit: usize) -> Result<(Vec<FileStatus>, bool)> {
        let id = self.resolve(path)?;
        let InodeKind::Dir { children } = &self.inode(id).kind else {
            return Ok((vec![self.status_of(path.clone(), id)], false));
        };
        let limit = limit.clamp(1, LIST_PAGE);
        let from = if start_after.is_empty() {
            std::ops::Bound::Unbounded
        } else {
            std::ops::Bound::Excluded(start_after)
        };
        let mut range = children.range::<str, _>((from, std::ops::Bound::Unbounded)).peekable();
        let mut out = Vec::new();
        while out.len() < limit {
            let Some((name, id)) = range.next() else { break };
            out.push(self.status_of(path.join(name)?, *id));
        }
        Ok((out, range.peek().is_some()))
    }

    /// A file's status and its blocks, each with its offset in the file.
    pub fn blocks(&self, path: &BPath) -> Result<(FileStatus, Vec<(BlockMeta, u64)>)> {
        let id = self.resolve(path)?;
        let InodeKind::File(f) = &self.inode(id).kind else {
            return Err(NamespaceError::IsADirectory { path: path.clone() });
        };
        let mut offset = 0;
        let blocks = f
            .blocks
            .iter()
            .map(|b| {
                let at = offset;
                offset += b.len;
                (*b, at)
            })
            .collect();
        Ok((self.status_of(path.clone(), id), blocks))
    }

    /// Totals below `path` (the path itself included).
    pub fn content_summary(&self, path: &BPath) -> Result<ContentSummary> {
        let mut sum = ContentSummary::default();
        let mut stack = vec![self.resolve(path)?];
        while let Some(id) = stack.pop() {
            match &self.inode(id).kind {
                InodeKind::Dir { children } => {
                    sum.directories += 1;
                    stack.extend(children.values().copied());
                }
                InodeKind::File(f) => {
                    let len = f.length();
                    sum.files += 1;
                    sum.length += len;
                    sum.space_consumed += len * f.replication as u64;
                }
            }
        }
        Ok(sum)
    }
}

impl Namespace {
    /// Every file at or below `path` with its metadata, in path order.
    pub fn files_under(&self, path: &BPath) -> Result<Vec<(BPath, &super::types::FileMeta)>> {
        let mut out = Vec::new();
        let mut stack = vec![(path.clone(), self.resolve(path)?)];
        while let Some((p, id)) = stack.pop() {
            match &self.inode(id).kind {
                InodeKind::File(f) => out.push((p, f)),
                InodeKind::Dir { children } => {
                    for (name, child) in children.iter().rev() {
                        stack.push((p.join(name)?, *child));
                    }
                }
            }
        }
        Ok(out)
    }
}
