//! The scheduler core: a plain state machine over executors and the tasks of running jobs. The
//! namenode's scheduler worker feeds it events and carries out its decisions; time comes in as
//! milliseconds with every event, so tests drive it as function calls.
//!
//! # A job's life here
//! 1. [`Scheduler::add_job`] plans the spec (map → reduce → commit stages) and skips the stages the
//!    replicated record says are done (a new leader resumes a job this way).
//! 2. [`Scheduler::tick`] places the current stage's pending tasks on free executor slots. **Delay
//!    scheduling**: a task with preferred datanodes waits up to `locality_wait_ms` for a free slot on
//!    an executor paired with one of them, then takes any slot. A retried task avoids the executors it
//!    failed on while others have room.
//! 3. [`Scheduler::report`] records an attempt's end. A failed attempt goes back to pending until it
//!    has failed `max_attempts` times, which fails the job with the last error and stderr lines. A
//!    reduce task that could not fetch a map output sends the job back to the map stage to recompute
//!    that output only (from lineage: the split is in the spec), then the reduce stage resumes.
//! 4. When every task of a stage is done: [`Decision::StageDone`] (to be recorded in the Raft state),
//!    then the next stage; after the commit stage, [`Decision::JobDone`].
//! 5. An executor silent for `executor_timeout_ms` is lost: its attempts fail (and are retried
//!    elsewhere); a map output it wrote lives on its datanode and stays usable.
//!
//! Attempts are soft state: after a failover the new leader starts the current stage's tasks again
//! (attempt numbers continue from the record's, so a stale attempt's files never collide).

mod describe;
#[cfg(test)]
mod tests;

use crate::ids::{AttemptId, AttemptRef, ExecutorId, JobId, Partition, StageId};
use crate::plan::{Plan, StageKind, plan};
use crate::spec::JobSpec;
use crate::status::{ExecutorView, StageStats, StageView};
use crate::task::{MapOutputLoc, TaskDescriptor, TaskOutcome, TaskReport, TaskResult};
use basalt_common::DatanodeId;
use describe::describe;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Settings of the core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchedConfig {
    /// How long a task with preferred datanodes waits for a slot on one of them.
    pub locality_wait_ms: u64,
    /// An executor without a heartbeat for this long is lost.
    pub executor_timeout_ms: u64,
}

impl Default for SchedConfig {
    fn default() -> Self {
        SchedConfig {
            locality_wait_ms: 3000,
            executor_timeout_ms: 10_000,
        }
    }
}

/// What an executor told about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutorInfo {
    pub host: String,
    /// The datanode its shuffle output goes to: the one on its host (locality is judged by it).
    pub datanode: DatanodeId,
    pub datanode_addr: String,
    pub slots: u32,
    /// Where it serves `/metrics` ("" for nowhere).
    pub http_addr: String,
}

/// What a stage produced, as the Raft record keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StageResult {
    /// Every map task's shuffle output, by partition.
    Map(Vec<MapOutputLoc>),
    /// Every part file at its temporary path, by partition.
    Files(Vec<String>),
    Committed,
}

/// How a job ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobOutcome {
    Succeeded,
    Failed { error: String },
    Killed,
}

/// What the shell must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Launch {
        executor: ExecutorId,
        task: Box<TaskDescriptor>,
    },
    Cancel {
        executor: ExecutorId,
        attempt: AttemptRef,
    },
    /// Record in the job's replicated record.
    StageDone {
        job: JobId,
        stage: StageId,
        result: StageResult,
        stats: StageStats,
    },
    JobDone {
        job: JobId,
        outcome: JobOutcome,
        counters: BTreeMap<String, i64>,
        /// Datanodes holding the job's shuffle files (to be removed).
        shuffle_datanodes: Vec<String>,
    },
}

#[derive(Clone, Debug)]
enum TaskState {
    Pending {
        since_ms: u64,
    },
    Running {
        attempt: AttemptId,
        executor: ExecutorId,
        started_ms: u64,
    },
    Done {
        result: TaskResult,
    },
}

#[derive(Clone, Debug)]
struct TaskRun {
    state: TaskState,
    /// Failed attempts so far.
    failures: u32,
    failed_on: BTreeSet<ExecutorId>,
    last_error: Option<String>,
    node_local: bool,
}

struct ExecutorState {
    info: ExecutorInfo,
    running: BTreeSet<AttemptRef>,
    last_seen_ms: u64,
}

struct JobRun {
    spec: Arc<JobSpec>,
    plan: Plan,
    current: usize,
    tasks: Vec<Vec<TaskRun>>,
    stats: Vec<StageStats>,
    /// Results of finished map stages (what reduce tasks read).
    map_outputs: Vec<MapOutputLoc>,
    counters: BTreeMap<String, i64>,
    /// The highest attempt number handed out (attempts are unique within a job).
    next_attempt: u32,
}

/// The scheduler core.
pub struct Scheduler {
    cfg: SchedConfig,
    executors: BTreeMap<ExecutorId, ExecutorState>,
    jobs: BTreeMap<JobId, JobRun>,
}

fn new_task(now: u64) -> TaskRun {
    TaskRun {
        state: TaskState::Pending { since_ms: now },
        failures: 0,
        failed_on: BTreeSet::new(),
        last_error: None,
        node_local: false,
    }
}

impl Scheduler {
    pub fn new(cfg: SchedConfig) -> Self {
        Scheduler {
            cfg,
            executors: BTreeMap::new(),
            jobs: BTreeMap::new(),
        }
    }

    pub fn has_job(&self, job: JobId) -> bool {
        self.jobs.contains_key(&job)
    }

    pub fn job_ids(&self) -> Vec<JobId> {
        self.jobs.keys().copied().collect()
    }

    /// Starts running a job. `done` holds the results of stages already recorded (in stage order);
    /// `first_attempt` is above every attempt number used before (so a resumed job's files never
    /// collide with a stale attempt's).
    pub fn add_job(&mut self, job: JobId, spec: Arc<JobSpec>, done: &[StageResult], first_attempt: u32, now: u64) {
        let plan = plan(&spec);
        let tasks: Vec<Vec<TaskRun>> = plan
            .stages
            .iter()
            .map(|s| s.tasks.iter().map(|_| new_task(now)).collect())
            .collect();
        let stats = plan
            .stages
            .iter()
            .map(|s| StageStats {
                tasks: s.tasks.len() as u32,
                with_preference: s.tasks.iter().filter(|t| !t.preferred.is_empty()).count() as u32,
                ..Default::default()
            })
            .collect();
        let mut run = JobRun {
            spec,
            plan,
            current: 0,
            tasks,
            stats,
            map_outputs: Vec::new(),
            counters: BTreeMap::new(),
            next_attempt: first_attempt,
        };
        for result in done.iter().take(run.plan.stages.len() - 1) {
            let i = run.current;
            match result {
                StageResult::Map(outs) => {
                    run.map_outputs = outs.clone();
                    for (t, o) in run.tasks[i].iter_mut().zip(outs) {
                        t.state = TaskState::Done {
                            result: TaskResult::Map(o.clone()),
                        };
                    }
                }
                StageResult::Files(paths) => {
                    for (t, p) in run.tasks[i].iter_mut().zip(paths) {
                        t.state = TaskState::Done {
                            result: TaskResult::Written { temp_path: p.clone() },
                        };
                    }
                }
                StageResult::Committed => {}
            }
            run.stats[i].done = run.stats[i].tasks;
            run.current += 1;
        }
        self.jobs.insert(job, run);
    }

    /// An executor's heartbeat (registering it if new). `running` are the attempts it runs; any the
    /// core does not know of (a job killed or finished, an attempt from before a failover) is cancelled.
    pub fn heartbeat(&mut self, id: ExecutorId, info: ExecutorInfo, running: &[AttemptRef], now: u64) -> Vec<Decision> {
        let e = self.executors.entry(id).or_insert_with(|| ExecutorState {
            info: info.clone(),
            running: BTreeSet::new(),
            last_seen_ms: now,
        });
        e.info = info;
        e.last_seen_ms = now;
        running
            .iter()
            .filter(|a| !e.running.contains(a))
            .map(|a| Decision::Cancel {
                executor: id,
                attempt: *a,
            })
            .collect()
    }

    /// The end of an attempt, as its executor reports it.
    pub fn report(&mut self, executor: ExecutorId, report: TaskReport, now: u64) -> Vec<Decision> {
        let a = report.attempt;
        if let Some(e) = self.executors.get_mut(&executor) {
            e.running.remove(&a);
        }
        let mut out = Vec::new();
        let Some(run) = self.jobs.get_mut(&a.job) else {
            return out;
        };
        let si = a.stage.0 as usize;
        let Some(task) = run.tasks.get_mut(si).and_then(|t| t.get_mut(a.partition.0 as usize)) else {
            return out;
        };
        // Only the attempt the core is waiting for counts (a late report of a cancelled one does not).
        if !matches!(task.state, TaskState::Running { attempt, .. } if attempt == a.attempt) {
            return out;
        }
        let stats = &mut run.stats[si];
        stats.running = stats.running.saturating_sub(1);
        stats.input_bytes += report.stats.input_bytes;
        stats.shuffle_written += report.stats.shuffle_written;
        stats.shuffle_read += report.stats.shuffle_read;
        stats.output_bytes += report.stats.output_bytes;
        match report.outcome {
            TaskOutcome::Succeeded(result) => {
                task.state = TaskState::Done { result };
                stats.done += 1;
                if task.node_local {
                    stats.node_local += 1;
                }
                for (k, v) in report.counters {
                    *run.counters.entry(k).or_default() += v;
                }
                if si == run.current && run.tasks[si].iter().all(|t| matches!(t.state, TaskState::Done { .. })) {
                    out.extend(self.stage_done(a.job, now));
                }
            }
            TaskOutcome::Failed {
                fetch_failed: Some(map),
                error,
                ..
            } if si > 0 => {
                // Not the reducer's fault: recompute the lost map output, then run it again.
                task.state = TaskState::Pending { since_ms: now };
                task.last_error = Some(error);
                stats.failed_attempts += 1;
                out.extend(self.recompute_map_output(a.job, map, now));
            }
            TaskOutcome::Failed { error, stderr_tail, .. } => {
                stats.failed_attempts += 1;
                let msg = if stderr_tail.is_empty() {
                    error
                } else {
                    format!("{error}; stderr:\n{}", stderr_tail.join("\n"))
                };
                out.extend(self.fail_attempt(a.job, a.stage, a.partition, executor, msg, now));
            }
        }
        out
    }

    /// Kills a job: its running attempts are cancelled and it ends as killed.
    pub fn kill(&mut self, job: JobId) -> Vec<Decision> {
        self.finish(job, JobOutcome::Killed)
    }

    /// Expires silent executors, times out long attempts, and places pending tasks.
    pub fn tick(&mut self, now: u64) -> Vec<Decision> {
        let mut out = Vec::new();
        let lost: Vec<ExecutorId> = self
            .executors
            .iter()
            .filter(|(_, e)| now.saturating_sub(e.last_seen_ms) > self.cfg.executor_timeout_ms)
            .map(|(id, _)| *id)
            .collect();
        for id in lost {
            out.extend(self.executor_lost(id, now));
        }
        let mut timed_out = Vec::new();
        for (job, run) in &self.jobs {
            let timeout = run.spec.task_timeout_ms;
            for (si, tasks) in run.tasks.iter().enumerate() {
                for (p, t) in tasks.iter().enumerate() {
                    if let TaskState::Running {
                        attempt,
                        executor,
                        started_ms,
                    } = t.state
                        && timeout > 0
                        && now.saturating_sub(started_ms) > timeout
                    {
                        timed_out.push((*job, StageId(si as u32), Partition(p as u32), attempt, executor));
                    }
                }
            }
        }
        for (job, stage, partition, attempt, executor) in timed_out {
            let a = AttemptRef {
                job,
                stage,
                partition,
                attempt,
            };
            out.push(Decision::Cancel { executor, attempt: a });
            if let Some(e) = self.executors.get_mut(&executor) {
                e.running.remove(&a);
            }
            let ms = self.jobs[&job].spec.task_timeout_ms;
            if let Some(run) = self.jobs.get_mut(&job) {
                run.stats[stage.0 as usize].running -= 1;
                run.stats[stage.0 as usize].failed_attempts += 1;
            }
            out.extend(self.fail_attempt(job, stage, partition, executor, format!("timed out after {ms} ms"), now));
        }
        // A stage with no tasks (an empty input) is done at once.
        let empty: Vec<JobId> = self
            .jobs
            .iter()
            .filter(|(_, r)| r.tasks[r.current].is_empty())
            .map(|(id, _)| *id)
            .collect();
        for job in empty {
            out.extend(self.stage_done(job, now));
        }
        out.extend(self.assign(now));
        out
    }

    /// An executor is gone (its process died, or it stopped heartbeating).
    pub fn executor_lost(&mut self, id: ExecutorId, now: u64) -> Vec<Decision> {
        let Some(e) = self.executors.remove(&id) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for a in e.running {
            if let Some(run) = self.jobs.get_mut(&a.job) {
                let s = &mut run.stats[a.stage.0 as usize];
                s.running = s.running.saturating_sub(1);
                s.failed_attempts += 1;
            }
            out.extend(self.fail_attempt(a.job, a.stage, a.partition, id, format!("executor {id} was lost"), now));
        }
        out
    }

    /// The executors known, for `cluster status`.
    pub fn executors(&self, now: u64) -> Vec<ExecutorView> {
        self.executors
            .iter()
            .map(|(id, e)| ExecutorView {
                id: *id,
                host: e.info.host.clone(),
                datanode_addr: e.info.datanode_addr.clone(),
                slots: e.info.slots,
                http_addr: e.info.http_addr.clone(),
                running: e.running.len() as u32,
                last_seen_ms_ago: now.saturating_sub(e.last_seen_ms),
            })
            .collect()
    }

    /// The live view of a running job's stages.
    pub fn stages(&self, job: JobId) -> Option<Vec<StageView>> {
        let run = self.jobs.get(&job)?;
        Some(
            run.plan
                .stages
                .iter()
                .zip(&run.stats)
                .map(|(s, st)| StageView {
                    stage: s.id,
                    kind: s.kind,
                    stats: st.clone(),
                })
                .collect(),
        )
    }

    /// The counters of a running job so far.
    pub fn counters(&self, job: JobId) -> Option<&BTreeMap<String, i64>> {
        self.jobs.get(&job).map(|r| &r.counters)
    }

    fn fail_attempt(
        &mut self,
        job: JobId,
        stage: StageId,
        partition: Partition,
        executor: ExecutorId,
        error: String,
        now: u64,
    ) -> Vec<Decision> {
        let Some(run) = self.jobs.get_mut(&job) else {
            return Vec::new();
        };
        let Some(task) = run
            .tasks
            .get_mut(stage.0 as usize)
            .and_then(|t| t.get_mut(partition.0 as usize))
        else {
            return Vec::new();
        };
        task.failures += 1;
        task.failed_on.insert(executor);
        task.state = TaskState::Pending { since_ms: now };
        if task.failures >= run.spec.max_attempts {
            let kind = run.plan.stages[stage.0 as usize].kind.name();
            let error = format!(
                "{kind} task {} of {job} failed {} times; last attempt: {error}",
                partition.0, task.failures
            );
            return self.finish(job, JobOutcome::Failed { error });
        }
        task.last_error = Some(error);
        Vec::new()
    }

    fn recompute_map_output(&mut self, job: JobId, map: Partition, now: u64) -> Vec<Decision> {
        let mut out = Vec::new();
        let Some(run) = self.jobs.get_mut(&job) else {
            return out;
        };
        // Every map output on the same datanode is presumed lost with it (found at once, rather than by
        // one failed fetch each).
        let lost_addr = match run.tasks[0].get(map.0 as usize).map(|t| &t.state) {
            Some(TaskState::Done {
                result: TaskResult::Map(o),
            }) => Some(o.addr.clone()),
            _ => None,
        };
        for (p, task) in run.tasks[0].iter_mut().enumerate() {
            let lost = match &task.state {
                TaskState::Done {
                    result: TaskResult::Map(o),
                } => p == map.0 as usize || Some(&o.addr) == lost_addr.as_ref(),
                _ => false,
            };
            if lost {
                task.state = TaskState::Pending { since_ms: now };
                run.stats[0].done -= 1;
                if task.node_local {
                    run.stats[0].node_local -= 1;
                }
            }
        }
        if run.current > 0 {
            // Back to the map stage; the reduce stage's running attempts read the lost output too.
            let current = run.current;
            run.current = 0;
            for (p, t) in run.tasks[current].iter_mut().enumerate() {
                if let TaskState::Running { attempt, executor, .. } = t.state {
                    let a = AttemptRef {
                        job,
                        stage: StageId(current as u32),
                        partition: Partition(p as u32),
                        attempt,
                    };
                    out.push(Decision::Cancel { executor, attempt: a });
                    if let Some(e) = self.executors.get_mut(&executor) {
                        e.running.remove(&a);
                    }
                    run.stats[current].running -= 1;
                    t.state = TaskState::Pending { since_ms: now };
                }
            }
        }
        out
    }

    fn stage_done(&mut self, job: JobId, now: u64) -> Vec<Decision> {
        let run = self.jobs.get_mut(&job).expect("caller checked");
        let i = run.current;
        let results = run.tasks[i].iter().map(|t| match &t.state {
            TaskState::Done { result } => result.clone(),
            _ => unreachable!("every task is done"),
        });
        let result = match run.plan.stages[i].kind {
            StageKind::Commit => {
                let mut out = vec![Decision::StageDone {
                    job,
                    stage: StageId(i as u32),
                    result: StageResult::Committed,
                    stats: run.stats[i].clone(),
                }];
                out.extend(self.finish(job, JobOutcome::Succeeded));
                return out;
            }
            StageKind::Map if run.spec.reduce.is_some() => {
                let outs: Vec<MapOutputLoc> = results
                    .filter_map(|r| match r {
                        TaskResult::Map(o) => Some(o),
                        _ => None,
                    })
                    .collect();
                run.map_outputs = outs.clone();
                StageResult::Map(outs)
            }
            _ => StageResult::Files(
                results
                    .filter_map(|r| match r {
                        TaskResult::Written { temp_path } => Some(temp_path),
                        _ => None,
                    })
                    .collect(),
            ),
        };
        let stats = run.stats[i].clone();
        run.current += 1;
        // The next stage may already be done (its tasks finished before a map output was recomputed).
        let next_done = run.tasks[run.current]
            .iter()
            .all(|t| matches!(t.state, TaskState::Done { .. }));
        for t in run.tasks[run.current].iter_mut() {
            if let TaskState::Pending { since_ms } = &mut t.state {
                *since_ms = now;
            }
        }
        let mut out = vec![Decision::StageDone {
            job,
            stage: StageId(i as u32),
            result,
            stats,
        }];
        if next_done {
            out.extend(self.stage_done(job, now));
        }
        out
    }

    fn finish(&mut self, job: JobId, outcome: JobOutcome) -> Vec<Decision> {
        let Some(run) = self.jobs.remove(&job) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (si, tasks) in run.tasks.iter().enumerate() {
            for (p, t) in tasks.iter().enumerate() {
                if let TaskState::Running { attempt, executor, .. } = t.state {
                    let a = AttemptRef {
                        job,
                        stage: StageId(si as u32),
                        partition: Partition(p as u32),
                        attempt,
                    };
                    if let Some(e) = self.executors.get_mut(&executor) {
                        e.running.remove(&a);
                    }
                    out.push(Decision::Cancel { executor, attempt: a });
                }
            }
        }
        let mut shuffle: Vec<String> = run.map_outputs.iter().map(|o| o.addr.clone()).collect();
        for t in &run.tasks[0] {
            if let TaskState::Done {
                result: TaskResult::Map(o),
            } = &t.state
            {
                shuffle.push(o.addr.clone());
            }
        }
        shuffle.sort();
        shuffle.dedup();
        out.push(Decision::JobDone {
            job,
            outcome,
            counters: run.counters,
            shuffle_datanodes: shuffle,
        });
        out
    }

    /// Places pending tasks of every job's current stage, oldest job first.
    fn assign(&mut self, now: u64) -> Vec<Decision> {
        let mut out = Vec::new();
        let job_ids: Vec<JobId> = self.jobs.keys().copied().collect();
        for job in job_ids {
            let run = self.jobs.get_mut(&job).expect("listed");
            let si = run.current;
            if si >= run.tasks.len() {
                continue;
            }
            for p in 0..run.tasks[si].len() {
                let TaskState::Pending { since_ms } = run.tasks[si][p].state else {
                    continue;
                };
                let preferred = &run.plan.stages[si].tasks[p].preferred;
                let failed_on = &run.tasks[si][p].failed_on;
                let free: Vec<(&ExecutorId, &ExecutorState)> = self
                    .executors
                    .iter()
                    .filter(|(_, e)| (e.running.len() as u32) < e.info.slots)
                    .collect();
                if free.is_empty() {
                    return out;
                }
                let fresh = |e: &&(&ExecutorId, &ExecutorState)| !failed_on.contains(e.0);
                let local = free
                    .iter()
                    .filter(fresh)
                    .find(|(_, e)| preferred.contains(&e.info.datanode));
                // Waiting for a local slot makes sense only if an executor the task has not failed on
                // is local to the data.
                let can_be_local = self
                    .executors
                    .iter()
                    .any(|(id, e)| !failed_on.contains(id) && preferred.contains(&e.info.datanode));
                let waited = now.saturating_sub(since_ms) >= self.cfg.locality_wait_ms;
                let chosen = match local {
                    Some((id, _)) => Some((**id, true)),
                    None if preferred.is_empty() || !can_be_local || waited => free
                        .iter()
                        .find(fresh)
                        .or_else(|| (failed_on.len() >= self.executors.len()).then(|| &free[0]))
                        .map(|(id, e)| (**id, preferred.contains(&e.info.datanode))),
                    None => None,
                };
                let Some((executor, node_local)) = chosen else {
                    continue;
                };
                run.next_attempt += 1;
                let attempt = AttemptId(run.next_attempt);
                let a = AttemptRef {
                    job,
                    stage: StageId(si as u32),
                    partition: Partition(p as u32),
                    attempt,
                };
                let info = &self.executors[&executor].info;
                let task = describe(run, a, info);
                let t = &mut run.tasks[si][p];
                t.state = TaskState::Running {
                    attempt,
                    executor,
                    started_ms: now,
                };
                t.node_local = node_local;
                run.stats[si].running += 1;
                self.executors.get_mut(&executor).expect("chosen").running.insert(a);
                out.push(Decision::Launch {
                    executor,
                    task: Box::new(task),
                });
            }
        }
        out
    }
}
