//! The error enum of the namenode's services and of the work they drive (proposals, read-index rounds,
//! lease recovery). Every variant carries the ids, paths and sources needed to act on it; the
//! caller-facing [`ErrorKind`] is derived by one exhaustive match, and [`ServiceError::to_status`] is
//! the only way an error leaves the process over gRPC (with the leader's address for `NotLeader`).
//!
//! It is `Clone`: one failed read-index round or log batch answers every request waiting on it.

use crate::blocks::{SafeModeStatus, UnknownDatanode};
use crate::state::StateError;
use crate::state::namespace::{BlockMeta, FsOutput, NamespaceError};
use basalt_common::path::PathError;
use basalt_common::placement::PlacementError;
use basalt_common::{BPath, BlockId, DatanodeId, ErrorKind, InodeId};
use basalt_proto::RemoteError;
use openraft::BasicNode;
use openraft::error::{ChangeMembershipError, ClientWriteError, Fatal, QuorumNotEnough, RaftError};
use std::sync::Arc;
use std::time::Duration;
use tonic::Status;

/// Everything a namenode service call (or the namenode's own follow-up work) can fail with.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    // Where the request should go instead, or when to come back.
    #[error("{}", not_leader_message(*member, leader.as_deref()))]
    NotLeader { member: u64, leader: Option<String> },
    #[error("the namenode is in safe mode: {0}")]
    SafeMode(SafeModeStatus),
    #[error("no quorum of metadata members: {source}")]
    NoQuorum { source: Box<QuorumNotEnough<u64>> },
    #[error("metadata log stopped: {source}")]
    LogStopped { source: Box<Fatal<u64>> },
    #[error("no read-index quorum within {timeout:?}")]
    ReadIndexTimeout { timeout: Duration },
    #[error("the read-index round was dropped")]
    ReadIndexDropped,
    #[error("not committed within {timeout:?} (outcome unknown; a retry is safe)")]
    CommitTimeout { timeout: Duration },
    #[error("the proposal was dropped")]
    ProposalDropped,
    #[error("the namenode is shutting down")]
    ShuttingDown,
    #[error("membership change failed: another change is in progress: {source}")]
    MembershipInProgress { source: Box<ChangeMembershipError<u64>> },
    #[error("membership change failed: {source}")]
    MembershipRefused { source: Box<ChangeMembershipError<u64>> },
    #[error("member {to} did not take over within {secs} s")]
    TransferTimedOut { to: u64, secs: u64 },
    #[error("no snapshot covering the applied log was written within {secs} s")]
    SnapshotTimedOut { secs: u64 },

    // The request itself.
    #[error(transparent)]
    InvalidPath(#[from] PathError),
    #[error("{op} needs {what}")]
    MissingArgument { op: &'static str, what: &'static str },
    #[error("unknown datanode {id} in the pipeline")]
    UnknownPipelineNode { id: DatanodeId },
    /// A namespace call that does not say who makes it (`basalt-user` metadata): refused rather than
    /// guessed, since every permission check needs the caller.
    #[error("{op}: {source}")]
    NoCaller {
        op: &'static str,
        source: basalt_proto::caller::CallerError,
    },
    #[error(transparent)]
    Refused(#[from] StateError),
    #[error(transparent)]
    Namespace(#[from] NamespaceError),
    #[error(transparent)]
    Placement(#[from] PlacementError),
    #[error("datanode {id} left after it was chosen; retry")]
    ChosenDatanodeLeft { id: DatanodeId },
    #[error("{block} has not been reported by any datanode yet")]
    NotReported { block: BlockId },
    #[error(transparent)]
    NotRegistered(#[from] UnknownDatanode),
    #[error("member {id} is not a voter of the group")]
    NotAVoter { id: u64 },
    #[error("cannot remove the last member of the group")]
    LastMember,
    #[error("no datanode {name} (give its id or address, as `cluster status` lists them)")]
    NoSuchDatanode { name: String },
    #[error("fault injection is disabled on this member (start it with --fault-injection)")]
    FaultInjectionDisabled,
    #[error("malformed {what}: {source}")]
    MalformedCatalogValue {
        what: &'static str,
        source: Arc<basalt_table::catalog::CodecError>,
    },

    // Jobs.
    #[error("malformed {what}: {source}")]
    MalformedJobValue {
        what: &'static str,
        source: Arc<basalt_jobs::codec::CodecError>,
    },
    #[error("no job {job}")]
    UnknownJob { job: basalt_jobs::JobId },
    #[error("the scheduler is starting on this leader; retry")]
    SchedulerStarting,

    // Lease recovery, which the namenode drives against the datanodes.
    #[error("datanode {node} ({addr}) is unreachable: {source}")]
    DatanodeUnreachable {
        node: DatanodeId,
        addr: String,
        source: Arc<tonic::transport::Error>,
    },
    #[error("datanode {node} ({addr}): {source}")]
    DatanodeFailed {
        node: DatanodeId,
        addr: String,
        source: RemoteError,
    },
    #[error("{block}: no replica found yet and a holder did not answer")]
    NoReplicaYet { block: BlockId },
    #[error("{block}: no replica could be finalized")]
    NothingFinalized { block: BlockId },
    #[error("lease recovery of {path} gave up after {timeout:?}")]
    RecoveryTimedOut { path: BPath, timeout: Duration },

    // Bugs.
    #[error("internal error: the state machine answered {got} where {expected} was expected")]
    UnexpectedOutput { expected: &'static str, got: &'static str },
    #[error("internal error: {command} was answered by another sub-machine")]
    WrongSubMachine { command: &'static str },
    #[error("background task failed: {source}")]
    Task { source: Arc<tokio::task::JoinError> },
}

fn not_leader_message(member: u64, leader: Option<&str>) -> String {
    match leader {
        Some(l) => format!("member {member} is not the metadata leader; the leader is {l}"),
        None => format!("member {member} is not the metadata leader and no leader is known yet"),
    }
}

impl ServiceError {
    /// What a caller should do about this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ServiceError::NotLeader { .. } => ErrorKind::NotLeader,
            ServiceError::SafeMode(_) => ErrorKind::Unavailable,
            ServiceError::NoQuorum { .. } => ErrorKind::Unavailable,
            ServiceError::LogStopped { .. } => ErrorKind::Unavailable,
            ServiceError::ReadIndexTimeout { .. } => ErrorKind::Unavailable,
            ServiceError::ReadIndexDropped => ErrorKind::Unavailable,
            ServiceError::CommitTimeout { .. } => ErrorKind::Unavailable,
            ServiceError::ProposalDropped => ErrorKind::Unavailable,
            ServiceError::ShuttingDown => ErrorKind::Unavailable,
            ServiceError::MembershipInProgress { .. } => ErrorKind::Unavailable,
            ServiceError::MembershipRefused { .. } => ErrorKind::Conflict,
            ServiceError::TransferTimedOut { .. } => ErrorKind::Unavailable,
            ServiceError::SnapshotTimedOut { .. } => ErrorKind::Unavailable,
            ServiceError::InvalidPath(_) => ErrorKind::Invalid,
            ServiceError::MissingArgument { .. } => ErrorKind::Invalid,
            ServiceError::UnknownPipelineNode { .. } => ErrorKind::Invalid,
            ServiceError::NoCaller { .. } => ErrorKind::Invalid,
            ServiceError::Refused(e) => e.kind(),
            ServiceError::Namespace(e) => e.kind(),
            ServiceError::Placement(_) => ErrorKind::Capacity,
            ServiceError::ChosenDatanodeLeft { .. } => ErrorKind::Unavailable,
            ServiceError::NotReported { .. } => ErrorKind::Unavailable,
            ServiceError::NotRegistered(_) => ErrorKind::NotFound,
            ServiceError::NotAVoter { .. } => ErrorKind::NotFound,
            ServiceError::LastMember => ErrorKind::Invalid,
            ServiceError::NoSuchDatanode { .. } => ErrorKind::NotFound,
            ServiceError::FaultInjectionDisabled => ErrorKind::Invalid,
            ServiceError::MalformedCatalogValue { .. } => ErrorKind::Invalid,
            ServiceError::MalformedJobValue { .. } => ErrorKind::Invalid,
            ServiceError::UnknownJob { .. } => ErrorKind::NotFound,
            ServiceError::SchedulerStarting => ErrorKind::Unavailable,
            ServiceError::DatanodeUnreachable { .. } => ErrorKind::Unavailable,
            ServiceError::DatanodeFailed { source, .. } => source.kind,
            ServiceError::NoReplicaYet { .. } => ErrorKind::Unavailable,
            ServiceError::NothingFinalized { .. } => ErrorKind::Unavailable,
            ServiceError::RecoveryTimedOut { .. } => ErrorKind::Unavailable,
            ServiceError::UnexpectedOutput { .. } => ErrorKind::Internal,
            ServiceError::WrongSubMachine { .. } => ErrorKind::Internal,
            ServiceError::Task { .. } => ErrorKind::Internal,
        }
    }

    /// The leader's address a `NotLeader` error points to, when known.
    pub fn leader(&self) -> Option<&str> {
        match self {
            ServiceError::NotLeader { leader, .. } => leader.as_deref(),
            _ => None,
        }
    }

    /// The gRPC status for this error.
    pub fn to_status(&self) -> Status {
        basalt_proto::to_status(self.kind(), self.to_string(), self.leader())
    }

    /// A failed proposal to the log of member `member`.
    pub fn from_client_write(member: u64, e: RaftError<u64, ClientWriteError<u64, BasicNode>>) -> Self {
        match e {
            RaftError::APIError(ClientWriteError::ForwardToLeader(f)) => ServiceError::NotLeader {
                member,
                leader: f.leader_node.map(|n| n.addr),
            },
            RaftError::APIError(ClientWriteError::ChangeMembershipError(
                source @ ChangeMembershipError::InProgress(_),
            )) => ServiceError::MembershipInProgress {
                source: Box::new(source),
            },
            RaftError::APIError(ClientWriteError::ChangeMembershipError(source)) => ServiceError::MembershipRefused {
                source: Box::new(source),
            },
            RaftError::Fatal(source) => ServiceError::LogStopped {
                source: Box::new(source),
            },
        }
    }

    /// A blocking task (or a spawned one) that panicked or was cancelled.
    pub fn task(source: tokio::task::JoinError) -> Self {
        ServiceError::Task {
            source: Arc::new(source),
        }
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Self {
        e.to_status()
    }
}

/// A namespace command's output as the variant its command answers; any other variant is a bug,
/// reported as [`ServiceError::UnexpectedOutput`].
pub(crate) trait FsOutputExt: Sized {
    /// `Created`: the new (or reopened) file's inode and the blocks an overwrite freed.
    fn created(self) -> Result<(InodeId, Vec<BlockMeta>), ServiceError>;
    /// `Block`: a block of a file being written and its offset in the file.
    fn block(self) -> Result<(BlockMeta, u64), ServiceError>;
    /// `Recovery`: the last block at its new generation stamp and the pipeline that wrote it.
    fn recovery(self) -> Result<(Option<BlockMeta>, Vec<DatanodeId>), ServiceError>;
    /// The blocks a command freed (`Deleted`); nothing for a command that freed none (`Done`).
    fn freed(self) -> Result<Vec<BlockMeta>, ServiceError>;
}

/// The name of an output variant (for [`ServiceError::UnexpectedOutput`]).
fn variant(out: &FsOutput) -> &'static str {
    match out {
        FsOutput::Done => "Done",
        FsOutput::Created { .. } => "Created",
        FsOutput::Block { .. } => "Block",
        FsOutput::Deleted { .. } => "Deleted",
        FsOutput::Recovery { .. } => "Recovery",
    }
}

fn unexpected(expected: &'static str, got: &FsOutput) -> ServiceError {
    ServiceError::UnexpectedOutput {
        expected,
        got: variant(got),
    }
}

impl FsOutputExt for FsOutput {
    fn created(self) -> Result<(InodeId, Vec<BlockMeta>), ServiceError> {
        match self {
            FsOutput::Created { inode, replaced_blocks } => Ok((inode, replaced_blocks)),
            other => Err(unexpected("Created", &other)),
        }
    }

    fn block(self) -> Result<(BlockMeta, u64), ServiceError> {
        match self {
            FsOutput::Block { block, offset, .. } => Ok((block, offset)),
            other => Err(unexpected("Block", &other)),
        }
    }

    fn recovery(self) -> Result<(Option<BlockMeta>, Vec<DatanodeId>), ServiceError> {
        match self {
            FsOutput::Recovery { last, pipeline } => Ok((last, pipeline)),
            other => Err(unexpected("Recovery", &other)),
        }
    }

    fn freed(self) -> Result<Vec<BlockMeta>, ServiceError> {
        match self {
            FsOutput::Deleted { blocks } => Ok(blocks),
            FsOutput::Done => Ok(Vec::new()),
            other => Err(unexpected("Deleted or Done", &other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_carry_kind_message_and_leader() {
        let e = ServiceError::NotLeader {
            member: 2,
            leader: Some("10.0.0.1:8020".into()),
        };
        let remote = RemoteError::from(e.to_status());
        assert_eq!(remote.kind, ErrorKind::NotLeader);
        assert_eq!(remote.leader.as_deref(), Some("10.0.0.1:8020"));
        assert_eq!(
            remote.message,
            "member 2 is not the metadata leader; the leader is 10.0.0.1:8020"
        );
        let e = ServiceError::from(NamespaceError::NotFound {
            path: BPath::parse("/x").unwrap(),
        });
        assert_eq!(RemoteError::from(e.to_status()).kind, ErrorKind::NotFound);
        let e = ServiceError::SafeMode(SafeModeStatus {
            reported: 1,
            total: 4,
            threshold: 0.999,
        });
        let remote = RemoteError::from(Status::from(e));
        assert_eq!(remote.kind, ErrorKind::Unavailable);
        assert_eq!(
            remote.message,
            "the namenode is in safe mode: 1 of 4 blocks reported (needs 99.9%); retry shortly"
        );
    }

    #[test]
    fn stays_small_enough_to_return_everywhere() {
        // clippy's result_large_err limit; big sources are boxed.
        assert!(std::mem::size_of::<ServiceError>() <= 128);
    }

    #[test]
    fn outputs_of_another_variant_are_internal_errors() {
        let e = FsOutput::Done.block().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert_eq!(
            e.to_string(),
            "internal error: the state machine answered Done where Block was expected"
        );
        assert_eq!(FsOutput::Done.freed().unwrap(), Vec::new());
    }
}
