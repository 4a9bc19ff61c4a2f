//! Commands of the replicated log and their results. Every field the apply needs (times included) is in
//! the command, so applying the same log yields the same namespace on every member.

use super::error::NamespaceError;
use super::types::{AdminState, BlockMeta, DatanodeRecord, FileStatus, Perm};
use basalt_common::{BPath, BlockId, DatanodeId};
use serde::{Deserialize, Serialize};

/// Version of the command encoding; bumped on incompatible changes.
pub const COMMAND_VERSION: u16 = 2;

/// One entry of the metadata log: client requests proposed together (group commit), applied in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// The leader's wall clock when it proposed the batch: how long retries are remembered is measured
    /// with it (every member applies the same time, so the namespace stays deterministic).
    pub time_ms: u64,
    pub requests: Vec<Request>,
}

/// One client request in the metadata log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub version: u16,
    /// Client that sent the request and its request id: a retried request with the same pair returns
    /// the first result instead of being applied twice. `request_id == 0` disables the check.
    pub client: String,
    pub request_id: u64,
    pub command: Command,
}

impl Request {
    pub fn new(client: impl Into<String>, request_id: u64, command: Command) -> Self {
        Request {
            version: COMMAND_VERSION,
            client: client.into(),
            request_id,
            command,
        }
    }
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{} {}", self.client, self.request_id, self.command.name())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    Mkdirs {
        path: BPath,
        parents: bool,
        perm: Perm,
        mtime_ms: u64,
    },
    Create {
        path: BPath,
        overwrite: bool,
        create_parent: bool,
        replication: u32,
        block_size: u64,
        perm: Perm,
        mtime_ms: u64,
    },
    /// Allocates the next block of a file under construction; `previous` is the last block as the writer
    /// finished it (its final length).
    AddBlock {
        path: BPath,
        previous: Option<BlockMeta>,
        /// The datanodes chosen for the block's write pipeline.
        pipeline: Vec<DatanodeId>,
    },
    /// Pipeline recovery: the writer lost pipeline nodes mid-block and goes on with `pipeline`; the last
    /// block gets a new generation stamp, so replicas left on the lost nodes are recognisably stale.
    UpdatePipeline {
        path: BPath,
        block: BlockId,
        pipeline: Vec<DatanodeId>,
    },
    /// Reopens a closed file for appending (the data goes into new blocks).
    Append {
        path: BPath,
        mtime_ms: u64,
    },
    /// Lease recovery, step one: the writer's lease expired. The namenode takes the lease over
    /// ([`RECOVERY_HOLDER`](super::types::RECOVERY_HOLDER)) and the last block gets a new generation stamp,
    /// which fences the old writer out of the datanodes.
    RecoverLease {
        path: BPath,
        /// The holder whose lease expired: a file meanwhile reopened by another writer is left alone.
        holder: String,
    },
    /// Lease recovery, step two: the last block as its replicas agreed (`None`: it had no replica left and
    /// is dropped); the file is closed.
    CommitRecovery {
        path: BPath,
        last: Option<BlockMeta>,
        mtime_ms: u64,
    },
    /// Starts or ends a datanode's decommission. With `from`, only if the node is still in that state.
    SetAdminState {
        datanode: DatanodeId,
        state: AdminState,
        from: Option<AdminState>,
    },
    /// Closes a file: records the last block's length and releases the lease.
    Complete {
        path: BPath,
        last: Option<BlockMeta>,
        mtime_ms: u64,
    },
    Rename {
        src: BPath,
        dst: BPath,
        mtime_ms: u64,
    },
    Delete {
        path: BPath,
        recursive: bool,
        mtime_ms: u64,
    },
    SetReplication {
        path: BPath,
        replication: u32,
    },
    RegisterDatanode(DatanodeRecord),
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Mkdirs { .. } => "mkdirs",
            Command::Create { .. } => "create",
            Command::AddBlock { .. } => "add_block",
            Command::UpdatePipeline { .. } => "update_pipeline",
            Command::Append { .. } => "append",
            Command::RecoverLease { .. } => "recover_lease",
            Command::CommitRecovery { .. } => "commit_recovery",
            Command::SetAdminState { .. } => "set_admin_state",
            Command::Complete { .. } => "complete",
            Command::Rename { .. } => "rename",
            Command::Delete { .. } => "delete",
            Command::SetReplication { .. } => "set_replication",
            Command::RegisterDatanode(_) => "register_datanode",
        }
    }
}

/// What a successfully applied command returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Output {
    Done,
    Created {
        status: FileStatus,
        replaced_blocks: Vec<BlockMeta>,
    },
    Block {
        block: BlockMeta,
        offset: u64,
        replication: u32,
    },
    Deleted {
        blocks: Vec<BlockMeta>,
    },
    /// A lease recovery began: the last block (at its new generation stamp) and where it was written.
    Recovery {
        last: Option<BlockMeta>,
        pipeline: Vec<DatanodeId>,
    },
}

/// The result of applying one log entry (what the Raft client receives).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response(pub Result<Output, NamespaceError>);
