//! Resumable walks of the namespace, a slice at a time, for work over the whole tree that must release
//! the state lock between slices (the replication sweep, fsck, content summaries).
//!
//! A walk visits the entries below its root in path order (pre-order, children by name). Its only
//! state is a cursor, the last entry visited: each [`Walk::step`] resolves the cursor again in the
//! namespace as it is then, so whatever changed between two slices is seen as it is now. An entry
//! created behind the cursor waits for the next walk, a deleted one is skipped, and the cursor itself
//! may have gone (the walk goes on with what followed it). Paths order component by component, so a
//! cursor can also come from a client (fsck pages).

use crate::state::namespace::{FileMeta, InodeKind, Name, Namespace, NamespaceError};
use basalt_common::{BPath, InodeId};
use std::ops::Bound;

/// A walk of the entries at or below `root`.
#[derive(Clone, Debug)]
pub struct Walk {
    root: BPath,
    /// The last entry visited; `None` before the first step.
    cursor: Option<BPath>,
    done: bool,
}

/// A directory whose children are being visited, and the last child visited.
struct Frame {
    id: InodeId,
    path: BPath,
    after: Option<Name>,
}

impl Walk {
    /// A walk of everything at or below `root`.
    pub fn new(root: BPath) -> Self {
        Walk {
            root,
            cursor: None,
            done: false,
        }
    }

    /// A walk of the entries below `root` that come after `after` in path order.
    pub fn resume(root: BPath, after: BPath) -> Self {
        Walk {
            root,
            cursor: Some(after),
            done: false,
        }
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The walk's root.
    pub fn root(&self) -> &BPath {
        &self.root
    }

    /// The last entry visited.
    pub fn cursor(&self) -> Option<&BPath> {
        self.cursor.as_ref()
    }

    /// Visits the entries after the cursor until `budget` is spent or the walk ends, calling `visit` for
    /// each file; returns how many directories it visited. A file costs its number of blocks (at least
    /// 1), a directory 1. Fails only if the root does not exist when the walk starts (a root gone later
    /// ends the walk).
    pub fn step(
        &mut self,
        ns: &Namespace,
        budget: usize,
        visit: impl FnMut(&BPath, &FileMeta),
    ) -> Result<usize, NamespaceError> {
        self.step_checked(ns, budget, visit, |_, _| Ok(()))
    }

    /// [`Self::step`], calling `enter` on each directory below the root before its children are
    /// visited (a permission check): an error stops the walk there and is returned.
    pub fn step_checked(
        &mut self,
        ns: &Namespace,
        budget: usize,
        mut visit: impl FnMut(&BPath, &FileMeta),
        mut enter: impl FnMut(&BPath, InodeId) -> Result<(), NamespaceError>,
    ) -> Result<usize, NamespaceError> {
        if self.done {
            return Ok(0);
        }
        let root = match (&self.cursor, ns.lookup(&self.root)) {
            (_, Some(id)) => id,
            (None, None) => {
                return Err(ns.resolve(&self.root).err().unwrap_or(NamespaceError::NotFound {
                    path: self.root.clone(),
                }));
            }
            (Some(_), None) => {
                self.done = true;
                return Ok(0);
            }
        };
        if let InodeKind::File(f) = &ns.inode(root).kind {
            if self.cursor.is_none() {
                visit(&self.root, f);
                self.cursor = Some(self.root.clone());
            }
            self.done = true;
            return Ok(0);
        }
        let mut stack = self.frames(ns, root);
        let (mut spent, mut dirs) = (0, 0);
        while spent < budget {
            let Some(top) = stack.last_mut() else {
                self.done = true;
                break;
            };
            let InodeKind::Dir { children } = &ns.inode(top.id).kind else {
                stack.pop();
                continue;
            };
            let next = match &top.after {
                None => children.iter().next(),
                Some(after) => children
                    .range::<str, _>((Bound::Excluded(&**after), Bound::Unbounded))
                    .next(),
            };
            let Some((name, child)) = next else {
                stack.pop();
                continue;
            };
            top.after = Some(name.clone());
            let path = top.path.join(name)?;
            match &ns.inode(*child).kind {
                InodeKind::File(f) => {
                    visit(&path, f);
                    spent += f.blocks.len().max(1);
                    self.cursor = Some(path);
                }
                InodeKind::Dir { .. } => {
                    enter(&path, *child)?;
                    spent += 1;
                    dirs += 1;
                    self.cursor = Some(path.clone());
                    stack.push(Frame {
                        id: *child,
                        path,
                        after: None,
                    });
                }
            }
        }
        if stack.is_empty() {
            self.done = true;
        }
        Ok(dirs)
    }

    /// The directories from the root down to the cursor, each with the child the walk is past (the
    /// cursor's component at that level); the cursor itself last if it is a directory (its children
    /// come next).
    fn frames(&self, ns: &Namespace, root: InodeId) -> Vec<Frame> {
        let mut frames = Vec::new();
        let Some(cursor) = self.cursor.as_ref().filter(|c| c.starts_with(&self.root)) else {
            frames.push(Frame {
                id: root,
                path: self.root.clone(),
                after: None,
            });
            return frames;
        };
        let depth = self.root.components().count();
        let (mut id, mut path) = (root, self.root.clone());
        for comp in cursor.components().skip(depth) {
            frames.push(Frame {
                id,
                path: path.clone(),
                after: Some(Name::from(comp)),
            });
            let child = match &ns.inode(id).kind {
                InodeKind::Dir { children } => children.get(comp).copied(),
                InodeKind::File(_) => None,
            };
            match child {
                Some(c) if ns.inode(c).is_dir() => match path.join(comp) {
                    Ok(p) => (id, path) = (c, p),
                    Err(_) => return frames,
                },
                // Gone, or a file: the walk goes on after it at this level.
                _ => return frames,
            }
        }
        frames.push(Frame { id, path, after: None });
        frames
    }
}

#[cfg(test)]
mod tests;
