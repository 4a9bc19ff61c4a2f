//! The permission checker as function calls: a table of (caller, command, outcome) on a small tree,
//! reads as well as writes, every denial leaving the namespace as it was; and random command
//! sequences by random callers staying deterministic and within the invariants.

use super::FsCommand as Command;
use super::permission::mode_string;
use super::tests::{Op, canon, check_invariants, op, to_commands};
use super::*;
use basalt_common::ErrorKind;
use proptest::prelude::*;

fn p(s: &str) -> BPath {
    BPath::parse(s).unwrap()
}

fn perm(mode: u32) -> Perm {
    Perm {
        owner: "ignored".into(),
        group: "ignored".into(),
        mode,
    }
}

fn alice() -> Caller {
    Caller::user("alice", &["eng"])
}
fn bob() -> Caller {
    Caller::user("bob", &["eng"])
}
fn carol() -> Caller {
    Caller::user("carol", &[])
}

/// `/a` alice:eng 750 with `/a/f` 640; `/t` root:supergroup 1777 with `/t/x` bob:eng 666; `/r` root 755.
fn tree() -> Namespace {
    let mut ns = Namespace::new();
    let su = Caller::superuser("root");
    let mut run = |cmd: Command| ns.apply_as("c", Some(&su), &cmd).unwrap();
    for (path, dir, owner, group, mode) in [
        ("/a", true, "alice", "eng", 0o750),
        ("/a/f", false, "alice", "eng", 0o640),
        ("/t", true, "root", "supergroup", 0o1777),
        ("/t/x", false, "bob", "eng", 0o666),
        ("/r", true, "root", "supergroup", 0o755),
    ] {
        let path = p(path);
        if dir {
            run(Command::Mkdirs {
                path: path.clone(),
                parents: false,
                perm: perm(0o755),
                mtime_ms: 1,
            });
        } else {
            run(Command::Create {
                path: path.clone(),
                overwrite: false,
                create_parent: false,
                replication: 1,
                block_size: 1024,
                perm: perm(0o644),
                mtime_ms: 1,
            });
        }
        run(Command::SetOwner {
            path: path.clone(),
            owner: Some(owner.into()),
            group: Some(group.into()),
        });
        run(Command::SetPermission { path, mode });
    }
    ns
}

fn delete(path: &str, recursive: bool) -> Command {
    Command::Delete {
        path: p(path),
        recursive,
        mtime_ms: 5,
    }
}

fn mkdir(path: &str) -> Command {
    Command::Mkdirs {
        path: p(path),
        parents: true,
        perm: perm(0o755),
        mtime_ms: 5,
    }
}

#[test]
fn writes_follow_hadoops_rules_and_denials_change_nothing() {
    let denied = |user: &str, access: &str, inode: &str| {
        format!("Permission denied: user={user}, access={access}, inode={inode}")
    };
    let cases: Vec<(Caller, Command, Result<(), String>)> = vec![
        (alice(), mkdir("/a/d"), Ok(())),
        (bob(), mkdir("/a/d"), Err(denied("bob", "WRITE", r#""/a":alice:eng:drwxr-x---"#))),
        (carol(), mkdir("/a/d"), Err(denied("carol", "EXECUTE", r#""/a":alice:eng:drwxr-x---"#))),
        (carol(), mkdir("/r/x/y"), Err(denied("carol", "WRITE", r#""/r":root:supergroup:drwxr-xr-x"#))),
        (carol(), mkdir("/t/x2/y"), Ok(())),
        (Caller::superuser("root"), mkdir("/a/d"), Ok(())),
        (bob(), delete("/t/x", false), Ok(())),
        (
            alice(),
            delete("/t/x", false),
            Err(r#"Permission denied by sticky bit: user=alice, path="/t/x":bob:eng:-rw-rw-rw-, parent="/t":root:supergroup:drwxrwxrwt"#.into()),
        ),
        (alice(), delete("/a", true), Err(denied("alice", "WRITE", r#""/":basalt:supergroup:drwxr-xr-x"#))),
        (
            alice(),
            Command::SetPermission {
                path: p("/t/x"),
                mode: 0o600,
            },
            Err("Permission denied. user=alice is not the owner of inode=/t/x".into()),
        ),
        (
            bob(),
            Command::SetOwner {
                path: p("/t/x"),
                owner: Some("alice".into()),
                group: None,
            },
            Err("User bob is not a super user (non-super user cannot change owner).".into()),
        ),
        (
            bob(),
            Command::SetOwner {
                path: p("/t/x"),
                owner: None,
                group: Some("staff".into()),
            },
            Err("User bob does not belong to staff".into()),
        ),
        (
            bob(),
            Command::SetTimes {
                path: p("/a/f"),
                mtime_ms: Some(9),
                atime_ms: None,
            },
            Err(denied("bob", "WRITE", r#""/a/f":alice:eng:-rw-r-----"#)),
        ),
        (
            bob(),
            Command::Rename {
                src: p("/t/x"),
                dst: p("/a"),
                mtime_ms: 5,
            },
            Err(denied("bob", "WRITE", r#""/a":alice:eng:drwxr-x---"#)),
        ),
        (
            alice(),
            Command::Rename {
                src: p("/a/f"),
                dst: p("/t"),
                mtime_ms: 5,
            },
            Ok(()),
        ),
    ];
    for (caller, cmd, want) in cases {
        let mut ns = tree();
        let before = canon(&ns);
        let got = ns.apply_as("c", Some(&caller), &cmd);
        match (&want, got) {
            (Ok(()), Ok(_)) => {}
            (Err(msg), Err(e)) => {
                assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{cmd:?}");
                assert_eq!(&e.to_string(), msg, "{cmd:?} by {}", caller.user);
                assert!(canon(&ns) == before, "{cmd:?}: a denied command changed the namespace");
            }
            (want, got) => panic!("{cmd:?} by {}: wanted {want:?}, got {got:?}", caller.user),
        }
    }
}

#[test]
fn new_inodes_belong_to_the_caller_in_the_parents_group() {
    let mut ns = tree();
    ns.apply_as("c", Some(&carol()), &mkdir("/t/c/d")).unwrap();
    let st = ns.stat(&p("/t/c/d")).unwrap();
    assert_eq!(
        (st.perm.owner.as_str(), st.perm.group.as_str(), st.perm.mode),
        ("carol", "supergroup", 0o755)
    );
    // A directory made on the way gets u+wx (HDFS's implicit permission).
    let cmd = Command::Mkdirs {
        path: p("/t/e/f"),
        parents: true,
        perm: perm(0o500),
        mtime_ms: 5,
    };
    ns.apply_as("c", Some(&carol()), &cmd).unwrap();
    assert_eq!(ns.stat(&p("/t/e")).unwrap().perm.mode, 0o700);
    assert_eq!(ns.stat(&p("/t/e/f")).unwrap().perm.mode, 0o500);
    // Without a caller (an older log entry), the command's owner and group, as before.
    ns.apply("c", &mkdir("/t/old")).unwrap();
    assert_eq!(ns.stat(&p("/t/old")).unwrap().perm.owner, "ignored");
}

#[test]
fn reads_need_traverse_list_and_read_bits() {
    let ns = tree();
    assert!(ns.stat_as(&bob(), &p("/a/f")).is_ok());
    assert_eq!(
        ns.stat_as(&carol(), &p("/a/f")).unwrap_err().to_string(),
        r#"Permission denied: user=carol, access=EXECUTE, inode="/a":alice:eng:drwxr-x---"#
    );
    assert!(
        ns.stat_as(&carol(), &p("/a")).is_ok(),
        "stat of a directory needs no bit on it"
    );
    assert!(ns.list_as(&bob(), &p("/a"), "", 10).is_ok());
    assert_eq!(
        ns.list_as(&carol(), &p("/a"), "", 10).unwrap_err().to_string(),
        r#"Permission denied: user=carol, access=READ_EXECUTE, inode="/a":alice:eng:drwxr-x---"#
    );
    assert!(ns.blocks_as(&bob(), &p("/a/f")).is_ok());
    assert!(ns.blocks_as(&carol(), &p("/t/x")).is_ok());
    let mut private = tree();
    let su = Caller::superuser("root");
    let cmd = Command::SetPermission {
        path: p("/a/f"),
        mode: 0o600,
    };
    private.apply_as("c", Some(&su), &cmd).unwrap();
    assert_eq!(
        private.blocks_as(&bob(), &p("/a/f")).unwrap_err().to_string(),
        r#"Permission denied: user=bob, access=READ, inode="/a/f":alice:eng:-rw-------"#
    );
    // A missing path is NotFound once the walk down to it is allowed.
    assert_eq!(
        ns.stat_as(&bob(), &p("/a/none")).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn mode_strings_are_hadoops() {
    assert_eq!(mode_string(true, 0o755), "drwxr-xr-x");
    assert_eq!(mode_string(false, 0o640), "-rw-r-----");
    assert_eq!(mode_string(true, 0o1777), "drwxrwxrwt");
    assert_eq!(mode_string(true, 0o1770), "drwxrwx--T");
    assert_eq!(Access::READ_EXECUTE.name(), "READ_EXECUTE");
    assert_eq!(Access::ALL.name(), "ALL");
}

fn callers() -> impl Strategy<Value = Caller> {
    prop_oneof![
        Just(alice()),
        Just(bob()),
        Just(carol()),
        Just(Caller::superuser("root"))
    ]
}

proptest! {
    #[test]
    fn commands_by_random_callers_are_deterministic_and_denials_change_nothing(
        steps in proptest::collection::vec((op(), callers(), 0u32..0o1000), 1..40)
    ) {
        let mut a = Namespace::new();
        let mut b = Namespace::new();
        for (op, caller, mode) in &steps {
            let mut cmds = to_commands(op);
            if let Op::Mkdir(i, _) | Op::Create(i, _) = op {
                // Now and then make what was made closed to others.
                cmds.push(Command::SetPermission { path: super::tests::path_of(*i), mode: *mode });
            }
            for cmd in cmds {
                let before = canon(&a);
                let ra = a.apply_as("w", Some(caller), &cmd);
                let rb = b.apply_as("w", Some(caller), &cmd);
                prop_assert_eq!(&ra, &rb);
                if let Err(e) = &ra && e.kind() == ErrorKind::PermissionDenied {
                    prop_assert!(canon(&a) == before, "a denied {:?} changed the namespace", cmd);
                }
            }
            check_invariants(&a);
        }
        prop_assert_eq!(canon(&a), canon(&b));
    }
}
