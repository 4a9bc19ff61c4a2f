//! Acknowledged files survive SIGKILL of every process and a restart.

use crate::harness::{DEADLINE, Opts, TestCluster, bytes, ok, stdout, wait_until};
use basalt_client::CreateOptions;

/// In-process counterpart (a stop, not a SIGKILL): `testkit/tests/restart.rs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_all_and_restart_keeps_acknowledged_files() {
    let mut c = TestCluster::start(Opts::default()).await;
    let client = c.client();
    let mut files = Vec::new();
    for i in 0..12 {
        let path = format!("/keep/d{}/f{i}", i % 3);
        let data = bytes(i * 40_000 + 1, i as u64);
        let opts = CreateOptions {
            block_size: 128 * 1024,
            create_parent: true,
            ..Default::default()
        };
        client.write_all(&path, &data, opts).await.unwrap();
        files.push((path, data));
    }
    client.rename("/keep/d0/f0", "/keep/renamed").await.unwrap();
    files[0].0 = "/keep/renamed".into();
    client.delete("/keep/d1/f1", false).await.unwrap();
    files.remove(1);
    // A file being written when everything dies: not acknowledged, so it may be empty, but nothing
    // acknowledged may be lost.
    let mut open = client.create("/keep/open", CreateOptions::default()).await.unwrap();
    open.write(&bytes(1000, 1)).await.unwrap();

    c.kill_namenode();
    for i in 0..3 {
        c.kill_datanode(i);
    }
    c.restart_namenode();
    // No datanode has reported yet: the namenode is in safe mode. Reads of the namespace work; every
    // change is refused (retried by the client until its deadline, then one clear error).
    let mut cfg = basalt_client::ClientConfig::new(c.nn_addr());
    cfg.retry.op_timeout = std::time::Duration::from_secs(1);
    let impatient = basalt_client::Client::connect(cfg).unwrap();
    wait_until("the restarted namenode answers in safe mode", DEADLINE, || async {
        impatient.cluster_status().await.is_ok_and(|s| s.safe_mode)
    })
    .await;
    let status = stdout(&ok(c.cli(&["cluster", "status"])));
    assert!(status.contains("Safe mode: ON"), "{status}");
    // d0, d1, d2, renamed and open.
    assert_eq!(impatient.list("/keep").await.unwrap().len(), 5, "reads in safe mode");
    for res in [
        impatient.mkdirs("/keep/new", false).await,
        impatient.delete("/keep/renamed", false).await,
        impatient
            .write_all("/keep/new-file", b"x", CreateOptions::default())
            .await,
    ] {
        let err = res.expect_err("a change was accepted in safe mode");
        assert_eq!(err.kind(), basalt_common::ErrorKind::Unavailable, "{err}");
        assert!(err.to_string().contains("safe mode"), "{err}");
    }
    for i in 0..3 {
        c.restart_datanode(i);
    }
    c.wait_ready().await;

    let client = c.client();
    for (path, data) in &files {
        let got = client
            .read_all(path)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}\n{}", c.logs()));
        assert!(&got == data, "{path} differs after restart");
    }
    assert!(!client.exists("/keep/d1/f1").await.unwrap());
    let ls = stdout(&ok(c.cli(&["fs", "ls", "-R", "/keep"])));
    assert_eq!(
        ls.lines().filter(|l| l.starts_with('-')).count(),
        files.len() + 1,
        "{ls}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namenode_restart_recovers_from_snapshot_and_log() {
    // Snapshots every 50 entries (see the harness): 200 mkdirs span several snapshots and a log tail.
    let mut c = TestCluster::start(Opts {
        datanodes: 1,
        replication: 1,
        ..Opts::default()
    })
    .await;
    let client = c.client();
    for i in 0..200 {
        client.mkdirs(&format!("/snap/d{i:03}"), true).await.unwrap();
    }
    c.restart_namenode();
    c.wait_ready().await;
    let client = c.client();
    wait_until("namespace reloaded", DEADLINE, || async {
        client.list("/snap").await.map(|l| l.len()).unwrap_or(0) == 200
    })
    .await;
    let snapshot = c.dir.path().join("nn/snapshots/snapshot.bin");
    assert!(snapshot.exists(), "no snapshot was written");
    // An operator's snapshot (saveNamespace) covers everything applied, and a restart from it alone
    // (no log tail to replay) finds the same namespace.
    for i in 0..7 {
        client.mkdirs(&format!("/snap/late{i}"), true).await.unwrap();
    }
    let out = stdout(&ok(c.cli(&["admin", "raft", "snapshot"])));
    assert!(out.contains("snapshot at log index"), "{out}");
    let index: u64 = out
        .split("log index ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no index in {out}"));
    let status = client.member_statuses(None).await;
    let applied = status[0].1.as_ref().unwrap().applied_index;
    assert!(index >= applied, "snapshot at {index}, applied {applied}");
    c.restart_namenode();
    c.wait_ready().await;
    let client = c.client();
    assert_eq!(client.list("/snap").await.unwrap().len(), 207);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_roles_cleanly_and_restart_finds_data() {
    let mut c = TestCluster::start(Opts {
        datanodes: 1,
        replication: 1,
        ..Opts::default()
    })
    .await;
    let client = c.client();
    let data = bytes(300_000, 5);
    client
        .write_all(
            "/clean",
            &data,
            CreateOptions {
                block_size: 128 * 1024,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let dn = c.dns[0].as_mut().unwrap().terminate();
    assert!(dn.success(), "datanode exit status {dn}");
    let nn = c.nn.terminate();
    assert!(nn.success(), "namenode exit status {nn}");
    c.restart_namenode();
    c.restart_datanode(0);
    c.wait_ready().await;
    assert!(c.client().read_all("/clean").await.unwrap() == data);
}
