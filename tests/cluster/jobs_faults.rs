//! Jobs under faults, with real processes: the datanode keeping map outputs killed (the outputs are
//! recomputed from the input), a reducer that hangs (killed at its timeout), the metadata leader of a
//! 3-member group killed mid-job (the new leader resumes the job from its record).

use crate::harness::{
    DEADLINE, Opts, Proc, TestCluster, free_ports, job_id, ok, spawn_datanode, stderr, stdout, test_rng,
};
use crate::jobs::{counts_of, parts, put, text};
use basalt_client::{Client, ClientConfig};
use basalt_jobs::status::{JobState, JobStatusView};

async fn wait_final(client: &Client, job: basalt_jobs::JobId, logs: impl Fn() -> String) -> JobStatusView {
    basalt_wait::try_wait_for(DEADLINE * 2, || async {
        let st = client.job_status(job).await.ok()?;
        st.summary.state.is_final().then_some(st)
    })
    .await
    .unwrap_or_else(|e| panic!("job did not end: {e}\n{}", logs()))
}

/// The streaming word count of these tests: a reducer that sums, slowly enough to have two waves.
const MAPPER: &str = "tr -s ' \\t' '\\n\\n' | grep -v '^$' | sed 's/$/\\t1/'";
const REDUCER: &str = "sleep 1; awk -F'\\t' '{ n[$1] += $2 } END { for (w in n) print w \"\\t\" n[w] }'";

fn split_counts(a: &str) -> std::collections::BTreeMap<String, u64> {
    let mut want = std::collections::BTreeMap::new();
    for w in a.split([' ', '\t', '\n']).filter(|w| !w.is_empty()) {
        *want.entry(w.to_string()).or_insert(0u64) += 1;
    }
    want
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_outputs_of_a_killed_datanode_are_recomputed() {
    let mut c = TestCluster::start(Opts {
        datanodes: 3,
        block_size: "64KiB",
        replication: 2,
        dead_interval_secs: 3.0,
        namenode_args: &["--locality-wait", "300ms", "--executor-timeout", "3s"],
        ..Opts::default()
    })
    .await;
    c.start_executors(1).await;
    let client = c.client();
    let a = text(&mut test_rng("shuffle-datanode"), 300_000);
    put(&client, "/in/a.txt", a.as_bytes()).await;
    let o = ok(c.cli(&[
        "job",
        "streaming",
        "-detach",
        "-input",
        "/in",
        "-output",
        "/out",
        "-mapper",
        MAPPER,
        "-reducer",
        REDUCER,
        "-numReduceTasks",
        "9",
    ]));
    let job = job_id(stdout(&o).trim());
    // Reducers of the first wave run (9 partitions, 3 slots): every map output is in place.
    basalt_wait::try_wait_for(DEADLINE, || async {
        let st = client.job_status(job).await.ok()?;
        (st.stages.len() > 1 && st.stages[1].stats.running > 0).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("reducers never ran: {e}\n{}", c.logs()));
    // A datanode keeping map outputs (on its disk, under shuffle/).
    let holds_outputs = |i: usize| {
        std::fs::read_dir(c.dn_dir(i).join("shuffle").join(job.to_string().replace("job_", "j")))
            .map(|d| d.flatten().any(|e| e.path().extension().is_some_and(|x| x == "data")))
            .unwrap_or(false)
    };
    let victim = (0..3)
        .find(|&i| holds_outputs(i))
        .expect("some datanode keeps map outputs");
    let dn0 = c.dns[victim].as_ref().unwrap().addr.clone();
    c.kill_datanode(victim);
    let st = wait_final(&client, job, || c.logs()).await;
    assert_eq!(
        st.summary.state,
        JobState::Succeeded,
        "{:?}\n{}",
        st.summary.error,
        c.logs()
    );
    assert_eq!(counts_of(&parts(&client, "/out").await.0), split_counts(&a));
    // Fetches from the dead datanode failed (each sent the job back to recompute its map outputs).
    assert!(
        c.log_contains("fetching map output") && st.stages[1].stats.failed_attempts > 0,
        "no reducer found {dn0}'s map outputs gone: {:?}",
        st.stages
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_reducer_is_killed_at_its_timeout() {
    let mut c = TestCluster::start(Opts {
        datanodes: 2,
        replication: 2,
        ..Opts::default()
    })
    .await;
    c.start_executors(1).await;
    let client = c.client();
    put(&client, "/in/a.txt", b"one line\nanother\n").await;
    let started = std::time::Instant::now();
    let o = c.cli(&[
        "job",
        "streaming",
        "-D",
        "mapreduce.task.timeout=3000",
        "-D",
        "mapreduce.reduce.maxattempts=2",
        "-input",
        "/in",
        "-output",
        "/out",
        "-mapper",
        "cat",
        "-reducer",
        "echo stuck >&2; sleep 60",
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("reduce task 0") && err.contains("failed 2 times") && err.contains("timed out"),
        "{err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(40),
        "killed at the timeout, not after the sleep"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_survives_the_metadata_leader_killed_mid_job() {
    let dir = tempfile::tempdir().unwrap();
    let members: Vec<String> = free_ports(3).into_iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let addrs = members.join(",");
    let peers: Vec<String> = members
        .iter()
        .enumerate()
        .map(|(i, a)| format!("{}={a}", i + 1))
        .collect();
    let spawn_member = |i: usize| {
        let args: Vec<String> = [
            "namenode",
            "--id",
            &(i + 1).to_string(),
            "--peers",
            &peers.join(","),
            "--data-dir",
            &dir.path().join(format!("nn{i}")).display().to_string(),
            "--listen",
            &members[i],
            "--replication",
            "2",
            "--block-size",
            "64KiB",
            "--locality-wait",
            "300ms",
            "--executor-timeout",
            "3s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        Proc::spawn(&args, &dir.path().join(format!("namenode-{i}.log")))
    };
    let mut nns: Vec<Option<Proc>> = (0..3).map(|i| Some(spawn_member(i))).collect();
    let dns: Vec<Proc> = (0..3).map(|i| spawn_datanode(dir.path(), &addrs, i, &[])).collect();
    let client = Client::connect(ClientConfig::new(addrs.clone())).unwrap();
    basalt_wait::try_wait_for(DEADLINE, || async {
        let st = client.cluster_status().await.ok()?;
        (!st.safe_mode && st.datanodes.iter().filter(|d| d.live).count() == 3).then_some(())
    })
    .await
    .expect("cluster ready");
    let _executors: Vec<Proc> = dns
        .iter()
        .enumerate()
        .map(|(i, dn)| {
            let args: Vec<String> = [
                "--namenode",
                &addrs,
                "executor",
                "--datanode",
                &dn.addr,
                "--slots",
                "1",
                "--heartbeat-interval",
                "100ms",
                "--work-dir",
                &dir.path().join(format!("ex{i}")).display().to_string(),
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            Proc::spawn_until(&args, &dir.path().join(format!("executor-{i}.log")), "executor ")
        })
        .collect();
    basalt_wait::try_wait_for(DEADLINE, || async {
        (client.executors().await.ok()?.len() == 3).then_some(())
    })
    .await
    .expect("executors registered");
    let a = text(&mut test_rng("jobs-failover"), 250_000);
    put(&client, "/in/a.txt", a.as_bytes()).await;
    let cli = |args: &[&str]| crate::harness::cli_with(&addrs, args);
    let o = ok(cli(&[
        "job",
        "streaming",
        "-detach",
        "-input",
        "/in",
        "-output",
        "/out",
        "-mapper",
        &format!("sleep 1; {MAPPER}"),
        "-reducer",
        REDUCER,
        "-numReduceTasks",
        "4",
    ]));
    let job = job_id(stdout(&o).trim());
    // Once the map stage is recorded, kill the leader: the new one resumes at the reduce stage.
    basalt_wait::try_wait_for(DEADLINE, || async {
        let st = client.job_status(job).await.ok()?;
        (st.stages.len() > 1 && st.stages[0].stats.done == st.stages[0].stats.tasks && st.stages[1].stats.running > 0)
            .then_some(())
    })
    .await
    .expect("the reduce stage started");
    let leader = basalt_wait::wait_for("a leader", DEADLINE, || async {
        client
            .member_statuses(None)
            .await
            .into_iter()
            .position(|(_, st)| st.is_ok_and(|s| s.role == "leader"))
    })
    .await;
    nns[leader].take().unwrap().kill();
    let logs = || {
        std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
            .map(|e| {
                format!(
                    "== {:?}\n{}",
                    e.path(),
                    std::fs::read_to_string(e.path()).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let st = wait_final(&client, job, logs).await;
    assert_eq!(st.summary.state, JobState::Succeeded, "{:?}", st.summary.error);
    assert_eq!(counts_of(&parts(&client, "/out").await.0), split_counts(&a));
    // The new leader took the job from its record, past the recorded map stage.
    let resumed = (0..3).filter(|&i| i != leader).any(|i| {
        std::fs::read_to_string(dir.path().join(format!("namenode-{i}.log")))
            .unwrap_or_default()
            .lines()
            .any(|l| l.contains("job scheduled") && !l.contains("resumed_stages=0"))
    });
    assert!(resumed, "no member resumed the job past its map stage:\n{}", logs());
}
