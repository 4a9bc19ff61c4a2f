//! The jobs sub-machine: job records: spec, state, completed stages and where their outputs live (the jobs feature).
//!
//! An empty slot today, shaped like the others (state, commands, outputs, errors, queries), so that the
//! feature that fills it adds variants and fields here and nowhere else in the state layer.

use basalt_common::ErrorKind;
use serde::{Deserialize, Serialize};

/// The replicated jobs state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jobs {}

/// Commands of the jobs sub-machine (none yet).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobsCommand {}

impl JobsCommand {
    pub fn name(&self) -> &'static str {
        match *self {}
    }
}

/// What a successfully applied jobs command returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobsOutput {}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum JobsError {}

impl JobsError {
    pub fn kind(&self) -> ErrorKind {
        match *self {}
    }
}

impl Jobs {
    pub fn apply(&mut self, cmd: &JobsCommand) -> Result<JobsOutput, JobsError> {
        match *cmd {}
    }
}
