//! A 3-member metadata group in process: the leader is partitioned away from the other members while a
//! writer creates files. (Ported from the real-process `ha::isolated_leader_stops_acknowledging_and_the_
//! majority_serves`, which cuts only Raft traffic through the admin fault-injection RPC, and extended
//! with a writer across the failover as in `ha::leader_killed_during_creates_loses_nothing`.)

use basalt_client::CreateOptions;
use basalt_testkit::{Cluster, Node, Options, bytes};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

/// The old leader still believes it leads, but cannot acknowledge a write; the majority elects a new
/// leader and serves; a writer that knows every member keeps going, and every create it saw
/// acknowledged is there exactly once after the partition heals, while the minority's write is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_leader_is_replaced_and_no_acknowledged_write_is_lost() {
    let c = Cluster::start(Options {
        namenodes: 3,
        datanodes: 3,
        ..Options::default()
    })
    .await;
    // A call stuck at the partitioned leader gives up after 2 s and tries another member.
    let client = c.client_with(|cfg| cfg.retry.rpc_timeout = Duration::from_secs(2));
    client.mkdirs("/ha", false).await.unwrap();
    let writer = {
        let client = client.clone();
        tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..40 {
                let path = format!("/ha/f{i:03}");
                let data = bytes(100 + i, i as u64);
                client
                    .write_all(&path, &data, CreateOptions::default())
                    .await
                    .unwrap_or_else(|e| panic!("{path}: {e}"));
                acked.push((path, data));
            }
            acked
        })
    };
    c.wait_until("10 creates", DEADLINE, async || {
        client.list("/ha").await.is_ok_and(|l| l.len() >= 10)
    })
    .await;

    let old = c.leader().expect("a leader");
    let others: Vec<Node> = c
        .namenodes()
        .into_iter()
        .filter(|&n| n != Node::Namenode(old))
        .collect();
    // Members only: clients and datanodes still reach the old leader.
    let cut = c.links().partition(Node::Namenode(old), others);
    c.wait_leader("a leader other than the partitioned one", |l| l != old)
        .await;
    assert_eq!(
        c.namenode(old).raft().metrics().borrow().current_leader,
        Some(old),
        "the partitioned member still believes it leads"
    );
    // A client that only knows the old leader cannot get a write acknowledged.
    let minority = c.client_with(|cfg| {
        cfg.namenodes = c.namenode_addr(old).to_string();
        cfg.retry.connect_timeout = Duration::from_secs(1);
        cfg.retry.op_timeout = Duration::from_secs(1);
        cfg.retry.rpc_timeout = Duration::from_secs(1);
    });
    assert!(
        minority.mkdirs("/ha/minority", false).await.is_err(),
        "a partitioned leader acknowledged a write"
    );
    let acked = writer.await.unwrap();

    c.links().remove(cut);
    c.wait_converged().await;
    let listed: Vec<String> = client.list("/ha").await.unwrap().into_iter().map(|s| s.path).collect();
    let mut want: Vec<String> = acked.iter().map(|(p, _)| p.clone()).collect();
    want.sort();
    assert_eq!(listed, want, "every acknowledged create, once; not the minority's");
    for (path, data) in &acked {
        assert!(&client.read_all(path).await.unwrap() == data, "{path} differs");
    }
    c.shutdown().await;
}
