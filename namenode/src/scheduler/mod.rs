//! The job scheduler: a background worker of the metadata leader around the pure core
//! ([`basalt_jobs::sched::Scheduler`]), and the `JobProtocol` service ([`service`]) for clients and
//! executors.
//!
//! # Phases of one round (every [`TICK`], or at once when woken)
//! 1. **Leadership.** A member that does not lead holds no core. A member that becomes leader passes a
//!    read barrier (its state holds every committed job record), then builds a core and adds every
//!    running job from its record, skipping the recorded stages; attempt numbers start at
//!    `term × 100000`, above any attempt of an earlier leader.
//! 2. **Sync with the records.** A running record the core lacks (just submitted) is added; a job the
//!    core runs whose record is final (killed) is dropped and its attempts cancelled.
//! 3. **Tick** the core: lost executors, timeouts, placement. Launches and cancels go to the
//!    executors' outboxes, delivered with their next heartbeat reply.
//! 4. **Record** what the core decided, in order, through the log: a stage's result
//!    (`StageCompleted`), a job's end (`Finish`); then remove the ended job's shuffle files from the
//!    datanodes that hold them (best effort: a datanode that is down keeps them until it is asked again).
//!
//! Executor heartbeats ([`JobScheduler::heartbeat`]) feed the core directly, under the same lock (held
//! for bounded work only: a few events), and return the executor's outbox.

pub mod service;

use crate::service::{Core, ServiceError, now_ms};
use crate::state::jobs::JobsCommand;
use basalt_common::DatanodeId;
use basalt_jobs::ids::AttemptRef;
use basalt_jobs::sched::{Decision, ExecutorInfo, JobOutcome, SchedConfig, Scheduler};
use basalt_jobs::status::{ExecutorView, StageView};
use basalt_jobs::task::{TaskDescriptor, TaskReport};
use basalt_jobs::{ExecutorId, JobId};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};

/// How often the worker runs a round when nothing wakes it.
pub const TICK: Duration = Duration::from_millis(100);

#[derive(Default)]
struct Outbox {
    launch: Vec<TaskDescriptor>,
    cancel: Vec<AttemptRef>,
}

struct Inner {
    /// The core, while this member leads (and has loaded the records).
    core: Option<Scheduler>,
    term: u64,
    outboxes: HashMap<ExecutorId, Outbox>,
    /// Decisions to record through the log, in order.
    to_record: VecDeque<Decision>,
    /// Jobs the core has ended whose `Finish` is not applied yet (not to be added again meanwhile).
    finishing: HashSet<JobId>,
}

/// The leader's scheduler: shared by the worker and the service.
pub struct JobScheduler {
    core: Arc<Core>,
    config: SchedConfig,
    inner: Mutex<Inner>,
    wake: Notify,
}

/// What an executor's heartbeat returns.
pub struct HeartbeatReply {
    pub launch: Vec<TaskDescriptor>,
    pub cancel: Vec<AttemptRef>,
    pub datanode_addr: String,
}

/// An executor's heartbeat, as the service decoded it.
pub struct Heartbeat {
    pub id: ExecutorId,
    pub host: String,
    pub host_id: String,
    pub datanode_addr: String,
    pub slots: u32,
    pub running: Vec<AttemptRef>,
    pub reports: Vec<TaskReport>,
    /// Where it serves `/metrics` ("" for nowhere).
    pub http_addr: String,
}

impl JobScheduler {
    pub fn new(core: Arc<Core>) -> Arc<Self> {
        let config = SchedConfig {
            locality_wait_ms: core.config.locality_wait.as_millis() as u64,
            executor_timeout_ms: core.config.executor_timeout.as_millis() as u64,
        };
        Arc::new(JobScheduler {
            core,
            config,
            inner: Mutex::new(Inner {
                core: None,
                term: 0,
                outboxes: HashMap::new(),
                to_record: VecDeque::new(),
                finishing: HashSet::new(),
            }),
            wake: Notify::new(),
        })
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().expect("scheduler lock poisoned")
    }

    /// Runs rounds until `stop`.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                _ = tokio::time::sleep(TICK) => {}
                _ = self.wake.notified() => {}
            }
            if let Err(e) = self.round().await {
                tracing::debug!(error = %e, "scheduler round");
            }
        }
    }

    /// Wakes the worker (a job was submitted or killed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    async fn round(&self) -> Result<(), ServiceError> {
        let m = self.core.raft.metrics().borrow().clone();
        if m.current_leader != Some(self.core.config.id) {
            let mut inner = self.inner();
            inner.core = None;
            inner.outboxes.clear();
            inner.to_record.clear();
            return Ok(());
        }
        let need_load = {
            let inner = self.inner();
            inner.core.is_none() || inner.term != m.current_term
        };
        if need_load {
            self.core.read_barrier().await?;
            let mut inner = self.inner();
            inner.core = Some(Scheduler::new(self.config.clone()));
            inner.term = m.current_term;
            inner.outboxes.clear();
            inner.to_record.clear();
            inner.finishing.clear();
            tracing::info!(term = m.current_term, "job scheduler started on this leader");
        }
        let now = now_ms();
        {
            let state = self.core.state();
            let mut inner = self.inner();
            let first_attempt = (inner.term.min(40_000) as u32) * 100_000;
            let Inner {
                core,
                outboxes,
                finishing,
                ..
            } = &mut *inner;
            let core = core.as_mut().expect("loaded");
            let mut cancels = Vec::new();
            finishing.retain(|j| state.meta.jobs.get(*j).is_some_and(|r| !r.state.is_final()));
            for rec in state.meta.jobs.running() {
                if !core.has_job(rec.id) && !finishing.contains(&rec.id) {
                    let done: Vec<_> = rec.stages.iter().map(|s| s.result.clone()).collect();
                    core.add_job(rec.id, rec.spec.clone(), &done, first_attempt, now);
                    tracing::info!(job = %rec.id, resumed_stages = done.len(), "job scheduled");
                }
            }
            for job in core.job_ids() {
                let final_state = state.meta.jobs.get(job).is_none_or(|r| r.state.is_final());
                if final_state {
                    cancels.extend(core.kill(job).into_iter().filter_map(|d| match d {
                        Decision::JobDone { shuffle_datanodes, .. } => {
                            self.delete_shuffle(job, shuffle_datanodes);
                            None
                        }
                        d => Some(d),
                    }));
                }
            }
            drop(state);
            let decisions = core.tick(now);
            let to_record = dispatch(outboxes, finishing, cancels.into_iter().chain(decisions));
            inner.to_record.extend(to_record);
        }
        self.record().await
    }

    /// Proposes the decisions queued for the log, in order.
    async fn record(&self) -> Result<(), ServiceError> {
        loop {
            let Some(d) = self.inner().to_record.pop_front() else {
                return Ok(());
            };
            match d {
                Decision::StageDone {
                    job,
                    stage,
                    result,
                    stats,
                } => {
                    let cmd = JobsCommand::StageCompleted {
                        job,
                        stage,
                        result,
                        stats,
                    };
                    if let Err(e) = self.core.propose("scheduler", 0, cmd).await {
                        tracing::warn!(%job, %stage, error = %e, "recording a stage failed");
                    }
                }
                Decision::JobDone {
                    job,
                    outcome,
                    counters,
                    shuffle_datanodes,
                } => {
                    let what = match &outcome {
                        JobOutcome::Succeeded => "succeeded".to_string(),
                        JobOutcome::Failed { error } => format!("failed: {error}"),
                        JobOutcome::Killed => "killed".to_string(),
                    };
                    let cmd = JobsCommand::Finish { job, outcome, counters };
                    match self.core.propose("scheduler", 0, cmd).await {
                        Ok(_) => tracing::info!(%job, "job {what}"),
                        Err(e) => {
                            // Run it again from its record (or let the next leader do so).
                            self.inner().finishing.remove(&job);
                            tracing::warn!(%job, error = %e, "recording a job's end failed");
                        }
                    }
                    self.delete_shuffle(job, shuffle_datanodes);
                }
                Decision::Launch { .. } | Decision::Cancel { .. } => {}
            }
        }
    }

    /// Asks each datanode in `addrs` to remove the job's shuffle files (in the background).
    fn delete_shuffle(&self, job: JobId, addrs: Vec<String>) {
        let connector = self.core.connector.clone();
        tokio::spawn(async move {
            for addr in addrs {
                if let Err(e) = service::delete_shuffle(&connector, &addr, job).await {
                    tracing::debug!(%job, %addr, error = %e, "shuffle cleanup");
                }
            }
        });
    }

    /// The datanode an executor's shuffle output goes to: the live one it names, else a live one on its
    /// host (lowest id).
    fn pair(&self, datanode_addr: &str, host_id: &str) -> Option<(DatanodeId, String)> {
        let blocks = self.core.blocks();
        let nodes = blocks.nodes(Instant::now());
        let live = || nodes.iter().filter(|(_, live)| *live).map(|(n, _)| &n.record);
        let found = if datanode_addr.is_empty() {
            live().find(|r| !host_id.is_empty() && r.host_id == host_id)
        } else {
            live().find(|r| r.addr == datanode_addr)
        };
        found.map(|r| (r.id, r.addr.clone()))
    }

    /// An executor's heartbeat: its reports and state go to the core; its outbox comes back.
    pub fn heartbeat(&self, hb: Heartbeat) -> Result<HeartbeatReply, ServiceError> {
        self.core.require_leader()?;
        let paired = self.pair(&hb.datanode_addr, &hb.host_id);
        let now = now_ms();
        let mut inner = self.inner();
        let Inner {
            core,
            outboxes,
            to_record,
            finishing,
            ..
        } = &mut *inner;
        let core = core.as_mut().ok_or(ServiceError::SchedulerStarting)?;
        let mut decisions = Vec::new();
        let addr = match paired {
            Some((datanode, addr)) => {
                let info = ExecutorInfo {
                    host: hb.host.clone(),
                    datanode,
                    datanode_addr: addr.clone(),
                    slots: hb.slots,
                    http_addr: hb.http_addr.clone(),
                };
                decisions.extend(core.heartbeat(hb.id, info, &hb.running, now));
                addr
            }
            None => String::new(),
        };
        for report in hb.reports {
            decisions.extend(core.report(hb.id, report, now));
        }
        if !addr.is_empty() {
            decisions.extend(core.tick(now));
        }
        let record = dispatch(outboxes, finishing, decisions);
        let wake = !record.is_empty();
        to_record.extend(record);
        let out = outboxes.remove(&hb.id).unwrap_or_default();
        drop(inner);
        if wake {
            self.wake();
        }
        Ok(HeartbeatReply {
            launch: out.launch,
            cancel: out.cancel,
            datanode_addr: addr,
        })
    }

    pub fn executors(&self) -> Vec<ExecutorView> {
        self.inner()
            .core
            .as_ref()
            .map(|c| c.executors(now_ms()))
            .unwrap_or_default()
    }

    /// (running tasks, queued tasks, executors) of the jobs this leader runs; zeros elsewhere.
    pub fn task_counts(&self) -> (u64, u64, u64) {
        let inner = self.inner();
        let Some(core) = inner.core.as_ref() else {
            return (0, 0, 0);
        };
        let (mut running, mut queued) = (0u64, 0u64);
        for job in core.job_ids() {
            for s in core.stages(job).unwrap_or_default() {
                let st = &s.stats;
                running += u64::from(st.running);
                queued += u64::from(st.tasks.saturating_sub(st.done + st.running));
            }
        }
        (running, queued, core.executors(now_ms()).len() as u64)
    }

    /// The live stages and counters of a job this leader runs.
    pub fn live(&self, job: JobId) -> Option<(Vec<StageView>, BTreeMap<String, i64>)> {
        let inner = self.inner();
        let core = inner.core.as_ref()?;
        Some((core.stages(job)?, core.counters(job)?.clone()))
    }
}

/// Sends launches and cancels to the outboxes; returns the decisions to record (a job's end also
/// marks it finishing).
fn dispatch(
    outboxes: &mut HashMap<ExecutorId, Outbox>,
    finishing: &mut HashSet<JobId>,
    decisions: impl IntoIterator<Item = Decision>,
) -> Vec<Decision> {
    let mut record = Vec::new();
    for d in decisions {
        if let Decision::JobDone { job, .. } = &d {
            finishing.insert(*job);
        }
        match d {
            Decision::Launch { executor, task } => outboxes.entry(executor).or_default().launch.push(*task),
            Decision::Cancel { executor, attempt } => {
                let outbox = outboxes.entry(executor).or_default();
                // Not delivered yet: it never starts.
                let before = outbox.launch.len();
                outbox.launch.retain(|t| t.attempt != attempt);
                if outbox.launch.len() == before {
                    outbox.cancel.push(attempt);
                }
            }
            d => record.push(d),
        }
    }
    record
}
