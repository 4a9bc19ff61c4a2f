//! Conversions between namespace values and protobuf messages: the only place both meet.

use crate::state::cluster::DatanodeRecord;
use crate::state::namespace::{BlockMeta, FileStatus, Perm};
use basalt_common::{BlockId, GenStamp};
use basalt_proto::pb;

pub fn status_to_pb(s: &FileStatus) -> pb::FileStatus {
    pb::FileStatus {
        path: s.path.to_string(),
        is_dir: s.is_dir,
        length: s.length,
        replication: s.replication,
        block_size: s.block_size,
        mtime_ms: s.mtime_ms,
        atime_ms: s.atime_ms,
        owner: s.perm.owner.clone(),
        group: s.perm.group.clone(),
        mode: s.perm.mode,
        inode_id: s.inode.0,
        under_construction: s.under_construction,
        block_count: s.block_count,
        children_num: s.children,
    }
}

pub fn block_to_pb(b: &BlockMeta) -> pb::ExtendedBlock {
    pb::ExtendedBlock {
        block_id: b.id.0,
        gen_stamp: b.gen_stamp.0,
        length: b.len,
    }
}

pub fn block_from_pb(b: &pb::ExtendedBlock) -> BlockMeta {
    BlockMeta {
        id: BlockId(b.block_id),
        gen_stamp: GenStamp(b.gen_stamp),
        len: b.length,
    }
}

pub fn datanode_to_pb(r: &DatanodeRecord) -> pb::DatanodeInfo {
    pb::DatanodeInfo {
        id: r.id.0,
        addr: r.addr.clone(),
        rack: r.rack.clone(),
        host_id: r.host_id.clone(),
        host: r.host.clone(),
    }
}

pub fn datanode_from_pb(d: &pb::DatanodeInfo) -> DatanodeRecord {
    DatanodeRecord {
        id: basalt_common::DatanodeId(d.id),
        addr: d.addr.clone(),
        host: d.host.clone(),
        host_id: d.host_id.clone(),
        rack: d.rack.clone(),
    }
}

/// The requested permission, or the defaults for a file (0644) or directory (0755).
pub fn perm_from_pb(p: Option<&pb::Permission>, dir: bool) -> Perm {
    let default_mode = if dir { 0o755 } else { 0o644 };
    match p {
        Some(p) => Perm {
            owner: if p.owner.is_empty() {
                "basalt".into()
            } else {
                p.owner.clone()
            },
            group: if p.group.is_empty() {
                "supergroup".into()
            } else {
                p.group.clone()
            },
            mode: if p.mode == 0 { default_mode } else { p.mode & 0o7777 },
        },
        None => Perm {
            owner: "basalt".into(),
            group: "supergroup".into(),
            mode: default_mode,
        },
    }
}
