//! The cluster heals itself: a dead datanode's replicas are copied back to the replication factor.

use crate::harness::{DEADLINE, Opts, TestCluster, bytes, wait_until};
use basalt_client::CreateOptions;

const BLOCK: u64 = 128 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_datanode_replicas_are_restored() {
    let mut c = TestCluster::start(Opts {
        datanodes: 4,
        dead_interval_secs: 2.0,
        ..Opts::default()
    })
    .await;
    let client = c.client();
    let data = bytes(5 * BLOCK as usize + 1000, 3);
    let opts = CreateOptions {
        block_size: BLOCK,
        ..Default::default()
    };
    client.write_all("/heal", &data, opts).await.unwrap();
    let live_replicas = |st: &basalt_client::ClusterStatus| -> u64 {
        st.datanodes.iter().filter(|d| d.live).map(|d| d.block_count).sum()
    };
    wait_until("18 replicas reported", DEADLINE, || async {
        live_replicas(&client.cluster_status().await.unwrap()) == 18
    })
    .await;
    // Kill the datanode holding the most replicas.
    let st = client.cluster_status().await.unwrap();
    let victim = st
        .datanodes
        .iter()
        .max_by_key(|d| d.block_count)
        .unwrap()
        .info
        .clone()
        .unwrap()
        .addr;
    let index = c
        .dns
        .iter()
        .position(|d| d.as_ref().is_some_and(|p| p.addr == victim))
        .unwrap();
    c.kill_datanode(index);
    // It is declared dead, its blocks are copied from survivors, and every block has 3 live replicas.
    wait_until("3 live replicas of every block on the survivors", DEADLINE, || async {
        let st = client.cluster_status().await.unwrap();
        st.datanodes.iter().filter(|d| !d.live).count() == 1 && live_replicas(&st) == 18
    })
    .await;
    assert!(c.remote_client().read_all("/heal").await.unwrap() == data);
}
