//! The permission cases every interface is held to (gRPC here in `permissions.rs`; WebHDFS runs the same
//! table): a tree of owners, groups and modes, and for each case an operation, a user and the outcome,
//! allowed or denied with Hadoop's exact message.
//!
//! Each case runs on its own copy of the tree under `/c<N>` (see [`tree`]), so a case that is allowed
//! changes nothing another case sees; messages name paths relative to that root (`{R}` in
//! [`Expect::Denied`] stands for it). Users: `alice` and `bob` in group `eng`, `carol` in no group,
//! and the superuser [`SUPERUSER`]; the namenode gets them from [`NAMENODE_ARGS`].

/// The superuser the test namenode is started with.
pub const SUPERUSER: &str = "hdfs";

/// Namenode flags: the superuser and a static group table (no OS users needed).
pub const NAMENODE_ARGS: &[&str] = &[
    "--superuser",
    SUPERUSER,
    "--group-mapping",
    "static",
    "--groups",
    "alice=eng;bob=eng",
];

/// An entry of the tree a case starts from: made by the superuser, then given its owner, group, mode.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Relative to the case root, e.g. `alice/f`.
    pub path: &'static str,
    pub dir: bool,
    pub owner: &'static str,
    pub group: &'static str,
    pub mode: u32,
    /// A file's contents.
    pub data: &'static [u8],
}

const fn dir(path: &'static str, owner: &'static str, group: &'static str, mode: u32) -> Entry {
    Entry {
        path,
        dir: true,
        owner,
        group,
        mode,
        data: b"",
    }
}

const fn file(path: &'static str, owner: &'static str, group: &'static str, mode: u32) -> Entry {
    Entry {
        path,
        dir: false,
        owner,
        group,
        mode,
        data: b"some bytes\n",
    }
}

/// The tree, parents before children. The case root itself is `hdfs:supergroup` 0755.
pub fn tree() -> Vec<Entry> {
    vec![
        dir("alice", "alice", "eng", 0o750),
        file("alice/f", "alice", "eng", 0o640),
        file("alice/private", "alice", "eng", 0o600),
        dir("alice/sub", "alice", "eng", 0o750),
        file("alice/sub/g", "alice", "eng", 0o644),
        dir("closed", SUPERUSER, "supergroup", 0o700),
        file("closed/f", SUPERUSER, "supergroup", 0o644),
        dir("pub", "alice", "eng", 0o777),
        dir("pub/locked", "alice", "eng", 0o555),
        file("pub/locked/x", "alice", "eng", 0o644),
        dir("pub/empty", "alice", "eng", 0o555),
        dir("ro", SUPERUSER, "supergroup", 0o755),
        file("ro/f", SUPERUSER, "supergroup", 0o644),
        dir("team", "alice", "eng", 0o770),
        file("team/doc", "bob", "eng", 0o664),
        dir("tmp", SUPERUSER, "supergroup", 0o1777),
        file("tmp/a", "alice", "eng", 0o666),
        file("tmp/b", "bob", "eng", 0o666),
    ]
}

/// An operation of a case; paths are relative to the case root.
#[derive(Clone, Debug)]
pub enum Op {
    Stat(&'static str),
    List(&'static str),
    Read(&'static str),
    /// Create a new file (not overwriting).
    Create(&'static str),
    /// Overwrite an existing file.
    Overwrite(&'static str),
    Mkdirs(&'static str),
    Delete {
        path: &'static str,
        recursive: bool,
    },
    Rename {
        src: &'static str,
        dst: &'static str,
    },
    Append(&'static str),
    SetReplication(&'static str),
    SetPermission(&'static str, u32),
    SetOwner(&'static str, Option<&'static str>, Option<&'static str>),
    SetTimes(&'static str),
    ContentSummary(&'static str),
}

/// What a case must give.
#[derive(Clone, Debug)]
pub enum Expect {
    Allowed,
    /// Denied with exactly this message (`{R}` is the case root, e.g. `/c7`).
    Denied(&'static str),
}

#[derive(Clone, Debug)]
pub struct Case {
    pub user: &'static str,
    pub op: Op,
    pub expect: Expect,
}

impl Case {
    /// The expected denial message for the case rooted at `root`, if it is a denial.
    pub fn denial(&self, root: &str) -> Option<String> {
        match self.expect {
            Expect::Allowed => None,
            Expect::Denied(m) => Some(m.replace("{R}", root)),
        }
    }
}

const fn allow(user: &'static str, op: Op) -> Case {
    Case {
        user,
        op,
        expect: Expect::Allowed,
    }
}

const fn deny(user: &'static str, op: Op, message: &'static str) -> Case {
    Case {
        user,
        op,
        expect: Expect::Denied(message),
    }
}

/// Every case.
pub fn cases() -> Vec<Case> {
    use Op::*;
    vec![
        // Traverse: x on every ancestor.
        allow("bob", Stat("alice/f")),
        deny(
            "carol",
            Stat("alice/f"),
            r#"Permission denied: user=carol, access=EXECUTE, inode="{R}/alice":alice:eng:drwxr-x---"#,
        ),
        deny(
            "alice",
            Stat("closed/f"),
            r#"Permission denied: user=alice, access=EXECUTE, inode="{R}/closed":hdfs:supergroup:drwx------"#,
        ),
        allow(SUPERUSER, Stat("alice/f")),
        allow("carol", Stat("alice")),
        // List: r-x on the directory.
        allow("bob", List("alice")),
        deny(
            "carol",
            List("alice"),
            r#"Permission denied: user=carol, access=READ_EXECUTE, inode="{R}/alice":alice:eng:drwxr-x---"#,
        ),
        allow(SUPERUSER, List("closed")),
        // Read: r on the file.
        allow("bob", Read("alice/f")),
        deny(
            "bob",
            Read("alice/private"),
            r#"Permission denied: user=bob, access=READ, inode="{R}/alice/private":alice:eng:-rw-------"#,
        ),
        allow("alice", Read("alice/private")),
        allow(SUPERUSER, Read("alice/private")),
        // Create and mkdir: w on the parent.
        allow("carol", Create("pub/new")),
        deny(
            "bob",
            Create("alice/new"),
            r#"Permission denied: user=bob, access=WRITE, inode="{R}/alice":alice:eng:drwxr-x---"#,
        ),
        allow("bob", Create("team/new")),
        deny(
            "carol",
            Create("team/new"),
            r#"Permission denied: user=carol, access=EXECUTE, inode="{R}/team":alice:eng:drwxrwx---"#,
        ),
        deny(
            "alice",
            Mkdirs("ro/d"),
            r#"Permission denied: user=alice, access=WRITE, inode="{R}/ro":hdfs:supergroup:drwxr-xr-x"#,
        ),
        // mkdir -p: w on the nearest existing ancestor.
        deny(
            "alice",
            Mkdirs("ro/x/y"),
            r#"Permission denied: user=alice, access=WRITE, inode="{R}/ro":hdfs:supergroup:drwxr-xr-x"#,
        ),
        allow("carol", Mkdirs("pub/x/y")),
        allow(SUPERUSER, Mkdirs("ro/d")),
        // Overwrite: w on the file too (no sticky-bit rule: HDFS checks that on delete and rename).
        allow("alice", Overwrite("team/doc")),
        allow("bob", Overwrite("tmp/a")),
        deny(
            "bob",
            Overwrite("ro/f"),
            r#"Permission denied: user=bob, access=WRITE, inode="{R}/ro/f":hdfs:supergroup:-rw-r--r--"#,
        ),
        // Delete: w on the parent; sticky directories only for owners.
        allow(
            "alice",
            Delete {
                path: "alice/f",
                recursive: false,
            },
        ),
        deny(
            "bob",
            Delete {
                path: "alice/f",
                recursive: false,
            },
            r#"Permission denied: user=bob, access=WRITE, inode="{R}/alice":alice:eng:drwxr-x---"#,
        ),
        allow(
            "bob",
            Delete {
                path: "tmp/b",
                recursive: false,
            },
        ),
        deny(
            "bob",
            Delete {
                path: "tmp/a",
                recursive: false,
            },
            r#"Permission denied by sticky bit: user=bob, path="{R}/tmp/a":alice:eng:-rw-rw-rw-, parent="{R}/tmp":hdfs:supergroup:drwxrwxrwt"#,
        ),
        allow(
            SUPERUSER,
            Delete {
                path: "tmp/a",
                recursive: false,
            },
        ),
        // Recursive delete: rwx on every non-empty directory below.
        deny(
            "alice",
            Delete {
                path: "pub/locked",
                recursive: true,
            },
            r#"Permission denied: user=alice, access=ALL, inode="{R}/pub/locked":alice:eng:dr-xr-xr-x"#,
        ),
        allow(
            "carol",
            Delete {
                path: "pub/empty",
                recursive: true,
            },
        ),
        allow(
            "alice",
            Delete {
                path: "alice/sub",
                recursive: true,
            },
        ),
        // Rename: w on both parents; the sticky bit.
        allow(
            "bob",
            Rename {
                src: "team/doc",
                dst: "pub/doc",
            },
        ),
        deny(
            "carol",
            Rename {
                src: "pub/locked",
                dst: "ro/moved",
            },
            r#"Permission denied: user=carol, access=WRITE, inode="{R}/ro":hdfs:supergroup:drwxr-xr-x"#,
        ),
        deny(
            "alice",
            Rename {
                src: "tmp/b",
                dst: "pub/b",
            },
            r#"Permission denied by sticky bit: user=alice, path="{R}/tmp/b":bob:eng:-rw-rw-rw-, parent="{R}/tmp":hdfs:supergroup:drwxrwxrwt"#,
        ),
        deny(
            "bob",
            Rename {
                src: "alice/f",
                dst: "pub/f",
            },
            r#"Permission denied: user=bob, access=WRITE, inode="{R}/alice":alice:eng:drwxr-x---"#,
        ),
        // Append, set replication, set times: w on the file.
        allow("bob", Append("team/doc")),
        deny(
            "bob",
            Append("alice/sub/g"),
            r#"Permission denied: user=bob, access=WRITE, inode="{R}/alice/sub/g":alice:eng:-rw-r--r--"#,
        ),
        deny(
            "carol",
            SetReplication("ro/f"),
            r#"Permission denied: user=carol, access=WRITE, inode="{R}/ro/f":hdfs:supergroup:-rw-r--r--"#,
        ),
        allow("bob", SetReplication("team/doc")),
        allow("bob", SetTimes("team/doc")),
        deny(
            "bob",
            SetTimes("alice/f"),
            r#"Permission denied: user=bob, access=WRITE, inode="{R}/alice/f":alice:eng:-rw-r-----"#,
        ),
        // Set permission: the owner or the superuser.
        allow("alice", SetPermission("alice/f", 0o600)),
        allow("bob", SetPermission("team/doc", 0o1640)),
        allow(SUPERUSER, SetPermission("closed", 0o755)),
        deny(
            "bob",
            SetPermission("alice/sub/g", 0o777),
            "Permission denied. user=bob is not the owner of inode={R}/alice/sub/g",
        ),
        // Set owner: the owner may change the group to one of its own; only the superuser the owner.
        allow(SUPERUSER, SetOwner("alice/f", Some("bob"), None)),
        allow("alice", SetOwner("alice/f", None, Some("eng"))),
        allow("alice", SetOwner("alice/f", Some("alice"), None)),
        deny(
            "alice",
            SetOwner("alice/f", Some("bob"), None),
            "User alice is not a super user (non-super user cannot change owner).",
        ),
        deny(
            "alice",
            SetOwner("alice/f", None, Some("supergroup")),
            "User alice does not belong to supergroup",
        ),
        deny(
            "bob",
            SetOwner("alice/f", None, Some("eng")),
            "Permission denied. user=bob is not the owner of inode={R}/alice/f",
        ),
        // Content summary: r-x on every directory of the subtree.
        allow("bob", ContentSummary("alice")),
        allow("carol", ContentSummary("pub")),
        deny(
            "bob",
            ContentSummary(""),
            r#"Permission denied: user=bob, access=READ_EXECUTE, inode="{R}/closed":hdfs:supergroup:drwx------"#,
        ),
        allow(SUPERUSER, ContentSummary("")),
    ]
}
