//! The namenode's metrics (`GET /metrics` on its HTTP port): one [`basalt_metrics::Metrics`] registry
//! per member, held by [`Core`].
//!
//! Counted where they happen: gRPC requests (the layer on the server, [`NamenodeMetrics::rpc`]),
//! proposal batch sizes ([`crate::service::proposer`]), leader changes ([`count_leader_changes`]).
//! Read at scrape time from the state the member keeps anyway ([`CoreReadings`]): Raft term and
//! indexes, the datanodes, replication and deletion queues, healing, namespace sizes, and the job
//! scheduler's tasks ([`crate::scheduler::JobScheduler::task_counts`]).

use crate::service::Core;
use basalt_metrics::rpc::RpcMetrics;
use basalt_metrics::{Counter, Histogram, Metrics, Readings, Readout, exponential_buckets};
use std::sync::{Arc, Weak};
use std::time::Instant;
use tokio::sync::watch;

/// The registry of one member and the metrics counted where events happen.
#[derive(Debug, Clone)]
pub struct NamenodeMetrics {
    pub registry: Metrics,
    pub rpc: RpcMetrics,
    /// Requests per proposed log entry.
    pub batch_sizes: Histogram,
    pub leader_changes: Counter,
    /// When this member started (its uptime in the web UI).
    pub started: Instant,
}

impl Default for NamenodeMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl NamenodeMetrics {
    pub fn new() -> Self {
        let registry = Metrics::new();
        let rpc = RpcMetrics::register(&registry);
        let batch_sizes = Histogram::new(exponential_buckets(1.0, 2.0, 9));
        registry.register(
            "raft_proposal_batch_size",
            "Client requests per proposed Raft log entry (group commit).",
            batch_sizes.clone(),
        );
        let leader_changes = Counter::default();
        registry.register(
            "raft_leader_changes",
            "Times this member saw the metadata group's leader change.",
            leader_changes.clone(),
        );
        NamenodeMetrics {
            registry,
            rpc,
            batch_sizes,
            leader_changes,
            started: Instant::now(),
        }
    }

    /// Registers the values read from `core` at every scrape (a weak reference: the registry lives in
    /// the core).
    pub fn watch_core(&self, core: &Arc<Core>) {
        self.registry.collect(CoreReadings(Arc::downgrade(core)));
    }
}

/// Counts leader changes from openraft's metrics watch until `stop`: each time this member learns
/// of a new leader, the first one since it started included (whether that was before this task ran
/// or not), so a fresh member counts 1.
pub async fn count_leader_changes(core: Arc<Core>, mut stop: watch::Receiver<bool>) {
    let mut rx = core.raft.metrics();
    let mut leader = None;
    loop {
        let now = rx.borrow_and_update().current_leader;
        if now.is_some() && now != leader {
            core.metrics.leader_changes.inc();
            leader = now;
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            changed = rx.changed() => if changed.is_err() { return },
        }
    }
}

/// Values of a member read at scrape time.
#[derive(Debug)]
struct CoreReadings(Weak<Core>);

impl Readings for CoreReadings {
    fn read(&self, out: &mut Readout) {
        let Some(core) = self.0.upgrade() else { return };
        let me = crate::service::admin::self_status(&core);
        out.gauge("raft_term", "Current Raft term.", &[], me.term as f64);
        out.gauge(
            "raft_commit_index",
            "Commit index (on a follower: its applied index).",
            &[],
            me.commit_index as f64,
        );
        out.gauge(
            "raft_applied_index",
            "Last applied log index.",
            &[],
            me.applied_index as f64,
        );
        out.gauge("raft_last_log_index", "Last log index.", &[], me.last_log_index as f64);
        out.gauge(
            "raft_is_leader",
            "1 while this member leads.",
            &[],
            f64::from(me.role == "leader"),
        );

        let (files, directories, blocks) = core.state().namespace.counts();
        out.gauge("namespace_files", "Files in the namespace.", &[], files as f64);
        out.gauge(
            "namespace_directories",
            "Directories in the namespace.",
            &[],
            directories as f64,
        );
        out.gauge(
            "namespace_blocks",
            "Blocks of the namespace's files.",
            &[],
            blocks as f64,
        );

        let now = Instant::now();
        let (live, dead, replications, deletions, healing) = {
            let bm = core.blocks();
            let nodes = bm.nodes(now);
            let live = nodes.iter().filter(|(_, l)| *l).count();
            let (replications, deletions) = bm.queue_lengths();
            (live, nodes.len() - live, replications, deletions, bm.healing_counts())
        };
        let dn = "Datanodes known to this member, by state.";
        out.gauge("datanodes", dn, &[("state", "live")], live as f64);
        out.gauge("datanodes", dn, &[("state", "dead")], dead as f64);
        let q = "Work queued for datanodes' next heartbeats: block copies and replica deletions.";
        out.gauge(
            "block_queue_length",
            q,
            &[("queue", "replication")],
            replications as f64,
        );
        out.gauge("block_queue_length", q, &[("queue", "deletion")], deletions as f64);
        let (in_flight, copies_done, corrupt) = healing;
        let last = core.last_round.lock().expect("round lock poisoned").clone();
        let b = "Blocks by health, as of the replication monitor's last pass (corrupt: now).";
        out.gauge(
            "blocks_health",
            b,
            &[("state", "under_replicated")],
            last.under_replicated as f64,
        );
        out.gauge("blocks_health", b, &[("state", "missing")], last.missing as f64);
        out.gauge("blocks_health", b, &[("state", "corrupt")], corrupt as f64);
        out.gauge(
            "healing_copies_in_flight",
            "Block copies scheduled and not yet reported.",
            &[],
            in_flight as f64,
        );
        out.counter(
            "healing_copies_done",
            "Blocks brought back to their replication factor by copies (since this member started).",
            &[],
            copies_done as f64,
        );
        let (_, recovered) = core.leases.lock().expect("lease lock poisoned").counts();
        out.counter(
            "lease_recoveries",
            "Files recovered after their writer's lease expired.",
            &[],
            recovered as f64,
        );
        let safe_mode = core.safe_mode.lock().expect("safe mode lock poisoned").is_on();
        out.gauge("safe_mode", "1 while in safe mode.", &[], f64::from(safe_mode));
    }
}

/// The scheduler's tasks, read at scrape time (registered once the scheduler exists).
#[derive(Debug)]
pub struct SchedulerReadings(pub Weak<crate::scheduler::JobScheduler>);

impl Readings for SchedulerReadings {
    fn read(&self, out: &mut Readout) {
        let Some(sched) = self.0.upgrade() else { return };
        let (running, queued, executors) = sched.task_counts();
        let t = "Tasks of the jobs this leader runs, by state.";
        out.gauge("scheduler_tasks", t, &[("state", "running")], running as f64);
        out.gauge("scheduler_tasks", t, &[("state", "queued")], queued as f64);
        out.gauge(
            "scheduler_executors",
            "Executors heard from by this leader.",
            &[],
            executors as f64,
        );
    }
}
