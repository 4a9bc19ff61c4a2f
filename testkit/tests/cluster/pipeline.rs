//! A write pipeline losing a datanode mid-block, in process. (Ported from the real-process
//! `faults::pipeline_recovers_when_a_datanode_dies_mid_block`, which SIGKILLs the node; here the node is
//! isolated: it keeps running, but its streams break and nothing it sends arrives.)

use basalt_client::CreateOptions;
use basalt_testkit::{Cluster, Node, Options, bytes};
use std::time::Duration;

const MIB: usize = 1 << 20;
const DEADLINE: Duration = Duration::from_secs(30);

/// The writer gets a new generation stamp for the open block and finishes it on the survivors; the
/// isolated node is declared dead (its heartbeats are cut too) and the blocks are copied back to three
/// live replicas once the file is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_recovers_when_a_datanode_is_isolated_mid_block() {
    let mut c = Cluster::start(Options {
        datanodes: 3,
        dead_interval: Duration::from_secs(2),
        ..Options::default()
    })
    .await;
    let client = c.client();
    let data = bytes(10 * MIB + 12_345, 21);
    let opts = CreateOptions {
        block_size: 4 * MIB as u64,
        ..Default::default()
    };
    let mut w = client.create("/pipeline", opts).await.unwrap();
    // One whole block and a quarter of the next: every datanode is in the pipeline (3 nodes, RF 3).
    w.write(&data[..5 * MIB]).await.unwrap();
    let first = client.block_locations("/pipeline").await.unwrap()[0]
        .block
        .unwrap()
        .block_id;
    let mut open = None;
    c.wait_until("the second block open on datanode 1", DEADLINE, async || {
        open = c.datanode(1).store().writes().into_iter().find(|(b, _)| b.0 != first);
        open.is_some()
    })
    .await;
    let (block2, old_stamp) = open.unwrap();

    c.links().isolate(Node::Datanode(0));
    // A replacement joins, so later blocks can have 3 replicas again.
    let new = c.add_datanode().await;
    c.wait_live(new).await;
    // The pipeline broke at the cut; the writer finds out at its next write. Waiting until the
    // namenode counts the isolated node dead first keeps the monitor from scheduling a copy to it (a
    // failed copy is retried only after 10 s).
    c.wait_until("the isolated datanode declared dead", DEADLINE, async || {
        c.datanode_live(0).await == Some(false)
    })
    .await;
    w.write(&data[5 * MIB..]).await.unwrap();
    w.close().await.unwrap();
    assert!(client.read_all("/pipeline").await.unwrap() == data, "read back differs");

    // The recovery gave the block a new generation stamp: the namenode's block and the survivors'
    // finalized replicas carry it.
    let located = client.block_locations("/pipeline").await.unwrap();
    let b2 = located[1].block.unwrap();
    assert_eq!(b2.block_id, block2.0);
    assert!(
        b2.gen_stamp > old_stamp.0,
        "{} still at generation stamp {} (was {}): no pipeline recovery",
        block2,
        b2.gen_stamp,
        old_stamp.0
    );
    for i in [1, 2] {
        let r = c.datanode(i).store().get(block2);
        assert_eq!(r.map(|r| r.genstamp.0), Some(b2.gen_stamp), "datanode {i}");
    }
    // Nothing reached the isolated node after the cut: its replica of the block is not finalized at
    // the new stamp.
    assert_ne!(
        c.datanode(0).store().get(block2).map(|r| r.genstamp.0),
        Some(b2.gen_stamp)
    );
    c.wait_until("every block at 3 live replicas", DEADLINE, async || {
        c.fsck_healthy().await
    })
    .await;
    let fsck = client.fsck("/").await.unwrap();
    assert_eq!((fsck.total_blocks, fsck.live_replicas), (3, 9), "{fsck:?}");
    c.shutdown().await;
}
