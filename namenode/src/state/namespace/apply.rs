//! Applying commands to the namespace. Each handler validates first and mutates only once nothing can
//! fail any more, so a rejected command leaves the namespace untouched. A command made by a caller
//! ([`Caller`]) passes its permission checks ([`Namespace::authorize`], `permission.rs`) before
//! anything else; a command with none (the namenode's own work, or a log entry older than state
//! version 6) is applied as before permissions were checked.

use super::permission::{Access, Caller};
use super::types::{
    BLOCK_SIZE_UNIT, BlockMeta, BlockSize, FileMeta, Inode, InodeKind, Lease, MODE_MASK, Name, Perm, RECOVERY_HOLDER,
    StoredPerm,
};
use super::{FsCommand, FsOutput, MAX_REPLICATION, Namespace, NamespaceError, ROOT};
use basalt_common::{BPath, BlockId, DatanodeId, GenStamp, InodeId};
use std::collections::BTreeMap;

const MAX_BLOCK_SIZE: u64 = 1 << 40;

type Result<T> = std::result::Result<T, NamespaceError>;

impl Namespace {
    /// Applies one command on behalf of `client` (the lease holder of files it writes), without
    /// permission checks (the namenode's own work, and tests).
    pub fn apply(&mut self, client: &str, cmd: &FsCommand) -> Result<FsOutput> {
        self.apply_as(client, None, cmd)
    }

    /// Applies one command on behalf of `client`, made by `caller`: its permission checks first (a
    /// denied command changes nothing); new inodes are owned by the caller and take their parent's
    /// group. With no caller, no check applies and a new inode takes the command's owner and group.
    pub fn apply_as(&mut self, client: &str, caller: Option<&Caller>, cmd: &FsCommand) -> Result<FsOutput> {
        if let Some(caller) = caller {
            self.authorize(caller, cmd)?;
        }
        match cmd {
            FsCommand::Mkdirs {
                path,
                parents,
                perm,
                mtime_ms,
            } => {
                let perm = self.new_perm(caller, path, perm);
                self.mkdirs(path, *parents, &perm, caller.is_some(), *mtime_ms)
            }
            FsCommand::Create {
                path,
                overwrite,
                create_parent,
                replication,
                block_size,
                perm,
                mtime_ms,
            } => {
                let perm = self.new_perm(caller, path, perm);
                self.create(
                    path,
                    *overwrite,
                    *create_parent,
                    *replication,
                    *block_size,
                    &perm,
                    client,
                    *mtime_ms,
                )
            }
            FsCommand::AddBlock {
                path,
                previous,
                pipeline,
            } => self.add_block(path, client, previous.as_ref(), pipeline),
            FsCommand::UpdatePipeline { path, block, pipeline } => self.update_pipeline(path, client, *block, pipeline),
            FsCommand::Append { path, mtime_ms } => self.append(path, client, *mtime_ms),
            FsCommand::RecoverLease { path, holder } => self.recover_lease(path, holder),
            FsCommand::CommitRecovery { path, last, mtime_ms } => self.commit_recovery(path, last.as_ref(), *mtime_ms),
            FsCommand::Complete { path, last, mtime_ms } => self.complete(path, client, last.as_ref(), *mtime_ms),
            FsCommand::Rename { src, dst, mtime_ms } => self.rename(src, dst, *mtime_ms),
            FsCommand::Delete {
                path,
                recursive,
                mtime_ms,
            } => self.delete(path, *recursive, *mtime_ms),
            FsCommand::SetReplication { path, replication } => self.set_replication(path, *replication),
            FsCommand::SetPermission { path, mode } => self.set_permission(path, *mode),
            FsCommand::SetOwner { path, owner, group } => self.set_owner(path, owner.as_deref(), group.as_deref()),
            FsCommand::SetTimes {
                path,
                mtime_ms,
                atime_ms,
            } => self.set_times(path, *mtime_ms, *atime_ms),
        }
    }

    /// The permission checks of `cmd` made by `caller` (see `permission.rs` for the rules). Commands on
    /// a file being written (blocks, pipeline, close) are bound to the lease, not checked.
    fn authorize(&self, caller: &Caller, cmd: &FsCommand) -> Result<()> {
        if caller.superuser {
            return Ok(());
        }
        match cmd {
            FsCommand::Mkdirs { path, .. } => {
                if self.lookup(path).is_some() {
                    self.check_traverse(caller, path).map(|_| ())
                } else {
                    self.check_ancestor(caller, path, Access::WRITE)
                }
            }
            FsCommand::Create { path, overwrite, .. } => {
                if *overwrite
                    && let Some(id) = self.lookup(path)
                    && !self.inode(id).is_dir()
                {
                    self.check_path(caller, path, Access::WRITE)?;
                }
                self.check_ancestor(caller, path, Access::WRITE)
            }
            FsCommand::Append { path, .. }
            | FsCommand::SetReplication { path, .. }
            | FsCommand::SetTimes { path, .. } => self.check_path(caller, path, Access::WRITE),
            FsCommand::Rename { src, dst, .. } => {
                self.check_parent(caller, src, Access::WRITE)?;
                let dst = match self.lookup(dst) {
                    Some(d) if self.inode(d).is_dir() && !src.is_root() => {
                        dst.join(src.file_name().expect("not root"))?
                    }
                    _ => dst.clone(),
                };
                self.check_ancestor(caller, &dst, Access::WRITE)
            }
            FsCommand::Delete { path, recursive, .. } => {
                self.check_parent(caller, path, Access::WRITE)?;
                match self.lookup(path) {
                    Some(id) if *recursive => self.check_subtree(caller, path, id, Access::ALL, true),
                    _ => Ok(()),
                }
            }
            FsCommand::SetPermission { path, .. } => {
                self.check_traverse(caller, path)?;
                match self.lookup(path) {
                    Some(id) => self.check_owner(caller, path, id),
                    None => Ok(()),
                }
            }
            FsCommand::SetOwner { path, owner, group } => {
                self.check_traverse(caller, path)?;
                let Some(id) = self.lookup(path) else { return Ok(()) };
                self.check_owner(caller, path, id)?;
                if owner.as_ref().is_some_and(|o| *o != caller.user) {
                    return Err(NamespaceError::NotSuperuser {
                        user: caller.user.clone(),
                    });
                }
                match group {
                    Some(g) if !caller.in_group(g) => Err(NamespaceError::NotInGroup {
                        user: caller.user.clone(),
                        group: g.clone(),
                    }),
                    _ => Ok(()),
                }
            }
            FsCommand::AddBlock { .. }
            | FsCommand::UpdatePipeline { .. }
            | FsCommand::Complete { .. }
            | FsCommand::RecoverLease { .. }
            | FsCommand::CommitRecovery { .. } => Ok(()),
        }
    }

    /// The permission of an inode `caller` creates at `path`: owned by the caller, in the group of the
    /// nearest existing ancestor (its parent-to-be), with the command's mode. Without a caller, the
    /// command's permission as it is.
    fn new_perm(&self, caller: Option<&Caller>, path: &BPath, perm: &Perm) -> Perm {
        let Some(caller) = caller else {
            return perm.clone();
        };
        let ids = self.existing_prefix(path);
        let depth = path.components().count();
        let n = if ids.len() == depth + 1 { depth } else { ids.len() };
        let parent = self.inode(ids[n.saturating_sub(1)]);
        Perm {
            owner: caller.user.clone(),
            group: self.symbols.name(parent.perm.group).to_string(),
            mode: perm.mode & MODE_MASK,
        }
    }

    fn alloc_inode(&mut self) -> InodeId {
        let id = InodeId(self.next_inode);
        self.next_inode += 1;
        id
    }

    fn children_mut(&mut self, dir: InodeId) -> &mut BTreeMap<Name, InodeId> {
        match &mut self.inodes.get_mut(&dir).expect("directory exists").kind {
            InodeKind::Dir { children } => children,
            InodeKind::File(_) => unreachable!("checked to be a directory"),
        }
    }

    fn insert_child(&mut self, parent: InodeId, name: &str, kind: InodeKind, perm: &Perm, mtime_ms: u64) -> InodeId {
        let id = self.alloc_inode();
        let name: Name = name.into();
        let perm = self.store_perm(perm);
        match &kind {
            InodeKind::File(f) if f.lease.is_none() => {}
            InodeKind::File(_) => {
                self.open.insert(id);
                self.names.insert(id, name.clone());
            }
            InodeKind::Dir { .. } => {
                self.names.insert(id, name.clone());
            }
        }
        let inode = Inode {
            parent,
            perm,
            mtime_ms,
            kind,
        };
        self.inodes.insert(id, Box::new(inode));
        self.children_mut(parent).insert(name, id);
        self.touch(parent, mtime_ms);
        id
    }

    /// A file is no longer open: it leaves the open set, and its name lives on in its parent only.
    fn close(&mut self, id: InodeId) {
        self.open.remove(&id);
        self.names.remove(&id);
    }

    pub(super) fn store_perm(&mut self, perm: &Perm) -> StoredPerm {
        StoredPerm {
            owner: self.symbols.intern(&perm.owner),
            group: self.symbols.intern(&perm.group),
            mode: (perm.mode & MODE_MASK) as u16,
        }
    }

    fn touch(&mut self, id: InodeId, mtime_ms: u64) {
        if let Some(i) = self.inodes.get_mut(&id) {
            i.mtime_ms = i.mtime_ms.max(mtime_ms);
        }
    }

    /// The existing directory that will hold `path`.
    fn parent_dir(&self, path: &BPath) -> Result<InodeId> {
        let parent = path
            .parent()
            .ok_or_else(|| NamespaceError::AlreadyExists { path: path.clone() })?;
        match self.resolve(&parent) {
            Ok(p) if self.inode(p).is_dir() => Ok(p),
            Ok(_) => Err(NamespaceError::NotADirectory { path: parent }),
            Err(NamespaceError::NotFound { .. }) => Err(NamespaceError::ParentNotFound { path: parent }),
            Err(e) => Err(e),
        }
    }

    /// With `implicit_uwx` (a caller's mkdir), directories made on the way get `u+wx` added, as in HDFS,
    /// so that their owner can go on below them.
    fn mkdirs(
        &mut self,
        path: &BPath,
        parents: bool,
        perm: &Perm,
        implicit_uwx: bool,
        mtime_ms: u64,
    ) -> Result<FsOutput> {
        if !parents {
            if self.lookup(path).is_some() {
                return Err(NamespaceError::AlreadyExists { path: path.clone() });
            }
            let parent = self.parent_dir(path)?;
            let name = path.file_name().expect("not root");
            self.insert_child(
                parent,
                name,
                InodeKind::Dir {
                    children: BTreeMap::new(),
                },
                perm,
                mtime_ms,
            );
            return Ok(FsOutput::Done);
        }
        // -p: check the whole chain first so nothing is created when a file is in the way.
        let mut cur = ROOT;
        let mut walked = BPath::root();
        let mut missing_from = None;
        for (i, comp) in path.components().enumerate() {
            walked = walked.join(comp)?;
            let InodeKind::Dir { children } = &self.inodes[&cur].kind else {
                unreachable!()
            };
            match children.get(comp) {
                Some(id) if self.inodes[id].is_dir() => cur = *id,
                Some(_) => return Err(NamespaceError::NotADirectory { path: walked }),
                None => {
                    missing_from = Some(i);
                    break;
                }
            }
        }
        if let Some(start) = missing_from {
            let depth = path.components().count();
            let on_the_way = Perm {
                mode: perm.mode | 0o300,
                ..perm.clone()
            };
            for (i, comp) in path.components().enumerate().skip(start) {
                let p = if implicit_uwx && i + 1 < depth {
                    &on_the_way
                } else {
                    perm
                };
                cur = self.insert_child(
                    cur,
                    comp,
                    InodeKind::Dir {
                        children: BTreeMap::new(),
                    },
                    p,
                    mtime_ms,
                );
            }
        }
        Ok(FsOutput::Done)
    }

    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        path: &BPath,
        overwrite: bool,
        create_parent: bool,
        replication: u32,
        block_size: u64,
        perm: &Perm,
        client: &str,
        mtime_ms: u64,
    ) -> Result<FsOutput> {
        if path.is_root() {
            return Err(NamespaceError::IsADirectory { path: path.clone() });
        }
        check_replication(replication)?;
        let stored = BlockSize::from_bytes(block_size).filter(|_| block_size <= MAX_BLOCK_SIZE);
        let Some(stored) = stored else {
            return Err(NamespaceError::InvalidBlockSize {
                value: block_size,
                multiple: BLOCK_SIZE_UNIT,
                max: MAX_BLOCK_SIZE,
            });
        };
        let mut replaced_blocks = Vec::new();
        if let Ok(existing) = self.resolve(path) {
            if self.inode(existing).is_dir() {
                return Err(NamespaceError::IsADirectory { path: path.clone() });
            }
            if !overwrite {
                return Err(NamespaceError::AlreadyExists { path: path.clone() });
            }
            let FsOutput::Deleted { blocks } = self.delete(path, false, mtime_ms)? else {
                unreachable!()
            };
            replaced_blocks = blocks;
        }
        let parent = match self.parent_dir(path) {
            Err(NamespaceError::ParentNotFound { path: parent }) if create_parent => {
                self.mkdirs(
                    &parent,
                    true,
                    &Perm {
                        mode: 0o755,
                        ..perm.clone()
                    },
                    false,
                    mtime_ms,
                )?;
                self.parent_dir(path)?
            }
            other => other?,
        };
        let meta = FileMeta {
            replication,
            block_size: stored,
            blocks: Vec::new(),
            lease: Some(Box::new(Lease::new(client, mtime_ms))),
        };
        let name = path.file_name().expect("not root");
        let inode = self.insert_child(parent, name, InodeKind::File(meta), perm, mtime_ms);
        Ok(FsOutput::Created { inode, replaced_blocks })
    }

    /// The file at `path` (not a directory) and its inode, mutably.
    fn file_mut(&mut self, path: &BPath) -> Result<(InodeId, &mut FileMeta)> {
        let id = self.resolve(path)?;
        match &mut self.inodes.get_mut(&id).expect("resolved").kind {
            InodeKind::Dir { .. } => Err(NamespaceError::IsADirectory { path: path.clone() }),
            InodeKind::File(f) => Ok((id, f)),
        }
    }

    /// The file at `path` and its inode, which must be open for writing by `client`.
    fn open_file_mut(&mut self, path: &BPath, client: &str) -> Result<(InodeId, &mut FileMeta)> {
        let (id, file) = self.file_mut(path)?;
        match &file.lease {
            None => Err(NamespaceError::NotUnderConstruction { path: path.clone() }),
            Some(l) if l.holder != client => Err(NamespaceError::LeaseMismatch {
                path: path.clone(),
                holder: l.holder.clone(),
                client: client.to_string(),
            }),
            Some(_) => Ok((id, file)),
        }
    }

    fn add_block(
        &mut self,
        path: &BPath,
        client: &str,
        previous: Option<&BlockMeta>,
        pipeline: &[DatanodeId],
    ) -> Result<FsOutput> {
        let id = BlockId(self.next_block);
        let gen_stamp = GenStamp(self.next_gen);
        let (inode, file) = self.open_file_mut(path, client)?;
        set_last_length(path, file, previous)?;
        let offset = file.length();
        let block = BlockMeta { id, gen_stamp, len: 0 };
        file.blocks.push(block);
        if let Some(l) = file.lease.as_mut() {
            l.start_block(pipeline);
        }
        let replication = file.replication;
        self.block_owner.insert(id, inode);
        self.next_block += 1;
        self.next_gen += 1;
        Ok(FsOutput::Block {
            block,
            offset,
            replication,
        })
    }

    fn update_pipeline(
        &mut self,
        path: &BPath,
        client: &str,
        block: BlockId,
        pipeline: &[DatanodeId],
    ) -> Result<FsOutput> {
        let gen_stamp = GenStamp(self.next_gen);
        let (_, file) = self.open_file_mut(path, client)?;
        let last_id = file.writing_block().map(|b| b.id);
        if last_id != Some(block) {
            return Err(NamespaceError::BlockMismatch {
                path: path.clone(),
                expected: last_id,
                got: block,
            });
        }
        let replication = file.replication;
        let offset = file.length() - file.blocks.last().map_or(0, |b| b.len);
        let last = file.blocks.last_mut().expect("checked above");
        last.gen_stamp = gen_stamp;
        let block = *last;
        if let Some(l) = file.lease.as_mut() {
            l.start_block(pipeline);
        }
        self.next_gen += 1;
        Ok(FsOutput::Block {
            block,
            offset,
            replication,
        })
    }

    fn complete(&mut self, path: &BPath, client: &str, last: Option<&BlockMeta>, mtime_ms: u64) -> Result<FsOutput> {
        let (id, file) = self.open_file_mut(path, client)?;
        set_last_length(path, file, last)?;
        file.lease = None;
        self.close(id);
        self.touch(id, mtime_ms);
        Ok(FsOutput::Done)
    }

    fn append(&mut self, path: &BPath, client: &str, mtime_ms: u64) -> Result<FsOutput> {
        let (id, file) = self.file_mut(path)?;
        if let Some(l) = &file.lease {
            return Err(NamespaceError::AlreadyBeingWritten {
                path: path.clone(),
                holder: l.holder.clone(),
            });
        }
        file.lease = Some(Box::new(Lease::new(client, mtime_ms)));
        self.open.insert(id);
        self.names
            .insert(id, path.file_name().expect("a file is not the root").into());
        Ok(FsOutput::Created {
            inode: id,
            replaced_blocks: Vec::new(),
        })
    }

    fn recover_lease(&mut self, path: &BPath, holder: &str) -> Result<FsOutput> {
        let gen_stamp = GenStamp(self.next_gen);
        let (_, file) = self.file_mut(path)?;
        let Some(lease) = file.lease.as_mut() else {
            return Err(NamespaceError::NotUnderConstruction { path: path.clone() });
        };
        if lease.holder != holder && lease.holder != RECOVERY_HOLDER {
            return Err(NamespaceError::LeaseMismatch {
                path: path.clone(),
                holder: lease.holder.clone(),
                client: holder.to_string(),
            });
        }
        lease.holder = RECOVERY_HOLDER.to_string();
        let pipeline = lease.pipeline.clone();
        // Only a block being written is recovered (and re-stamped); a finished one stays as it is.
        let last = match file.blocks.last_mut() {
            Some(b) if lease.last_block_open => {
                b.gen_stamp = gen_stamp;
                Some(*b)
            }
            _ => None,
        };
        if last.is_some() {
            self.next_gen += 1;
        }
        Ok(FsOutput::Recovery { last, pipeline })
    }

    fn commit_recovery(&mut self, path: &BPath, last: Option<&BlockMeta>, mtime_ms: u64) -> Result<FsOutput> {
        let (id, file) = self.file_mut(path)?;
        let last_block_open = file.writing_block().is_some();
        match &file.lease {
            Some(l) if l.holder == RECOVERY_HOLDER => {}
            Some(l) => {
                return Err(NamespaceError::NotRecovering {
                    path: path.clone(),
                    holder: l.holder.clone(),
                });
            }
            None => return Err(NamespaceError::NotUnderConstruction { path: path.clone() }),
        }
        let mut dropped = Vec::new();
        match (file.blocks.last_mut(), last) {
            (Some(cur), Some(r)) if cur.id == r.id && last_block_open => {
                if cur.gen_stamp != r.gen_stamp {
                    return Err(NamespaceError::StaleGenStamp {
                        path: path.clone(),
                        block: r.id,
                        current: cur.gen_stamp.0,
                        got: r.gen_stamp.0,
                    });
                }
                cur.len = r.len;
            }
            (cur, Some(r)) => {
                return Err(NamespaceError::BlockMismatch {
                    path: path.clone(),
                    expected: cur.map(|b| b.id),
                    got: r.id,
                });
            }
            // The block being written has no replica left: nothing in it was acknowledged as closed.
            (Some(_), None) if last_block_open => dropped.extend(file.blocks.pop()),
            (_, None) => {}
        }
        file.lease = None;
        self.close(id);
        for b in &dropped {
            self.block_owner.remove(&b.id);
        }
        self.touch(id, mtime_ms);
        Ok(FsOutput::Deleted { blocks: dropped })
    }

    fn rename(&mut self, src: &BPath, dst: &BPath, mtime_ms: u64) -> Result<FsOutput> {
        if src.is_root() {
            return Err(NamespaceError::RootOperation { op: "renamed".into() });
        }
        let src_id = self.resolve(src)?;
        // Into an existing directory: keep the source's name (HDFS and `mv` semantics).
        let dst = match self.resolve(dst) {
            Ok(d) if self.inode(d).is_dir() => dst.join(src.file_name().expect("not root"))?,
            _ => dst.clone(),
        };
        if &dst == src {
            return Ok(FsOutput::Done);
        }
        if dst.starts_with(src) {
            return Err(NamespaceError::RenameIntoSelf { src: src.clone(), dst });
        }
        if self.lookup(&dst).is_some() {
            return Err(NamespaceError::AlreadyExists { path: dst });
        }
        let new_parent = self.parent_dir(&dst)?;
        let old_parent = self.inodes[&src_id].parent;
        let old_name = src.file_name().expect("not root");
        let new_name: Name = dst.file_name().expect("not root").into();
        self.children_mut(old_parent).remove(old_name);
        self.children_mut(new_parent).insert(new_name.clone(), src_id);
        if let Some(n) = self.names.get_mut(&src_id) {
            *n = new_name;
        }
        self.inodes.get_mut(&src_id).expect("exists").parent = new_parent;
        self.touch(old_parent, mtime_ms);
        self.touch(new_parent, mtime_ms);
        Ok(FsOutput::Done)
    }

    fn delete(&mut self, path: &BPath, recursive: bool, mtime_ms: u64) -> Result<FsOutput> {
        if path.is_root() {
            return Err(NamespaceError::RootOperation { op: "deleted".into() });
        }
        let id = self.resolve(path)?;
        let node = self.inode(id);
        if let InodeKind::Dir { children } = &node.kind
            && !recursive
            && !children.is_empty()
        {
            return Err(NamespaceError::DirectoryNotEmpty { path: path.clone() });
        }
        let parent = node.parent;
        self.children_mut(parent).remove(path.file_name().expect("not root"));
        self.touch(parent, mtime_ms);
        let mut blocks = Vec::new();
        let mut stack = vec![id];
        while let Some(cur) = stack.pop() {
            let inode = self.inodes.remove(&cur).expect("child exists");
            self.open.remove(&cur);
            self.names.remove(&cur);
            self.atimes.remove(&cur);
            match inode.kind {
                InodeKind::Dir { children } => stack.extend(children.into_values()),
                InodeKind::File(f) => {
                    for b in &f.blocks {
                        self.block_owner.remove(&b.id);
                    }
                    blocks.extend(f.blocks);
                }
            }
        }
        Ok(FsOutput::Deleted { blocks })
    }

    fn set_replication(&mut self, path: &BPath, replication: u32) -> Result<FsOutput> {
        check_replication(replication)?;
        let id = self.resolve(path)?;
        match &mut self.inodes.get_mut(&id).expect("resolved").kind {
            InodeKind::Dir { .. } => Err(NamespaceError::IsADirectory { path: path.clone() }),
            InodeKind::File(f) => {
                f.replication = replication;
                Ok(FsOutput::Done)
            }
        }
    }
}

impl Namespace {
    fn set_permission(&mut self, path: &BPath, mode: u32) -> Result<FsOutput> {
        let id = self.resolve(path)?;
        self.inodes.get_mut(&id).expect("resolved").perm.mode = (mode & MODE_MASK) as u16;
        Ok(FsOutput::Done)
    }

    fn set_owner(&mut self, path: &BPath, owner: Option<&str>, group: Option<&str>) -> Result<FsOutput> {
        for name in owner.iter().chain(group.iter()) {
            if name.is_empty() || name.contains(':') || name.chars().any(char::is_control) {
                return Err(NamespaceError::InvalidOwnerName { name: name.to_string() });
            }
        }
        let id = self.resolve(path)?;
        let owner = owner.map(|o| self.symbols.intern(o));
        let group = group.map(|g| self.symbols.intern(g));
        let perm = &mut self.inodes.get_mut(&id).expect("resolved").perm;
        if let Some(o) = owner {
            perm.owner = o;
        }
        if let Some(g) = group {
            perm.group = g;
        }
        Ok(FsOutput::Done)
    }

    fn set_times(&mut self, path: &BPath, mtime_ms: Option<u64>, atime_ms: Option<u64>) -> Result<FsOutput> {
        let id = self.resolve(path)?;
        let inode = self.inodes.get_mut(&id).expect("resolved");
        if let Some(m) = mtime_ms {
            inode.mtime_ms = m;
        }
        if let Some(a) = atime_ms
            && !inode.is_dir()
        {
            self.atimes.insert(id, a);
        }
        Ok(FsOutput::Done)
    }
}

fn check_replication(replication: u32) -> Result<()> {
    if replication == 0 || replication > MAX_REPLICATION {
        return Err(NamespaceError::InvalidReplication {
            value: replication,
            max: MAX_REPLICATION,
        });
    }
    Ok(())
}

/// Records the writer's final length of the file's last block. `reported` must name that block.
fn set_last_length(path: &BPath, file: &mut FileMeta, reported: Option<&BlockMeta>) -> Result<()> {
    match (file.blocks.last_mut(), reported) {
        (_, None) => Ok(()),
        (Some(last), Some(r)) if last.id == r.id => {
            last.len = r.len;
            last.gen_stamp = r.gen_stamp.max(last.gen_stamp);
            Ok(())
        }
        (last, Some(r)) => Err(NamespaceError::BlockMismatch {
            path: path.clone(),
            expected: last.map(|b| b.id),
            got: r.id,
        }),
    }
}
