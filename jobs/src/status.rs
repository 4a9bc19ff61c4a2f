//! What `basalt job status` and `basalt job list` show: a job's replicated record joined with the
//! leader's live view of its tasks.

use crate::ids::{JobId, StageId};
use crate::plan::StageKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a job is in its life (the replicated part).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobState {
    Running,
    Succeeded,
    Failed,
    Killed,
}

impl JobState {
    pub fn name(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Killed => "killed",
        }
    }

    pub fn is_final(self) -> bool {
        self != JobState::Running
    }
}

/// Counts of one stage, live (from the leader) or final (from the record).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageStats {
    pub tasks: u32,
    pub done: u32,
    pub running: u32,
    /// Attempts that failed (retried or not).
    pub failed_attempts: u32,
    /// Tasks with preferred datanodes, and those of them that ran on an executor of such a host.
    pub with_preference: u32,
    pub node_local: u32,
    pub input_bytes: u64,
    pub shuffle_written: u64,
    pub shuffle_read: u64,
    pub output_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageView {
    pub stage: StageId,
    pub kind: StageKind,
    pub stats: StageStats,
}

/// One job as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSummary {
    pub id: JobId,
    pub name: String,
    pub user: String,
    pub state: JobState,
    pub submitted_ms: u64,
    pub finished_ms: u64,
    pub inputs: Vec<String>,
    pub output: String,
    /// Why it failed.
    pub error: Option<String>,
}

/// One job in detail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStatusView {
    pub summary: JobSummary,
    pub stages: Vec<StageView>,
    pub counters: BTreeMap<String, i64>,
}

/// An executor as `cluster status` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorView {
    pub id: crate::ids::ExecutorId,
    pub host: String,
    /// The datanode its shuffle output goes to (the one on its host).
    pub datanode_addr: String,
    pub slots: u32,
    /// Where it serves `/metrics` ("" for nowhere; older executors say nothing).
    #[serde(default)]
    pub http_addr: String,
    pub running: u32,
    pub last_seen_ms_ago: u64,
}
