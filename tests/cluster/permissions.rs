//! HDFS permissions through gRPC (the client library) on a real cluster: every case of
//! [`permission_cases`](crate::permission_cases) allowed or denied with Hadoop's exact message, and
//! after every denial the case's tree exactly as before. Also the CLI's chmod/chown/chgrp and `--user`.

use crate::harness::{Opts, TestCluster, fails_with, ok, stdout};
use crate::permission_cases::{Case, Entry, NAMENODE_ARGS, Op, SUPERUSER, cases, tree};
use basalt_client::{Client, ClientError, CreateOptions, FileStatus};
use basalt_common::ErrorKind;

fn abs(root: &str, rel: &str) -> String {
    if rel.is_empty() {
        root.to_string()
    } else {
        format!("{root}/{rel}")
    }
}

async fn cluster() -> TestCluster {
    TestCluster::start(Opts {
        datanodes: 1,
        replication: 1,
        namenode_args: NAMENODE_ARGS,
        ..Opts::default()
    })
    .await
}

/// Makes the case tree under `root` as the superuser.
async fn make_tree(su: &Client, root: &str) {
    su.mkdirs(root, true).await.unwrap();
    su.set_permission(root, 0o755).await.unwrap();
    let opts = CreateOptions {
        replication: 1,
        ..Default::default()
    };
    for Entry {
        path,
        dir,
        owner,
        group,
        mode,
        data,
    } in tree()
    {
        let p = abs(root, path);
        if dir {
            su.mkdirs(&p, false).await.unwrap();
        } else {
            su.write_all(&p, data, opts.clone()).await.unwrap();
        }
        su.set_owner(&p, Some(owner), Some(group)).await.unwrap();
        su.set_permission(&p, mode).await.unwrap();
    }
}

/// Everything at or below `root` as the superuser sees it, in path order.
async fn snapshot(su: &Client, root: &str) -> Vec<FileStatus> {
    let mut out = vec![su.stat(root).await.unwrap()];
    let mut stack = vec![root.to_string()];
    while let Some(d) = stack.pop() {
        for st in su.list(&d).await.unwrap() {
            if st.is_dir {
                stack.push(st.path.clone());
            }
            out.push(st);
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Runs a case's operation as `client`.
async fn run(client: &Client, root: &str, op: &Op) -> Result<(), ClientError> {
    let opts = CreateOptions {
        replication: 1,
        ..Default::default()
    };
    match op {
        Op::Stat(p) => client.stat(&abs(root, p)).await.map(|_| ()),
        Op::List(p) => client.list(&abs(root, p)).await.map(|_| ()),
        Op::Read(p) => client.read_all(&abs(root, p)).await.map(|_| ()),
        Op::Create(p) => client.write_all(&abs(root, p), b"new\n", opts).await,
        Op::Overwrite(p) => {
            let opts = CreateOptions {
                overwrite: true,
                ..opts
            };
            client.write_all(&abs(root, p), b"replaced\n", opts).await
        }
        Op::Mkdirs(p) => client.mkdirs(&abs(root, p), true).await,
        Op::Delete { path, recursive } => client.delete(&abs(root, path), *recursive).await,
        Op::Rename { src, dst } => client.rename(&abs(root, src), &abs(root, dst)).await,
        Op::Append(p) => {
            let mut w = client.append(&abs(root, p)).await?;
            w.write(b"more\n").await?;
            w.close().await
        }
        Op::SetReplication(p) => client.set_replication(&abs(root, p), 1).await,
        Op::SetPermission(p, mode) => client.set_permission(&abs(root, p), *mode).await,
        Op::SetOwner(p, o, g) => client.set_owner(&abs(root, p), *o, *g).await,
        Op::SetTimes(p) => client.set_times(&abs(root, p), Some(1_000_000), Some(2_000_000)).await,
        Op::ContentSummary(p) => client.content_summary(&abs(root, p)).await.map(|_| ()),
    }
}

/// What an allowed case must have done, beyond succeeding.
async fn check_effect(su: &Client, root: &str, case: &Case) {
    let parent_group = |p: &str| {
        let parent = p.rsplit_once('/').map_or("", |(d, _)| d).to_string();
        async move { su.stat(&abs(root, &parent)).await.unwrap().group }
    };
    match &case.op {
        Op::Create(p) | Op::Mkdirs(p) => {
            let st = su.stat(&abs(root, p)).await.unwrap();
            assert_eq!(st.owner, case.user, "{case:?}: the caller owns what it creates");
            assert_eq!(st.group, parent_group(p).await, "{case:?}: the parent's group");
            assert_eq!(st.mode, if st.is_dir { 0o755 } else { 0o644 }, "{case:?}: umask 022");
        }
        Op::SetPermission(p, mode) => assert_eq!(su.stat(&abs(root, p)).await.unwrap().mode, *mode),
        Op::SetOwner(p, o, g) => {
            let st = su.stat(&abs(root, p)).await.unwrap();
            if let Some(o) = o {
                assert_eq!(st.owner, *o);
            }
            if let Some(g) = g {
                assert_eq!(st.group, *g);
            }
        }
        Op::SetTimes(p) => {
            let st = su.stat(&abs(root, p)).await.unwrap();
            assert_eq!((st.mtime_ms, st.atime_ms), (1_000_000, 2_000_000));
        }
        Op::Delete { path, .. } => assert!(!su.exists(&abs(root, path)).await.unwrap()),
        Op::Rename { src, dst } => {
            assert!(!su.exists(&abs(root, src)).await.unwrap());
            assert!(su.exists(&abs(root, dst)).await.unwrap());
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_is_allowed_or_denied_as_in_hdfs_and_denials_change_nothing() {
    let c = cluster().await;
    let base = c.client();
    let su = base.as_user(SUPERUSER);
    let mut failures = Vec::new();
    for (i, case) in cases().into_iter().enumerate() {
        let root = format!("/c{i}");
        make_tree(&su, &root).await;
        let before = snapshot(&su, &root).await;
        let res = run(&base.as_user(case.user), &root, &case.op).await;
        match (case.denial(&root), res) {
            (None, Ok(())) => check_effect(&su, &root, &case).await,
            (None, Err(e)) => failures.push(format!("{case:?}: refused: {e}")),
            (Some(want), Ok(())) => failures.push(format!("{case:?}: allowed, wanted {want}")),
            (Some(want), Err(e)) => {
                if e.kind() != ErrorKind::PermissionDenied || e.to_string() != want {
                    failures.push(format!("{case:?}:\n  got  {e} ({:?})\n  want {want}", e.kind()));
                }
                let after = snapshot(&su, &root).await;
                if after != before {
                    failures.push(format!("{case:?}: the denied operation changed the tree"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_changes_modes_owners_and_groups_and_denials_are_one_line() {
    let c = cluster().await;
    let as_su = |args: &[&str]| {
        let mut a = vec!["--user", SUPERUSER];
        a.extend_from_slice(args);
        c.cli(&a)
    };
    ok(as_su(&["fs", "mkdir", "-p", "/w/a/b"]));
    ok(as_su(&["fs", "chown", "-R", "alice:eng", "/w"]));
    ok(as_su(&["fs", "chmod", "-R", "u+x,go-w,a+r", "/w"]));
    ok(as_su(&["fs", "chmod", "1777", "/w/a"]));
    let ls = stdout(&ok(as_su(&["fs", "ls", "-R", "/w"])));
    let lines: Vec<&str> = ls.lines().collect();
    assert!(lines[0].starts_with("drwxrwxrwt   - alice    eng"), "{ls}");
    assert!(lines[1].starts_with("drwxr-xr-x   - alice    eng"), "{ls}");
    // The owner changes the group to one of hers; a chown needs the superuser.
    ok(c.cli(&["--user", "alice", "fs", "chgrp", "eng", "/w/a/b"]));
    fails_with(
        c.cli(&["--user", "alice", "fs", "chown", "bob", "/w/a/b"]),
        "User alice is not a super user (non-super user cannot change owner).",
    );
    let o = c.cli(&["--user", "carol", "fs", "mkdir", "/w/a/b/c"]);
    fails_with(
        o,
        r#"Permission denied: user=carol, access=WRITE, inode="/w/a/b":alice:eng:drwxr-xr-x"#,
    );
    let o = c.cli(&["--user", "carol", "fs", "mkdir", "/w/a/b/c"]);
    assert_eq!(crate::harness::stderr(&o).lines().count(), 1, "one line");
    // BASALT_USER is the same as --user; a new directory honours the umask and the parent's group.
    let o = std::process::Command::new(crate::harness::BIN)
        .args(["fs", "mkdir", "/w/a/by-env"])
        .env("BASALT_NAMENODE", c.nn_addr())
        .env("BASALT_USER", "bob")
        .output()
        .unwrap();
    ok(o);
    let st = c.client().as_user(SUPERUSER).stat("/w/a/by-env").await.unwrap();
    assert_eq!((st.owner.as_str(), st.group.as_str(), st.mode), ("bob", "eng", 0o755));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_without_a_user_are_refused_and_the_os_user_is_the_default() {
    use basalt_proto::pb;
    let c = cluster().await;
    let mut nn = pb::client_protocol_client::ClientProtocolClient::connect(format!("http://{}", c.nn_addr()))
        .await
        .unwrap();
    let err = nn
        .get_file_info(pb::GetFileInfoRequest { path: "/".into() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("basalt-user"), "{}", err.message());
    // The library's default caller: BASALT_USER, else the OS user.
    let client = c.client();
    assert_eq!(client.user(), basalt_client::default_user());
    assert_eq!(client.as_user("alice").user(), "alice");
}
