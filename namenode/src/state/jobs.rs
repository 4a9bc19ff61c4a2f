//! The jobs sub-machine: job records (the spec, the state, the completed stages with where their
//! outputs live, the final result or error). A new leader resumes every running job from its record:
//! it re-plans the spec and skips the recorded stages. Task attempts are not here: they are the
//! leader's soft state (`crate::scheduler`).
//!
//! Commands: `Submit` (the spec, validated; the job gets the next id), `StageCompleted` (a stage's
//! result; a map stage recomputed after a lost output replaces its record and drops the later ones),
//! `Finish` (succeeded, failed with an error, or killed; final).

use basalt_common::ErrorKind;
use basalt_jobs::sched::{JobOutcome, StageResult};
use basalt_jobs::status::{JobState, JobSummary, StageStats};
use basalt_jobs::{JobId, JobSpec, SpecError, StageId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The replicated jobs state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jobs {
    #[serde(default)]
    last_id: u64,
    #[serde(default)]
    jobs: BTreeMap<JobId, JobRecord>,
}

/// One job as the metadata group keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    pub id: JobId,
    pub spec: Arc<JobSpec>,
    pub state: JobState,
    pub submitted_ms: u64,
    #[serde(default)]
    pub finished_ms: u64,
    /// Completed stages, in stage order.
    #[serde(default)]
    pub stages: Vec<StageRecord>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub counters: BTreeMap<String, i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRecord {
    pub stage: StageId,
    pub result: StageResult,
    pub stats: StageStats,
}

/// Commands of the jobs sub-machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobsCommand {
    Submit {
        spec: Arc<JobSpec>,
    },
    StageCompleted {
        job: JobId,
        stage: StageId,
        result: StageResult,
        stats: StageStats,
    },
    Finish {
        job: JobId,
        outcome: JobOutcome,
        counters: BTreeMap<String, i64>,
    },
}

impl JobsCommand {
    pub fn name(&self) -> &'static str {
        match self {
            JobsCommand::Submit { .. } => "submit job",
            JobsCommand::StageCompleted { .. } => "record stage",
            JobsCommand::Finish { .. } => "finish job",
        }
    }
}

/// What a successfully applied jobs command returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobsOutput {
    Submitted { job: JobId },
    Recorded,
    Finished { state: JobState },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum JobsError {
    #[error("no job {job}")]
    NoSuchJob { job: JobId },
    #[error("{job} has already {}", state.name())]
    AlreadyFinished { job: JobId, state: JobState },
    #[error(transparent)]
    InvalidSpec(#[from] SpecError),
    #[error("{job}: stage {stage} completed before stage {expected}")]
    StageOutOfOrder {
        job: JobId,
        stage: StageId,
        expected: StageId,
    },
}

impl JobsError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            JobsError::NoSuchJob { .. } => ErrorKind::NotFound,
            JobsError::AlreadyFinished { .. } => ErrorKind::Conflict,
            JobsError::InvalidSpec(e) => e.kind(),
            JobsError::StageOutOfOrder { .. } => ErrorKind::Conflict,
        }
    }
}

impl Jobs {
    pub fn apply(&mut self, cmd: &JobsCommand, now_ms: u64) -> Result<JobsOutput, JobsError> {
        match cmd {
            JobsCommand::Submit { spec } => {
                spec.validate()?;
                self.last_id += 1;
                let id = JobId(self.last_id);
                self.jobs.insert(
                    id,
                    JobRecord {
                        id,
                        spec: spec.clone(),
                        state: JobState::Running,
                        submitted_ms: now_ms,
                        finished_ms: 0,
                        stages: Vec::new(),
                        error: None,
                        counters: BTreeMap::new(),
                    },
                );
                Ok(JobsOutput::Submitted { job: id })
            }
            JobsCommand::StageCompleted {
                job,
                stage,
                result,
                stats,
            } => {
                let rec = self.running_mut(*job)?;
                let at = stage.0 as usize;
                if at > rec.stages.len() {
                    return Err(JobsError::StageOutOfOrder {
                        job: *job,
                        stage: *stage,
                        expected: StageId(rec.stages.len() as u32),
                    });
                }
                rec.stages.truncate(at);
                rec.stages.push(StageRecord {
                    stage: *stage,
                    result: result.clone(),
                    stats: stats.clone(),
                });
                Ok(JobsOutput::Recorded)
            }
            JobsCommand::Finish { job, outcome, counters } => {
                let rec = self.running_mut(*job)?;
                rec.state = match outcome {
                    JobOutcome::Succeeded => JobState::Succeeded,
                    JobOutcome::Failed { error } => {
                        rec.error = Some(error.clone());
                        JobState::Failed
                    }
                    JobOutcome::Killed => JobState::Killed,
                };
                rec.finished_ms = now_ms;
                rec.counters = counters.clone();
                Ok(JobsOutput::Finished { state: rec.state })
            }
        }
    }

    fn running_mut(&mut self, job: JobId) -> Result<&mut JobRecord, JobsError> {
        let rec = self.jobs.get_mut(&job).ok_or(JobsError::NoSuchJob { job })?;
        if rec.state.is_final() {
            return Err(JobsError::AlreadyFinished { job, state: rec.state });
        }
        Ok(rec)
    }

    pub fn get(&self, job: JobId) -> Option<&JobRecord> {
        self.jobs.get(&job)
    }

    /// Every job, oldest first.
    pub fn records(&self) -> impl Iterator<Item = &JobRecord> {
        self.jobs.values()
    }

    /// The jobs still running (what a new leader resumes).
    pub fn running(&self) -> impl Iterator<Item = &JobRecord> {
        self.jobs.values().filter(|r| r.state == JobState::Running)
    }
}

impl JobRecord {
    pub fn summary(&self) -> JobSummary {
        JobSummary {
            id: self.id,
            name: self.spec.name.clone(),
            user: self.spec.user.clone(),
            state: self.state,
            submitted_ms: self.submitted_ms,
            finished_ms: self.finished_ms,
            inputs: self.spec.inputs.clone(),
            output: self.spec.output.clone(),
            error: self.error.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_jobs::MapOp;

    fn spec() -> Arc<JobSpec> {
        Arc::new(JobSpec::new(
            "grep",
            vec!["/in".into()],
            "/out",
            MapOp::Grep { pattern: "x".into() },
            None,
        ))
    }

    #[test]
    fn a_job_is_submitted_recorded_and_finished_once() {
        let mut j = Jobs::default();
        let out = j.apply(&JobsCommand::Submit { spec: spec() }, 7).unwrap();
        assert_eq!(out, JobsOutput::Submitted { job: JobId(1) });
        let rec = |stage| JobsCommand::StageCompleted {
            job: JobId(1),
            stage: StageId(stage),
            result: StageResult::Files(vec!["/out/_temporary/part-00000.a1".into()]),
            stats: StageStats::default(),
        };
        assert!(matches!(j.apply(&rec(1), 8), Err(JobsError::StageOutOfOrder { .. })));
        j.apply(&rec(0), 8).unwrap();
        j.apply(&rec(0), 9).unwrap();
        assert_eq!(
            j.get(JobId(1)).unwrap().stages.len(),
            1,
            "a recomputed stage replaces its record"
        );
        assert_eq!(j.running().count(), 1);
        let fail = JobsCommand::Finish {
            job: JobId(1),
            outcome: JobOutcome::Failed { error: "boom".into() },
            counters: BTreeMap::new(),
        };
        assert_eq!(
            j.apply(&fail, 10).unwrap(),
            JobsOutput::Finished {
                state: JobState::Failed
            }
        );
        let again = j.apply(&fail, 11).unwrap_err();
        assert_eq!(again.kind(), ErrorKind::Conflict);
        assert_eq!(j.get(JobId(1)).unwrap().summary().error.as_deref(), Some("boom"));
        assert_eq!(j.running().count(), 0);
        let missing = j.apply(&rec(0), 12).unwrap_err();
        assert!(matches!(missing, JobsError::AlreadyFinished { .. }));
        let bad = Arc::new(JobSpec::new("x", vec![], "/o", MapOp::WordCount, None));
        assert_eq!(
            j.apply(&JobsCommand::Submit { spec: bad }, 13).unwrap_err().kind(),
            ErrorKind::Invalid
        );
    }
}
