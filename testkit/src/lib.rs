//! An in-process Basalt cluster for fast tests, with faults on every link (in the spirit of TiKV's
//! `test_raftstore` cluster and its `transport_simulate` filters). The real-process suite (`tests/` of
//! the `basalt` package) stays for end to end.
//!
//! [`Cluster::start`] runs 1–5 metadata members and any number of datanodes in the test's own tokio
//! runtime, each on a loopback port 0 it reads back and in its own directory under one temp dir. Every
//! gRPC channel a node opens, whichever link it is (client → namenode, namenode ↔ namenode for Raft,
//! datanode → namenode for heartbeats and reports, datanode ↔ datanode for pipelines and replication,
//! client → datanode, namenode → datanode for lease recovery), goes through a connector that asks the
//! cluster's own [`Links`] table about each call: no global state, two clusters never interfere.
//!
//! ```no_run
//! use basalt_testkit::{Action, Cluster, Node, Options, Rule, Sel};
//! use std::time::Duration;
//!
//! # async fn example() {
//! let mut c = Cluster::start(Options { namenodes: 3, datanodes: 3, ..Options::default() }).await;
//! let client = c.client(); // Node::Client(0)
//! client.mkdirs("/a", false).await.unwrap();
//!
//! // Cut the leader off from the other members (clients still reach it), wait for a new one.
//! let old = c.leader().unwrap();
//! let others: Vec<Node> = c.namenodes().into_iter().filter(|&n| n != Node::Namenode(old)).collect();
//! let cut = c.links().partition(Node::Namenode(old), others);
//! let new = c.wait_leader("a new leader", |l| l != old).await;
//! c.links().remove(cut); // or c.links().heal() to remove every rule
//!
//! // Other filters: isolate a node, drop a fraction of calls (seeded RNG), delay calls; a rule may
//! // pick one gRPC method. Rules compose; `sent` counts the calls a link let through.
//! c.links().isolate(Node::Datanode(0));
//! c.links().drop_calls(Sel::Clients, Sel::Namenodes, 0.2);
//! c.links().delay(Sel::Datanodes, Sel::Datanodes, Duration::from_millis(20));
//! c.links().add(Rule::new(Sel::Datanodes, Sel::Namenodes, Action::Cut).only("Heartbeat"));
//! assert!(c.links().sent(Node::Client(0), Node::Namenode(new)) > 0);
//! c.links().heal();
//!
//! // Kill and restart a node: same directory, same address. Add one.
//! c.kill_datanode(1).await;
//! c.restart_datanode(1).await;
//! c.restart_namenode(new).await;
//! let dn3 = c.add_datanode().await;
//! c.wait_live(dn3).await;
//! c.wait_ready().await; // a leader named by a majority, writable, every running datanode live
//! c.wait_until("3 files", Duration::from_secs(10), async || {
//!     client.list("/a").await.is_ok_and(|l| l.len() == 3)
//! })
//! .await;
//! c.shutdown().await;
//! # }
//! ```
//!
//! A refused call fails with `Unavailable` and no Basalt error kind, as a broken connection does; a cut
//! also breaks the streams already open over the link. What a node does when killed, and how the
//! filters compose, is in [`cluster`] and [`links`]. Wait with [`wait_until`] or
//! [`Cluster::wait_until`] (which adds the cluster's state to the failure), never with a fixed sleep.
//! Logs go to the test's output (`RUST_LOG`, default `warn`).

pub mod cluster;
pub mod links;
mod options;
mod wait;

pub use cluster::Cluster;
pub use links::{Action, Links, Node, Rule, RuleId, Sel};
pub use options::Options;
pub use wait::{wait_until, wait_until_or};

/// Logs of every node to the test's captured output, once per process.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// Deterministic test bytes.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..len).map(|_| rng.u8(..)).collect()
}
