//! Files round-trip byte-identical through the library, across block boundaries, from every replica.

use crate::harness::{Opts, TestCluster, bytes};
use basalt_client::CreateOptions;

const BLOCK: u64 = 128 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sizes_round_trip_via_library() {
    let c = TestCluster::start(Opts::default()).await;
    let client = c.client();
    let remote = c.remote_client();
    let sizes = [0, 1, BLOCK as usize, BLOCK as usize + 1, 5 * BLOCK as usize + 12_345];
    for (i, &size) in sizes.iter().enumerate() {
        let path = format!("/lib/f{i}");
        let data = bytes(size, i as u64);
        let opts = CreateOptions {
            block_size: BLOCK,
            create_parent: true,
            ..Default::default()
        };
        client.write_all(&path, &data, opts).await.unwrap();
        let st = client.stat(&path).await.unwrap();
        assert_eq!(st.length, size as u64, "{path}");
        assert_eq!(st.block_count, (size as u64).div_ceil(BLOCK), "{path}");
        assert!(!st.under_construction);
        // Short-circuit (same host) and remote reads both return the same bytes, each by its own path:
        // every byte of the local client's read came from a memory map, none over the network.
        let (local_before, remote_before) = (client.read_stats(), remote.read_stats());
        assert!(
            client.read_all(&path).await.unwrap() == data,
            "{path}: short-circuit read differs"
        );
        assert!(
            remote.read_all(&path).await.unwrap() == data,
            "{path}: remote read differs"
        );
        let (local, remote_stats) = (client.read_stats(), remote.read_stats());
        assert_eq!(
            local.short_circuit_bytes - local_before.short_circuit_bytes,
            size as u64,
            "{path}: {local:?}"
        );
        assert_eq!(
            local.network_bytes, 0,
            "{path}: the local client read over the network: {local:?}"
        );
        assert_eq!(local.short_circuit_fallbacks, 0, "{path}: {local:?}");
        assert_eq!(
            remote_stats.network_bytes - remote_before.network_bytes,
            size as u64,
            "{path}: {remote_stats:?}"
        );
        assert_eq!(remote_stats.short_circuit_bytes, 0, "{path}: {remote_stats:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seek_and_partial_reads() {
    let c = TestCluster::start(Opts::default()).await;
    let client = c.remote_client();
    let data = bytes(3 * BLOCK as usize + 777, 42);
    let opts = CreateOptions {
        block_size: BLOCK,
        ..Default::default()
    };
    client.write_all("/seek", &data, opts).await.unwrap();
    let mut r = client.open("/seek").await.unwrap();
    for &pos in &[BLOCK * 2 + 5, 3, BLOCK - 1, 3 * BLOCK + 700] {
        r.set_position(pos);
        let mut buf = [0u8; 200];
        let mut got = Vec::new();
        while got.len() < 200 {
            let n = r.read(&mut buf[..200 - got.len()]).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        let end = (pos as usize + 200).min(data.len());
        assert_eq!(got, &data[pos as usize..end], "at {pos}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_replica_is_complete_and_writes_are_replicated() {
    let c = TestCluster::start(Opts::default()).await;
    let client = c.client();
    let data = bytes(2 * BLOCK as usize + 10, 7);
    let opts = CreateOptions {
        block_size: BLOCK,
        ..Default::default()
    };
    client.write_all("/rf3", &data, opts).await.unwrap();
    // Three blocks, each on all three datanodes (reports reach the namenode right after finalizing).
    crate::harness::wait_until("9 replicas reported", crate::harness::DEADLINE, || async {
        let st = client.cluster_status().await.unwrap();
        st.datanodes.iter().map(|d| d.block_count).sum::<u64>() == 9
    })
    .await;
    // Kill two of three datanodes: the file still reads from the third.
    let mut c = c;
    c.kill_datanode(0);
    c.kill_datanode(1);
    let remote = c.remote_client();
    assert!(remote.read_all("/rf3").await.unwrap() == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_io_traits_round_trip() {
    use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
    let c = TestCluster::start(Opts::default()).await;
    let client = c.remote_client();
    let data = bytes(3 * BLOCK as usize + 4321, 11);
    let opts = CreateOptions {
        block_size: BLOCK,
        ..Default::default()
    };
    let mut w = client.create("/io", opts).await.unwrap();
    // Odd-sized writes through AsyncWrite, then shutdown closes the file.
    let mut src = std::io::Cursor::new(data.clone());
    let copied = tokio::io::copy(&mut src, &mut w).await.unwrap();
    assert_eq!(copied, data.len() as u64);
    w.shutdown().await.unwrap();
    assert!(!client.stat("/io").await.unwrap().under_construction);

    let mut r = client.open("/io").await.unwrap();
    let mut back = Vec::new();
    r.read_to_end(&mut back).await.unwrap();
    assert!(back == data, "AsyncRead returned different bytes");
    let pos = r.seek(std::io::SeekFrom::Start(BLOCK + 17)).await.unwrap();
    assert_eq!(pos, BLOCK + 17);
    let mut buf = vec![0u8; 1000];
    r.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf[..], &data[(BLOCK + 17) as usize..(BLOCK + 1017) as usize]);
    let pos = r.seek(std::io::SeekFrom::End(-10)).await.unwrap();
    assert_eq!(pos, data.len() as u64 - 10);
    let mut tail = Vec::new();
    r.read_to_end(&mut tail).await.unwrap();
    assert_eq!(&tail[..], &data[data.len() - 10..]);
    assert!(
        r.seek(std::io::SeekFrom::Current(-(data.len() as i64) - 1))
            .await
            .is_err()
    );
}

/// `--rack` placement end to end: every block's replicas span both racks (HDFS's policy: the second
/// replica on another rack than the first), on disk as well as in the namenode's locations, so losing a
/// whole rack loses no block. Three nodes on one rack and one on the other: a rack-blind placement
/// would put a block on the big rack alone one time in four (20 blocks: caught 99.7% of the time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_span_racks_and_survive_a_rack_loss() {
    const RACKS: &[&str] = &["/r1", "/r1", "/r1", "/r2"];
    let mut c = TestCluster::start(Opts {
        datanodes: 4,
        racks: RACKS,
        ..Opts::default()
    })
    .await;
    let status = crate::harness::stdout(&crate::harness::ok(c.cli(&["cluster", "status"])));
    assert_eq!(status.matches(" /r1 ").count(), 3, "{status}");
    assert_eq!(status.matches(" /r2 ").count(), 1, "{status}");
    let client = c.client();
    let data = bytes(19 * BLOCK as usize + 99, 13);
    let opts = CreateOptions {
        block_size: BLOCK,
        ..Default::default()
    };
    client.write_all("/racks", &data, opts).await.unwrap();
    let located = client.block_locations("/racks").await.unwrap();
    assert_eq!(located.len(), 20);
    for b in &located {
        let mut racks: Vec<&str> = b.locations.iter().map(|d| d.rack.as_str()).collect();
        racks.sort();
        racks.dedup();
        assert_eq!(racks, ["/r1", "/r2"], "{:?}", b.block);
    }
    let blocks: Vec<u64> = located.iter().map(|b| b.block.unwrap().block_id).collect();
    for rack in ["/r1", "/r2"] {
        let nodes: Vec<usize> = (0..4).filter(|&i| RACKS[i] == rack).collect();
        let counts = c.replica_counts(&blocks, nodes);
        assert!(
            counts.iter().all(|&n| n >= 1),
            "rack {rack} misses a block on disk: {counts:?}"
        );
    }
    // Rack /r1 goes away: every block still reads from /r2.
    for i in 0..3 {
        c.kill_datanode(i);
    }
    assert!(
        c.remote_client().read_all("/racks").await.unwrap() == data,
        "read after the rack loss"
    );
}
