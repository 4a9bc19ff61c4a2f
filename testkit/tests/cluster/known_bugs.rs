//! Faults the in-process cluster found in the namenode, each reproduced deterministically: ignored
//! until fixed (`cargo test -p basalt-testkit --test cluster known_bugs -- --ignored`), then kept as
//! regression tests. Both below are fixed (`service/datanode.rs`: a full report wakes a waiting close;
//! the leader records at its heartbeat a datanode that registered while it followed).

use basalt_client::CreateOptions;
use basalt_testkit::{Action, Cluster, Node, Options, Rule, Sel, bytes};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(30);

/// A datanode's incremental report of a finished replica is lost (its link then reconnects and sends
/// a full report that has it). `complete` waits for a report of the last block, but only an
/// incremental report wakes it (`service/datanode.rs`: `block_report` does not notify
/// `replicas_reported`), so the close waits out the 10 s bound of `Core::wait_reported`, fails with
/// Unavailable, and succeeds when the client retries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_incremental_report_does_not_stall_close() {
    let c = Cluster::start(Options {
        datanodes: 1,
        replication: 1,
        ..Options::default()
    })
    .await;
    let client = c.client();
    c.links()
        .add(Rule::new(Node::Datanode(0), Sel::Namenodes, Action::Cut).only("BlockReceivedAndDeleted"));
    let started = Instant::now();
    client
        .write_all("/f", &bytes(10_000, 1), CreateOptions::default())
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "close took {:?}",
        started.elapsed()
    );
    c.shutdown().await;
}

/// The leader records a datanode's identity in the replicated log only when the datanode registers
/// with it while it leads (`service/datanode.rs`, `register`). A datanode that registered with a
/// member before that member became leader (at start-up, or across a leadership change) is live in
/// the new leader's block manager, gets blocks allocated, but is unknown to the replicated state:
/// a pipeline recovery naming it fails with Invalid "unknown datanode ... in the pipeline" (not
/// retried), and lease recovery cannot find its address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_datanode_registered_with_a_follower_is_recorded_when_it_leads() {
    let mut c = Cluster::start(Options {
        namenodes: 3,
        datanodes: 1,
        ..Options::default()
    })
    .await;
    let client = c.client();
    let leader = c.leader().unwrap();
    let next = (1..=3).find(|&id| id != leader).unwrap();
    // dn1 registers with the followers only...
    let cut = c.links().cut(Node::Datanode(1), Node::Namenode(leader));
    let dn1 = c.add_datanode().await;
    c.wait_until(
        "dn1 registered and heartbeating with a follower",
        DEADLINE,
        async || c.links().sent(Node::Datanode(dn1), Node::Namenode(next)) >= 3,
    )
    .await;
    // ...one of which becomes leader, without dn1 registering again.
    client.transfer_leader(next).await.unwrap();
    c.links().remove(cut);
    c.wait_live(dn1).await;
    // A few heartbeats to the new leader: time for a fix to record dn1 (e.g. by asking it to
    // register again).
    let sent = c.links().sent(Node::Datanode(dn1), Node::Namenode(next));
    c.wait_until("5 more calls from dn1 to the new leader", DEADLINE, async || {
        c.links().sent(Node::Datanode(dn1), Node::Namenode(next)) >= sent + 5
    })
    .await;
    // A pipeline over dn0 and dn1 loses dn0: the recovery names dn1 alone.
    c.links().isolate(Node::Datanode(0));
    let opts = CreateOptions {
        replication: 2,
        ..Default::default()
    };
    client
        .write_all("/f", &bytes(300_000, 2), opts)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", c.describe()));
    c.shutdown().await;
}
