//! A 3-member metadata group of real processes: failover under load, full restart.

use crate::harness::{DEADLINE, Proc, bytes, cli_with, free_ports, ok, spawn_datanode, stdout, wait_for, wait_until};
use basalt_client::{Client, ClientConfig, CreateOptions};
use std::path::Path;

struct HaCluster {
    dir: tempfile::TempDir,
    members: Vec<String>,
    nns: Vec<Option<Proc>>,
    _dns: Vec<Proc>,
}

impl HaCluster {
    async fn start(members: usize, datanodes: usize) -> HaCluster {
        let dir = tempfile::tempdir().unwrap();
        let members: Vec<String> = free_ports(members)
            .into_iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let mut c = HaCluster {
            dir,
            members,
            nns: Vec::new(),
            _dns: Vec::new(),
        };
        for i in 0..c.members.len() {
            let p = c.spawn_member(i);
            c.nns.push(Some(p));
        }
        for i in 0..datanodes {
            c._dns.push(spawn_datanode(c.dir.path(), &c.addrs(), i, &[]));
        }
        let addrs = c.addrs();
        wait_until("3 live datanodes and a writable leader", DEADLINE, || async {
            let o = cli_with(&addrs, &["cluster", "status"]);
            let s = stdout(&o);
            o.status.success() && s.contains(&format!("Datanodes: {datanodes} live")) && s.contains("Safe mode: off")
        })
        .await;
        c
    }

    /// Starts member `i` as part of the bootstrap group of the first members.
    fn spawn_member(&self, i: usize) -> Proc {
        let peers: Vec<String> = self
            .members
            .iter()
            .take(3)
            .enumerate()
            .map(|(k, a)| format!("{}={a}", k + 1))
            .collect();
        self.spawn_with(i, &["--peers", &peers.join(",")])
    }

    /// Starts member `i` without bootstrapping: it waits to be added (or rejoins after losing its disk).
    fn spawn_joining(&self, i: usize) -> Proc {
        self.spawn_with(i, &["--join"])
    }

    fn spawn_with(&self, i: usize, membership_args: &[&str]) -> Proc {
        let d: &Path = self.dir.path();
        let id = (i + 1).to_string();
        let data = d.join(format!("nn{i}")).display().to_string();
        let mut args: Vec<&str> = vec!["namenode", "--id", &id];
        args.extend_from_slice(membership_args);
        args.extend_from_slice(&[
            "--data-dir",
            &data,
            "--listen",
            &self.members[i],
            "--replication",
            "3",
            "--snapshot-interval",
            "40",
            "--fault-injection",
        ]);
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Proc::spawn(&args, &d.join(format!("namenode-{i}.log")))
    }

    fn addrs(&self) -> String {
        self.members.join(",")
    }

    fn client(&self) -> Client {
        Client::connect(ClientConfig::new(self.addrs())).unwrap()
    }

    /// Index of the member that reports itself leader (waits for one).
    async fn leader(&self) -> usize {
        let client = self.client();
        wait_for("a member reporting itself leader", DEADLINE, || async {
            let statuses = client.member_statuses(None).await;
            statuses
                .into_iter()
                .position(|(_, st)| st.is_ok_and(|s| s.role == "leader"))
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_killed_during_creates_loses_nothing() {
    let mut c = HaCluster::start(3, 3).await;
    let client = c.client();
    let opts = || CreateOptions {
        create_parent: true,
        ..Default::default()
    };
    client
        .write_all("/ha/existing", b"before the failover", opts())
        .await
        .unwrap();
    let writer = {
        let client = client.clone();
        tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..60 {
                let path = format!("/ha/f{i:03}");
                let data = bytes(100 + i, i as u64);
                // Every create must be acknowledged: the client retries through the failover, and a
                // retried request is applied once (request ids are deduplicated in the state machine).
                client
                    .write_all(&path, &data, CreateOptions::default())
                    .await
                    .unwrap_or_else(|e| panic!("{path}: {e}"));
                acked.push((path, data));
            }
            acked
        })
    };
    // Kill the leader once some creates went through.
    wait_until("20 creates", DEADLINE, || async {
        client.list("/ha").await.map(|l| l.len() > 20).unwrap_or(false)
    })
    .await;
    let leader = c.leader().await;
    c.nns[leader].take().unwrap().kill();
    // `admin raft status` shows the killed member as down and exits 2.
    let o = cli_with(&c.addrs(), &["admin", "raft", "status"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let down: Vec<String> = stdout(&o)
        .lines()
        .filter(|l| l.contains(" down "))
        .map(str::to_string)
        .collect();
    assert!(
        down.len() == 1 && down[0].contains(&c.members[leader]),
        "{}",
        stdout(&o)
    );
    // Reads of existing files keep working across the failover.
    assert_eq!(client.read_all("/ha/existing").await.unwrap(), b"before the failover");
    let acked = writer.await.unwrap();
    let new_leader = c.leader().await;
    assert_ne!(new_leader, leader);
    let listed = client.list("/ha").await.unwrap();
    assert_eq!(listed.len(), acked.len() + 1, "every acknowledged create, once");
    for (path, data) in &acked {
        assert!(&client.read_all(path).await.unwrap() == data, "{path} differs");
    }
    // The killed member comes back and catches up.
    c.nns[leader] = Some(c.spawn_member(leader));
    let addr = c.members[leader].clone();
    wait_until("the old leader catches up", DEADLINE, || async {
        let o = cli_with(&c.addrs(), &["admin", "raft", "status"]);
        let s = stdout(&o);
        o.status.success() && s.lines().filter(|l| l.contains("follower")).count() == 2 && s.contains(&addr)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_group_restart_keeps_the_namespace() {
    let mut c = HaCluster::start(3, 3).await;
    let client = c.client();
    for i in 0..50 {
        client.mkdirs(&format!("/r/d{i:02}"), true).await.unwrap();
    }
    client
        .write_all("/r/file", b"durable", CreateOptions::default())
        .await
        .unwrap();
    for nn in c.nns.iter_mut() {
        nn.take().unwrap().kill();
    }
    for i in 0..3 {
        c.nns[i] = Some(c.spawn_member(i));
    }
    let client = c.client();
    wait_until("namespace back", DEADLINE, || async {
        client.list("/r").await.map(|l| l.len() == 51).unwrap_or(false)
    })
    .await;
    assert_eq!(client.read_all("/r/file").await.unwrap(), b"durable");
    let status = stdout(&ok(cli_with(&c.addrs(), &["admin", "raft", "status"])));
    assert_eq!(status.lines().filter(|l| l.contains("leader")).count(), 1, "{status}");
}

/// The status row of member `id` (1-based) as `admin raft status` prints it, if it answered.
async fn member(client: &Client, id: u64) -> Option<basalt_client::MemberStatus> {
    client
        .member_statuses(None)
        .await
        .into_iter()
        .filter_map(|(_, r)| r.ok())
        .find(|m| m.id == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_changes_transfer_and_disk_loss() {
    let mut c = HaCluster::start(3, 3).await;
    let client = c.client();
    for i in 0..100 {
        client.mkdirs(&format!("/m/d{i:03}"), true).await.unwrap();
    }
    client
        .write_all("/m/file", b"survives membership changes", CreateOptions::default())
        .await
        .unwrap();

    // Grow to five members: 4 and 5 start empty, join as learners, catch up (from a snapshot: the log
    // was compacted every 40 entries), then vote. Member 4 through the library, member 5 through
    // `basalt admin raft add`.
    let ports = free_ports(2);
    for (k, port) in ports.iter().enumerate() {
        c.members.push(format!("127.0.0.1:{port}"));
        let i = 3 + k;
        c.nns.push(Some(c.spawn_joining(i)));
        let id = i as u64 + 1;
        if k == 0 {
            client.add_member(id, &c.members[i]).await.unwrap();
        } else {
            let out = stdout(&ok(cli_with(
                &c.addrs(),
                &["admin", "raft", "add", &id.to_string(), &c.members[i]],
            )));
            assert_eq!(
                out,
                format!("Member {id} ({}) added to the metadata group.\n", c.members[i])
            );
        }
    }
    let client = c.client(); // now knows all five addresses
    wait_until("five members, one leader, all caught up", DEADLINE, || async {
        let rows: Vec<_> = client
            .member_statuses(None)
            .await
            .into_iter()
            .filter_map(|(_, r)| r.ok())
            .collect();
        let commit = rows.iter().map(|m| m.commit_index).max().unwrap_or(0);
        rows.len() == 5
            && rows.iter().filter(|m| m.role == "leader").count() == 1
            && rows.iter().all(|m| m.applied_index + 2 >= commit)
    })
    .await;

    // Hand leadership to member 4, then remove member 1 (a follower now, or the old leader), both
    // through the CLI.
    let out = stdout(&ok(cli_with(&c.addrs(), &["admin", "raft", "transfer-leader", "4"])));
    assert_eq!(out, "Member 4 is now the metadata leader.\n");
    assert_eq!(member(&client, 4).await.unwrap().role, "leader");
    let out = stdout(&ok(cli_with(&c.addrs(), &["admin", "raft", "remove", "1"])));
    assert_eq!(out, "Member 1 removed from the metadata group.\n");
    c.nns[0].take().unwrap().kill();
    // Asked without member 1's address, the group lists four members, all up (exit 0).
    let status = stdout(&ok(cli_with(&c.members[1..].join(","), &["admin", "raft", "status"])));
    assert!(!status.contains(&c.members[0]), "member 1 still listed:\n{status}");
    assert_eq!(status.lines().count(), 5, "{status}");

    // Member 2 loses its disk. The safe procedure (a wiped voter must not vote before it has caught
    // up): remove it, start it empty with --join, add it again; it is rebuilt from a snapshot.
    c.nns[1].take().unwrap().kill();
    client.remove_member(2).await.unwrap();
    std::fs::remove_dir_all(c.dir.path().join("nn1")).unwrap();
    client.mkdirs("/m/after-wipe", false).await.unwrap();
    c.nns[1] = Some(c.spawn_joining(1));
    client.add_member(2, &c.members[1]).await.unwrap();
    wait_until("the wiped member caught up", DEADLINE, || async {
        let leader = member(&client, 4).await;
        let wiped = member(&client, 2).await;
        matches!((leader, wiped), (Some(l), Some(w)) if w.role == "follower" && w.applied_index >= l.commit_index)
    })
    .await;
    assert_eq!(client.list("/m").await.unwrap().len(), 102);
    assert_eq!(
        client.read_all("/m/file").await.unwrap(),
        b"survives membership changes"
    );
}

/// Four clients create, delete and stat three paths through two leader failovers; the history must be
/// linearizable. Only an operation whose outcome the client could not learn (a timeout, no reachable
/// leader: `Unavailable`) is recorded as unknown; any other error fails the test, and enough
/// operations must have been acknowledged, so a run of mostly errors cannot pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_across_failovers_is_linearizable() {
    use crate::linearizability::{Event, History, Op, Outcome, check};
    use basalt_common::ErrorKind;
    use std::sync::{Arc, Mutex};

    /// Acknowledged operations needed in each phase (before and after each failover).
    const PER_PHASE: usize = 40;
    let mut c = HaCluster::start(3, 1).await;
    c.client().mkdirs("/lin", false).await.unwrap();
    let history = Arc::new(History::new());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let unexpected: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut seeds = crate::harness::test_rng("history_across_failovers_is_linearizable");
    let mut clients = Vec::new();
    for client_no in 0..4 {
        let (client, history, stop) = (c.client(), history.clone(), stop.clone());
        let unexpected = unexpected.clone();
        let mut rng = seeds.fork();
        clients.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let path = format!("/lin/p{}", rng.usize(..3));
                let op = [Op::Create, Op::Delete, Op::Exists][rng.usize(..3)];
                let call = history.start();
                let result = match op {
                    Op::Create => match client.mkdirs(&path, false).await {
                        Ok(()) => Ok(Outcome::Ok),
                        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(Outcome::AlreadyExists),
                        Err(e) => Err(e),
                    },
                    Op::Delete => match client.delete(&path, false).await {
                        Ok(()) => Ok(Outcome::Ok),
                        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Outcome::NotFound),
                        Err(e) => Err(e),
                    },
                    Op::Exists => match client.stat(&path).await {
                        Ok(_) => Ok(Outcome::Present),
                        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Outcome::Absent),
                        Err(e) => Err(e),
                    },
                };
                let outcome = match result {
                    Ok(o) => o,
                    // Timed out or no leader reachable: it may or may not have taken effect.
                    Err(e) if e.kind() == ErrorKind::Unavailable => Outcome::Unknown,
                    Err(e) => {
                        unexpected
                            .lock()
                            .unwrap()
                            .push(format!("client {client_no}: {op:?} {path}: {e} ({})", e.kind()));
                        stop.store(true, std::sync::atomic::Ordering::Relaxed);
                        return;
                    }
                };
                let ret = history.start();
                history.record(Event {
                    client: client_no,
                    path,
                    op,
                    call,
                    ret,
                    outcome,
                });
            }
        }));
    }
    let failed = || !unexpected.lock().unwrap().is_empty();
    // Two failovers while the clients run: kill the leader, let the group settle, bring it back.
    for _ in 0..2 {
        let before = history.acknowledged();
        wait_until("acknowledged operations", DEADLINE, || async {
            failed() || history.acknowledged() >= before + PER_PHASE
        })
        .await;
        let leader = c.leader().await;
        c.nns[leader].take().unwrap().kill();
        let after_kill = history.acknowledged();
        wait_until("acknowledged operations after the failover", DEADLINE, || async {
            failed() || history.acknowledged() >= after_kill + PER_PHASE
        })
        .await;
        c.nns[leader] = Some(c.spawn_member(leader));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in clients {
        t.await.unwrap();
    }
    let unexpected = unexpected.lock().unwrap().clone();
    assert!(
        unexpected.is_empty(),
        "errors other than unavailability: {unexpected:?}"
    );
    let events = history.events();
    let acknowledged = history.acknowledged();
    eprintln!(
        "linearizability: {} operations, {acknowledged} acknowledged, {} unknown",
        events.len(),
        events.len() - acknowledged
    );
    assert!(
        acknowledged >= 4 * PER_PHASE,
        "only {acknowledged} of {} operations acknowledged",
        events.len()
    );
    if let Err(why) = check(&events) {
        panic!("history of {} operations is not linearizable: {why}", events.len());
    }
}

/// In-process counterpart, with a writer across the failover: `testkit/tests/ha.rs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolated_leader_stops_acknowledging_and_the_majority_serves() {
    use basalt_client::RetryPolicy;
    use std::time::Duration;

    let c = HaCluster::start(3, 1).await;
    let admin = c.client();
    admin.mkdirs("/part", false).await.unwrap();
    let old = c.leader().await;
    let ids: Vec<u64> = (1..=3).collect();
    let old_id = old as u64 + 1;
    // Cut the leader off from both followers, in both directions.
    let others: Vec<u64> = ids.iter().copied().filter(|&i| i != old_id).collect();
    admin.set_partition(&c.members[old], &others).await.unwrap();
    for &f in &others {
        admin
            .set_partition(&c.members[f as usize - 1], &[old_id])
            .await
            .unwrap();
    }
    // The minority side cannot acknowledge a write.
    let mut cfg = ClientConfig::new(c.members[old].clone());
    cfg.retry = RetryPolicy {
        connect_timeout: Duration::from_secs(2),
        op_timeout: Duration::from_secs(3),
        rpc_timeout: Duration::from_secs(2),
    };
    let minority = Client::connect(cfg).unwrap();
    assert!(
        minority.mkdirs("/part/minority", false).await.is_err(),
        "an isolated leader acknowledged a write"
    );
    // The majority elects a leader and serves.
    let majority_addrs: Vec<String> = others.iter().map(|&f| c.members[f as usize - 1].clone()).collect();
    let majority = Client::connect(ClientConfig::new(majority_addrs.join(","))).unwrap();
    majority.mkdirs("/part/majority", false).await.unwrap();
    // Heal: every member converges on one log; the minority's unacknowledged write is gone.
    for addr in &c.members {
        admin.set_partition(addr, &[]).await.unwrap();
    }
    wait_until("one log on every member", DEADLINE, || async {
        let rows: Vec<_> = admin
            .member_statuses(None)
            .await
            .into_iter()
            .filter_map(|(_, r)| r.ok())
            .collect();
        rows.len() == 3
            && rows.iter().filter(|m| m.role == "leader").count() == 1
            && rows
                .iter()
                .all(|m| m.applied_index == rows[0].applied_index && m.last_log_index == rows[0].last_log_index)
    })
    .await;
    let names: Vec<String> = admin.list("/part").await.unwrap().into_iter().map(|s| s.path).collect();
    assert_eq!(names, ["/part/majority"]);
}
