//! Every user error is one clear line on stderr with a non-zero exit, and nothing panics.

use crate::harness::{Opts, TestCluster, cli_with, fails_with, ok};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_errors_are_clear() {
    let c = TestCluster::start(Opts {
        datanodes: 2,
        replication: 2,
        ..Opts::default()
    })
    .await;
    let local = c.dir.path().join("small");
    std::fs::write(&local, b"hello").unwrap();
    let l = local.to_str().unwrap();
    ok(c.cli(&["fs", "mkdir", "/d"]));
    ok(c.cli(&["fs", "put", l, "/d/f"]));

    fails_with(c.cli(&["fs", "cat", "/missing"]), "no such file or directory: /missing");
    let get_target = c.dir.path().join("got");
    fails_with(
        c.cli(&["fs", "get", "/missing", get_target.to_str().unwrap()]),
        "no such file or directory",
    );
    assert!(!get_target.exists(), "a failed get left {}", get_target.display());
    fails_with(c.cli(&["fs", "rm", "/missing"]), "no such file or directory");
    fails_with(c.cli(&["fs", "mkdir", "/d"]), "already exists");
    fails_with(c.cli(&["fs", "mkdir", "/d/f/sub"]), "not a directory");
    fails_with(c.cli(&["fs", "mkdir", "/nope/sub"]), "parent directory does not exist");
    fails_with(c.cli(&["fs", "cat", "/d"]), "is a directory");
    fails_with(c.cli(&["fs", "put", l, "/d/f/x"]), "not a directory");
    fails_with(c.cli(&["fs", "ls", "relative/path"]), "must be absolute");
    fails_with(c.cli(&["fs", "stat", "/a/../b"]), "not allowed");
    fails_with(c.cli(&["fs", "mv", "/d", "/d/inside"]), "own subtree");
    fails_with(c.cli(&["fs", "setrep", "0", "/d/f"]), "invalid replication factor");
    fails_with(
        c.cli(&["fs", "put", "/no/such/local/file", "/d/g"]),
        "No such file or directory",
    );
    // Replication 3 with two live datanodes.
    fails_with(
        c.cli(&["fs", "put", "-r", "3", l, "/d/three"]),
        "fewer than the replication factor 3",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_piped_into_head_ends_quietly() {
    let c = TestCluster::start(Opts {
        datanodes: 1,
        replication: 1,
        ..Opts::default()
    })
    .await;
    let big = c.dir.path().join("big");
    std::fs::write(&big, crate::harness::bytes(2 << 20, 4)).unwrap();
    ok(c.cli(&["fs", "put", big.to_str().unwrap(), "/big"]));
    for cmd in ["fs cat /big", "cluster status"] {
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{} {cmd} | head -c 1 >/dev/null", crate::harness::BIN))
            .env("BASALT_NAMENODE", c.nn_addr())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{cmd} | head panicked: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_live_datanodes() {
    let c = TestCluster::start(Opts {
        datanodes: 0,
        replication: 1,
        ..Opts::default()
    })
    .await;
    let local = c.dir.path().join("small");
    std::fs::write(&local, b"hello").unwrap();
    fails_with(
        c.cli(&["fs", "put", local.to_str().unwrap(), "/f"]),
        "no live datanodes",
    );
}

#[test]
fn namenode_unreachable_names_the_address() {
    // Bind then drop a listener: the port is free and nothing answers on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    fails_with(
        cli_with(&addr, &["fs", "ls", "/"]),
        &format!("namenode unreachable at {addr}"),
    );
}
