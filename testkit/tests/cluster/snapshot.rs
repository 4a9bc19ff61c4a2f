//! A member that falls behind the leader's purged log catches up from a snapshot sent in chunks over
//! the Raft transport: the leader sends its snapshot file, the follower receives it into a temp file,
//! installs it (streamed decode, renamed into place) and restarts from it.

use basalt_namenode::raft::snapshot_file;
use basalt_testkit::{Cluster, Node, Options};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_follower_catches_up_from_a_snapshot_and_restarts_from_it() {
    let mut c = Cluster::start(Options {
        namenodes: 3,
        datanodes: 1,
        snapshot_interval: 20,
        ..Options::default()
    })
    .await;
    c.wait_ready().await;
    let client = c.client();
    client.mkdirs("/s", false).await.unwrap();
    let leader = c.leader().expect("a leader");
    let follower = (1..=3).find(|&id| id != leader).expect("a follower");
    let metrics = |c: &Cluster, id| c.namenode(id).raft().metrics().borrow().clone();
    let cut = c.links().isolate(Node::Namenode(follower));
    let behind = metrics(&c, follower).last_log_index;

    // Enough writes for the leader to snapshot and purge past what the follower has.
    for i in 0..120 {
        client.mkdirs(&format!("/s/d{i:03}"), false).await.unwrap();
    }
    c.wait_until("the leader purged past the follower's log", DEADLINE, async || {
        let l = c.leader().map(|l| metrics(&c, l));
        l.is_some_and(|m| m.purged.map(|p| p.index) > behind)
    })
    .await;
    let before = metrics(&c, follower).snapshot;
    c.links().remove(cut);
    c.wait_converged().await;
    let installed = metrics(&c, follower).snapshot;
    assert!(
        installed > before,
        "no snapshot installed: {before:?} then {installed:?}"
    );

    // The installed snapshot is the follower's file, whole, and no transfer temp file is left.
    let dir = c.namenode_dir(follower).join("snapshots");
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["snapshot.bin".to_string()], "{}", c.describe());
    let state = snapshot_file::load(&dir.join("snapshot.bin"))
        .unwrap()
        .expect("a snapshot");
    assert!(
        state.last_applied >= installed,
        "{:?} < {installed:?}",
        state.last_applied
    );
    let (_, dirs, _) = state.namespace.counts();
    assert!(dirs > 2, "the snapshot holds the directories: {dirs}");

    // Restarted, it starts from that snapshot and catches up.
    c.restart_namenode(follower).await;
    c.wait_converged().await;
    assert!(metrics(&c, follower).last_applied >= state.last_applied);
    assert_eq!(client.list("/s").await.unwrap().len(), 120);
    c.shutdown().await;
}
