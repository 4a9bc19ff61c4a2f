//! The file system API: namespace calls, and creating and opening files.

use crate::datanodes::DatanodePool;
use crate::error::{ClientError, Result, required};
use crate::namenode::{CallerId, NamenodeClient, RetryPolicy, nn_call};
use crate::reader::{FileReader, ReadCounters, ReadStats};
use crate::writer::FileWriter;
use basalt_common::BPath;
use basalt_proto::link::{Channel, Connector};
use basalt_proto::pb;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Client settings.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Comma-separated metadata member addresses.
    pub namenodes: String,
    pub retry: RetryPolicy,
    /// Read replicas on this host straight from their files (memory-mapped).
    pub short_circuit: bool,
    /// The user every call is made as (the namenode checks HDFS permissions against it, and it owns
    /// the files and directories this client creates). Default: `BASALT_USER`, else the OS user of the
    /// effective uid, else `basalt` ([`default_user`]). Identity, not authentication: as in unsecured
    /// HDFS, the namenode believes the name.
    pub user: String,
    /// Permission bits cleared from the mode of every file (0666) and directory (0777) this client
    /// creates: HDFS's `fs.permissions.umask-mode`. Default 0o022.
    pub umask: u32,
    /// How long a write pipeline may leave a packet unacknowledged before its first datanode is blamed
    /// (plus a sixth of it per pipeline node, so deeper nodes are blamed by their neighbours first).
    pub ack_timeout: Duration,
    /// Opens the client's channels to metadata members and datanodes. Default: plain channels (tests
    /// put link filters here).
    pub connector: Connector,
}

impl ClientConfig {
    pub fn new(namenodes: impl Into<String>) -> Self {
        ClientConfig {
            namenodes: namenodes.into(),
            retry: RetryPolicy::default(),
            short_circuit: true,
            user: default_user(),
            umask: DEFAULT_UMASK,
            ack_timeout: Duration::from_secs(60),
            connector: Connector::default(),
        }
    }
}

/// HDFS's default umask (`fs.permissions.umask-mode`).
pub const DEFAULT_UMASK: u32 = 0o022;

/// The user a client calls as unless told otherwise: `BASALT_USER` (as `HADOOP_USER_NAME`), else the
/// OS user of the effective uid (`$USER` is not reliable), else `basalt`.
pub fn default_user() -> String {
    std::env::var("BASALT_USER")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(basalt_host::os_user)
        .unwrap_or_else(|| "basalt".into())
}

/// Options of [`Client::create`].
#[derive(Clone, Debug, Default)]
pub struct CreateOptions {
    pub overwrite: bool,
    /// 0 = the namenode's default.
    pub replication: u32,
    /// 0 = the namenode's default.
    pub block_size: u64,
    /// Create missing parent directories.
    pub create_parent: bool,
}

/// Status of a file or directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileStatus {
    pub path: String,
    pub is_dir: bool,
    pub length: u64,
    pub replication: u32,
    pub block_size: u64,
    pub mtime_ms: u64,
    /// Access time (set when the file is created and by [`Client::set_times`]; reads leave it). 0 for
    /// directories and for files written before access times were kept.
    pub atime_ms: u64,
    pub owner: String,
    pub group: String,
    /// The 12 low mode bits (rwx for owner, group, other; setuid 0o4000, setgid 0o2000, sticky 0o1000).
    pub mode: u32,
    pub under_construction: bool,
    pub block_count: u64,
    /// The namenode's id of the inode (WebHDFS's fileId).
    pub inode_id: u64,
    /// Entries of a directory; 0 for a file.
    pub children_num: u64,
}

impl From<pb::FileStatus> for FileStatus {
    fn from(s: pb::FileStatus) -> Self {
        FileStatus {
            path: s.path,
            is_dir: s.is_dir,
            length: s.length,
            replication: s.replication,
            block_size: s.block_size,
            mtime_ms: s.mtime_ms,
            atime_ms: s.atime_ms,
            owner: s.owner,
            group: s.group,
            mode: s.mode,
            under_construction: s.under_construction,
            block_count: s.block_count,
            inode_id: s.inode_id,
            children_num: s.children_num,
        }
    }
}

/// Totals below a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentSummary {
    pub length: u64,
    pub files: u64,
    pub directories: u64,
    pub space_consumed: u64,
}

pub(crate) struct Inner {
    pub nn: NamenodeClient,
    pub dns: DatanodePool,
    pub config: ClientConfig,
    /// Lease holder name of this client.
    pub name: String,
    pub host_id: String,
    pub open_writers: AtomicUsize,
    pub reads: ReadCounters,
    /// Coordinators of table statements.
    pub tables: crate::cql::Coordinators,
}

impl Inner {
    pub fn request_id() -> u64 {
        fastrand::u64(1..)
    }
}

/// A connection to a Basalt cluster, calling as one user. Cheap to clone; [`Client::as_user`] gives a
/// handle on the same connections calling as another user.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
    pub(crate) caller: CallerId,
}

fn check(path: &str) -> Result<BPath> {
    Ok(BPath::parse(path)?)
}

impl Client {
    /// Connects lazily: the first call reaches the namenode.
    pub fn connect(config: ClientConfig) -> Result<Client> {
        let nn = NamenodeClient::new(&config.namenodes, config.retry.clone())?.with_connector(config.connector.clone());
        let name = format!("client-{}-{:08x}", std::process::id(), fastrand::u32(..));
        let caller = CallerId::new(&config.user);
        let inner = Arc::new(Inner {
            nn,
            dns: DatanodePool::new(config.connector.clone()),
            tables: crate::cql::Coordinators::new(config.connector.clone()),
            host_id: basalt_host::host_id(),
            config,
            name,
            open_writers: AtomicUsize::new(0),
            reads: ReadCounters::default(),
        });
        spawn_lease_renewer(Arc::downgrade(&inner), caller.clone());
        Ok(Client { inner, caller })
    }

    /// A handle on the same connections, pools and lease (one lease holder name per process, as one
    /// HDFS client) that calls as `user`: what a gateway serving many users (WebHDFS) makes per request.
    pub fn as_user(&self, user: &str) -> Client {
        Client {
            inner: self.inner.clone(),
            caller: CallerId::new(user),
        }
    }

    /// The user this handle calls as.
    pub fn user(&self) -> &str {
        self.caller.name()
    }

    /// This client's name (the lease holder of files it writes).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// How this client's reads were served so far (short-circuit or over the network).
    pub fn read_stats(&self) -> ReadStats {
        self.inner.reads.snapshot()
    }

    /// The permission a create sends: `mode` as given; the namenode makes the caller the owner and
    /// gives the parent's group.
    fn perm(&self, mode: u32) -> Option<pb::Permission> {
        Some(pb::Permission {
            owner: self.user().to_string(),
            group: String::new(),
            mode: mode & 0o7777,
        })
    }

    /// `base` (0666 for a file, 0777 for a directory) less this client's umask.
    fn umasked(&self, base: u32) -> u32 {
        base & !self.inner.config.umask & 0o7777
    }

    /// Creates a directory (with `parents`, every missing ancestor too, as `mkdir -p`) with mode 0777
    /// less the client's umask.
    pub async fn mkdirs(&self, path: &str, parents: bool) -> Result<()> {
        self.mkdirs_with_mode(path, parents, self.umasked(0o777)).await
    }

    /// [`Self::mkdirs`] with the mode given as is (no umask applied; as WebHDFS's `permission`).
    pub async fn mkdirs_with_mode(&self, path: &str, parents: bool, mode: u32) -> Result<()> {
        let req = pb::MkdirsRequest {
            path: check(path)?.to_string(),
            parents,
            perm: self.perm(mode),
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
        };
        nn_call!(self.inner.nn, &self.caller, mkdirs, req)?;
        Ok(())
    }

    pub async fn stat(&self, path: &str) -> Result<FileStatus> {
        let req = pb::GetFileInfoRequest {
            path: check(path)?.to_string(),
        };
        let resp = nn_call!(self.inner.nn, &self.caller, get_file_info, req)?;
        Ok(FileStatus::from(required(resp.status, "file status")?))
    }

    /// Whether `path` exists.
    pub async fn exists(&self, path: &str) -> Result<bool> {
        match self.stat(path).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == basalt_common::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Entries of a directory (all pages), or the file itself.
    pub async fn list(&self, path: &str) -> Result<Vec<FileStatus>> {
        let path = check(path)?.to_string();
        let mut out = Vec::new();
        let mut start_after = String::new();
        loop {
            let req = pb::ListStatusRequest {
                path: path.clone(),
                start_after: start_after.clone(),
                limit: 1000,
            };
            let resp = nn_call!(self.inner.nn, &self.caller, list_status, req)?;
            let more = resp.has_more;
            out.extend(resp.entries.into_iter().map(FileStatus::from));
            match (more, out.last()) {
                (true, Some(last)) => start_after = last.path.rsplit('/').next().unwrap_or("").to_string(),
                _ => return Ok(out),
            }
        }
    }

    pub async fn delete(&self, path: &str, recursive: bool) -> Result<()> {
        let req = pb::DeleteRequest {
            path: check(path)?.to_string(),
            recursive,
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
        };
        nn_call!(self.inner.nn, &self.caller, delete, req)?;
        Ok(())
    }

    pub async fn rename(&self, src: &str, dst: &str) -> Result<()> {
        let req = pb::RenameRequest {
            src: check(src)?.to_string(),
            dst: check(dst)?.to_string(),
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
        };
        nn_call!(self.inner.nn, &self.caller, rename, req)?;
        Ok(())
    }

    pub async fn set_replication(&self, path: &str, replication: u32) -> Result<()> {
        let req = pb::SetReplicationRequest {
            path: check(path)?.to_string(),
            replication,
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
        };
        nn_call!(self.inner.nn, &self.caller, set_replication, req)?;
        Ok(())
    }

    pub async fn content_summary(&self, path: &str) -> Result<ContentSummary> {
        let req = pb::ContentSummaryRequest {
            path: check(path)?.to_string(),
        };
        let s = nn_call!(self.inner.nn, &self.caller, get_content_summary, req)?;
        Ok(ContentSummary {
            length: s.length,
            files: s.file_count,
            directories: s.directory_count,
            space_consumed: s.space_consumed,
        })
    }

    /// Block health of every file at or below `path` (see `basalt fs fsck`), fetched in pages of
    /// [`FSCK_PAGE`] files and summed into one report.
    pub async fn fsck(&self, path: &str) -> Result<crate::FsckReport> {
        let path = check(path)?.to_string();
        let mut report = crate::FsckReport::default();
        let mut start_after = String::new();
        loop {
            let req = pb::FsckRequest {
                path: path.clone(),
                start_after: std::mem::take(&mut start_after),
                limit: FSCK_PAGE,
            };
            let page: pb::FsckResponse = nn_call!(self.inner.nn, &self.caller, fsck, req)?;
            report.files.extend(page.files);
            report.total_files += page.total_files;
            report.total_blocks += page.total_blocks;
            report.live_replicas += page.live_replicas;
            report.under_replicated += page.under_replicated;
            report.over_replicated += page.over_replicated;
            report.missing += page.missing;
            report.corrupt += page.corrupt;
            if page.next_after.is_empty() {
                return Ok(report);
            }
            start_after = page.next_after;
        }
    }

    pub async fn cluster_status(&self) -> Result<crate::ClusterStatus> {
        nn_call!(self.inner.nn, &self.caller, cluster_status, pb::ClusterStatusRequest {})
    }

    /// Sets the 12 low mode bits of `path` (sticky: 0o1000): its owner or the superuser only
    /// (`hadoop fs -chmod`).
    pub async fn set_permission(&self, path: &str, mode: u32) -> Result<()> {
        let req = pb::SetPermissionRequest {
            path: check(path)?.to_string(),
            mode,
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
        };
        nn_call!(self.inner.nn, &self.caller, set_permission, req)?;
        Ok(())
    }

    /// Changes the owner (the superuser only) and/or the group (the owner, to one of its groups, or the
    /// superuser) of `path`; `None` keeps that one (`hadoop fs -chown`, `-chgrp`).
    pub async fn set_owner(&self, path: &str, owner: Option<&str>, group: Option<&str>) -> Result<()> {
        if owner.is_none() && group.is_none() {
            return Err(ClientError::InvalidArgument(
                "set_owner needs an owner or a group".into(),
            ));
        }
        let req = pb::SetOwnerRequest {
            path: check(path)?.to_string(),
            owner: owner.unwrap_or_default().to_string(),
            group: group.unwrap_or_default().to_string(),
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
        };
        nn_call!(self.inner.nn, &self.caller, set_owner, req)?;
        Ok(())
    }

    /// Sets the modification and/or access time of `path` (milliseconds since the epoch); `None`
    /// keeps that one. Needs write access to `path`.
    pub async fn set_times(&self, path: &str, mtime_ms: Option<u64>, atime_ms: Option<u64>) -> Result<()> {
        let req = pb::SetTimesRequest {
            path: check(path)?.to_string(),
            mtime_ms,
            atime_ms,
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
        };
        nn_call!(self.inner.nn, &self.caller, set_times, req)?;
        Ok(())
    }

    /// Creates a file and returns a writer for it. The file becomes visible at once (empty, open);
    /// its contents are durable once [`FileWriter::close`] returns.
    pub async fn create(&self, path: &str, opts: CreateOptions) -> Result<FileWriter> {
        self.create_with_mode(path, opts, self.umasked(0o666)).await
    }

    /// [`Self::create`] with the new file's mode given as is (no umask applied; as WebHDFS's
    /// `permission`); the caller owns the file, which takes its directory's group.
    pub async fn create_with_mode(&self, path: &str, opts: CreateOptions, mode: u32) -> Result<FileWriter> {
        let req = pb::CreateRequest {
            path: check(path)?.to_string(),
            overwrite: opts.overwrite,
            replication: opts.replication,
            block_size: opts.block_size,
            perm: self.perm(mode),
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
            create_parent: opts.create_parent,
        };
        let resp = nn_call!(self.inner.nn, &self.caller, create, req)?;
        let status = FileStatus::from(required(resp.status, "file status")?);
        Ok(FileWriter::new(self.inner.clone(), self.caller.clone(), status))
    }

    /// Reopens a closed file for writing at its end (HDFS append with a new block: earlier blocks,
    /// finalized on their datanodes, are never rewritten). Fails while another writer holds the file.
    pub async fn append(&self, path: &str) -> Result<FileWriter> {
        let req = pb::AppendRequest {
            path: check(path)?.to_string(),
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
        };
        let resp = nn_call!(self.inner.nn, &self.caller, append, req)?;
        let status = FileStatus::from(required(resp.status, "file status")?);
        Ok(FileWriter::new(self.inner.clone(), self.caller.clone(), status))
    }

    /// A file's blocks (id, generation stamp, length, offset) with the datanodes holding a live replica,
    /// nearest first, as a reader gets them.
    pub async fn block_locations(&self, path: &str) -> Result<Vec<crate::LocatedBlock>> {
        let req = pb::GetBlockLocationsRequest {
            path: check(path)?.to_string(),
            offset: 0,
            length: 0,
            reader_host: String::new(),
        };
        Ok(nn_call!(self.inner.nn, &self.caller, get_block_locations, req)?.blocks)
    }

    /// Opens a file for reading.
    pub async fn open(&self, path: &str) -> Result<FileReader> {
        FileReader::open(self.inner.clone(), self.caller.clone(), check(path)?.to_string()).await
    }

    /// Reads a whole file into memory.
    pub async fn read_all(&self, path: &str) -> Result<Vec<u8>> {
        let mut r = self.open(path).await?;
        r.read_rest().await
    }

    /// Writes `data` as a new file (replacing it when `opts.overwrite`).
    pub async fn write_all(&self, path: &str, data: &[u8], opts: CreateOptions) -> Result<()> {
        let mut w = self.create(path, opts).await?;
        w.write(data).await?;
        w.close().await
    }
}

/// How often a client with files open renews its lease (the namenode's hard limit is far longer).
const LEASE_RENEWAL: Duration = Duration::from_secs(1);
/// Files per fsck page: a page's reply stays far below the message size limit.
pub const FSCK_PAGE: u32 = 10_000;

/// Renews this client's lease while it has files open for writing; stops when the client is dropped.
fn spawn_lease_renewer(inner: std::sync::Weak<Inner>, caller: CallerId) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    handle.spawn(async move {
        let mut tick = tokio::time::interval(LEASE_RENEWAL);
        loop {
            tick.tick().await;
            let Some(inner) = inner.upgrade() else { return };
            if inner.open_writers.load(Ordering::Relaxed) == 0 {
                continue;
            }
            let req = pb::RenewLeaseRequest {
                client_name: inner.name.clone(),
            };
            if let Err(e) = nn_call!(inner.nn, &caller, renew_lease, req) {
                tracing::warn!(error = %e, "lease renewal failed");
            }
        }
    });
}

/// One metadata member's own status.
pub type MemberStatus = pb::MemberStatus;

fn admin_client(ch: Channel) -> pb::admin_protocol_client::AdminProtocolClient<Channel> {
    pb::admin_protocol_client::AdminProtocolClient::new(ch)
}

impl Client {
    /// The status each metadata member reports about itself: the configured members plus any member the
    /// group's membership names (e.g. one added later), learned from `status` or, when `None`, from a
    /// cluster status call. Unreachable members come back as errors next to their address.
    pub async fn member_statuses(&self, status: Option<&crate::ClusterStatus>) -> Vec<(String, Result<MemberStatus>)> {
        let fetched = match status {
            Some(_) => None,
            None => self.cluster_status().await.ok(),
        };
        let mut addrs = self.inner.nn.members().to_vec();
        for m in status
            .or(fetched.as_ref())
            .map(|s| s.members.as_slice())
            .unwrap_or_default()
        {
            if !addrs.contains(&m.addr) {
                addrs.push(m.addr.clone());
            }
        }
        let mut out = Vec::new();
        for addr in addrs {
            let res = match self.inner.nn.channel(&addr) {
                Ok(ch) => admin_client(ch)
                    .member_status(self.caller.request(pb::MemberStatusRequest {}))
                    .await
                    .map(|r| r.into_inner())
                    .map_err(Into::into),
                Err(e) => Err(e),
            };
            out.push((addr, res));
        }
        out
    }

    /// Adds a member to the metadata group (learner first, then voter once caught up).
    pub async fn add_member(&self, id: u64, addr: &str) -> Result<()> {
        nn_call!(self.inner.nn, &self.caller, admin_client => add_member, pb::AddMemberRequest { id, addr: addr.to_string() })?;
        Ok(())
    }

    /// Removes a member from the metadata group.
    pub async fn remove_member(&self, id: u64) -> Result<()> {
        nn_call!(self.inner.nn, &self.caller, admin_client => remove_member, pb::RemoveMemberRequest { id })?;
        Ok(())
    }

    /// Hands metadata leadership to member `to`; returns once it leads.
    pub async fn transfer_leader(&self, to: u64) -> Result<()> {
        nn_call!(self.inner.nn, &self.caller, admin_client => transfer_leader, pb::TransferLeaderRequest { to })?;
        Ok(())
    }

    /// Starts (or with `cancel`, ends) the decommission of a datanode, named by id (as `cluster status`
    /// prints it, or decimal) or address.
    pub async fn decommission(&self, datanode: &str, cancel: bool) -> Result<pb::DecommissionResponse> {
        let req = pb::DecommissionRequest {
            datanode: datanode.to_string(),
            cancel,
        };
        Ok(nn_call!(self.inner.nn, &self.caller, admin_client => decommission, req)?)
    }

    /// Asks the member at `addr` to snapshot its state now; returns (last log index covered, bytes).
    pub async fn snapshot_member(&self, addr: &str) -> Result<(u64, u64)> {
        let r = admin_client(self.inner.nn.channel(addr)?)
            .snapshot(self.caller.request(pb::SnapshotRequest {}))
            .await?
            .into_inner();
        Ok((r.last_index, r.bytes))
    }

    /// Fault injection (members started with `--fault-injection`): the member at `addr` stops sending
    /// Raft messages to the members in `blocked` (empty heals).
    pub async fn set_partition(&self, addr: &str, blocked: &[u64]) -> Result<()> {
        let req = pb::SetPartitionRequest {
            blocked: blocked.to_vec(),
        };
        admin_client(self.inner.nn.channel(addr)?)
            .set_partition(self.caller.request(req))
            .await?;
        Ok(())
    }
}
