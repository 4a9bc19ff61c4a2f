//! The file system API: namespace calls, and creating and opening files.

use crate::datanodes::DatanodePool;
use crate::error::{Result, required};
use crate::namenode::nn_call;
use crate::namenode::{NamenodeClient, RetryPolicy};
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
    /// User name recorded as the owner of created files and directories.
    pub user: String,
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
            user: std::env::var("USER").unwrap_or_else(|_| "basalt".into()),
            ack_timeout: Duration::from_secs(60),
            connector: Connector::default(),
        }
    }
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
    pub owner: String,
    pub group: String,
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

/// A connection to a Basalt cluster. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

fn check(path: &str) -> Result<BPath> {
    Ok(BPath::parse(path)?)
}

impl Client {
    /// Connects lazily: the first call reaches the namenode.
    pub fn connect(config: ClientConfig) -> Result<Client> {
        let nn = NamenodeClient::new(&config.namenodes, config.retry.clone())?.with_connector(config.connector.clone());
        let name = format!("client-{}-{:08x}", std::process::id(), fastrand::u32(..));
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
        spawn_lease_renewer(Arc::downgrade(&inner));
        Ok(Client { inner })
    }

    /// This client's name (the lease holder of files it writes).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// How this client's reads were served so far (short-circuit or over the network).
    pub fn read_stats(&self) -> ReadStats {
        self.inner.reads.snapshot()
    }

    fn perm(&self, mode: u32) -> Option<pb::Permission> {
        Some(pb::Permission {
            owner: self.inner.config.user.clone(),
            group: "supergroup".into(),
            mode,
        })
    }

    pub async fn mkdirs(&self, path: &str, parents: bool) -> Result<()> {
        let req = pb::MkdirsRequest {
            path: check(path)?.to_string(),
            parents,
            perm: self.perm(0o755),
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
        };
        nn_call!(self.inner.nn, mkdirs, req)?;
        Ok(())
    }

    pub async fn stat(&self, path: &str) -> Result<FileStatus> {
        let req = pb::GetFileInfoRequest {
            path: check(path)?.to_string(),
        };
        let resp = nn_call!(self.inner.nn, get_file_info, req)?;
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
            let resp = nn_call!(self.inner.nn, list_status, req)?;
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
        nn_call!(self.inner.nn, delete, req)?;
        Ok(())
    }

    pub async fn rename(&self, src: &str, dst: &str) -> Result<()> {
        let req = pb::RenameRequest {
            src: check(src)?.to_string(),
            dst: check(dst)?.to_string(),
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
        };
        nn_call!(self.inner.nn, rename, req)?;
        Ok(())
    }

    pub async fn set_replication(&self, path: &str, replication: u32) -> Result<()> {
        let req = pb::SetReplicationRequest {
            path: check(path)?.to_string(),
            replication,
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
        };
        nn_call!(self.inner.nn, set_replication, req)?;
        Ok(())
    }

    pub async fn content_summary(&self, path: &str) -> Result<ContentSummary> {
        let req = pb::ContentSummaryRequest {
            path: check(path)?.to_string(),
        };
        let s = nn_call!(self.inner.nn, get_content_summary, req)?;
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
            let page: pb::FsckResponse = nn_call!(self.inner.nn, fsck, req)?;
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
        self.inner
            .nn
            .call(|mut c| async move { c.cluster_status(pb::ClusterStatusRequest {}).await })
            .await
    }

    /// Creates a file and returns a writer for it. The file becomes visible at once (empty, open);
    /// its contents are durable once [`FileWriter::close`] returns.
    pub async fn create(&self, path: &str, opts: CreateOptions) -> Result<FileWriter> {
        let req = pb::CreateRequest {
            path: check(path)?.to_string(),
            overwrite: opts.overwrite,
            replication: opts.replication,
            block_size: opts.block_size,
            perm: self.perm(0o644),
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
            create_parent: opts.create_parent,
        };
        let resp = nn_call!(self.inner.nn, create, req)?;
        let status = FileStatus::from(required(resp.status, "file status")?);
        Ok(FileWriter::new(self.inner.clone(), status))
    }

    /// Reopens a closed file for writing at its end (HDFS append with a new block: earlier blocks,
    /// finalized on their datanodes, are never rewritten). Fails while another writer holds the file.
    pub async fn append(&self, path: &str) -> Result<FileWriter> {
        let req = pb::AppendRequest {
            path: check(path)?.to_string(),
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
        };
        let resp = nn_call!(self.inner.nn, append, req)?;
        let status = FileStatus::from(required(resp.status, "file status")?);
        Ok(FileWriter::new(self.inner.clone(), status))
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
        Ok(nn_call!(self.inner.nn, get_block_locations, req)?.blocks)
    }

    /// Opens a file for reading.
    pub async fn open(&self, path: &str) -> Result<FileReader> {
        FileReader::open(self.inner.clone(), check(path)?.to_string()).await
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
fn spawn_lease_renewer(inner: std::sync::Weak<Inner>) {
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
            if let Err(e) = nn_call!(inner.nn, renew_lease, req) {
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
                    .member_status(pb::MemberStatusRequest {})
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
        nn_call!(self.inner.nn, admin_client => add_member, pb::AddMemberRequest { id, addr: addr.to_string() })?;
        Ok(())
    }

    /// Removes a member from the metadata group.
    pub async fn remove_member(&self, id: u64) -> Result<()> {
        nn_call!(self.inner.nn, admin_client => remove_member, pb::RemoveMemberRequest { id })?;
        Ok(())
    }

    /// Hands metadata leadership to member `to`; returns once it leads.
    pub async fn transfer_leader(&self, to: u64) -> Result<()> {
        nn_call!(self.inner.nn, admin_client => transfer_leader, pb::TransferLeaderRequest { to })?;
        Ok(())
    }

    /// Starts (or with `cancel`, ends) the decommission of a datanode, named by id (as `cluster status`
    /// prints it, or decimal) or address.
    pub async fn decommission(&self, datanode: &str, cancel: bool) -> Result<pb::DecommissionResponse> {
        let req = pb::DecommissionRequest {
            datanode: datanode.to_string(),
            cancel,
        };
        Ok(nn_call!(self.inner.nn, admin_client => decommission, req)?)
    }

    /// Asks the member at `addr` to snapshot its state now; returns (last log index covered, bytes).
    pub async fn snapshot_member(&self, addr: &str) -> Result<(u64, u64)> {
        let r = admin_client(self.inner.nn.channel(addr)?)
            .snapshot(pb::SnapshotRequest {})
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
        admin_client(self.inner.nn.channel(addr)?).set_partition(req).await?;
        Ok(())
    }
}
