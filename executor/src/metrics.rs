//! The executor's metrics (`GET /metrics` on `http`): one [`basalt_metrics::Metrics`] registry per
//! executor: task attempts started and ended by outcome (counted by the heartbeat loop), attempts
//! running, and the process metrics.

use basalt_jobs::task::TaskOutcome;
use basalt_metrics::{Counter, Family, Gauge, Metrics};

type OutcomeLabels = [(&'static str, String); 1];

/// The registry of one executor and its task counters.
#[derive(Debug, Clone)]
pub struct ExecutorMetrics {
    pub registry: Metrics,
    started: Counter,
    ended: Family<OutcomeLabels, Counter>,
    running: Gauge,
}

impl Default for ExecutorMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl ExecutorMetrics {
    pub fn new() -> Self {
        let registry = Metrics::new();
        let started = Counter::default();
        registry.register(
            "executor_tasks_started",
            "Task attempts started by this executor.",
            started.clone(),
        );
        let ended = Family::<OutcomeLabels, Counter>::default();
        // Both outcomes from the start (at 0): a family without samples is not exposed at all.
        for outcome in ["succeeded", "failed"] {
            let _ = ended.get_or_create(&[("outcome", outcome.to_string())]);
        }
        registry.register(
            "executor_tasks_ended",
            "Task attempts ended on this executor, by outcome (succeeded, failed).",
            ended.clone(),
        );
        let running = Gauge::default();
        registry.register(
            "executor_tasks_running",
            "Task attempts running on this executor.",
            running.clone(),
        );
        ExecutorMetrics {
            registry,
            started,
            ended,
            running,
        }
    }

    pub(crate) fn started(&self) {
        self.started.inc();
    }

    pub(crate) fn ended(&self, outcome: &TaskOutcome) {
        let name = match outcome {
            TaskOutcome::Succeeded(_) => "succeeded",
            TaskOutcome::Failed { .. } => "failed",
        };
        self.ended.get_or_create(&[("outcome", name.to_string())]).inc();
    }

    pub(crate) fn set_running(&self, n: usize) {
        self.running.set(n as i64);
    }
}
