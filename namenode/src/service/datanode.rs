//! The datanode protocol (registration, heartbeats, block reports) and the cluster status report.
//!
//! A full block report holds as many replicas as the node has (a million is ordinary): it is applied on a
//! blocking thread, [`REPORT_CHUNK`] replicas per hold of the block-manager lock, so heartbeats, writes
//! and incremental reports go on meanwhile; full reports wait for each other.

use super::convert::{block_from_pb, block_to_pb, datanode_from_pb, datanode_to_pb};
use super::{Core, ServiceError};
use crate::blocks::{NodeStats, NodeWork};
use crate::state::cluster::ClusterCommand;
use crate::state::namespace::BlockMeta;
use basalt_common::{BlockId, DatanodeId};
use basalt_proto::pb;
use basalt_proto::pb::datanode_protocol_server::DatanodeProtocol;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;
use tonic::{Request, Response, Status};

pub struct DatanodeService {
    core: Arc<Core>,
    /// Full reports are applied one at a time (as HDFS does), so that many datanodes reporting at once,
    /// after a restart or a failover, take one core and not all of them.
    full_reports: tokio::sync::Semaphore,
}

impl DatanodeService {
    pub fn new(core: Arc<Core>) -> Self {
        DatanodeService {
            core,
            full_reports: tokio::sync::Semaphore::new(1),
        }
    }
}

fn blocks_from_pb(v: &[pb::ExtendedBlock]) -> Vec<BlockMeta> {
    v.iter().map(block_from_pb).collect()
}

/// Replicas of a full report applied per hold of the block-manager lock (about a millisecond).
pub const REPORT_CHUNK: usize = 4096;

/// Applies a full report of `blocks` from `id` in chunks, releasing the block-manager lock between
/// them. Blocking: runs on a blocking thread. A newer report from the node, arriving meanwhile, wins.
fn apply_full_report(core: &Core, id: DatanodeId, blocks: &[pb::ExtendedBlock]) -> Result<(), ServiceError> {
    let reported: HashSet<BlockId> = blocks.iter().map(|b| BlockId(b.block_id)).collect();
    let (report, before) = core.blocks().begin_full_report(id)?;
    for chunk in blocks.chunks(REPORT_CHUNK) {
        let chunk = blocks_from_pb(chunk);
        if !core.blocks().add_report_chunk(&report, &chunk) {
            return Ok(());
        }
    }
    let gone: Vec<BlockId> = before.into_iter().filter(|b| !reported.contains(b)).collect();
    for chunk in gone.chunks(REPORT_CHUNK) {
        if !core.blocks().forget_replicas(&report, chunk) {
            return Ok(());
        }
    }
    core.blocks().end_full_report(&report);
    Ok(())
}

impl DatanodeService {
    /// A datanode that registered while this member followed is live here but may be missing from the
    /// replicated state (only a leader records identities): the leader records it at its heartbeat.
    /// The same for its ring tokens.
    fn record_identity(&self, id: DatanodeId) {
        let Some(record) = self.core.blocks().node(id).map(|n| n.record.clone()) else {
            return;
        };
        let (known, has_tokens) = {
            let state = self.core.state();
            (
                state.cluster.datanodes().get(&id) == Some(&record),
                !state.cluster.tokens(id).is_empty(),
            )
        };
        if known {
            if !has_tokens && self.core.ring_alloc.try_lock().is_ok() {
                super::tables::spawn_ensure_tokens(self.core.clone(), id);
            }
            return;
        }
        let core = self.core.clone();
        tokio::spawn(async move {
            match core
                .propose("datanode", 0, ClusterCommand::RegisterDatanode(record))
                .await
            {
                Ok(_) => tracing::info!(datanode = %id, "datanode identity recorded"),
                Err(e) => tracing::warn!(datanode = %id, error = %e, "could not record the datanode identity"),
            }
            if let Err(e) = super::tables::ensure_tokens(&core, id).await {
                tracing::warn!(datanode = %id, error = %e, "could not allocate ring tokens");
            }
        });
    }
}

#[tonic::async_trait]
impl DatanodeProtocol for DatanodeService {
    async fn register(&self, req: Request<pb::RegisterRequest>) -> Result<Response<pb::RegisterResponse>, Status> {
        let peer_ip = req.remote_addr().map(|a| a.ip().to_string());
        let r = req.into_inner();
        let info = r.info.ok_or(ServiceError::MissingArgument {
            op: "register",
            what: "the datanode's info",
        })?;
        let mut record = datanode_from_pb(&info);
        if record.host.is_empty() {
            record.host = peer_ip.unwrap_or_default();
        }
        let stats = NodeStats {
            capacity: r.capacity,
            used: 0,
            remaining: r.capacity,
            active_transfers: 0,
        };
        {
            let mut bm = self.core.blocks();
            bm.register(record.clone(), stats, Instant::now());
            bm.set_service_addrs(record.id, r.cql_addr, r.http_addr);
        }
        tracing::info!(datanode = %record.id, addr = %record.addr, rack = %record.rack, "datanode registered");
        // The leader records the identity in the replicated log (once per change).
        let id = record.id;
        let known = self.core.state().cluster.datanodes().get(&record.id) == Some(&record);
        if !known
            && self.core.is_leader()
            && let Err(e) = self
                .core
                .propose("datanode", 0, ClusterCommand::RegisterDatanode(record))
                .await
        {
            tracing::warn!(error = %e, "could not record the datanode identity");
        }
        // Its ring tokens, once (a re-registering node keeps its tokens).
        if let Err(e) = super::tables::ensure_tokens(&self.core, id).await {
            tracing::warn!(datanode = %id, error = %e, "could not allocate ring tokens");
        }
        Ok(Response::new(pb::RegisterResponse {}))
    }

    async fn heartbeat(&self, req: Request<pb::HeartbeatRequest>) -> Result<Response<pb::HeartbeatResponse>, Status> {
        let r = req.into_inner();
        let stats = NodeStats {
            capacity: r.capacity,
            used: r.used,
            remaining: r.remaining,
            active_transfers: r.active_transfers,
        };
        let is_leader = self.core.is_leader();
        let members: Vec<String> = self
            .core
            .raft
            .metrics()
            .borrow()
            .membership_config
            .membership()
            .nodes()
            .map(|(_, n)| n.addr.clone())
            .collect();
        let work = self
            .core
            .blocks()
            .heartbeat(DatanodeId(r.datanode_id), stats, Instant::now());
        if is_leader {
            self.record_identity(DatanodeId(r.datanode_id));
        }
        let (commands, reregister) = match work {
            Err(_) => (Vec::new(), true),
            Ok(work) if is_leader => (work_commands(work), false),
            Ok(_) => (Vec::new(), false),
        };
        let (catalog_version, ring_version) = {
            let state = self.core.state();
            (state.catalog.version(), state.cluster.ring_version())
        };
        let reply = pb::HeartbeatResponse {
            commands,
            reregister,
            members,
            catalog_version,
            ring_version,
        };
        Ok(Response::new(reply))
    }

    async fn block_report(
        &self,
        req: Request<pb::BlockReportRequest>,
    ) -> Result<Response<pb::BlockReportResponse>, Status> {
        let r = req.into_inner();
        let (id, n) = (DatanodeId(r.datanode_id), r.blocks.len());
        let start = Instant::now();
        let _turn = self
            .full_reports
            .acquire()
            .await
            .map_err(|_| ServiceError::ShuttingDown)?;
        let core = self.core.clone();
        tokio::task::spawn_blocking(move || apply_full_report(&core, id, &r.blocks))
            .await
            .map_err(ServiceError::task)??;
        tracing::info!(datanode = %id, blocks = n, took = ?start.elapsed(), "full block report");
        // A close may be waiting for one of these replicas (its incremental report may have been lost).
        self.core.replicas_reported.notify_waiters();
        Ok(Response::new(pb::BlockReportResponse {}))
    }

    async fn block_received_and_deleted(
        &self,
        req: Request<pb::IncrementalBlockReportRequest>,
    ) -> Result<Response<pb::IncrementalBlockReportResponse>, Status> {
        let r = req.into_inner();
        let id = DatanodeId(r.datanode_id);
        let corrupt = blocks_from_pb(&r.corrupt);
        let res = {
            let mut bm = self.core.blocks();
            bm.incremental(id, &blocks_from_pb(&r.received), &blocks_from_pb(&r.deleted))
                .and_then(|()| bm.report_corrupt(id, &corrupt))
        };
        for b in &corrupt {
            tracing::warn!(datanode = %id, block = %b.id, "corrupt replica reported; a good copy will replace it");
        }
        res.map_err(ServiceError::from)?;
        self.core.replicas_reported.notify_waiters();
        Ok(Response::new(pb::IncrementalBlockReportResponse {}))
    }
}

/// The heartbeat-reply commands for a datanode's queued work.
fn work_commands(work: NodeWork) -> Vec<pb::DatanodeCommand> {
    use pb::datanode_command::Command as C;
    let mut out = Vec::new();
    if !work.deletes.is_empty() {
        out.push(C::Delete(pb::DeleteBlocks {
            blocks: work.deletes.iter().map(block_to_pb).collect(),
        }));
    }
    out.extend(work.replications.into_iter().map(|t| {
        C::Replicate(pb::ReplicateBlock {
            block: Some(block_to_pb(&t.block)),
            targets: t.targets.iter().map(datanode_to_pb).collect(),
        })
    }));
    out.into_iter()
        .map(|c| pb::DatanodeCommand { command: Some(c) })
        .collect()
}

/// The metadata group and the datanodes as this member sees them.
pub fn cluster_status(core: &Core) -> pb::ClusterStatusResponse {
    let members = super::admin::member_statuses(core);
    let now = Instant::now();
    let (files, directories, blocks, admin, open_files, tables) = {
        let state = core.state();
        let (files, directories, blocks) = state.namespace.counts();
        let open = state.namespace.open_file_count() as u64;
        let tables = (
            state.catalog.version(),
            state.catalog.keyspaces().len() as u64,
            state.catalog.table_count() as u64,
            state.cluster.ring_version(),
        );
        (
            files,
            directories,
            blocks,
            state.cluster.admin_states().clone(),
            open,
            tables,
        )
    };
    let bm = core.blocks();
    let datanodes: Vec<pb::DatanodeStatus> = bm
        .nodes(now)
        .into_iter()
        .map(|(n, live)| pb::DatanodeStatus {
            info: Some(datanode_to_pb(&n.record)),
            live,
            capacity: n.stats.capacity,
            used: n.stats.used,
            remaining: n.stats.remaining,
            block_count: n.blocks.len() as u64,
            last_heartbeat_ms_ago: now.saturating_duration_since(n.last_heartbeat).as_millis() as u64,
            active_transfers: n.stats.active_transfers,
            admin_state: admin.get(&n.record.id).copied().unwrap_or_default().name().to_string(),
            blocks_to_drain: bm.blocks_to_drain(n.record.id).unwrap_or(0) as u64,
            cql_addr: n.cql_addr.clone(),
            http_addr: n.http_addr.clone(),
        })
        .collect();
    let (in_flight, done, corrupt) = bm.healing_counts();
    drop(bm);
    // Counted by the monitor's last pass (counting here would hold both locks for O(blocks)).
    let last = core.last_round.lock().expect("round lock poisoned").clone();
    let (_, recovered) = core.leases.lock().expect("lease lock poisoned").counts();
    let healing = pb::HealingStatus {
        under_replicated: last.under_replicated as u64,
        missing: last.missing as u64,
        corrupt: corrupt as u64,
        copies_in_flight: in_flight as u64,
        copies_done: done,
        open_files,
        lease_recoveries: recovered,
    };
    pb::ClusterStatusResponse {
        members,
        datanodes,
        safe_mode: core.safe_mode.lock().expect("safe mode lock poisoned").is_on(),
        files,
        directories,
        blocks,
        reported_blocks: last.reported,
        healing: Some(healing),
        catalog_version: tables.0,
        keyspaces: tables.1,
        tables: tables.2,
        ring_version: tables.3,
    }
}
