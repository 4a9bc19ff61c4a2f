//! Commands of the file namespace and their results. Every field the apply needs (times included) is in
//! the command, so applying the same log yields the same namespace on every member.
//!
//! Evolving: a new field gets `#[serde(default)]`, a new command is a new variant at the end; nothing is
//! renamed or removed (the log and snapshots name fields and variants, see `state::codec`).

use super::types::{BlockMeta, Perm};
use basalt_common::{BPath, BlockId, DatanodeId, InodeId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FsCommand {
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
    /// Sets the 12 low mode bits (state version 6).
    SetPermission {
        path: BPath,
        mode: u32,
    },
    /// Changes the owner and/or the group (`None` keeps it; state version 6).
    SetOwner {
        path: BPath,
        owner: Option<String>,
        group: Option<String>,
    },
    /// Sets the modification and/or access time (`None` keeps it; state version 6). A directory keeps
    /// no access time.
    SetTimes {
        path: BPath,
        mtime_ms: Option<u64>,
        atime_ms: Option<u64>,
    },
}

impl FsCommand {
    pub fn name(&self) -> &'static str {
        match self {
            FsCommand::Mkdirs { .. } => "mkdirs",
            FsCommand::Create { .. } => "create",
            FsCommand::AddBlock { .. } => "add_block",
            FsCommand::UpdatePipeline { .. } => "update_pipeline",
            FsCommand::Append { .. } => "append",
            FsCommand::RecoverLease { .. } => "recover_lease",
            FsCommand::CommitRecovery { .. } => "commit_recovery",
            FsCommand::Complete { .. } => "complete",
            FsCommand::Rename { .. } => "rename",
            FsCommand::Delete { .. } => "delete",
            FsCommand::SetReplication { .. } => "set_replication",
            FsCommand::SetPermission { .. } => "set_permission",
            FsCommand::SetOwner { .. } => "set_owner",
            FsCommand::SetTimes { .. } => "set_times",
        }
    }

    /// The state version that introduced this command (`state::STATE_VERSION`).
    pub fn version(&self) -> u16 {
        match self {
            FsCommand::SetPermission { .. } | FsCommand::SetOwner { .. } | FsCommand::SetTimes { .. } => 6,
            _ => 3,
        }
    }
}

/// What a successfully applied namespace command returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FsOutput {
    Done,
    /// A file created or reopened for appending. Kept small (it is remembered for retries): the caller
    /// reads the file's status by `inode` once the command is applied.
    Created {
        inode: InodeId,
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
