//! Every node killed and restarted on its directory and address, in process. (Ported from the
//! real-process `restart::kill_all_and_restart_keeps_acknowledged_files`, whose SIGKILL also tests
//! crash safety, and `restart::namenode_restart_recovers_from_snapshot_and_log`; here a kill is an
//! immediate cut of every link followed by a stop.)

use basalt_client::CreateOptions;
use basalt_common::ErrorKind;
use basalt_testkit::{Cluster, Options, bytes};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

/// Acknowledged files (written, renamed, deleted) survive; the restarted namenode answers reads in
/// safe mode and refuses changes until the datanodes have reported; the namespace comes back from a
/// snapshot plus the log tail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_all_and_restart_keeps_acknowledged_files() {
    let mut c = Cluster::start(Options::default()).await;
    let client = c.client();
    let mut files = Vec::new();
    for i in 0..12 {
        let path = format!("/keep/d{}/f{i}", i % 3);
        let data = bytes(i * 40_000 + 1, i as u64);
        let opts = CreateOptions {
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
    // Snapshots every 50 entries: these span several, and a log tail.
    for i in 0..120 {
        client.mkdirs(&format!("/snap/d{i:03}"), true).await.unwrap();
    }
    // A file being written when everything dies: not acknowledged, so it may be empty, but nothing
    // acknowledged may be lost.
    let mut open = client.create("/keep/open", CreateOptions::default()).await.unwrap();
    open.write(&bytes(1000, 1)).await.unwrap();

    c.kill_namenode(1).await;
    for i in 0..3 {
        c.kill_datanode(i).await;
    }
    c.restart_namenode(1).await;
    assert!(
        c.namenode_dir(1).join("snapshots/snapshot.bin").exists(),
        "no snapshot was written"
    );
    // No datanode has reported yet: safe mode. Reads of the namespace work; every change is refused
    // (retried by the client until its deadline, then one clear error).
    let impatient = c.client_with(|cfg| cfg.retry.op_timeout = Duration::from_secs(1));
    c.wait_until("the restarted namenode answers in safe mode", DEADLINE, async || {
        impatient.cluster_status().await.is_ok_and(|s| s.safe_mode)
    })
    .await;
    // d0, d1, d2, renamed and open.
    assert_eq!(impatient.list("/keep").await.unwrap().len(), 5, "reads in safe mode");
    assert_eq!(impatient.list("/snap").await.unwrap().len(), 120);
    let (mkdir, delete, create) = tokio::join!(
        impatient.mkdirs("/keep/new", false),
        impatient.delete("/keep/renamed", false),
        impatient.write_all("/keep/new-file", b"x", CreateOptions::default()),
    );
    for res in [mkdir, delete, create] {
        let err = res.expect_err("a change was accepted in safe mode");
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
        assert!(err.to_string().contains("safe mode"), "{err}");
    }
    for i in 0..3 {
        c.restart_datanode(i).await;
    }
    c.wait_ready().await;

    for (path, data) in &files {
        let got = client
            .read_all(path)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}\n{}", c.describe()));
        assert!(&got == data, "{path} differs after restart");
    }
    assert!(!client.exists("/keep/d1/f1").await.unwrap());
    let mut count = 0;
    for dir in client.list("/keep").await.unwrap() {
        count += if dir.is_dir {
            client.list(&dir.path).await.unwrap().len()
        } else {
            1
        };
    }
    assert_eq!(count, files.len() + 1, "the acknowledged files and the open one");
    c.shutdown().await;
}
