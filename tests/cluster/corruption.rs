//! A corrupt replica on disk is never served: readers fail over to a good replica.

use crate::harness::{DEADLINE, Opts, TestCluster, bytes, ok, replica_files, stdout, wait_until};
use basalt_client::CreateOptions;
use std::path::Path;

/// How many files a datanode (its data dir) has moved to `corrupt/`.
fn moved_aside(dn: &Path) -> usize {
    std::fs::read_dir(dn.join("corrupt")).map_or(0, |d| d.count())
}

/// Corrupts a replica on disk: XORs the byte at `at` with `mask`.
fn flip_byte(file: &Path, at: usize, mask: u8) {
    let mut b = std::fs::read(file).unwrap();
    b[at] ^= mask;
    std::fs::write(file, b).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_fail_over_from_a_corrupt_replica() {
    let c = TestCluster::start(Opts::default()).await;
    let data = bytes(200_000, 77);
    let opts = CreateOptions {
        block_size: 128 * 1024,
        ..Default::default()
    };
    c.client().write_all("/victim", &data, opts).await.unwrap();
    // Flip one byte in the first replica of every block on datanode 0 and datanode 1.
    for dn in ["dn0", "dn1"] {
        let files = replica_files(&c.dir.path().join(dn).join("current"));
        assert_eq!(files.len(), 2, "{dn}: {files:?}");
        for f in files {
            flip_byte(&f, 100, 0x5a);
        }
    }
    // Remote and short-circuit readers both return the right bytes, from the one good replica, each by
    // its own path (a short-circuit reader that fell back to the network would prove nothing here).
    let (remote, local) = (c.remote_client(), c.client());
    for _ in 0..3 {
        assert!(remote.read_all("/victim").await.unwrap() == data, "remote read");
        assert!(local.read_all("/victim").await.unwrap() == data, "short-circuit read");
    }
    let (rs, ls) = (remote.read_stats(), local.read_stats());
    assert_eq!(rs.network_bytes, 3 * data.len() as u64, "{rs:?}");
    assert_eq!(rs.short_circuit_bytes, 0, "{rs:?}");
    assert_eq!(ls.short_circuit_bytes, 3 * data.len() as u64, "{ls:?}");
    assert_eq!(ls.network_bytes, 0, "{ls:?}");
    let cat = ok(c.cli(&["fs", "cat", "/victim"]));
    assert!(cat.stdout == data);
    // The datanodes that served bad bytes moved their replicas aside and reported them corrupt; good
    // copies replace them, after which fsck is healthy again.
    wait_until("the namenode heard of the corrupt replicas", DEADLINE, || async {
        c.log_contains("corrupt replica reported")
    })
    .await;
    for dn in ["dn0", "dn1"] {
        assert!(
            moved_aside(&c.dir.path().join(dn)) > 0,
            "{dn} kept its corrupt replica in place"
        );
    }
    wait_until("fsck healthy with 3 good replicas per block", DEADLINE, || async {
        let o = c.cli(&["fs", "fsck", "/"]);
        let out = stdout(&o);
        o.status.success() && out.contains("6 live replicas") && out.contains("corrupt 0")
    })
    .await;
}

/// The block scanner finds a corrupt replica without any reader; while no good copy can be made, fsck
/// reports it and exits 1; then a good copy replaces it, byte for byte the original.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scanner_moves_a_corrupt_replica_aside_and_it_is_replaced() {
    let c = TestCluster::start(Opts {
        scan_pause_ms: 200,
        ..Opts::default()
    })
    .await;
    let data = bytes(300_000, 78);
    let opts = CreateOptions {
        block_size: 128 * 1024,
        ..Default::default()
    };
    c.client().write_all("/scanned", &data, opts).await.unwrap();
    let dn0 = c.dn_dir(0);
    let victim = replica_files(&dn0.join("current")).into_iter().next().unwrap();
    let original = std::fs::read(&victim).unwrap();
    // The other holders are frozen (SIGSTOP: no heartbeats, so no copy orders, and still live for the
    // 30 s dead interval): nothing can replace the replica yet.
    for i in [1, 2] {
        c.dns[i].as_ref().unwrap().signal(libc::SIGSTOP);
    }
    flip_byte(&victim, 10, 0x01);
    // The scanner finds it without any reader: moved aside and reported; fsck fails meanwhile.
    wait_until("the corrupt replica moved aside", DEADLINE, || async {
        moved_aside(&dn0) > 0
    })
    .await;
    wait_until("fsck fails on the corrupt replica", DEADLINE, || async {
        let o = c.cli(&["fs", "fsck", "/"]);
        let out = stdout(&o);
        o.status.code() == Some(1) && out.contains("corrupt 1") && out.contains("/scanned: ")
    })
    .await;
    let fsck = stdout(&c.cli(&["fs", "fsck", "/"]));
    assert!(fsck.contains("CORRUPT REPLICA in 1 block(s)"), "{fsck}");
    for i in [1, 2] {
        c.dns[i].as_ref().unwrap().signal(libc::SIGCONT);
    }
    // A good copy lands in the same place (written aside and renamed in: once there, it is whole).
    wait_until("the replacement replica is in place", DEADLINE, || async {
        victim.metadata().is_ok_and(|m| m.len() == original.len() as u64)
    })
    .await;
    assert!(
        std::fs::read(&victim).unwrap() == original,
        "the replacement differs from the original replica"
    );
    wait_until("every block back to 3 replicas", DEADLINE, || async {
        let o = c.cli(&["fs", "fsck", "/"]);
        let out = stdout(&o);
        o.status.success() && out.contains("9 live replicas") && out.contains("under-replicated 0")
    })
    .await;
    assert!(c.remote_client().read_all("/scanned").await.unwrap() == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_circuit_reader_gets_a_corrupt_replica_replaced() {
    let c = TestCluster::start(Opts::default()).await;
    let data = bytes(100_000, 79);
    let opts = CreateOptions {
        block_size: 128 * 1024,
        ..Default::default()
    };
    c.client().write_all("/local-victim", &data, opts).await.unwrap();
    let dn0 = c.dir.path().join("dn0");
    let victim = replica_files(&dn0.join("current")).into_iter().next().unwrap();
    flip_byte(&victim, 5, 0x80);
    // Short-circuit readers try replicas in random order; once one hits the bad replica on dn0 it
    // reports it (through the datanode), and every read still returns the right bytes. Nothing else
    // reads the file, so the report can only come from the short-circuit path.
    let client = c.client();
    let reads = std::sync::atomic::AtomicU64::new(0);
    wait_until("the bad replica reported and moved aside", DEADLINE, || async {
        assert!(client.read_all("/local-victim").await.unwrap() == data);
        reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        moved_aside(&dn0) > 0
    })
    .await;
    let st = client.read_stats();
    let reads = reads.into_inner();
    assert!(
        st.short_circuit_corrupt >= 1,
        "no short-circuit read saw the bad chunk: {st:?}"
    );
    assert_eq!(st.short_circuit_bytes, reads * data.len() as u64, "{st:?}");
    assert_eq!(st.network_bytes, 0, "{st:?}");
    wait_until("3 good replicas again", DEADLINE, || async {
        let o = c.cli(&["fs", "fsck", "/"]);
        let out = stdout(&o);
        out.contains("3 live replicas") && out.contains("under-replicated 0")
    })
    .await;
}
