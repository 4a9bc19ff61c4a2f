//! Format 2: the bincode encoding written by builds before the state sub-machines (one flat namespace
//! holding the datanodes too). Read-only and frozen: these types mirror the v2 layout field for field and
//! variant for variant (bincode is positional), and are upgraded to the current state on read.
//!
//! What an upgrade keeps: every inode, block, lease, generation stamp and id counter, the datanode
//! identities and admin states, the log entries (commands) and the Raft vote, membership and log ids.
//! What it drops: the request dedup window (its v2 results are not carried over; an upgrade is a restart
//! of every member, so no client retry spans it, see `deploy/README.md`).

use super::cluster::{AdminState, ClusterCommand, DatanodeRecord};
use super::namespace::types::{BLOCK_SIZE_UNIT, BlockSize};
use super::namespace::{BlockMeta, FileMeta, FsCommand, Lease, Namespace, Perm};
use super::{Batch, Command, MetaState, Request};
use crate::raft::{LogId, Membership, TypeConfig};
use basalt_common::{BPath, BlockId, DatanodeId, InodeId};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
#[allow(unused_imports)] // used by declare_raft_types! (the default snapshot data type)
use std::io::Cursor;

/// Version the requests of a v2 log carry once upgraded.
pub const V2_REQUEST_VERSION: u16 = 2;

openraft::declare_raft_types!(
    /// The Raft types of format 2 (only the entry payload differs).
    pub V2Config:
        D = V2Batch,
        R = Vec<super::Response>,
);

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct V2Batch {
    pub time_ms: u64,
    pub requests: Vec<V2Request>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct V2Request {
    pub version: u16,
    pub client: String,
    pub request_id: u64,
    pub command: V2Command,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct V2Perm {
    pub owner: String,
    pub group: String,
    pub mode: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct V2BlockMeta {
    pub id: BlockId,
    pub gen_stamp: basalt_common::GenStamp,
    pub len: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub enum V2AdminState {
    InService,
    Decommissioning,
    Decommissioned,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct V2DatanodeRecord {
    pub id: DatanodeId,
    pub addr: String,
    pub host: String,
    pub host_id: String,
    pub rack: String,
}

/// The v2 command enum, in its variant order.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub enum V2Command {
    Mkdirs {
        path: BPath,
        parents: bool,
        perm: V2Perm,
        mtime_ms: u64,
    },
    Create {
        path: BPath,
        overwrite: bool,
        create_parent: bool,
        replication: u32,
        block_size: u64,
        perm: V2Perm,
        mtime_ms: u64,
    },
    AddBlock {
        path: BPath,
        previous: Option<V2BlockMeta>,
        pipeline: Vec<DatanodeId>,
    },
    UpdatePipeline {
        path: BPath,
        block: BlockId,
        pipeline: Vec<DatanodeId>,
    },
    Append {
        path: BPath,
        mtime_ms: u64,
    },
    RecoverLease {
        path: BPath,
        holder: String,
    },
    CommitRecovery {
        path: BPath,
        last: Option<V2BlockMeta>,
        mtime_ms: u64,
    },
    SetAdminState {
        datanode: DatanodeId,
        state: V2AdminState,
        from: Option<V2AdminState>,
    },
    Complete {
        path: BPath,
        last: Option<V2BlockMeta>,
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
    RegisterDatanode(V2DatanodeRecord),
}

#[derive(Clone, Debug, Deserialize)]
pub struct V2Lease {
    pub holder: String,
    pub since_ms: u64,
    pub pipeline: Vec<DatanodeId>,
    pub last_block_open: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct V2FileMeta {
    pub replication: u32,
    pub block_size: u64,
    pub blocks: Vec<V2BlockMeta>,
    pub lease: Option<V2Lease>,
}

#[derive(Clone, Debug, Deserialize)]
pub enum V2InodeKind {
    Dir { children: BTreeMap<String, InodeId> },
    File(V2FileMeta),
}

#[derive(Clone, Debug, Deserialize)]
pub struct V2Inode {
    pub id: InodeId,
    pub parent: InodeId,
    pub name: String,
    pub perm: V2Perm,
    pub mtime_ms: u64,
    pub kind: V2InodeKind,
}

/// The v2 namespace up to (not including) its dedup results, the last field: bincode reads fields in
/// order, and what follows is not needed.
#[derive(Clone, Debug, Deserialize)]
pub struct V2Namespace {
    pub inodes: HashMap<InodeId, V2Inode>,
    pub next_inode: u64,
    pub next_block: u64,
    pub next_gen: u64,
    pub block_owner: HashMap<BlockId, InodeId>,
    pub datanodes: BTreeMap<DatanodeId, V2DatanodeRecord>,
    pub admin_states: BTreeMap<DatanodeId, V2AdminState>,
    pub recent: VecDeque<((String, u64), u64)>,
    pub clock_ms: u64,
}

/// The v2 snapshot body up to its namespace (the dedup results and snapshot id that follow are dropped).
#[derive(Clone, Debug, Deserialize)]
pub struct V2SmState {
    pub last_applied: Option<LogId>,
    pub membership: Membership,
    pub namespace: V2Namespace,
}

impl From<V2Perm> for Perm {
    fn from(p: V2Perm) -> Self {
        Perm {
            owner: p.owner,
            group: p.group,
            mode: p.mode,
        }
    }
}

impl From<V2BlockMeta> for BlockMeta {
    fn from(b: V2BlockMeta) -> Self {
        BlockMeta {
            id: b.id,
            gen_stamp: b.gen_stamp,
            len: b.len,
        }
    }
}

impl From<V2AdminState> for AdminState {
    fn from(s: V2AdminState) -> Self {
        match s {
            V2AdminState::InService => AdminState::InService,
            V2AdminState::Decommissioning => AdminState::Decommissioning,
            V2AdminState::Decommissioned => AdminState::Decommissioned,
        }
    }
}

impl From<V2DatanodeRecord> for DatanodeRecord {
    fn from(r: V2DatanodeRecord) -> Self {
        DatanodeRecord {
            id: r.id,
            addr: r.addr,
            host: r.host,
            host_id: r.host_id,
            rack: r.rack,
        }
    }
}

impl From<V2Command> for Command {
    fn from(c: V2Command) -> Self {
        let fs = |c: FsCommand| Command::Fs(c);
        match c {
            V2Command::Mkdirs {
                path,
                parents,
                perm,
                mtime_ms,
            } => fs(FsCommand::Mkdirs {
                path,
                parents,
                perm: perm.into(),
                mtime_ms,
            }),
            V2Command::Create {
                path,
                overwrite,
                create_parent,
                replication,
                block_size,
                perm,
                mtime_ms,
            } => fs(FsCommand::Create {
                path,
                overwrite,
                create_parent,
                replication,
                block_size,
                perm: perm.into(),
                mtime_ms,
            }),
            V2Command::AddBlock {
                path,
                previous,
                pipeline,
            } => fs(FsCommand::AddBlock {
                path,
                previous: previous.map(Into::into),
                pipeline,
            }),
            V2Command::UpdatePipeline { path, block, pipeline } => {
                fs(FsCommand::UpdatePipeline { path, block, pipeline })
            }
            V2Command::Append { path, mtime_ms } => fs(FsCommand::Append { path, mtime_ms }),
            V2Command::RecoverLease { path, holder } => fs(FsCommand::RecoverLease { path, holder }),
            V2Command::CommitRecovery { path, last, mtime_ms } => fs(FsCommand::CommitRecovery {
                path,
                last: last.map(Into::into),
                mtime_ms,
            }),
            V2Command::SetAdminState { datanode, state, from } => Command::Cluster(ClusterCommand::SetAdminState {
                datanode,
                state: state.into(),
                from: from.map(Into::into),
            }),
            V2Command::Complete { path, last, mtime_ms } => fs(FsCommand::Complete {
                path,
                last: last.map(Into::into),
                mtime_ms,
            }),
            V2Command::Rename { src, dst, mtime_ms } => fs(FsCommand::Rename { src, dst, mtime_ms }),
            V2Command::Delete {
                path,
                recursive,
                mtime_ms,
            } => fs(FsCommand::Delete {
                path,
                recursive,
                mtime_ms,
            }),
            V2Command::SetReplication { path, replication } => fs(FsCommand::SetReplication { path, replication }),
            V2Command::RegisterDatanode(r) => Command::Cluster(ClusterCommand::RegisterDatanode(r.into())),
        }
    }
}

impl From<V2Batch> for Batch {
    fn from(b: V2Batch) -> Self {
        Batch {
            time_ms: b.time_ms,
            requests: b
                .requests
                .into_iter()
                .map(|r| Request {
                    version: r.version.min(V2_REQUEST_VERSION),
                    client: r.client,
                    request_id: r.request_id,
                    command: r.command.into(),
                    caller: None,
                })
                .collect(),
        }
    }
}

/// A v2 log entry as this build's entry.
pub fn upgrade_entry(e: openraft::Entry<V2Config>) -> openraft::Entry<TypeConfig> {
    use openraft::EntryPayload;
    openraft::Entry {
        log_id: e.log_id,
        payload: match e.payload {
            EntryPayload::Blank => EntryPayload::Blank,
            EntryPayload::Normal(b) => EntryPayload::Normal(b.into()),
            EntryPayload::Membership(m) => EntryPayload::Membership(m),
        },
    }
}

/// A v2 namespace as this build's state (without the dedup window).
pub fn upgrade_state(ns: V2Namespace) -> MetaState {
    let inodes = ns.inodes.into_values().map(|i| {
        let file = match i.kind {
            V2InodeKind::Dir { .. } => None,
            V2InodeKind::File(f) => Some(FileMeta {
                replication: f.replication,
                // Validated as a multiple of 512 up to 1 TiB when the v2 file was created.
                block_size: BlockSize::from_bytes(f.block_size)
                    .unwrap_or(BlockSize::from_bytes(BLOCK_SIZE_UNIT).expect("512 is valid")),
                blocks: f.blocks.into_iter().map(Into::into).collect(),
                lease: f.lease.map(|l| {
                    Box::new(Lease {
                        holder: l.holder,
                        since_ms: l.since_ms,
                        pipeline: l.pipeline,
                        last_block_open: l.last_block_open,
                    })
                }),
            }),
        };
        (i.id, i.parent, i.name, i.perm.into(), i.mtime_ms, file)
    });
    let namespace = Namespace::from_parts(ns.next_inode, ns.next_block, ns.next_gen, inodes);
    let mut cluster = super::cluster::Cluster::default();
    for (_, r) in ns.datanodes {
        cluster
            .apply(&ClusterCommand::RegisterDatanode(r.into()))
            .expect("registration cannot fail");
    }
    for (datanode, s) in ns.admin_states {
        cluster
            .apply(&ClusterCommand::SetAdminState {
                datanode,
                state: s.into(),
                from: None,
            })
            .expect("unconditional admin state cannot fail");
    }
    MetaState::upgraded(namespace, cluster, ns.clock_ms)
}
