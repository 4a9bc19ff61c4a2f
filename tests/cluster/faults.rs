//! The file system under faults: pipeline recovery, lease recovery and append, decommission, orphan
//! replicas, and a chaos run of writers and readers while datanodes die and come back.

use crate::harness::{
    BIN, DEADLINE, Opts, TestCluster, block_ids, bytes, fails_with, ok, replica_files, stdout, test_rng, tmp_replicas,
    wait_until,
};
use basalt_client::{Client, CreateOptions};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MIB: usize = 1 << 20;

/// In-process counterpart (the node isolated rather than killed): `testkit/tests/pipeline.rs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_recovers_when_a_datanode_dies_mid_block() {
    let mut c = TestCluster::start(Opts {
        datanodes: 3,
        dead_interval_secs: 2.0,
        ..Opts::default()
    })
    .await;
    let client = c.remote_client();
    let data = bytes(10 * MIB + 12_345, 21);
    let opts = CreateOptions {
        block_size: 4 * MIB as u64,
        ..Default::default()
    };
    let mut w = client.create("/pipeline", opts).await.unwrap();
    // One whole block and a quarter of the next: every datanode is in the pipeline (3 nodes, RF 3).
    w.write(&data[..5 * MIB]).await.unwrap();
    // The second block's replica on a survivor, being written at its first generation stamp.
    let open_block = std::cell::Cell::new(None);
    wait_until("the second block is open on datanode 1", DEADLINE, || async {
        let first = block_ids(&client, "/pipeline").await.first().copied();
        open_block.set(
            tmp_replicas(&c.dn_dir(1))
                .into_iter()
                .find(|&(id, _)| Some(id) != first),
        );
        open_block.get().is_some()
    })
    .await;
    let (block2, old_stamp) = open_block.get().unwrap();
    c.kill_datanode(0);
    // A replacement joins, so later blocks can have 3 replicas again.
    c.add_datanode();
    c.wait_ready().await;
    w.write(&data[5 * MIB..]).await.unwrap();
    w.close().await.unwrap();
    assert!(client.read_all("/pipeline").await.unwrap() == data, "read back differs");
    // The recovery gave the block a new generation stamp: the namenode's block and the survivors'
    // finalized replicas carry it (the lost node's replica, if it ever came back, would be stale).
    let located = client.block_locations("/pipeline").await.unwrap();
    let b2 = located[1].block.unwrap();
    assert_eq!(b2.block_id, block2);
    assert!(
        b2.gen_stamp > old_stamp,
        "{block2} still at generation stamp {} (was {old_stamp}): no pipeline recovery",
        b2.gen_stamp
    );
    for i in [1, 2] {
        let r = c.disk_replicas(i).into_iter().find(|r| r.block == block2);
        assert_eq!(r.map(|r| r.gen_stamp), Some(b2.gen_stamp), "datanode {i}");
    }
    // The block written by two survivors is copied back to 3 replicas once the file is closed.
    wait_until("every block at 3 live replicas", DEADLINE, || async {
        c.fsck_healthy()
    })
    .await;
    let fsck = stdout(&ok(c.cli(&["fs", "fsck", "/", "--files"])));
    assert!(fsck.contains("3 block(s), 9 live replica(s)"), "{fsck}");
}

/// A pipeline node that hangs (SIGSTOP: its sockets stay open, nothing answers) is blamed after the
/// acknowledgement deadline, by its upstream neighbour or (when it is the first) by the writer, and the
/// write completes on the others. Which node is stopped varies from run to run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_pipeline_datanode_is_bypassed() {
    let mut c = TestCluster::start(Opts {
        datanodes: 3,
        dead_interval_secs: 2.0,
        ack_timeout_secs: 2.0,
        ..Opts::default()
    })
    .await;
    let mut cfg = basalt_client::ClientConfig::new(c.nn_addr());
    cfg.short_circuit = false;
    cfg.ack_timeout = Duration::from_secs(2);
    let client = Client::connect(cfg).unwrap();
    let data = bytes(9 * MIB + 777, 24);
    let opts = CreateOptions {
        block_size: 4 * MIB as u64,
        ..Default::default()
    };
    let mut w = client.create("/hung", opts).await.unwrap();
    w.write(&data[..5 * MIB]).await.unwrap();
    let victim = test_rng("a_hung_pipeline_datanode_is_bypassed").usize(..3);
    c.dns[victim].as_ref().unwrap().signal(libc::SIGSTOP);
    c.add_datanode();
    let started = std::time::Instant::now();
    w.write(&data[5 * MIB..]).await.unwrap();
    w.close().await.unwrap();
    eprintln!(
        "datanode {victim} stopped; the write finished {:?} later",
        started.elapsed()
    );
    assert!(client.read_all("/hung").await.unwrap() == data, "read back differs");
    c.dns[victim].as_ref().unwrap().signal(libc::SIGCONT);
    wait_until("every block at 3 live replicas", DEADLINE, || async {
        c.fsck_healthy()
    })
    .await;
}

/// A writer killed mid-block: lease recovery closes its file at a length the replicas agree on, and it
/// can be appended. A writer killed right after finishing a block, with one holder down during the
/// recovery: that holder's replica keeps the old generation stamp, and when it returns the stale
/// replica is deleted and a current copy takes its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_writers_file_is_recovered_and_can_be_appended() {
    let mut c = TestCluster::start(Opts {
        lease_hard_limit_secs: 2.0,
        ..Opts::default()
    })
    .await;
    let client = c.client();
    let data = bytes(6 * MIB + MIB / 2, 22);
    // A writer process streams from a pipe and is killed mid-block.
    let mut writer = Command::new(BIN)
        .args(["fs", "put", "--block-size", "4MiB", "-", "/crashed"])
        .env("BASALT_NAMENODE", c.nn_addr())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    writer.stdin.as_mut().unwrap().write_all(&data).unwrap();
    // Wait until the second block has data on a datanode (bytes of an open block sit in tmp/).
    wait_until("the second block is being written", DEADLINE, || async {
        let st = client.stat("/crashed").await;
        st.is_ok_and(|s| s.block_count == 2)
            && (0..3).any(|i| {
                replica_files(&c.dir.path().join(format!("dn{i}")).join("tmp"))
                    .iter()
                    .any(|f| f.metadata().is_ok_and(|m| m.len() >= MIB as u64))
            })
    })
    .await;
    writer.kill().unwrap();
    writer.wait().unwrap();
    assert!(client.stat("/crashed").await.unwrap().under_construction);
    // After the lease limit the namenode closes the file at a length its replicas agree on.
    wait_until("the lease is recovered and the file closed", DEADLINE, || async {
        client.stat("/crashed").await.is_ok_and(|s| !s.under_construction)
    })
    .await;
    let got = client.read_all("/crashed").await.unwrap();
    assert!(got.len() > 4 * MIB && got.len() <= data.len(), "length {}", got.len());
    assert!(
        got[..] == data[..got.len()],
        "the recovered file is not a prefix of what was written"
    );
    assert!(c.log_contains("lease recovered"));
    wait_until("fsck healthy", DEADLINE, || async { c.fsck_healthy() }).await;
    // A new writer appends.
    let extra = bytes(300_000, 23);
    let local = c.dir.path().join("extra.bin");
    std::fs::write(&local, &extra).unwrap();
    ok(c.cli(&["fs", "append", local.to_str().unwrap(), "/crashed"]));
    let mut want = got.clone();
    want.extend_from_slice(&extra);
    assert!(
        client.read_all("/crashed").await.unwrap() == want,
        "append result differs"
    );
    let st = client.stat("/crashed").await.unwrap();
    assert_eq!(st.length, want.len() as u64);
    assert!(!st.under_construction);
    // Appending to a file someone else is writing is refused with a clear error.
    let mut w = client.append("/crashed").await.unwrap();
    w.write(b"x").await.unwrap();
    fails_with(
        c.cli(&["fs", "append", local.to_str().unwrap(), "/crashed"]),
        "already open for writing",
    );
    w.close().await.unwrap();
    assert_eq!(client.stat("/crashed").await.unwrap().length, want.len() as u64 + 1);

    // Exactly one 1 MiB block from a writer that then hangs: the block is finalized on all three nodes
    // at its first stamp, the file still open.
    let known: Vec<u64> = block_ids(&client, "/crashed").await;
    let one = bytes(MIB, 25);
    let mut writer = Command::new(BIN)
        .args(["fs", "put", "--block-size", "1MiB", "-", "/stale"])
        .env("BASALT_NAMENODE", c.nn_addr())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    writer.stdin.as_mut().unwrap().write_all(&one).unwrap();
    let first = std::cell::Cell::new(None);
    wait_until("the block finalized on every datanode", DEADLINE, || async {
        let new_on = |i| {
            c.disk_replicas(i)
                .into_iter()
                .find(|r| !known.contains(&r.block))
                .map(|r| (r.block, r.gen_stamp))
        };
        first.set(new_on(0));
        first.get().is_some() && (1..3).all(|i| new_on(i) == first.get())
    })
    .await;
    let (block, old_stamp) = first.get().unwrap();
    c.kill_datanode(0);
    writer.kill().unwrap();
    writer.wait().unwrap();
    wait_until("the lease is recovered without datanode 0", DEADLINE, || async {
        client.stat("/stale").await.is_ok_and(|s| !s.under_construction)
    })
    .await;
    assert_eq!(client.stat("/stale").await.unwrap().length, MIB as u64);
    let stamp = client.block_locations("/stale").await.unwrap()[0]
        .block
        .unwrap()
        .gen_stamp;
    assert!(stamp > old_stamp, "recovery kept stamp {stamp} (was {old_stamp})");
    let on_disk = |c: &TestCluster, i| {
        c.disk_replicas(i)
            .into_iter()
            .find(|r| r.block == block)
            .map(|r| r.gen_stamp)
    };
    assert_eq!(
        on_disk(&c, 0),
        Some(old_stamp),
        "datanode 0 was down: its replica is the old one"
    );
    c.restart_datanode(0);
    wait_until("the stale replica replaced by a current one", DEADLINE, || async {
        (0..3).all(|i| on_disk(&c, i) == Some(stamp))
    })
    .await;
    assert!(c.remote_client().read_all("/stale").await.unwrap() == one);
}

/// Decommission drains a node: every block gets its 3 replicas on the other nodes' disks before the node
/// is "decommissioned" (checked on disk: the namenode would count the drained node's replicas as live
/// for its whole dead interval after it is killed). Cancelled, the node is back in service and the
/// replicas its return makes surplus are deleted from disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decommission_drains_a_datanode_before_it_leaves() {
    let mut c = TestCluster::start(Opts {
        datanodes: 4,
        ..Opts::default()
    })
    .await;
    let client = c.client();
    let files: Vec<(String, Vec<u8>)> = (0..4)
        .map(|i| (format!("/d/{i}"), bytes(300_000 + i * 70_000, 30 + i as u64)))
        .collect();
    let opts = CreateOptions {
        create_parent: true,
        ..Default::default()
    };
    let mut blocks = Vec::new();
    for (p, d) in &files {
        client.write_all(p, d, opts.clone()).await.unwrap();
        blocks.extend(block_ids(&client, p).await);
    }
    wait_until("3 replicas of every block on disk", DEADLINE, || async {
        c.replica_counts(&blocks, c.all_dns()).iter().all(|&n| n == 3)
    })
    .await;
    let st = client.cluster_status().await.unwrap();
    let victim = st
        .datanodes
        .iter()
        .max_by_key(|d| d.block_count)
        .unwrap()
        .info
        .clone()
        .unwrap();
    let victim_no = c
        .dns
        .iter()
        .position(|d| d.as_ref().is_some_and(|p| p.addr == victim.addr))
        .unwrap();
    let held = c
        .replica_counts(&blocks, [victim_no])
        .iter()
        .filter(|&&n| n > 0)
        .count();
    assert!(held > 0, "the victim holds no replica");
    let others = || c.all_dns().filter(move |&i| i != victim_no);
    let out = stdout(&ok(c.cli(&["admin", "decommission", &victim.addr])));
    assert!(out.contains("decommissioning"), "{out}");
    let admin_state = || async {
        let st = client.cluster_status().await.unwrap();
        st.datanodes
            .iter()
            .find(|d| d.info.as_ref().is_some_and(|i| i.id == victim.id))
            .map(|d| d.admin_state.clone())
            .unwrap()
    };
    wait_until("the datanode is decommissioned", DEADLINE, || async {
        admin_state().await == "decommissioned"
    })
    .await;
    let status = stdout(&ok(c.cli(&["cluster", "status"])));
    assert!(status.contains("decommissioned"), "{status}");
    // Every block has its 3 replicas on the other nodes' disks: the node can go.
    let elsewhere = c.replica_counts(&blocks, others());
    assert!(
        elsewhere.iter().all(|&n| n >= 3),
        "replicas per block on the other nodes: {elsewhere:?}"
    );
    c.kill_datanode(victim_no);
    let remote = c.remote_client();
    for (p, d) in &files {
        assert!(remote.read_all(p).await.unwrap() == *d, "{p} differs");
    }
    // Back (on a new port: named by its id now), and put in service again: its replicas are surplus
    // now, and the surplus goes from disk.
    c.restart_datanode(victim_no);
    c.wait_ready().await;
    let out = stdout(&ok(c.cli(&[
        "admin",
        "decommission",
        "--cancel",
        &victim.id.to_string(),
    ])));
    assert!(out.contains("in service"), "{out}");
    assert_eq!(admin_state().await, "in service");
    let status = stdout(&ok(c.cli(&["cluster", "status"])));
    assert!(!status.contains("decommission"), "{status}");
    wait_until("exactly 3 replicas of every block on disk", DEADLINE, || async {
        c.replica_counts(&blocks, c.all_dns()).iter().all(|&n| n == 3)
    })
    .await;
    wait_until("fsck healthy", DEADLINE, || async { c.fsck_healthy() }).await;
    // An unknown node is a clear error.
    fails_with(
        c.cli(&["admin", "decommission", "127.0.0.1:1"]),
        "no datanode 127.0.0.1:1",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_no_file_owns_are_deleted_after_the_grace_period() {
    let mut c = TestCluster::start(Opts {
        orphan_grace_secs: 1.0,
        ..Opts::default()
    })
    .await;
    let client = c.client();
    client
        .write_all("/orphan", &bytes(200_000, 40), CreateOptions::default())
        .await
        .unwrap();
    let dn0 = c.dir.path().join("dn0");
    assert_eq!(replica_files(&dn0.join("current")).len(), 2);
    // Datanode 0 is down while the file is deleted, and the namenode restarts (forgetting the deletes
    // it had queued): when datanode 0 comes back, its replicas belong to no file.
    c.kill_datanode(0);
    client.delete("/orphan", false).await.unwrap();
    wait_until("the live datanodes deleted their replicas", DEADLINE, || async {
        (1..3).all(|i| replica_files(&c.dir.path().join(format!("dn{i}")).join("current")).is_empty())
    })
    .await;
    c.restart_namenode();
    c.restart_datanode(0);
    wait_until("the orphan replicas are deleted", DEADLINE, || async {
        replica_files(&dn0.join("current")).is_empty()
    })
    .await;
    assert!(c.log_contains("replicas no file needs queued for deletion"));
}

/// Several writers and readers while a datanode at a time is killed and restarted: every file whose
/// close returned reads back intact, and the cluster heals to full replication.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_writers_and_readers_while_datanodes_die_and_return() {
    let mut c = TestCluster::start(Opts {
        datanodes: 4,
        dead_interval_secs: 2.0,
        ..Opts::default()
    })
    .await;
    // Victims, sizes and read picks all derive from one printed seed.
    let mut rng = test_rng("chaos_writers_and_readers_while_datanodes_die_and_return");
    let closed: Arc<Mutex<Vec<(String, u64, usize)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for w in 0..3u64 {
        let client = c.client();
        let (closed, stop) = (closed.clone(), stop.clone());
        let mut wrng = rng.fork();
        tasks.push(tokio::spawn(async move {
            let mut failed = 0;
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let seed = w * 1000 + i;
                let len = wrng.usize(..700_000);
                let path = format!("/chaos/w{w}/f{i}");
                i += 1;
                let opts = CreateOptions {
                    create_parent: true,
                    ..Default::default()
                };
                match write_in_pieces(&client, &path, &bytes(len, seed), opts).await {
                    Ok(()) => closed.lock().unwrap().push((path, seed, len)),
                    Err(e) => {
                        failed += 1;
                        eprintln!("write {path} failed (allowed under faults): {e}");
                    }
                }
            }
            failed
        }));
    }
    let reader = {
        let (client, closed, stop) = (c.remote_client(), closed.clone(), stop.clone());
        let mut rrng = rng.fork();
        tokio::spawn(async move {
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let pick = {
                    let v = closed.lock().unwrap();
                    (!v.is_empty()).then(|| v[rrng.usize(..v.len())].clone())
                };
                let Some((path, seed, len)) = pick else {
                    tokio::task::yield_now().await;
                    continue;
                };
                let got = client
                    .read_all(&path)
                    .await
                    .unwrap_or_else(|e| panic!("read {path}: {e}"));
                assert!(got == bytes(len, seed), "{path} differs");
                reads += 1;
            }
            reads
        })
    };
    let progress = |n: usize| {
        let closed = closed.clone();
        async move {
            let start = closed.lock().unwrap().len();
            wait_until("writers make progress", DEADLINE, || async {
                closed.lock().unwrap().len() >= start + n
            })
            .await;
        }
    };
    for _round in 0..4 {
        progress(3).await;
        let victim = rng.usize(..4);
        eprintln!("chaos: killing datanode {victim}");
        c.kill_datanode(victim);
        progress(3).await;
        c.restart_datanode(victim);
        c.wait_ready().await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut failed = 0;
    for t in tasks {
        failed += t.await.unwrap();
    }
    let reads = reader.await.unwrap();
    let closed = closed.lock().unwrap().clone();
    eprintln!(
        "chaos: {} files closed, {failed} writes failed, {reads} reads",
        closed.len()
    );
    assert!(closed.len() >= 24);
    let client = c.remote_client();
    for (path, seed, len) in &closed {
        assert!(
            client.read_all(path).await.unwrap() == bytes(*len, *seed),
            "{path} differs"
        );
    }
    wait_until("fsck healthy after healing", DEADLINE, || async { c.fsck_healthy() }).await;
}

/// Writes a file in a few pieces (so faults land mid-file), then closes it.
async fn write_in_pieces(client: &Client, path: &str, data: &[u8], opts: CreateOptions) -> basalt_client::Result<()> {
    let mut w = client.create(path, opts).await?;
    for piece in data.chunks(100_000) {
        w.write(piece).await?;
        tokio::task::yield_now().await;
    }
    w.close().await
}
