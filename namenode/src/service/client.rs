//! The client protocol: namespace operations and block allocation for writers.
//!
//! Every namespace call names its caller (`basalt-user` metadata, [`basalt_proto::caller`]); one
//! without it is refused (Invalid, naming the header) rather than run as some default user. Writes
//! carry the caller, resolved here on the leader ([`super::users`]), into the log, where the namespace
//! checks its permissions; reads are checked here, on the member that serves them. Calls bound to a
//! writer's lease (add block, pipeline, complete, renew) and the table and status calls need no caller.

use super::convert::{block_from_pb, block_to_pb, datanode_to_pb, perm_from_pb, status_to_pb};
use super::error::FsOutputExt;
use super::{Core, ServiceError, now_ms};
use crate::state::namespace::{BlockMeta, Caller, FileStatus, FsCommand, NamespaceError};
use crate::walk::Walk;
use basalt_common::placement::{self, PlacementError};
use basalt_common::{BPath, BlockId, DatanodeId};
use basalt_proto::pb;
use basalt_proto::pb::client_protocol_server::ClientProtocol;
use std::sync::Arc;
use std::time::Instant;
use tonic::{Request, Response, Status};

pub struct ClientService {
    core: Arc<Core>,
}

impl ClientService {
    pub fn new(core: Arc<Core>) -> Self {
        ClientService { core }
    }

    /// The caller a namespace request names, resolved (groups, superuser).
    async fn caller<T>(&self, req: &Request<T>, op: &'static str) -> Result<Caller, ServiceError> {
        let user =
            basalt_proto::caller::user_of(req.metadata()).map_err(|source| ServiceError::NoCaller { op, source })?;
        self.core.users.caller(user).await
    }

    /// The status of a file just created or reopened (gone again if deleted meanwhile).
    fn created_status(&self, path: &BPath, inode: basalt_common::InodeId) -> Result<FileStatus, ServiceError> {
        self.core
            .state()
            .namespace
            .status_of_inode(path, inode)
            .ok_or_else(|| ServiceError::Namespace(NamespaceError::NotFound { path: path.clone() }))
    }
}

fn path(s: &str) -> Result<BPath, ServiceError> {
    Ok(BPath::parse(s)?)
}

/// The host a request came from, unless the client named one.
fn origin_host<T>(req: &Request<T>, named: &str) -> String {
    if !named.is_empty() {
        return named.to_string();
    }
    req.remote_addr().map(|a| a.ip().to_string()).unwrap_or_default()
}

#[tonic::async_trait]
impl ClientProtocol for ClientService {
    async fn mkdirs(&self, req: Request<pb::MkdirsRequest>) -> Result<Response<pb::MkdirsResponse>, Status> {
        let caller = self.caller(&req, "mkdirs").await?;
        let r = req.into_inner();
        let cmd = FsCommand::Mkdirs {
            path: path(&r.path)?,
            parents: r.parents,
            perm: perm_from_pb(r.perm.as_ref(), true),
            mtime_ms: now_ms(),
        };
        self.core.write_as(caller, &r.client_name, r.request_id, cmd).await?;
        Ok(Response::new(pb::MkdirsResponse {}))
    }

    async fn create(&self, req: Request<pb::CreateRequest>) -> Result<Response<pb::CreateResponse>, Status> {
        let caller = self.caller(&req, "create").await?;
        let r = req.into_inner();
        if r.client_name.is_empty() {
            return Err(ServiceError::MissingArgument {
                op: "create",
                what: "a client name (the lease holder)",
            }
            .into());
        }
        let cfg = &self.core.config;
        let cmd = FsCommand::Create {
            path: path(&r.path)?,
            overwrite: r.overwrite,
            create_parent: r.create_parent,
            replication: if r.replication == 0 {
                cfg.default_replication
            } else {
                r.replication
            },
            block_size: if r.block_size == 0 {
                cfg.default_block_size
            } else {
                r.block_size
            },
            perm: perm_from_pb(r.perm.as_ref(), false),
            mtime_ms: now_ms(),
        };
        let p = path(&r.path)?;
        let (inode, replaced_blocks) = self
            .core
            .write_as(caller, &r.client_name, r.request_id, cmd)
            .await?
            .created()?;
        self.core.free_blocks(&replaced_blocks);
        self.core.renew_lease(&r.client_name);
        let status = self.created_status(&p, inode)?;
        Ok(Response::new(pb::CreateResponse {
            status: Some(status_to_pb(&status)),
        }))
    }

    async fn add_block(&self, req: Request<pb::AddBlockRequest>) -> Result<Response<pb::AddBlockResponse>, Status> {
        let writer_host = origin_host(&req, &req.get_ref().writer_host);
        let r = req.into_inner();
        let p = path(&r.path)?;
        self.core.check_writable()?;
        let st = self.core.state().namespace.stat(&p).map_err(ServiceError::from)?;
        if st.is_dir {
            return Err(ServiceError::from(NamespaceError::IsADirectory { path: p }).into());
        }
        let exclude: Vec<DatanodeId> = r.exclude.iter().map(|&d| DatanodeId(d)).collect();
        let admin = self.core.state().cluster.admin_states().clone();
        let (targets, records) = {
            let blocks = self.core.blocks();
            let candidates = blocks.live_candidates(&admin, Instant::now());
            let mut rng = self.core.rng.lock().expect("rng lock poisoned");
            let mut choose = |exclude: &[DatanodeId]| {
                let (rf, size) = (st.replication as usize, st.block_size);
                placement::choose_targets(&candidates, rf, Some(&writer_host), exclude, size, &mut rng)
            };
            // Too few datanodes once those the writer saw fail are avoided: they may be back, so place
            // without avoiding them rather than fail the write.
            let targets = match choose(&exclude) {
                Err(PlacementError::NotEnoughDatanodes { .. }) if !exclude.is_empty() => choose(&[]),
                placed => placed,
            }
            .map_err(ServiceError::from)?;
            let records: Vec<pb::DatanodeInfo> = targets
                .iter()
                .filter_map(|id| blocks.node(*id))
                .map(|n| datanode_to_pb(&n.record))
                .collect();
            (targets, records)
        };
        if let Some(id) = targets.iter().find(|t| !records.iter().any(|r| r.id == t.0)) {
            return Err(ServiceError::ChosenDatanodeLeft { id: *id }.into());
        }
        let cmd = FsCommand::AddBlock {
            path: p,
            previous: r.previous.as_ref().map(block_from_pb),
            pipeline: targets,
        };
        let (block, offset) = self.core.write(&r.client_name, r.request_id, cmd).await?.block()?;
        self.core.renew_lease(&r.client_name);
        Ok(Response::new(pb::AddBlockResponse {
            block: Some(pb::LocatedBlock {
                block: Some(block_to_pb(&block)),
                offset,
                locations: records,
            }),
        }))
    }

    async fn complete(&self, req: Request<pb::CompleteRequest>) -> Result<Response<pb::CompleteResponse>, Status> {
        let r = req.into_inner();
        let p = path(&r.path)?;
        let last = r.last.as_ref().map(block_from_pb);
        if let Some(last) = &last {
            self.core.wait_reported(last).await?;
        }
        let cmd = FsCommand::Complete {
            path: p,
            last,
            mtime_ms: now_ms(),
        };
        self.core.write(&r.client_name, r.request_id, cmd).await?;
        Ok(Response::new(pb::CompleteResponse {}))
    }

    async fn update_pipeline(
        &self,
        req: Request<pb::UpdatePipelineRequest>,
    ) -> Result<Response<pb::UpdatePipelineResponse>, Status> {
        let r = req.into_inner();
        let p = path(&r.path)?;
        let old = r.block.as_ref().ok_or(ServiceError::MissingArgument {
            op: "update pipeline",
            what: "the block",
        })?;
        if r.pipeline.is_empty() {
            return Err(ServiceError::MissingArgument {
                op: "update pipeline",
                what: "at least one surviving datanode",
            }
            .into());
        }
        let pipeline: Vec<DatanodeId> = r.pipeline.iter().map(|&d| DatanodeId(d)).collect();
        let records: Vec<pb::DatanodeInfo> = {
            let state = self.core.state();
            let known = state.cluster.datanodes();
            pipeline
                .iter()
                .map(|id| {
                    known
                        .get(id)
                        .map(datanode_to_pb)
                        .ok_or(ServiceError::UnknownPipelineNode { id: *id })
                })
                .collect::<Result<_, _>>()?
        };
        let cmd = FsCommand::UpdatePipeline {
            path: p.clone(),
            block: basalt_common::BlockId(old.block_id),
            pipeline,
        };
        let (block, offset) = self.core.write(&r.client_name, r.request_id, cmd).await?.block()?;
        self.core.renew_lease(&r.client_name);
        tracing::info!(path = %p, block = %block.id, gen_stamp = %block.gen_stamp, nodes = records.len(), "pipeline recovered");
        Ok(Response::new(pb::UpdatePipelineResponse {
            block: Some(pb::LocatedBlock {
                block: Some(block_to_pb(&block)),
                offset,
                locations: records,
            }),
        }))
    }

    async fn append(&self, req: Request<pb::AppendRequest>) -> Result<Response<pb::AppendResponse>, Status> {
        let caller = self.caller(&req, "append").await?;
        let r = req.into_inner();
        if r.client_name.is_empty() {
            return Err(ServiceError::MissingArgument {
                op: "append",
                what: "a client name (the lease holder)",
            }
            .into());
        }
        let cmd = FsCommand::Append {
            path: path(&r.path)?,
            mtime_ms: now_ms(),
        };
        let p = path(&r.path)?;
        let (inode, _) = self
            .core
            .write_as(caller, &r.client_name, r.request_id, cmd)
            .await?
            .created()?;
        self.core.renew_lease(&r.client_name);
        let status = self.created_status(&p, inode)?;
        Ok(Response::new(pb::AppendResponse {
            status: Some(status_to_pb(&status)),
        }))
    }

    async fn get_block_locations(
        &self,
        req: Request<pb::GetBlockLocationsRequest>,
    ) -> Result<Response<pb::GetBlockLocationsResponse>, Status> {
        let reader_host = origin_host(&req, &req.get_ref().reader_host);
        let caller = self.caller(&req, "open").await?;
        let r = req.into_inner();
        let p = path(&r.path)?;
        self.core.read_barrier().await?;
        let (status, blocks) = self
            .core
            .state()
            .namespace
            .blocks_as(&caller, &p)
            .map_err(ServiceError::from)?;
        let end = if r.length == 0 {
            u64::MAX
        } else {
            r.offset.saturating_add(r.length)
        };
        let now = Instant::now();
        let bm = self.core.blocks.lock().expect("block manager lock poisoned");
        // Right after a start or a failover the block map is still being rebuilt from reports: a block
        // without a known replica is "not yet reported", not "missing", so the client should retry.
        if let Some(e) = self.core.safe_mode_error()
            && blocks.iter().any(|(b, _)| bm.live_holders(b, now).next().is_none())
        {
            return Err(e.into());
        }
        let mut rng = self.core.rng.lock().expect("rng lock poisoned");
        let located = blocks
            .iter()
            .filter(|(b, off)| *off < end && off + b.len.max(1) > r.offset)
            .map(|(b, off)| {
                let mut locs: Vec<pb::DatanodeInfo> = bm.locations(b, now).into_iter().map(datanode_to_pb).collect();
                placement::sort_nearest(
                    &mut locs,
                    |d| placement::distance(&reader_host, "", &d.host, &d.rack),
                    &mut rng,
                );
                pb::LocatedBlock {
                    block: Some(block_to_pb(b)),
                    offset: *off,
                    locations: locs,
                }
            })
            .collect();
        Ok(Response::new(pb::GetBlockLocationsResponse {
            status: Some(status_to_pb(&status)),
            blocks: located,
        }))
    }

    async fn get_file_info(
        &self,
        req: Request<pb::GetFileInfoRequest>,
    ) -> Result<Response<pb::GetFileInfoResponse>, Status> {
        let caller = self.caller(&req, "stat").await?;
        let p = path(&req.get_ref().path)?;
        self.core.read_barrier().await?;
        let st = self
            .core
            .state()
            .namespace
            .stat_as(&caller, &p)
            .map_err(ServiceError::from)?;
        Ok(Response::new(pb::GetFileInfoResponse {
            status: Some(status_to_pb(&st)),
        }))
    }

    async fn list_status(
        &self,
        req: Request<pb::ListStatusRequest>,
    ) -> Result<Response<pb::ListStatusResponse>, Status> {
        let caller = self.caller(&req, "list").await?;
        let r = req.into_inner();
        let p = path(&r.path)?;
        self.core.read_barrier().await?;
        let limit = if r.limit == 0 { usize::MAX } else { r.limit as usize };
        let (entries, has_more) = self
            .core
            .state()
            .namespace
            .list_as(&caller, &p, &r.start_after, limit)
            .map_err(ServiceError::from)?;
        Ok(Response::new(pb::ListStatusResponse {
            entries: entries.iter().map(status_to_pb).collect(),
            has_more,
        }))
    }

    async fn rename(&self, req: Request<pb::RenameRequest>) -> Result<Response<pb::RenameResponse>, Status> {
        let caller = self.caller(&req, "rename").await?;
        let r = req.into_inner();
        let cmd = FsCommand::Rename {
            src: path(&r.src)?,
            dst: path(&r.dst)?,
            mtime_ms: now_ms(),
        };
        self.core.write_as(caller, &r.client_name, r.request_id, cmd).await?;
        Ok(Response::new(pb::RenameResponse {}))
    }

    async fn delete(&self, req: Request<pb::DeleteRequest>) -> Result<Response<pb::DeleteResponse>, Status> {
        let caller = self.caller(&req, "delete").await?;
        let r = req.into_inner();
        let cmd = FsCommand::Delete {
            path: path(&r.path)?,
            recursive: r.recursive,
            mtime_ms: now_ms(),
        };
        let freed = self
            .core
            .write_as(caller, &r.client_name, r.request_id, cmd)
            .await?
            .freed()?;
        self.core.free_blocks(&freed);
        Ok(Response::new(pb::DeleteResponse { deleted: true }))
    }

    async fn set_replication(
        &self,
        req: Request<pb::SetReplicationRequest>,
    ) -> Result<Response<pb::SetReplicationResponse>, Status> {
        let caller = self.caller(&req, "set replication").await?;
        let r = req.into_inner();
        let cmd = FsCommand::SetReplication {
            path: path(&r.path)?,
            replication: r.replication,
        };
        self.core.write_as(caller, &r.client_name, r.request_id, cmd).await?;
        Ok(Response::new(pb::SetReplicationResponse {}))
    }

    async fn set_permission(
        &self,
        req: Request<pb::SetPermissionRequest>,
    ) -> Result<Response<pb::SetPermissionResponse>, Status> {
        let caller = self.caller(&req, "set permission").await?;
        let r = req.into_inner();
        let cmd = FsCommand::SetPermission {
            path: path(&r.path)?,
            mode: r.mode & crate::state::namespace::types::MODE_MASK,
        };
        self.core.write_as(caller, &r.client_name, r.request_id, cmd).await?;
        Ok(Response::new(pb::SetPermissionResponse {}))
    }

    async fn set_owner(&self, req: Request<pb::SetOwnerRequest>) -> Result<Response<pb::SetOwnerResponse>, Status> {
        let caller = self.caller(&req, "set owner").await?;
        let r = req.into_inner();
        if r.owner.is_empty() && r.group.is_empty() {
            return Err(ServiceError::MissingArgument {
                op: "set owner",
                what: "an owner or a group",
            }
            .into());
        }
        let some = |s: String| (!s.is_empty()).then_some(s);
        let cmd = FsCommand::SetOwner {
            path: path(&r.path)?,
            owner: some(r.owner),
            group: some(r.group),
        };
        self.core.write_as(caller, &r.client_name, r.request_id, cmd).await?;
        Ok(Response::new(pb::SetOwnerResponse {}))
    }

    async fn set_times(&self, req: Request<pb::SetTimesRequest>) -> Result<Response<pb::SetTimesResponse>, Status> {
        let caller = self.caller(&req, "set times").await?;
        let r = req.into_inner();
        let cmd = FsCommand::SetTimes {
            path: path(&r.path)?,
            mtime_ms: r.mtime_ms,
            atime_ms: r.atime_ms,
        };
        self.core.write_as(caller, &r.client_name, r.request_id, cmd).await?;
        Ok(Response::new(pb::SetTimesResponse {}))
    }

    async fn get_content_summary(
        &self,
        req: Request<pb::ContentSummaryRequest>,
    ) -> Result<Response<pb::ContentSummaryResponse>, Status> {
        let caller = self.caller(&req, "content summary").await?;
        let p = path(&req.get_ref().path)?;
        self.core.read_barrier().await?;
        let core = self.core.clone();
        let summary = tokio::task::spawn_blocking(move || content_summary(&core, &caller, p))
            .await
            .map_err(ServiceError::task)??;
        Ok(Response::new(summary))
    }

    async fn renew_lease(
        &self,
        req: Request<pb::RenewLeaseRequest>,
    ) -> Result<Response<pb::RenewLeaseResponse>, Status> {
        let r = req.into_inner();
        self.core.require_leader()?;
        self.core.renew_lease(&r.client_name);
        Ok(Response::new(pb::RenewLeaseResponse {}))
    }

    async fn cluster_status(
        &self,
        _req: Request<pb::ClusterStatusRequest>,
    ) -> Result<Response<pb::ClusterStatusResponse>, Status> {
        Ok(Response::new(super::datanode::cluster_status(&self.core)))
    }

    async fn schema_change(
        &self,
        req: Request<pb::SchemaChangeRequest>,
    ) -> Result<Response<pb::SchemaChangeResponse>, Status> {
        Ok(Response::new(
            super::tables::schema_change(&self.core, req.into_inner()).await?,
        ))
    }

    async fn get_catalog(
        &self,
        req: Request<pb::GetCatalogRequest>,
    ) -> Result<Response<pb::GetCatalogResponse>, Status> {
        Ok(Response::new(
            super::tables::get_catalog(&self.core, req.into_inner()).await?,
        ))
    }

    async fn get_ring(&self, req: Request<pb::GetRingRequest>) -> Result<Response<pb::GetRingResponse>, Status> {
        Ok(Response::new(
            super::tables::get_ring(&self.core, req.into_inner()).await?,
        ))
    }

    async fn fsck(&self, req: Request<pb::FsckRequest>) -> Result<Response<pb::FsckResponse>, Status> {
        let caller = self.caller(&req, "fsck").await?;
        let r = req.into_inner();
        let root = path(if r.path.is_empty() { "/" } else { &r.path })?;
        let walk = match r.start_after.as_str() {
            "" => Walk::new(root),
            after => Walk::resume(root, path(after)?),
        };
        let limit = if r.limit == 0 { usize::MAX } else { r.limit as usize };
        self.core.read_barrier().await?;
        let core = self.core.clone();
        let page = tokio::task::spawn_blocking(move || fsck_page(&core, &caller, walk, limit))
            .await
            .map_err(ServiceError::task)??;
        Ok(Response::new(page))
    }
}

/// Blocks visited per slice of an fsck or content-summary walk: how long the state lock is held at a
/// time.
const FSCK_SLICE: usize = 4096;

/// Totals at or below `root`, counted a slice at a time (like HDFS, which yields its lock every few
/// thousand entries: a large tree is not summed at one instant). `caller` needs `r-x` on every
/// directory of the subtree, checked as the walk enters it. Blocking.
fn content_summary(core: &Core, caller: &Caller, root: BPath) -> Result<pb::ContentSummaryResponse, ServiceError> {
    let mut sum = {
        let state = core.state();
        state.namespace.check_walk_root(caller, &root)?;
        pb::ContentSummaryResponse {
            directory_count: u64::from(state.namespace.stat(&root)?.is_dir),
            ..Default::default()
        }
    };
    let mut walk = Walk::new(root);
    while !walk.is_done() {
        let state = core.state();
        let ns = &state.namespace;
        let visit = |_: &BPath, f: &crate::state::namespace::FileMeta| {
            let len = f.length();
            sum.file_count += 1;
            sum.length += len;
            sum.space_consumed += len * u64::from(f.replication);
        };
        let dirs = walk.step_checked(ns, FSCK_SLICE, visit, |p, id| ns.check_enter(caller, p, id))?;
        sum.directory_count += dirs as u64;
    }
    Ok(sum)
}

/// What fsck needs of a file, copied out of the namespace so the state lock is not held while the
/// block manager is asked.
struct FsckFacts {
    path: BPath,
    replication: u32,
    blocks: Vec<BlockMeta>,
    open: bool,
    writing: Option<BlockId>,
}

/// One page of fsck (up to `limit` files after the walk's cursor), a slice at a time: the files of a
/// slice under the state lock, then their replicas under the block-manager lock. Blocking.
/// `caller` needs `r-x` on every directory it lists files of, checked as the walk enters it.
fn fsck_page(core: &Core, caller: &Caller, mut walk: Walk, limit: usize) -> Result<pb::FsckResponse, ServiceError> {
    let mut resp = pb::FsckResponse::default();
    {
        let state = core.state();
        state.namespace.check_walk_root(caller, walk.root())?;
        if let Some(cursor) = walk.cursor() {
            state.namespace.check_walk_resume(caller, walk.root(), cursor)?;
        }
    }
    while !walk.is_done() && resp.files.len() < limit {
        let mut files = Vec::new();
        {
            let state = core.state();
            let ns = &state.namespace;
            let budget = FSCK_SLICE.min(limit - resp.files.len());
            let visit = |p: &BPath, f: &crate::state::namespace::FileMeta| {
                files.push(FsckFacts {
                    path: p.clone(),
                    replication: f.replication,
                    blocks: f.blocks.clone(),
                    open: f.lease.is_some(),
                    writing: f.writing_block().map(|b| b.id),
                })
            };
            walk.step_checked(ns, budget, visit, |p, id| ns.check_enter(caller, p, id))?;
        }
        let bm = core.blocks();
        let now = Instant::now();
        for f in files {
            let rf = u64::from(f.replication);
            let mut file = pb::FsckFile {
                path: f.path.to_string(),
                length: f.blocks.iter().map(|b| b.len).sum(),
                replication: f.replication,
                blocks: f.blocks.len() as u64,
                open: f.open,
                ..Default::default()
            };
            for b in &f.blocks {
                let live = bm.live_holders(b, now).count() as u64;
                file.live_replicas += live;
                if bm.corrupt_replicas(b.id) > 0 {
                    file.corrupt += 1;
                }
                // The block being written is not counted as missing or under-replicated.
                let writing = f.writing == Some(b.id);
                match live {
                    0 if !writing => file.missing += 1,
                    n if n < rf && !writing => file.under_replicated += 1,
                    n if n > rf => resp.over_replicated += 1,
                    _ => {}
                }
            }
            resp.total_files += 1;
            resp.total_blocks += file.blocks;
            resp.live_replicas += file.live_replicas;
            resp.under_replicated += file.under_replicated;
            resp.missing += file.missing;
            resp.corrupt += file.corrupt;
            resp.files.push(file);
        }
    }
    if !walk.is_done()
        && let Some(last) = walk.cursor()
    {
        resp.next_after = last.to_string();
    }
    Ok(resp)
}
