//! The DataTransfer service over real gRPC: a three-datanode write pipeline, reads from every replica,
//! and the pipeline's failure modes.

mod common;

use basalt_common::{DatanodeId, ErrorKind};
use basalt_datanode::bad_datanode_of;
use basalt_proto::RemoteError;
use basalt_proto::pb::{DatanodeInfo, LocalPathRequest};
use common::*;
use std::future::ready;
use std::time::Duration;

fn kind(s: &tonic::Status) -> ErrorKind {
    RemoteError::from(s.clone()).kind
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_node_pipeline_writes_identical_replicas() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    // One node points at an unreachable namenode: the data path must not depend on it.
    let dn1 = start_node(dirs[0].path(), vec!["127.0.0.1:1".into()]).await;
    let dn2 = start_node(dirs[1].path(), vec![]).await;
    let dn3 = start_node(dirs[2].path(), vec![]).await;
    let eb = block(42, 1);
    let bytes = data(3 * PACKET + PACKET / 2 + 100, 1);

    let acks = write(
        &dn1.local_addr().to_string(),
        packets(&eb, vec![info(&dn2), info(&dn3)], &bytes),
    )
    .await
    .unwrap();
    assert_eq!(acks.len(), 4);
    for (i, ack) in acks.iter().enumerate() {
        assert_eq!(ack.seqno, i as u64);
        assert_eq!(ack.acked_by, vec![dn1.id().0, dn2.id().0, dn3.id().0]);
    }
    for dn in [&dn1, &dn2, &dn3] {
        let addr = dn.local_addr().to_string();
        let (offset, got) = read(&addr, &eb, 0, 0).await.unwrap();
        assert_eq!(offset, 0);
        assert!(got == bytes, "replica on {} differs", dn.id());
        let (offset, got) = read(&addr, &eb, 5000, 100).await.unwrap();
        assert_eq!(offset, 4096, "reads start at a chunk boundary");
        assert_eq!(got, bytes[4096..8192]);
    }

    let mut client = basalt_datanode::transfer::downstream::connect(&Default::default(), &dn2.local_addr().to_string())
        .await
        .unwrap();
    let local = client
        .get_local_path(LocalPathRequest { block: Some(eb) })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(local.length, bytes.len() as u64);
    assert_eq!(std::fs::read(&local.data_path).unwrap(), bytes);
    assert!(!local.host_id.is_empty());

    // The same block again is refused; reads of unknown blocks, stale stamps and past the end fail typed.
    let addr = dn1.local_addr().to_string();
    let dup = write(&addr, packets(&eb, vec![], &bytes[..100])).await.unwrap_err();
    assert_eq!(kind(&dup), ErrorKind::AlreadyExists, "{dup:?}");
    assert_eq!(
        kind(&read(&addr, &block(43, 1), 0, 0).await.unwrap_err()),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(&read(&addr, &block(42, 2), 0, 0).await.unwrap_err()),
        ErrorKind::NotFound
    );
    let past = read(&addr, &eb, bytes.len() as u64 + 1, 0).await.unwrap_err();
    assert_eq!(kind(&past), ErrorKind::Invalid);

    for dn in [dn1, dn2, dn3] {
        dn.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_packet_is_rejected_and_nothing_is_kept() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let dn1 = start_node(dirs[0].path(), vec![]).await;
    let dn2 = start_node(dirs[1].path(), vec![]).await;
    let eb = block(7, 1);
    let mut ps = packets(&eb, vec![info(&dn2)], &data(2 * PACKET, 2));
    ps[1].checksums[3] ^= 0xdead;
    let err = write(&dn1.local_addr().to_string(), ps).await.unwrap_err();
    assert_eq!(kind(&err), ErrorKind::Corrupt, "{err:?}");
    for (dn, dir) in [(&dn1, &dirs[0]), (&dn2, &dirs[1])] {
        let tmp = dir.path().join("tmp");
        wait_until("temp replica removed", Duration::from_secs(10), || {
            ready(std::fs::read_dir(&tmp).unwrap().count() == 0)
        })
        .await;
        assert!(dn.store().is_empty());
    }
    dn1.shutdown().await;
    dn2.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_downstream_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let dn = start_node(dir.path(), vec![]).await;
    let dead = DatanodeInfo {
        id: 999,
        addr: "127.0.0.1:1".into(),
        ..Default::default()
    };
    let err = write(
        &dn.local_addr().to_string(),
        packets(&block(1, 1), vec![dead], &data(100, 3)),
    )
    .await
    .unwrap_err();
    assert_eq!(kind(&err), ErrorKind::Unavailable, "{err:?}");
    assert_eq!(bad_datanode_of(&err), Some(DatanodeId(999)));
    assert!(err.message().contains("dn-999"), "{}", err.message());
    dn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_offsets_are_invalid_and_the_id_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let dn = start_node(dir.path(), vec![]).await;
    let id = dn.id();
    let mut ps = packets(&block(3, 1), vec![], &data(2 * PACKET, 4));
    ps[1].offset += CHUNK as u64;
    let err = write(&dn.local_addr().to_string(), ps).await.unwrap_err();
    assert_eq!(kind(&err), ErrorKind::Invalid, "{err:?}");

    // An empty block is fine, and is still there after a restart under the same identity.
    let eb = block(4, 1);
    let acks = write(&dn.local_addr().to_string(), packets(&eb, vec![], &[]))
        .await
        .unwrap();
    assert_eq!(acks.len(), 1);
    dn.shutdown().await;
    let dn = start_node(dir.path(), vec![]).await;
    assert_eq!(dn.id(), id);
    let (_, got) = read(&dn.local_addr().to_string(), &eb, 0, 0).await.unwrap();
    assert!(got.is_empty());
    dn.shutdown().await;
}
