//! `basalt fs` behaves like the HDFS shell.

use crate::harness::{Opts, TestCluster, bytes, ok, stdout};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_cat_round_trip() {
    let c = TestCluster::start(Opts::default()).await;
    let local = c.dir.path().join("local");
    std::fs::create_dir_all(&local).unwrap();
    for (i, size) in [0usize, 1, 131_072, 131_073, 700_000].into_iter().enumerate() {
        let src = local.join(format!("in{i}"));
        let data = bytes(size, 100 + i as u64);
        std::fs::write(&src, &data).unwrap();
        let dst = format!("/shell/f{i}");
        ok(c.cli(&["fs", "mkdir", "-p", "/shell"]));
        ok(c.cli(&["fs", "put", "--block-size", "128KiB", src.to_str().unwrap(), &dst]));
        let back = local.join(format!("out{i}"));
        ok(c.cli(&["fs", "get", &dst, back.to_str().unwrap()]));
        assert!(std::fs::read(&back).unwrap() == data, "get of {dst} differs");
        let cat = ok(c.cli(&["fs", "cat", &dst]));
        assert!(cat.stdout == data, "cat of {dst} differs");
    }
    // put of several files into a directory keeps their names.
    let a = local.join("a.txt");
    let b = local.join("b.txt");
    std::fs::write(&a, b"alpha\n").unwrap();
    std::fs::write(&b, b"beta\n").unwrap();
    ok(c.cli(&["fs", "mkdir", "/multi"]));
    ok(c.cli(&[
        "fs",
        "put",
        "-r",
        "2",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "/multi",
    ]));
    let cat = ok(c.cli(&["fs", "cat", "/multi/a.txt", "/multi/b.txt"]));
    assert_eq!(stdout(&cat), "alpha\nbeta\n");
    let st = stdout(&ok(c.cli(&["fs", "stat", "/multi/b.txt"])));
    assert!(st.contains("Replication: 2"), "{st}");
    // -f overwrites; without it the put fails.
    crate::harness::fails_with(
        c.cli(&["fs", "put", a.to_str().unwrap(), "/multi/b.txt"]),
        "already exists",
    );
    ok(c.cli(&["fs", "put", "-f", a.to_str().unwrap(), "/multi/b.txt"]));
    assert_eq!(stdout(&ok(c.cli(&["fs", "cat", "/multi/b.txt"]))), "alpha\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_commands() {
    let c = TestCluster::start(Opts::default()).await;
    let local = c.dir.path().join("x.bin");
    std::fs::write(&local, bytes(300_000, 9)).unwrap();
    ok(c.cli(&["fs", "mkdir", "-p", "/a/b/c"]));
    ok(c.cli(&[
        "fs",
        "put",
        "--block-size",
        "128KiB",
        local.to_str().unwrap(),
        "/a/b/file",
    ]));

    let ls = stdout(&ok(c.cli(&["fs", "ls", "/a/b"])));
    assert!(ls.starts_with("Found 2 items"), "{ls}");
    let file_line = ls.lines().find(|l| l.ends_with("/a/b/file")).expect("file listed");
    assert!(file_line.starts_with("-rw-r--r--"), "{file_line}");
    assert!(file_line.contains(" 300000 "), "{file_line}");
    assert!(
        ls.lines().any(|l| l.starts_with("drwxr-xr-x") && l.ends_with("/a/b/c")),
        "{ls}"
    );

    let lsr = stdout(&ok(c.cli(&["fs", "ls", "-R", "/a"])));
    let paths: Vec<&str> = lsr.lines().filter_map(|l| l.split_whitespace().last()).collect();
    assert_eq!(paths, ["/a/b", "/a/b/c", "/a/b/file"]);

    let du = stdout(&ok(c.cli(&["fs", "du", "-s", "/a"])));
    assert_eq!(
        du.split_whitespace().take(2).collect::<Vec<_>>(),
        ["300000", "900000"],
        "{du}"
    );
    let duh = stdout(&ok(c.cli(&["fs", "du", "-s", "-h", "/a"])));
    assert!(duh.starts_with("293.0 KiB"), "{duh}");

    ok(c.cli(&["fs", "mv", "/a/b/file", "/a/moved"]));
    ok(c.cli(&["fs", "mv", "/a/moved", "/a/b/c"]));
    let st = stdout(&ok(c.cli(&["fs", "stat", "/a/b/c/moved"])));
    assert!(st.contains("Size: 300000 bytes") && st.contains("Blocks: 3"), "{st}");

    ok(c.cli(&["fs", "setrep", "2", "/a/b/c/moved"]));
    assert!(stdout(&ok(c.cli(&["fs", "stat", "/a/b/c/moved"]))).contains("Replication: 2"));

    crate::harness::fails_with(c.cli(&["fs", "rm", "/a"]), "not empty");
    ok(c.cli(&["fs", "rm", "-r", "/a"]));
    crate::harness::fails_with(c.cli(&["fs", "stat", "/a"]), "no such file or directory");
    let ls_root = stdout(&ok(c.cli(&["fs", "ls", "/"])));
    assert!(ls_root.starts_with("Found 0 items"), "{ls_root}");

    let status = stdout(&ok(c.cli(&["cluster", "status"])));
    assert!(status.contains("leader"), "{status}");
    assert!(status.contains("Datanodes: 3 live, 0 dead"), "{status}");
}
