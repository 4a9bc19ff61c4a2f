//! `basalt fs` behaves like the HDFS shell.

use crate::harness::{
    DEADLINE, Opts, TestCluster, block_ids, bytes, fails_with, ok, replica_files, stdout, wait_until,
};

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
    fails_with(
        c.cli(&["fs", "put", a.to_str().unwrap(), "/multi/b.txt"]),
        "already exists",
    );
    ok(c.cli(&["fs", "put", "-f", a.to_str().unwrap(), "/multi/b.txt"]));
    assert_eq!(stdout(&ok(c.cli(&["fs", "cat", "/multi/b.txt"]))), "alpha\n");

    // get keeps an existing local file ("File exists", as hdfs dfs -get) unless -f.
    let kept = local.join("kept");
    std::fs::write(&kept, b"precious").unwrap();
    let k = kept.to_str().unwrap();
    fails_with(
        c.cli(&["fs", "get", "/multi/a.txt", k]),
        &format!("get: {k}: File exists"),
    );
    assert_eq!(std::fs::read(&kept).unwrap(), b"precious");
    // Into a directory, the file of the same name in it counts.
    let into = local.join("into");
    std::fs::create_dir(&into).unwrap();
    std::fs::write(into.join("a.txt"), b"also precious").unwrap();
    fails_with(
        c.cli(&["fs", "get", "/multi/a.txt", into.to_str().unwrap()]),
        "a.txt: File exists",
    );
    assert_eq!(std::fs::read(into.join("a.txt")).unwrap(), b"also precious");
    ok(c.cli(&["fs", "get", "-f", "/multi/a.txt", k]));
    assert_eq!(std::fs::read(&kept).unwrap(), b"alpha\n");
    let leftovers: Vec<_> = std::fs::read_dir(&local)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with("basalt-part"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");

    // append needs -c for a missing file; `-` appends stdin; each append session starts a new block.
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    fails_with(c.cli(&["fs", "append", a, "/app"]), "no such file or directory");
    ok(c.cli(&["fs", "append", "-c", a, "/app"]));
    ok(c.cli_stdin(&["fs", "append", "-", "/app"], b"from stdin\n"));
    ok(c.cli(&["fs", "append", a, b, "/app"]));
    assert_eq!(
        stdout(&ok(c.cli(&["fs", "cat", "/app"]))),
        "alpha\nfrom stdin\nalpha\nbeta\n"
    );
    let st = stdout(&ok(c.cli(&["fs", "stat", "/app"])));
    assert!(st.contains("Size: 28 bytes") && st.contains("Blocks: 3"), "{st}");
    // A big stdin append spans blocks (128 KiB here) and reads back whole.
    let big = bytes(300_000, 120);
    ok(c.cli(&["fs", "put", "--block-size", "128KiB", k, "/big-append"]));
    ok(c.cli_stdin(&["fs", "append", "-", "/big-append"], &big));
    let mut want = b"alpha\n".to_vec();
    want.extend_from_slice(&big);
    assert!(
        ok(c.cli(&["fs", "cat", "/big-append"])).stdout == want,
        "stdin append differs"
    );
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

    // setrep changes the replicas on disk, down (surplus deleted) and up (copies made).
    let blocks = block_ids(&c.client(), "/a/b/c/moved").await;
    let replicas_on_disk = |n: usize| {
        let c = &c;
        let blocks = &blocks;
        move || async move { c.replica_counts(blocks, c.all_dns()).iter().all(|&k| k == n) }
    };
    wait_until("3 replicas of each block on disk", DEADLINE, replicas_on_disk(3)).await;
    let out = stdout(&ok(c.cli(&["fs", "setrep", "2", "/a/b/c/moved"])));
    assert!(out.contains("Replication 2 set: /a/b/c/moved"), "{out}");
    assert!(stdout(&ok(c.cli(&["fs", "stat", "/a/b/c/moved"]))).contains("Replication: 2"));
    wait_until("2 replicas of each block on disk", DEADLINE, replicas_on_disk(2)).await;
    ok(c.cli(&["fs", "setrep", "3", "/a/b/c/moved"]));
    wait_until("3 replicas of each block on disk again", DEADLINE, replicas_on_disk(3)).await;
    let fsck = stdout(&ok(c.cli(&["fs", "fsck", "/a", "--files"])));
    assert!(fsck.contains("3 block(s), 9 live replica(s), RF 3: OK"), "{fsck}");

    fails_with(c.cli(&["fs", "rm", "/a"]), "not empty");
    let rm = stdout(&ok(c.cli(&["fs", "rm", "-r", "/a"])));
    assert_eq!(rm, "Deleted /a\n");
    fails_with(c.cli(&["fs", "stat", "/a"]), "no such file or directory");
    // The deleted file's replicas are freed on every datanode's disk.
    wait_until("the replicas deleted from disk", DEADLINE, replicas_on_disk(0)).await;
    assert!(
        c.all_dns()
            .all(|i| replica_files(&c.dn_dir(i).join("current")).is_empty()),
        "replica files left on disk"
    );
    let ls_root = stdout(&ok(c.cli(&["fs", "ls", "/"])));
    assert!(ls_root.starts_with("Found 0 items"), "{ls_root}");

    let status = stdout(&ok(c.cli(&["cluster", "status"])));
    assert!(status.contains("leader"), "{status}");
    assert!(status.contains("Datanodes: 3 live, 0 dead"), "{status}");
    assert!(
        status.contains("Tables: catalog version 0, 0 keyspaces, 0 tables; ring version"),
        "{status}"
    );

    // Every datanode got its 16 ring tokens when it registered.
    let full_ring = async || stdout(&c.cli(&["table", "ring", "--summary"])).contains("3 datanodes, 48 tokens");
    wait_until("48 ring tokens", DEADLINE, full_ring).await;
    let ring = stdout(&ok(c.cli(&["table", "ring"])));
    let owners: Vec<&str> = ring.lines().skip(2).take(3).collect();
    assert!(owners.iter().all(|l| l.contains(" 16 ") && l.ends_with('%')), "{ring}");
    // The summary, a blank line, the token header, then one line per token.
    assert_eq!(ring.lines().count(), 2 + 3 + 2 + 48, "{ring}");
}
