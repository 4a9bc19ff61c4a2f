//! What a coordinated read or write can fail with, in Cassandra's terms (the CQL protocol maps these
//! one to one onto its error codes).

use basalt_common::{DatanodeId, ErrorKind};
use basalt_table::Consistency;

/// Cassandra's write types, reported in a write timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteType {
    Simple,
    Batch,
    UnloggedBatch,
    BatchLog,
}

impl WriteType {
    pub fn name(self) -> &'static str {
        match self {
            WriteType::Simple => "SIMPLE",
            WriteType::Batch => "BATCH",
            WriteType::UnloggedBatch => "UNLOGGED_BATCH",
            WriteType::BatchLog => "BATCH_LOG",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CoordinatorError {
    #[error("Cannot achieve consistency level {consistency}: {required} replicas required but only {alive} alive")]
    Unavailable {
        consistency: Consistency,
        required: usize,
        alive: usize,
    },
    #[error(
        "Operation timed out - received only {received} responses (write at {consistency}, {block_for} required, {})",
        write_type.name()
    )]
    WriteTimeout {
        consistency: Consistency,
        received: usize,
        block_for: usize,
        write_type: WriteType,
    },
    #[error(
        "Operation timed out - received only {received} responses (read at {consistency}, {block_for} required, data {})",
        if *data_present { "present" } else { "missing" }
    )]
    ReadTimeout {
        consistency: Consistency,
        received: usize,
        block_for: usize,
        data_present: bool,
    },
    #[error("consistency level {consistency} cannot be used for {operation}")]
    BadConsistency {
        consistency: Consistency,
        operation: &'static str,
    },
    /// A replica refused the request for a reason of its own (not a transport failure).
    #[error("replica {node} refused: {message}")]
    Replica {
        node: DatanodeId,
        kind: ErrorKind,
        message: String,
    },
    #[error("the ring has no datanodes yet")]
    EmptyRing,
}

impl CoordinatorError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            CoordinatorError::Unavailable { .. }
            | CoordinatorError::WriteTimeout { .. }
            | CoordinatorError::ReadTimeout { .. }
            | CoordinatorError::EmptyRing => ErrorKind::Unavailable,
            CoordinatorError::BadConsistency { .. } => ErrorKind::Invalid,
            CoordinatorError::Replica { kind, .. } => *kind,
        }
    }
}
