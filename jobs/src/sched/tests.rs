//! The scheduler core driven as function calls: placement and locality, retries, lost executors,
//! lost map outputs, resumption from recorded stages, kill and timeouts.

use super::*;
use crate::spec::{MapOp, Partitioner, ReduceOp, ReduceSpec, Split};
use crate::task::{MapOutput, TaskKind, TaskStats};

const WAIT: u64 = 1000;

fn spec(splits_on: &[u64], reduces: u32) -> Arc<JobSpec> {
    let mut s = JobSpec::new(
        "wc",
        vec!["/in".into()],
        "/out",
        MapOp::WordCount,
        (reduces > 0).then_some(ReduceSpec {
            partitions: reduces,
            partitioner: Partitioner::Hash,
            op: ReduceOp::Sum,
        }),
    );
    for (i, dn) in splits_on.iter().enumerate() {
        s.splits.push(Split {
            path: "/in".into(),
            offset: i as u64 * 10,
            length: 10,
            file_length: splits_on.len() as u64 * 10,
            hosts: vec![DatanodeId(*dn)],
        });
    }
    s.task_timeout_ms = 60_000;
    Arc::new(s)
}

fn info(dn: u64, slots: u32) -> ExecutorInfo {
    ExecutorInfo {
        host: format!("h{dn}"),
        datanode: DatanodeId(dn),
        datanode_addr: format!("dn{dn}:1"),
        slots,
        http_addr: String::new(),
    }
}

fn sched(executors: &[(u64, u64, u32)]) -> Scheduler {
    let mut s = Scheduler::new(SchedConfig {
        locality_wait_ms: WAIT,
        executor_timeout_ms: 5000,
    });
    for &(id, dn, slots) in executors {
        s.heartbeat(ExecutorId(id), info(dn, slots), &[], 0);
    }
    s
}

fn launches(d: &[Decision]) -> Vec<(ExecutorId, TaskDescriptor)> {
    d.iter()
        .filter_map(|d| match d {
            Decision::Launch { executor, task } => Some((*executor, (**task).clone())),
            _ => None,
        })
        .collect()
}

/// The successful report of `t` (a map output on the executor's datanode, or a part file).
fn success(t: &TaskDescriptor) -> TaskReport {
    let result = match &t.kind {
        TaskKind::Map {
            output: MapOutput::Shuffle { datanode, addr, .. },
            ..
        } => TaskResult::Map(MapOutputLoc {
            partition: t.attempt.partition,
            attempt: t.attempt.attempt,
            datanode: *datanode,
            addr: addr.clone(),
            sizes: vec![1, 1],
        }),
        TaskKind::Map {
            output: MapOutput::File { temp_path },
            ..
        }
        | TaskKind::Reduce { temp_path, .. } => TaskResult::Written {
            temp_path: temp_path.clone(),
        },
        TaskKind::Commit { .. } => TaskResult::Committed,
    };
    TaskReport {
        attempt: t.attempt,
        outcome: TaskOutcome::Succeeded(result),
        stats: TaskStats::default(),
        counters: BTreeMap::from([("wc:words".to_string(), 2)]),
    }
}

fn failure(t: &TaskDescriptor, fetch_failed: Option<Partition>) -> TaskReport {
    TaskReport {
        attempt: t.attempt,
        outcome: TaskOutcome::Failed {
            error: "exit status 1".into(),
            stderr_tail: vec!["boom".into()],
            fetch_failed,
        },
        stats: TaskStats::default(),
        counters: BTreeMap::new(),
    }
}

/// Runs every launched task to success until the job is done; returns the decisions seen.
fn run_to_end(s: &mut Scheduler, mut now: u64) -> Vec<Decision> {
    let mut all = Vec::new();
    for _ in 0..20 {
        now += 10;
        let d = s.tick(now);
        for (e, t) in launches(&d) {
            all.extend(s.report(e, success(&t), now));
        }
        all.extend(d);
        if all.iter().any(|d| matches!(d, Decision::JobDone { .. })) {
            return all;
        }
    }
    panic!("job did not finish: {all:?}");
}

fn outcome(d: &[Decision]) -> Option<&JobOutcome> {
    d.iter().find_map(|d| match d {
        Decision::JobDone { outcome, .. } => Some(outcome),
        _ => None,
    })
}

#[test]
fn a_job_runs_map_reduce_commit_with_node_local_maps() {
    let mut s = sched(&[(1, 1, 1), (2, 2, 1), (3, 3, 1)]);
    s.add_job(JobId(1), spec(&[1, 2, 3], 2), &[], 0, 0);
    let d = s.tick(0);
    let l = launches(&d);
    assert_eq!(l.len(), 3);
    for (e, t) in &l {
        let TaskKind::Map { split, .. } = &t.kind else { panic!() };
        assert_eq!(split.hosts, vec![DatanodeId(e.0)], "map task placed node-local");
    }
    let mut done = Vec::new();
    for (e, t) in &l {
        done.extend(s.report(*e, success(t), 5));
    }
    let stage0 = done.iter().find_map(|d| match d {
        Decision::StageDone {
            stage, result, stats, ..
        } if stage.0 == 0 => Some((result.clone(), stats.clone())),
        _ => None,
    });
    let (result, stats) = stage0.expect("map stage done");
    assert!(matches!(result, StageResult::Map(ref o) if o.len() == 3));
    assert_eq!((stats.node_local, stats.with_preference), (3, 3));
    let reduces = launches(&s.tick(10));
    assert_eq!(reduces.len(), 2);
    let TaskKind::Reduce { inputs, temp_path, .. } = &reduces[0].1.kind else {
        panic!()
    };
    assert_eq!(inputs.len(), 3);
    assert!(temp_path.starts_with("/out/_temporary/part-0000"));
    for (e, t) in &reduces {
        done.extend(s.report(*e, success(t), 15));
    }
    let all = run_to_end(&mut s, 20);
    let commit = all
        .iter()
        .chain(&done)
        .find_map(|d| match d {
            Decision::Launch { task, .. } => match &task.kind {
                TaskKind::Commit { parts, .. } => Some(parts.clone()),
                _ => None,
            },
            _ => None,
        })
        .unwrap_or_default();
    assert_eq!(commit.len(), 2);
    assert_eq!(commit[1].1, "/out/part-00001");
    let Some(Decision::JobDone {
        counters,
        shuffle_datanodes,
        ..
    }) = all.iter().find(|d| matches!(d, Decision::JobDone { .. }))
    else {
        panic!("job done")
    };
    assert_eq!(outcome(&all), Some(&JobOutcome::Succeeded));
    assert_eq!(counters["wc:words"], 2 * 6, "3 maps, 2 reduces, a commit");
    assert_eq!(shuffle_datanodes.len(), 3);
    assert!(!s.has_job(JobId(1)));
}

#[test]
fn delay_scheduling_waits_for_a_local_slot_then_takes_any() {
    let mut s = sched(&[(1, 1, 1), (2, 2, 1)]);
    s.add_job(JobId(1), spec(&[1, 1], 1), &[], 0, 0);
    let l = launches(&s.tick(0));
    assert_eq!(l.len(), 1, "the second map waits for executor 1");
    assert_eq!(l[0].0, ExecutorId(1));
    assert!(launches(&s.tick(WAIT / 2)).is_empty());
    let l = launches(&s.tick(WAIT));
    assert_eq!(l.len(), 1, "after the wait it runs anywhere");
    assert_eq!(l[0].0, ExecutorId(2));
    let views = s.stages(JobId(1)).unwrap();
    assert_eq!(views[0].stats.running, 2);
}

#[test]
fn data_on_no_executor_host_does_not_wait() {
    let mut s = sched(&[(1, 1, 2)]);
    s.add_job(JobId(1), spec(&[7, 8], 1), &[], 0, 0);
    assert_eq!(launches(&s.tick(0)).len(), 2);
}

#[test]
fn failures_retry_elsewhere_then_fail_the_job_with_the_stderr_tail() {
    let mut s = sched(&[(1, 1, 1), (2, 2, 1)]);
    s.add_job(JobId(1), spec(&[1], 0), &[], 0, 0);
    let mut now = 0;
    let mut used = Vec::new();
    let mut last = Vec::new();
    for _ in 0..4 {
        now += WAIT;
        let l = launches(&s.tick(now));
        assert_eq!(l.len(), 1);
        used.push(l[0].0);
        last = s.report(l[0].0, failure(&l[0].1, None), now);
    }
    assert_ne!(used[0], used[1], "a retry goes to another executor");
    let Some(JobOutcome::Failed { error }) = outcome(&last) else {
        panic!("job failed: {last:?}")
    };
    assert!(error.contains("failed 4 times") && error.contains("boom"), "{error}");
    assert!(!s.has_job(JobId(1)));
}

#[test]
fn a_lost_executor_s_tasks_run_again_elsewhere() {
    let mut s = sched(&[(1, 1, 1), (2, 2, 1)]);
    s.add_job(JobId(1), spec(&[1], 0), &[], 0, 0);
    let l = launches(&s.tick(0));
    assert_eq!(l[0].0, ExecutorId(1));
    // Executor 2 keeps heartbeating, executor 1 falls silent.
    s.heartbeat(ExecutorId(2), info(2, 1), &[], 5000);
    let d = s.tick(5001 + WAIT);
    let l = launches(&d);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].0, ExecutorId(2));
    assert!(l[0].1.attempt.attempt > AttemptId(1));
    assert_eq!(s.executors(6001).len(), 1);
}

#[test]
fn a_lost_map_output_is_recomputed_then_the_reduce_resumes() {
    let mut s = sched(&[(1, 1, 2), (2, 2, 2)]);
    s.add_job(JobId(1), spec(&[1, 2], 2), &[], 0, 0);
    for (e, t) in launches(&s.tick(0)) {
        s.report(e, success(&t), 1);
    }
    let reduces = launches(&s.tick(2));
    assert_eq!(reduces.len(), 2);
    // Reduce 0 finishes; reduce 1 cannot fetch map 1's output.
    s.report(reduces[0].0, success(&reduces[0].1), 3);
    s.report(reduces[1].0, failure(&reduces[1].1, Some(Partition(1))), 3);
    let l = launches(&s.tick(4));
    assert_eq!(l.len(), 1, "only the lost map output (on dn2) is recomputed");
    assert!(matches!(l[0].1.kind, TaskKind::Map { .. }));
    assert_eq!(l[0].1.attempt.partition, Partition(1));
    let d = s.report(l[0].0, success(&l[0].1), 5);
    assert!(
        d.iter()
            .any(|d| matches!(d, Decision::StageDone { stage: StageId(0), .. }))
    );
    let l = launches(&s.tick(6));
    assert_eq!(l.len(), 1, "only the unfinished reduce runs again");
    assert_eq!(l[0].1.attempt.partition, Partition(1));
    s.report(l[0].0, success(&l[0].1), 7);
    let all = run_to_end(&mut s, 8);
    assert_eq!(outcome(&all), Some(&JobOutcome::Succeeded));
}

#[test]
fn every_map_output_on_the_datanode_of_a_failed_fetch_is_recomputed() {
    let mut s = sched(&[(1, 1, 4), (2, 2, 4)]);
    s.add_job(JobId(1), spec(&[1, 1, 2], 1), &[], 0, 0);
    let maps = launches(&s.tick(0));
    assert_eq!(maps.len(), 3);
    for (e, t) in &maps {
        s.report(*e, success(t), 1);
    }
    let r = launches(&s.tick(2));
    s.report(r[0].0, failure(&r[0].1, Some(Partition(0))), 3);
    let again: Vec<Partition> = launches(&s.tick(4)).iter().map(|(_, t)| t.attempt.partition).collect();
    assert_eq!(again, [Partition(0), Partition(1)], "both outputs that lived on dn1");
}

#[test]
fn a_resumed_job_starts_after_its_recorded_stages() {
    let mut s = sched(&[(1, 1, 4)]);
    let outs: Vec<MapOutputLoc> = (0..2)
        .map(|p| MapOutputLoc {
            partition: Partition(p),
            attempt: AttemptId(p + 1),
            datanode: DatanodeId(1),
            addr: "dn1:1".into(),
            sizes: vec![1],
        })
        .collect();
    s.add_job(JobId(3), spec(&[1, 1], 1), &[StageResult::Map(outs)], 10, 0);
    let l = launches(&s.tick(0));
    assert_eq!(l.len(), 1);
    assert!(matches!(l[0].1.kind, TaskKind::Reduce { ref inputs, .. } if inputs.len() == 2));
    assert_eq!(
        l[0].1.attempt.attempt,
        AttemptId(11),
        "attempts continue above the recorded ones"
    );
    // Map-only job resumed at its commit.
    let mut s = sched(&[(1, 1, 4)]);
    s.add_job(
        JobId(4),
        spec(&[1], 0),
        &[StageResult::Files(vec!["/out/_temporary/part-00000.a1".into()])],
        1,
        0,
    );
    let l = launches(&s.tick(0));
    let TaskKind::Commit { parts, .. } = &l[0].1.kind else {
        panic!()
    };
    assert_eq!(
        parts,
        &[(
            "/out/_temporary/part-00000.a1".to_string(),
            "/out/part-00000".to_string()
        )]
    );
}

#[test]
fn kill_cancels_running_attempts_and_stale_attempts_are_cancelled() {
    let mut s = sched(&[(1, 1, 2)]);
    s.add_job(JobId(1), spec(&[1, 1], 1), &[], 0, 0);
    let l = launches(&s.tick(0));
    let d = s.kill(JobId(1));
    assert_eq!(d.iter().filter(|d| matches!(d, Decision::Cancel { .. })).count(), 2);
    assert_eq!(outcome(&d), Some(&JobOutcome::Killed));
    // The executor still runs them in its next heartbeat: cancelled again.
    let running: Vec<AttemptRef> = l.iter().map(|(_, t)| t.attempt).collect();
    let d = s.heartbeat(ExecutorId(1), info(1, 2), &running, 1);
    assert_eq!(d.len(), 2);
    // A late report of a killed job changes nothing.
    assert!(s.report(ExecutorId(1), success(&l[0].1), 2).is_empty());
}

#[test]
fn a_task_over_its_timeout_is_cancelled_and_retried() {
    let mut s = sched(&[(1, 1, 1), (2, 2, 1)]);
    s.add_job(JobId(1), spec(&[1], 0), &[], 0, 0);
    let l = launches(&s.tick(0));
    s.heartbeat(ExecutorId(1), info(1, 1), &[l[0].1.attempt], 59_000);
    s.heartbeat(ExecutorId(2), info(2, 1), &[], 59_000);
    let d = s.tick(60_001);
    assert!(
        d.iter()
            .any(|d| matches!(d, Decision::Cancel { attempt, .. } if *attempt == l[0].1.attempt))
    );
    let l2 = launches(&d);
    assert_eq!(l2.len(), 1);
    assert_eq!(l2[0].0, ExecutorId(2));
}

#[test]
fn an_empty_input_goes_straight_to_the_reduce_and_commit() {
    let mut s = sched(&[(1, 1, 2)]);
    s.add_job(JobId(1), spec(&[], 1), &[], 0, 0);
    let all = run_to_end(&mut s, 0);
    assert_eq!(outcome(&all), Some(&JobOutcome::Succeeded));
}
