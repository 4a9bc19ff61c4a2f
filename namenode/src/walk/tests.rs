use super::*;
use crate::state::namespace::{FsCommand, Perm};

fn p(s: &str) -> BPath {
    BPath::parse(s).unwrap()
}

fn run(ns: &mut Namespace, cmd: FsCommand) {
    ns.apply("c", &cmd).unwrap();
}

fn mkdir(ns: &mut Namespace, path: &str) {
    run(
        ns,
        FsCommand::Mkdirs {
            path: p(path),
            parents: true,
            perm: Perm::default_dir(),
            mtime_ms: 1,
        },
    );
}

/// An open file with `blocks` blocks (enough for a walk: it visits open files too).
fn file(ns: &mut Namespace, path: &str, blocks: usize) {
    run(
        ns,
        FsCommand::Create {
            path: p(path),
            overwrite: false,
            create_parent: true,
            replication: 1,
            block_size: 512,
            perm: Perm::default_dir(),
            mtime_ms: 1,
        },
    );
    for _ in 0..blocks {
        run(
            ns,
            FsCommand::AddBlock {
                path: p(path),
                previous: None,
                pipeline: Vec::new(),
            },
        );
    }
}

fn delete(ns: &mut Namespace, path: &str) {
    run(
        ns,
        FsCommand::Delete {
            path: p(path),
            recursive: true,
            mtime_ms: 2,
        },
    );
}

/// Every file the walk visits, `budget` per step, running `between` after each step.
fn files(walk: &mut Walk, ns: &mut Namespace, budget: usize, mut between: impl FnMut(&mut Namespace)) -> Vec<String> {
    let mut out = Vec::new();
    while !walk.is_done() {
        walk.step(ns, budget, |path, _| out.push(path.to_string())).unwrap();
        between(ns);
    }
    out
}

fn sample() -> Namespace {
    let mut ns = Namespace::new();
    for f in ["/a/b/x", "/a-b/y", "/a/z", "/c", "/a/b/w/deep"] {
        file(&mut ns, f, 0);
    }
    mkdir(&mut ns, "/empty/dir");
    ns
}

#[test]
fn visits_every_file_in_path_order_whatever_the_slice_size() {
    let mut ns = sample();
    let want = vec!["/a/b/w/deep", "/a/b/x", "/a/z", "/a-b/y", "/c"];
    for budget in [1, 2, 3, 100] {
        let got = files(&mut Walk::new(BPath::root()), &mut ns, budget, |_| {});
        assert_eq!(got, want, "budget {budget}");
    }
    let got = files(&mut Walk::new(p("/a")), &mut ns, 1, |_| {});
    assert_eq!(got, vec!["/a/b/w/deep", "/a/b/x", "/a/z"]);
    // Directories below the root: /a, /a/b, /a/b/w, /a-b, /empty, /empty/dir.
    let mut walk = Walk::new(BPath::root());
    let mut dirs = 0;
    while !walk.is_done() {
        dirs += walk.step(&ns, 2, |_, _| {}).unwrap();
    }
    assert_eq!(dirs, 6);
}

#[test]
fn a_file_costs_its_blocks() {
    let mut ns = Namespace::new();
    file(&mut ns, "/big", 5);
    file(&mut ns, "/small", 0);
    let mut walk = Walk::new(BPath::root());
    let mut seen = Vec::new();
    walk.step(&ns, 3, |path, f| seen.push((path.to_string(), f.blocks.len())))
        .unwrap();
    assert_eq!(
        seen,
        vec![("/big".to_string(), 5)],
        "one file over budget ends the slice"
    );
    walk.step(&ns, 3, |path, _| seen.push((path.to_string(), 0))).unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(walk.cursor(), Some(&p("/small")));
}

#[test]
fn sees_the_namespace_as_it_is_at_each_slice() {
    let mut ns = sample();
    let mut walk = Walk::new(BPath::root());
    let mut step = 0;
    let got = files(&mut walk, &mut ns, 1, |ns| {
        step += 1;
        if step == 4 {
            // The walk is inside /a/b: its directory goes, a file appears behind it and one ahead.
            delete(ns, "/a/b");
            file(ns, "/a/a", 0);
            file(ns, "/b", 0);
        }
    });
    assert_eq!(got, vec!["/a/b/w/deep", "/a/z", "/a-b/y", "/b", "/c"]);
}

#[test]
fn resumes_after_a_cursor_and_handles_file_roots_and_missing_roots() {
    let mut ns = sample();
    let got = files(&mut Walk::resume(BPath::root(), p("/a/b/x")), &mut ns, 2, |_| {});
    assert_eq!(got, vec!["/a/z", "/a-b/y", "/c"]);
    // A cursor that names a directory continues with its children.
    let got = files(&mut Walk::resume(BPath::root(), p("/a/b")), &mut ns, 2, |_| {});
    assert_eq!(got, vec!["/a/b/w/deep", "/a/b/x", "/a/z", "/a-b/y", "/c"]);
    // A cursor that no longer exists continues with what followed it.
    let got = files(&mut Walk::resume(BPath::root(), p("/a/aa/gone")), &mut ns, 2, |_| {});
    assert_eq!(got, vec!["/a/b/w/deep", "/a/b/x", "/a/z", "/a-b/y", "/c"]);

    assert_eq!(files(&mut Walk::new(p("/c")), &mut ns, 1, |_| {}), vec!["/c"]);
    let e = Walk::new(p("/nope")).step(&ns, 1, |_, _| {}).unwrap_err();
    assert!(matches!(e, NamespaceError::NotFound { .. }), "{e}");
    let mut walk = Walk::new(p("/a"));
    walk.step(&ns, 1, |_, _| {}).unwrap();
    delete(&mut ns, "/a");
    walk.step(&ns, 1, |_, _| {}).unwrap();
    assert!(walk.is_done(), "a root deleted mid-walk ends it");
}

#[test]
fn a_walk_counts_what_a_content_summary_counts() {
    let mut ns = sample();
    file(&mut ns, "/a/b/x2", 3);
    for root in ["/", "/a", "/a/b", "/c"] {
        let want = ns.content_summary(&p(root)).unwrap();
        let mut walk = Walk::new(p(root));
        let (mut files, mut dirs) = (0, u64::from(ns.stat(&p(root)).unwrap().is_dir));
        while !walk.is_done() {
            dirs += walk.step(&ns, 2, |_, _| files += 1).unwrap() as u64;
        }
        assert_eq!((files, dirs), (want.files, want.directories), "{root}");
    }
}
