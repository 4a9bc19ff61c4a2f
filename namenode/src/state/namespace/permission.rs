//! HDFS permission checks (Hadoop's `FSPermissionChecker`), pure: who the caller is travels in the
//! request ([`Caller`], resolved by the leader when it proposes, so every member decides the same), and
//! the decision reads only the namespace.
//!
//! The rules, as HDFS has them:
//! - every operation needs `x` on each existing ancestor directory of its path (traverse);
//! - stat needs nothing more; list needs `r-x` on the directory; reading a file `r`;
//! - create and mkdir need `w` on the nearest existing ancestor (the parent, unless parents are made);
//!   overwriting a file also `w` on it; delete and rename need `w` on the parent (rename: on the
//!   source's parent and on the destination's nearest existing ancestor);
//! - a recursive delete of a non-empty directory needs `rwx` on every non-empty directory of the
//!   subtree; a content summary `r-x` on every directory of the subtree;
//! - append, set-replication and set-times need `w` on the path;
//! - set-permission needs the owner; set-owner needs the owner to change the group (to one of the
//!   caller's groups), and the superuser to change the owner;
//! - the sticky bit on a directory lets only the entry's owner, the directory's owner (or the
//!   superuser) delete or rename an entry;
//! - the superuser (and the supergroup's members) pass every check ([`Caller::superuser`], which the
//!   leader also sets for everyone when checking is off).
//!
//! The checker answers with the first inode whose bits fail, in Hadoop's words
//! ([`NamespaceError::PermissionDenied`]).

use super::error::{AccessDenied, StickyDenied};
use super::types::{Inode, InodeKind};
use super::{Namespace, NamespaceError, ROOT};
use basalt_common::{BPath, InodeId};
use serde::{Deserialize, Serialize};

pub use basalt_common::mode::{STICKY, mode_string};

/// Who a request is made by, as the leader resolved it when it proposed the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    pub user: String,
    pub groups: Vec<String>,
    /// The superuser or a member of the supergroup, or permission checking is off: no check applies.
    pub superuser: bool,
}

impl Caller {
    /// A caller who passes every check (the superuser).
    pub fn superuser(user: &str) -> Self {
        Caller {
            user: user.to_string(),
            groups: Vec::new(),
            superuser: true,
        }
    }

    /// An ordinary user in `groups`.
    pub fn user(user: &str, groups: &[&str]) -> Self {
        Caller {
            user: user.to_string(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            superuser: false,
        }
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// Hadoop's `FsAction`: the `rwx` bits an operation needs (4 read, 2 write, 1 execute).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access(pub u8);

impl Access {
    pub const READ: Access = Access(4);
    pub const WRITE: Access = Access(2);
    pub const EXECUTE: Access = Access(1);
    pub const READ_EXECUTE: Access = Access(5);
    pub const ALL: Access = Access(7);

    /// Hadoop's name of the action (`READ`, `WRITE`, `READ_EXECUTE`, `ALL`, ...).
    pub fn name(self) -> &'static str {
        match self.0 & 7 {
            0 => "NONE",
            1 => "EXECUTE",
            2 => "WRITE",
            3 => "WRITE_EXECUTE",
            4 => "READ",
            5 => "READ_EXECUTE",
            6 => "READ_WRITE",
            _ => "ALL",
        }
    }
}

/// The first `n` components of `path` (`/` for 0).
fn prefix(path: &BPath, n: usize) -> BPath {
    let mut p = BPath::root();
    for comp in path.components().take(n) {
        p = p.join(comp).expect("a component of a valid path");
    }
    p
}

impl Namespace {
    /// The inodes of `path`'s existing prefix: `/` first, then each component that exists, stopping at
    /// the first missing one or after a file.
    pub(crate) fn existing_prefix(&self, path: &BPath) -> Vec<InodeId> {
        let mut ids = vec![ROOT];
        let mut cur = ROOT;
        for comp in path.components() {
            let InodeKind::Dir { children } = &self.inode(cur).kind else {
                break;
            };
            match children.get(comp) {
                Some(id) => {
                    ids.push(*id);
                    cur = *id;
                }
                None => break,
            }
        }
        ids
    }

    fn denied(&self, caller: &Caller, access: Access, path: BPath, id: InodeId) -> NamespaceError {
        let inode = self.inode(id);
        let perm = self.perm_of(&inode.perm);
        NamespaceError::PermissionDenied(Box::new(AccessDenied {
            user: caller.user.clone(),
            access: access.name().to_string(),
            path,
            owner: perm.owner,
            group: perm.group,
            mode: mode_string(inode.is_dir(), perm.mode),
        }))
    }

    /// Whether `caller` has `access` on `inode` by its owner, group or other bits (never the superuser's
    /// bypass: callers check that first).
    fn permits(&self, caller: &Caller, inode: &Inode, access: Access) -> bool {
        let mode = u32::from(inode.perm.mode);
        let bits = if self.symbols.name(inode.perm.owner) == caller.user {
            mode >> 6
        } else if caller.in_group(self.symbols.name(inode.perm.group)) {
            mode >> 3
        } else {
            mode
        } & 7;
        u32::from(access.0) & !bits == 0
    }

    /// `access` on the inode `id` at `path`.
    pub(crate) fn check_access(
        &self,
        caller: &Caller,
        path: &BPath,
        id: InodeId,
        access: Access,
    ) -> Result<(), NamespaceError> {
        if caller.superuser || self.permits(caller, self.inode(id), access) {
            Ok(())
        } else {
            Err(self.denied(caller, access, path.clone(), id))
        }
    }

    /// `x` on every existing ancestor directory of `path`; returns the existing prefix
    /// ([`Self::existing_prefix`]).
    pub(crate) fn check_traverse(&self, caller: &Caller, path: &BPath) -> Result<Vec<InodeId>, NamespaceError> {
        let ids = self.existing_prefix(path);
        if caller.superuser {
            return Ok(ids);
        }
        let depth = path.components().count();
        // The path's own inode (when it exists) is not an ancestor.
        let ancestors = if ids.len() == depth + 1 { depth } else { ids.len() };
        for (i, id) in ids.iter().take(ancestors).enumerate() {
            if self.inode(*id).is_dir() {
                self.check_access(caller, &prefix(path, i), *id, Access::EXECUTE)?;
            }
        }
        Ok(ids)
    }

    /// Traverse, then `access` on the path's inode if it exists.
    pub(crate) fn check_path(&self, caller: &Caller, path: &BPath, access: Access) -> Result<(), NamespaceError> {
        let ids = self.check_traverse(caller, path)?;
        if ids.len() == path.components().count() + 1 {
            self.check_access(caller, path, *ids.last().expect("root"), access)?;
        }
        Ok(())
    }

    /// Traverse, then `access` on the nearest existing ancestor of `path` (what creating it needs).
    pub(crate) fn check_ancestor(&self, caller: &Caller, path: &BPath, access: Access) -> Result<(), NamespaceError> {
        let ids = self.check_traverse(caller, path)?;
        let depth = path.components().count();
        let n = if ids.len() == depth + 1 { depth } else { ids.len() };
        let i = n.saturating_sub(1);
        if self.inode(ids[i]).is_dir() {
            self.check_access(caller, &prefix(path, i), ids[i], access)?;
        }
        Ok(())
    }

    /// Traverse, then `access` on the parent of `path` and, if `path` exists in a sticky directory,
    /// the sticky-bit rule (what deleting or moving it away needs).
    pub(crate) fn check_parent(&self, caller: &Caller, path: &BPath, access: Access) -> Result<(), NamespaceError> {
        let ids = self.check_traverse(caller, path)?;
        let depth = path.components().count();
        if depth == 0 || ids.len() < depth {
            return Ok(());
        }
        let parent_path = prefix(path, depth - 1);
        let parent = ids[depth - 1];
        if !self.inode(parent).is_dir() {
            return Ok(());
        }
        self.check_access(caller, &parent_path, parent, access)?;
        if ids.len() == depth + 1 {
            self.check_sticky(caller, &parent_path, parent, path, ids[depth])?;
        }
        Ok(())
    }

    /// In a directory with the sticky bit, only the entry's owner and the directory's owner may remove
    /// or rename the entry.
    fn check_sticky(
        &self,
        caller: &Caller,
        dir_path: &BPath,
        dir: InodeId,
        path: &BPath,
        id: InodeId,
    ) -> Result<(), NamespaceError> {
        let d = self.inode(dir);
        if caller.superuser || u32::from(d.perm.mode) & STICKY == 0 {
            return Ok(());
        }
        let e = self.inode(id);
        let owner_of = |i: &Inode| self.symbols.name(i.perm.owner) == caller.user;
        if owner_of(d) || owner_of(e) {
            return Ok(());
        }
        let (dp, ep) = (self.perm_of(&d.perm), self.perm_of(&e.perm));
        Err(NamespaceError::StickyBit(Box::new(StickyDenied {
            user: caller.user.clone(),
            path: path.clone(),
            owner: ep.owner,
            group: ep.group,
            mode: mode_string(e.is_dir(), ep.mode),
            parent: dir_path.clone(),
            parent_owner: dp.owner,
            parent_group: dp.group,
            parent_mode: mode_string(true, dp.mode),
        })))
    }

    /// `access` on every directory at or below `path` (an existing inode); with `skip_empty`, empty
    /// directories are not checked (Hadoop's recursive delete). Visits the whole subtree.
    pub(crate) fn check_subtree(
        &self,
        caller: &Caller,
        path: &BPath,
        id: InodeId,
        access: Access,
        skip_empty: bool,
    ) -> Result<(), NamespaceError> {
        if caller.superuser {
            return Ok(());
        }
        let mut stack = vec![(path.clone(), id)];
        while let Some((p, id)) = stack.pop() {
            let InodeKind::Dir { children } = &self.inode(id).kind else {
                continue;
            };
            if skip_empty && children.is_empty() {
                continue;
            }
            self.check_access(caller, &p, id, access)?;
            for (name, child) in children.iter().rev() {
                if self.inode(*child).is_dir() {
                    stack.push((p.join(name)?, *child));
                }
            }
        }
        Ok(())
    }

    /// [`Self::stat`] as `caller`: traverse.
    pub fn stat_as(&self, caller: &Caller, path: &BPath) -> Result<super::FileStatus, NamespaceError> {
        self.check_traverse(caller, path)?;
        self.stat(path)
    }

    /// [`Self::list`] as `caller`: traverse, and `r-x` on a directory.
    pub fn list_as(
        &self,
        caller: &Caller,
        path: &BPath,
        start_after: &str,
        limit: usize,
    ) -> Result<(Vec<super::FileStatus>, bool), NamespaceError> {
        self.check_traverse(caller, path)?;
        if let Some(id) = self.lookup(path).filter(|id| self.inode(*id).is_dir()) {
            self.check_access(caller, path, id, Access::READ_EXECUTE)?;
        }
        self.list(path, start_after, limit)
    }

    /// [`Self::blocks`] as `caller` (what opening a file for reading needs): traverse, and `r` on it.
    #[allow(clippy::type_complexity)]
    pub fn blocks_as(
        &self,
        caller: &Caller,
        path: &BPath,
    ) -> Result<(super::FileStatus, Vec<(super::BlockMeta, u64)>), NamespaceError> {
        self.check_traverse(caller, path)?;
        if let Some(id) = self.lookup(path).filter(|id| !self.inode(*id).is_dir()) {
            self.check_access(caller, path, id, Access::READ)?;
        }
        self.blocks(path)
    }

    /// What a walk of the subtree at `path` (content summary, fsck) needs before it starts: traverse,
    /// and `r-x` on `path` if it is a directory; the walk checks each directory below it as it enters
    /// ([`Self::check_enter`]).
    pub fn check_walk_root(&self, caller: &Caller, path: &BPath) -> Result<(), NamespaceError> {
        self.check_traverse(caller, path)?;
        if let Some(id) = self.lookup(path) {
            self.check_enter(caller, path, id)?;
        }
        Ok(())
    }

    /// What resuming a subtree walk at `cursor` needs: `r-x` on every directory from `root` down to the
    /// cursor (a walk resumed there does not enter them again, and the cursor comes from the client).
    pub fn check_walk_resume(&self, caller: &Caller, root: &BPath, cursor: &BPath) -> Result<(), NamespaceError> {
        if caller.superuser || !cursor.starts_with(root) {
            return Ok(());
        }
        let ids = self.existing_prefix(cursor);
        let depth = root.components().count();
        for (i, id) in ids.iter().enumerate().skip(depth) {
            self.check_enter(caller, &prefix(cursor, i), *id)?;
        }
        Ok(())
    }

    /// `r-x` on a directory a subtree walk enters.
    pub fn check_enter(&self, caller: &Caller, path: &BPath, id: InodeId) -> Result<(), NamespaceError> {
        if self.inode(id).is_dir() {
            self.check_access(caller, path, id, Access::READ_EXECUTE)?;
        }
        Ok(())
    }

    /// The owner of the inode at `path`, or the superuser (what changing its mode needs).
    pub(crate) fn check_owner(&self, caller: &Caller, path: &BPath, id: InodeId) -> Result<(), NamespaceError> {
        if caller.superuser || self.symbols.name(self.inode(id).perm.owner) == caller.user {
            return Ok(());
        }
        Err(NamespaceError::NotOwner {
            user: caller.user.clone(),
            path: path.clone(),
        })
    }
}
