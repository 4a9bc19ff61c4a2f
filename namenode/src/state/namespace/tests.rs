use super::FsCommand as Command;
use super::FsOutput as Output;
use super::*;
use basalt_common::{DatanodeId, ErrorKind};
use proptest::prelude::*;

fn p(s: &str) -> BPath {
    BPath::parse(s).unwrap()
}

fn perm() -> Perm {
    Perm {
        owner: "alice".into(),
        group: "staff".into(),
        mode: 0o644,
    }
}

fn run(ns: &mut Namespace, cmd: Command) -> Result<Output, NamespaceError> {
    ns.apply("c1", &cmd)
}

fn mkdir(ns: &mut Namespace, path: &str, parents: bool) -> Result<Output, NamespaceError> {
    run(
        ns,
        Command::Mkdirs {
            path: p(path),
            parents,
            perm: perm(),
            mtime_ms: 1,
        },
    )
}

fn create(ns: &mut Namespace, path: &str, overwrite: bool) -> Result<Output, NamespaceError> {
    run(
        ns,
        Command::Create {
            path: p(path),
            overwrite,
            create_parent: false,
            replication: 3,
            block_size: 1024,
            perm: perm(),
            mtime_ms: 2,
        },
    )
}

fn write_file(ns: &mut Namespace, path: &str, lens: &[u64]) {
    create(ns, path, false).unwrap();
    let mut prev: Option<BlockMeta> = None;
    for &len in lens {
        let Output::Block { block, .. } = run(
            ns,
            Command::AddBlock {
                path: p(path),
                previous: prev,
                pipeline: Vec::new(),
            },
        )
        .unwrap() else {
            panic!()
        };
        prev = Some(BlockMeta { len, ..block });
    }
    run(
        ns,
        Command::Complete {
            path: p(path),
            last: prev,
            mtime_ms: 3,
        },
    )
    .unwrap();
}

#[test]
fn mkdir_semantics() {
    let mut ns = Namespace::new();
    assert_eq!(mkdir(&mut ns, "/a/b", false).unwrap_err().kind(), ErrorKind::NotFound);
    mkdir(&mut ns, "/a/b/c", true).unwrap();
    mkdir(&mut ns, "/a/b/c", true).unwrap();
    assert!(matches!(
        mkdir(&mut ns, "/a/b", false),
        Err(NamespaceError::AlreadyExists { .. })
    ));
    create(&mut ns, "/a/f", false).unwrap();
    assert!(matches!(
        mkdir(&mut ns, "/a/f/g", true),
        Err(NamespaceError::NotADirectory { .. })
    ));
    assert!(ns.stat(&p("/a/b/c")).unwrap().is_dir);
}

#[test]
fn files_and_blocks() {
    let mut ns = Namespace::new();
    write_file(&mut ns, "/f", &[1024, 1024, 7]);
    let st = ns.stat(&p("/f")).unwrap();
    assert_eq!(st.length, 2055);
    assert!(!st.under_construction);
    let (_, blocks) = ns.blocks(&p("/f")).unwrap();
    assert_eq!(
        blocks.iter().map(|(_, off)| *off).collect::<Vec<_>>(),
        vec![0, 1024, 2048]
    );
    assert!(matches!(
        create(&mut ns, "/f", false),
        Err(NamespaceError::AlreadyExists { .. })
    ));
    let Output::Created { replaced_blocks, .. } = create(&mut ns, "/f", true).unwrap() else {
        panic!()
    };
    assert_eq!(replaced_blocks.len(), 3);
    assert_eq!(ns.counts().2, 0);
    // Only the lease holder may add blocks.
    let other = ns.apply(
        "c2",
        &Command::AddBlock {
            path: p("/f"),
            previous: None,
            pipeline: Vec::new(),
        },
    );
    assert!(matches!(other, Err(NamespaceError::LeaseMismatch { .. })));
    assert_eq!(other.unwrap_err().kind(), ErrorKind::Conflict);
}

#[test]
fn create_errors() {
    let mut ns = Namespace::new();
    mkdir(&mut ns, "/d", false).unwrap();
    assert!(matches!(
        create(&mut ns, "/d", true),
        Err(NamespaceError::IsADirectory { .. })
    ));
    assert!(matches!(
        create(&mut ns, "/nope/f", false),
        Err(NamespaceError::ParentNotFound { .. })
    ));
    write_file(&mut ns, "/file", &[]);
    assert!(matches!(
        create(&mut ns, "/file/x", false),
        Err(NamespaceError::NotADirectory { .. })
    ));
    let bad = run(
        &mut ns,
        Command::Create {
            path: p("/r"),
            overwrite: false,
            create_parent: false,
            replication: 0,
            block_size: 1024,
            perm: perm(),
            mtime_ms: 0,
        },
    );
    assert!(matches!(bad, Err(NamespaceError::InvalidReplication { .. })));
}

#[test]
fn rename_semantics() {
    let mut ns = Namespace::new();
    mkdir(&mut ns, "/a/b", true).unwrap();
    mkdir(&mut ns, "/dst", false).unwrap();
    write_file(&mut ns, "/a/b/f", &[10]);
    // Into an existing directory keeps the name.
    run(
        &mut ns,
        Command::Rename {
            src: p("/a"),
            dst: p("/dst"),
            mtime_ms: 5,
        },
    )
    .unwrap();
    assert_eq!(ns.stat(&p("/dst/a/b/f")).unwrap().length, 10);
    assert!(ns.stat(&p("/a")).is_err());
    let into_self = run(
        &mut ns,
        Command::Rename {
            src: p("/dst"),
            dst: p("/dst/a/b/x"),
            mtime_ms: 5,
        },
    );
    assert!(matches!(into_self, Err(NamespaceError::RenameIntoSelf { .. })));
    write_file(&mut ns, "/g", &[]);
    let clash = run(
        &mut ns,
        Command::Rename {
            src: p("/g"),
            dst: p("/dst/a/b/f"),
            mtime_ms: 5,
        },
    );
    assert!(matches!(clash, Err(NamespaceError::AlreadyExists { .. })));
    run(
        &mut ns,
        Command::Rename {
            src: p("/g"),
            dst: p("/h"),
            mtime_ms: 5,
        },
    )
    .unwrap();
    assert!(ns.stat(&p("/h")).is_ok());
    let root = run(
        &mut ns,
        Command::Rename {
            src: p("/"),
            dst: p("/x"),
            mtime_ms: 5,
        },
    );
    assert!(matches!(root, Err(NamespaceError::RootOperation { .. })));
}

#[test]
fn delete_recursive_frees_blocks() {
    let mut ns = Namespace::new();
    mkdir(&mut ns, "/d/e", true).unwrap();
    write_file(&mut ns, "/d/e/f", &[5, 6]);
    write_file(&mut ns, "/d/g", &[7]);
    let not_empty = run(
        &mut ns,
        Command::Delete {
            path: p("/d"),
            recursive: false,
            mtime_ms: 9,
        },
    );
    assert!(matches!(not_empty, Err(NamespaceError::DirectoryNotEmpty { .. })));
    let Output::Deleted { blocks } = run(
        &mut ns,
        Command::Delete {
            path: p("/d"),
            recursive: true,
            mtime_ms: 9,
        },
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(blocks.len(), 3);
    assert_eq!(ns.counts(), (0, 1, 0));
    let missing = run(
        &mut ns,
        Command::Delete {
            path: p("/d"),
            recursive: true,
            mtime_ms: 9,
        },
    );
    assert_eq!(missing.unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn list_pages_in_name_order() {
    let mut ns = Namespace::new();
    for name in ["c", "a", "b", "d"] {
        mkdir(&mut ns, &format!("/x/{name}"), true).unwrap();
    }
    let (page, more) = ns.list(&p("/x"), "", 2).unwrap();
    assert_eq!(
        page.iter().map(|s| s.path.as_str()).collect::<Vec<_>>(),
        ["/x/a", "/x/b"]
    );
    assert!(more);
    let (page, more) = ns.list(&p("/x"), "b", 10).unwrap();
    assert_eq!(
        page.iter().map(|s| s.path.as_str()).collect::<Vec<_>>(),
        ["/x/c", "/x/d"]
    );
    assert!(!more);
    let summary = ns.content_summary(&p("/x")).unwrap();
    assert_eq!(summary.directories, 5);
}

#[derive(Clone, Debug)]
pub(super) enum Op {
    Mkdir(usize, bool),
    Create(usize, bool),
    Write(usize, Vec<u64>),
    Rename(usize, usize),
    Delete(usize, bool),
}

const PATHS: [&str; 7] = ["/a", "/b", "/a/x", "/a/y", "/b/x", "/a/x/z", "/c"];

/// The path the property tests' operations name by index `i`.
pub(super) fn path_of(i: usize) -> BPath {
    p(PATHS[i])
}

pub(super) fn op() -> impl Strategy<Value = Op> {
    let i = 0..PATHS.len();
    prop_oneof![
        (i.clone(), any::<bool>()).prop_map(|(i, b)| Op::Mkdir(i, b)),
        (i.clone(), any::<bool>()).prop_map(|(i, b)| Op::Create(i, b)),
        (i.clone(), proptest::collection::vec(0u64..2000, 0..3)).prop_map(|(i, l)| Op::Write(i, l)),
        (i.clone(), i.clone()).prop_map(|(a, b)| Op::Rename(a, b)),
        (i, any::<bool>()).prop_map(|(i, b)| Op::Delete(i, b)),
    ]
}

pub(super) fn to_commands(op: &Op) -> Vec<Command> {
    let path = |i: usize| p(PATHS[i]);
    match op {
        Op::Mkdir(i, parents) => vec![Command::Mkdirs {
            path: path(*i),
            parents: *parents,
            perm: perm(),
            mtime_ms: 1,
        }],
        Op::Create(i, overwrite) => vec![Command::Create {
            path: path(*i),
            overwrite: *overwrite,
            create_parent: false,
            replication: 2,
            block_size: 1024,
            perm: perm(),
            mtime_ms: 1,
        }],
        Op::Write(i, lens) => {
            let mut cmds = vec![Command::AddBlock {
                path: path(*i),
                previous: None,
                pipeline: Vec::new(),
            }];
            cmds.extend(lens.iter().map(|_| Command::AddBlock {
                path: path(*i),
                previous: None,
                pipeline: Vec::new(),
            }));
            cmds.push(Command::Complete {
                path: path(*i),
                last: None,
                mtime_ms: 2,
            });
            cmds
        }
        Op::Rename(a, b) => vec![Command::Rename {
            src: path(*a),
            dst: path(*b),
            mtime_ms: 3,
        }],
        Op::Delete(i, r) => vec![Command::Delete {
            path: path(*i),
            recursive: *r,
            mtime_ms: 4,
        }],
    }
}

/// Every inode is reachable from the root exactly once, parents agree, and blocks belong to live files.
pub(super) fn check_invariants(ns: &Namespace) {
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![ROOT];
    while let Some(id) = stack.pop() {
        assert!(seen.insert(id), "inode {id} reachable twice");
        if let InodeKind::Dir { children } = &ns.inodes[&id].kind {
            for (name, child) in children {
                let c = &ns.inodes[child];
                assert_eq!(c.parent, id);
                // Directories and open files keep their name for path walks; closed files do not.
                let named = match &c.kind {
                    InodeKind::Dir { .. } => true,
                    InodeKind::File(f) => f.lease.is_some(),
                };
                assert_eq!(ns.names.get(child), named.then_some(name), "name of {child}");
                stack.push(*child);
            }
        }
    }
    assert_eq!(seen.len(), ns.inodes.len(), "unreachable inodes");
    assert!(ns.names.keys().all(|id| seen.contains(id)), "names of removed inodes");
    for (block, owner) in &ns.block_owner {
        let InodeKind::File(f) = &ns.inodes[owner].kind else {
            panic!("block owned by a directory")
        };
        assert!(f.blocks.iter().any(|b| b.id == *block));
    }
    let owned: usize = ns.files().map(|f| f.blocks.len()).sum();
    assert_eq!(owned, ns.block_owner.len());
    // The open-file index is exactly the files with a lease.
    let open: std::collections::BTreeSet<InodeId> = ns
        .inodes
        .iter()
        .filter(|(_, i)| matches!(&i.kind, InodeKind::File(f) if f.lease.is_some()))
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(open, ns.open);
    // The O(1) counts agree with a walk.
    let dirs = ns.inodes.values().filter(|i| i.is_dir()).count() as u64;
    let counted = (ns.inodes.len() as u64 - dirs, dirs, ns.block_owner.len() as u64);
    assert_eq!(ns.counts(), counted, "counts");
}

/// The namespace in a form independent of hash map order.
pub(super) fn canon(ns: &Namespace) -> (Vec<(InodeId, Inode)>, u64, u64, u64) {
    let mut inodes: Vec<(InodeId, Inode)> = ns.inodes.iter().map(|(id, i)| (*id, (**i).clone())).collect();
    inodes.sort_by_key(|(id, _)| *id);
    (inodes, ns.next_inode, ns.next_block, ns.next_gen)
}

proptest! {
    #[test]
    fn apply_keeps_invariants_and_is_deterministic(ops in proptest::collection::vec(op(), 1..40)) {
        let mut a = Namespace::new();
        let mut b = Namespace::new();
        for op in &ops {
            for cmd in to_commands(op) {
                let ra = a.apply("w", &cmd);
                let rb = b.apply("w", &cmd);
                prop_assert_eq!(ra, rb);
            }
            check_invariants(&a);
        }
        // A snapshot restores an identical namespace.
        let restored: Namespace = crate::state::codec::decode(&crate::state::codec::encode(&a)).unwrap();
        prop_assert_eq!(canon(&restored), canon(&b));
        check_invariants(&restored);
        // Rebuilt from its parts (as an upgrade does), it is the same namespace.
        let mut names: HashMap<InodeId, String> = HashMap::new();
        for i in a.inodes.values() {
            if let InodeKind::Dir { children } = &i.kind {
                names.extend(children.iter().map(|(n, c)| (*c, n.to_string())));
            }
        }
        let parts = a.inodes.iter().map(|(id, i)| {
            let file = match &i.kind {
                InodeKind::File(f) => Some(f.clone()),
                InodeKind::Dir { .. } => None,
            };
            let name = names.get(id).cloned().unwrap_or_default();
            (*id, i.parent, name, a.perm_of(&i.perm), i.mtime_ms, file)
        });
        let rebuilt = Namespace::from_parts(a.next_inode, a.next_block, a.next_gen, parts);
        check_invariants(&rebuilt);
        prop_assert_eq!(rebuilt.counts(), a.counts());
        for (id, i) in &a.inodes {
            let r = &rebuilt.inodes[id];
            prop_assert_eq!((r.parent, r.mtime_ms, &r.kind), (i.parent, i.mtime_ms, &i.kind));
            prop_assert_eq!(rebuilt.perm_of(&r.perm), a.perm_of(&i.perm));
        }
    }
}

fn add_block(ns: &mut Namespace, client: &str, path: &str, previous: Option<BlockMeta>, pipeline: &[u64]) -> BlockMeta {
    let cmd = Command::AddBlock {
        path: p(path),
        previous,
        pipeline: pipeline.iter().map(|&d| DatanodeId(d)).collect(),
    };
    let Output::Block { block, .. } = ns.apply(client, &cmd).unwrap() else {
        panic!()
    };
    block
}

#[test]
fn pipeline_recovery_restamps_the_last_block() {
    let mut ns = Namespace::new();
    create(&mut ns, "/f", false).unwrap();
    let b0 = add_block(&mut ns, "c1", "/f", None, &[1, 2, 3]);
    assert_eq!(
        ns.open_files()[0].lease.pipeline,
        vec![DatanodeId(1), DatanodeId(2), DatanodeId(3)]
    );
    let cmd = |block| Command::UpdatePipeline {
        path: p("/f"),
        block,
        pipeline: vec![DatanodeId(1), DatanodeId(3)],
    };
    let Output::Block { block, offset, .. } = run(&mut ns, cmd(b0.id)).unwrap() else {
        panic!()
    };
    assert_eq!((block.id, offset), (b0.id, 0));
    assert!(block.gen_stamp > b0.gen_stamp, "a new generation stamp");
    assert_eq!(ns.block_state(b0.id), Some((block.gen_stamp, true)));
    assert_eq!(ns.open_files()[0].lease.pipeline, vec![DatanodeId(1), DatanodeId(3)]);
    // Only the holder, and only for the last block.
    let other = ns.apply("c2", &cmd(b0.id));
    assert!(matches!(other, Err(NamespaceError::LeaseMismatch { .. })));
    assert!(matches!(
        run(&mut ns, cmd(BlockId(7))),
        Err(NamespaceError::BlockMismatch { .. })
    ));
    // The writer completes with the new stamp.
    let last = BlockMeta { len: 100, ..block };
    run(
        &mut ns,
        Command::Complete {
            path: p("/f"),
            last: Some(last),
            mtime_ms: 3,
        },
    )
    .unwrap();
    assert_eq!(ns.blocks(&p("/f")).unwrap().1, vec![(last, 0)]);
    assert_eq!(ns.block_state(b0.id), Some((block.gen_stamp, false)));
}

#[test]
fn lease_recovery_and_append() {
    let mut ns = Namespace::new();
    write_file(&mut ns, "/done", &[10]);
    // A writer dies with two blocks, the second being written.
    create(&mut ns, "/f", false).unwrap();
    let b0 = add_block(&mut ns, "c1", "/f", None, &[1, 2]);
    let b1 = add_block(&mut ns, "c1", "/f", Some(BlockMeta { len: 1024, ..b0 }), &[2, 3]);
    assert!(matches!(
        run(
            &mut ns,
            Command::RecoverLease {
                path: p("/done"),
                holder: "c1".into()
            }
        ),
        Err(NamespaceError::NotUnderConstruction { .. })
    ));
    let recover = |holder: &str| Command::RecoverLease {
        path: p("/f"),
        holder: holder.into(),
    };
    // A recovery planned for another holder (the file changed hands meanwhile) is refused.
    assert!(matches!(
        run(&mut ns, recover("someone-else")),
        Err(NamespaceError::LeaseMismatch { .. })
    ));
    let Output::Recovery { last, pipeline } = run(&mut ns, recover("c1")).unwrap() else {
        panic!()
    };
    let last = last.unwrap();
    assert_eq!(last.id, b1.id);
    assert!(last.gen_stamp > b1.gen_stamp);
    assert_eq!(pipeline, vec![DatanodeId(2), DatanodeId(3)]);
    assert_eq!(ns.open_files()[0].lease.holder, RECOVERY_HOLDER);
    // The old writer is fenced out.
    let late = ns.apply(
        "c1",
        &Command::Complete {
            path: p("/f"),
            last: Some(b1),
            mtime_ms: 4,
        },
    );
    assert!(matches!(late, Err(NamespaceError::LeaseMismatch { .. })));
    // A commit with the stamp of an older recovery attempt is refused.
    let commit = |b: BlockMeta| Command::CommitRecovery {
        path: p("/f"),
        last: Some(b),
        mtime_ms: 5,
    };
    assert!(matches!(
        run(&mut ns, commit(BlockMeta { len: 7, ..b1 })),
        Err(NamespaceError::StaleGenStamp { .. })
    ));
    run(&mut ns, commit(BlockMeta { len: 300, ..last })).unwrap();
    let st = ns.stat(&p("/f")).unwrap();
    assert!(!st.under_construction);
    assert_eq!(st.length, 1024 + 300);
    assert!(matches!(
        run(&mut ns, commit(BlockMeta { len: 300, ..last })),
        Err(NamespaceError::NotUnderConstruction { .. })
    ));
    // Append reopens it; a second writer is refused while it is open.
    let append = |client: &str, ns: &mut Namespace| {
        ns.apply(
            client,
            &Command::Append {
                path: p("/f"),
                mtime_ms: 6,
            },
        )
    };
    let Output::Created { inode, .. } = append("c2", &mut ns).unwrap() else {
        panic!()
    };
    assert!(ns.status_of_inode(&p("/f"), inode).unwrap().under_construction);
    assert!(matches!(
        append("c3", &mut ns),
        Err(NamespaceError::AlreadyBeingWritten { .. })
    ));
    let b2 = add_block(&mut ns, "c2", "/f", None, &[1]);
    let cmd = Command::UpdatePipeline {
        path: p("/f"),
        block: b2.id,
        pipeline: vec![DatanodeId(1)],
    };
    let Output::Block { offset, .. } = ns.apply("c2", &cmd).unwrap() else {
        panic!()
    };
    assert_eq!(offset, 1324, "the appended block starts at the old end");
    // A recovery finding no replica of the block being written drops it.
    run(&mut ns, recover("c2")).unwrap();
    let Output::Deleted { blocks } = run(
        &mut ns,
        Command::CommitRecovery {
            path: p("/f"),
            last: None,
            mtime_ms: 7,
        },
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].id, b2.id);
    assert_eq!(ns.block_state(b2.id), None);
    assert_eq!(ns.stat(&p("/f")).unwrap().length, 1324);
}

#[test]
fn recovering_an_appended_file_keeps_its_finished_last_block() {
    let mut ns = Namespace::new();
    write_file(&mut ns, "/f", &[1024, 300]);
    let (_, before) = ns.blocks(&p("/f")).unwrap();
    // c2 appends and dies before adding a block: its last block is c1's finished one.
    ns.apply(
        "c2",
        &Command::Append {
            path: p("/f"),
            mtime_ms: 3,
        },
    )
    .unwrap();
    assert_eq!(
        ns.complete_blocks().count(),
        2,
        "finished blocks of an open file still count"
    );
    // The finished block cannot be taken over as if it were being written.
    let cmd = Command::UpdatePipeline {
        path: p("/f"),
        block: before.last().unwrap().0.id,
        pipeline: vec![DatanodeId(1)],
    };
    assert!(matches!(
        ns.apply("c2", &cmd),
        Err(NamespaceError::BlockMismatch { .. })
    ));
    let Output::Recovery { last, .. } = run(
        &mut ns,
        Command::RecoverLease {
            path: p("/f"),
            holder: "c2".into(),
        },
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(last, None, "nothing to recover");
    let Output::Deleted { blocks } = run(
        &mut ns,
        Command::CommitRecovery {
            path: p("/f"),
            last: None,
            mtime_ms: 4,
        },
    )
    .unwrap() else {
        panic!()
    };
    assert!(blocks.is_empty(), "no block dropped");
    let (st, after) = ns.blocks(&p("/f")).unwrap();
    assert_eq!(after, before, "blocks and stamps unchanged");
    assert!(!st.under_construction);
}

/// The namenode's memory is mostly inodes: their size is part of the design (see `types`).
#[test]
fn inodes_stay_small() {
    assert_eq!(std::mem::size_of::<FileMeta>(), 40);
    assert!(std::mem::size_of::<Inode>() <= 72, "{}", std::mem::size_of::<Inode>());
    assert_eq!(std::mem::size_of::<Box<Inode>>(), 8);
}

#[test]
fn block_sizes_persist_in_bytes_and_refuse_odd_values() {
    let b = types::BlockSize::from_bytes(64 << 20).unwrap();
    assert_eq!(b.bytes(), 64 << 20);
    let back: types::BlockSize = crate::state::codec::decode(&crate::state::codec::encode(&(64u64 << 20))).unwrap();
    assert_eq!(back, b);
    assert!(crate::state::codec::decode::<types::BlockSize>(&crate::state::codec::encode(&1000u64)).is_err());
    assert!(types::BlockSize::from_bytes(0).is_none());
    assert!(types::BlockSize::from_bytes(1 << 42).is_none());
}
