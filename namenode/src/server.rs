//! Starting and stopping a namenode: open the log and the latest snapshot, start Raft (bootstrapping
//! the group on first start), serve the client, datanode and Raft services on one listener, and run the
//! monitor loop (safe mode).

use crate::blocks::{BlockManager, BlockOwner, SafeMode};
use crate::config::NamenodeConfig;
use crate::error::NamenodeError;
use crate::leases::Leases;
use crate::raft::Raft;
use crate::raft::log_store::LogStore;
use crate::raft::network::NetworkFactory;
use crate::raft::state_machine::StateMachineStore;
use crate::raft::transport::RaftTransportService;
use crate::service::{AdminService, ClientService, Core, DatanodeService};
use crate::state::cluster::{AdminState, ClusterCommand};
use basalt_common::DatanodeId;
use basalt_common::MAX_RPC_MESSAGE;
use basalt_proto::pb::admin_protocol_server::AdminProtocolServer;
use basalt_proto::pb::client_protocol_server::ClientProtocolServer;
use basalt_proto::pb::datanode_protocol_server::DatanodeProtocolServer;
use basalt_proto::pb::raft_transport_server::RaftTransportServer;
use openraft::{BasicNode, SnapshotPolicy};
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;

/// A running namenode.
pub struct Namenode {
    addr: SocketAddr,
    core: Arc<Core>,
    stop: watch::Sender<bool>,
    server: JoinHandle<Result<(), tonic::transport::Error>>,
    monitor: JoinHandle<()>,
}

impl Namenode {
    pub async fn start(config: NamenodeConfig) -> Result<Namenode, NamenodeError> {
        config.validate()?;
        let dir = config.data_dir.clone();
        std::fs::create_dir_all(&dir).map_err(|source| NamenodeError::Io {
            path: dir.clone(),
            source,
        })?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| NamenodeError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| NamenodeError::Bind {
            addr: config.listen,
            source,
        })?;
        let advertise = config.advertise.clone().unwrap_or_else(|| addr.to_string());

        let log_dir = dir.join("raft-log");
        let log = LogStore::open(&log_dir).map_err(|source| NamenodeError::Log { path: log_dir, source })?;
        let sm = StateMachineStore::open(&dir.join("snapshots"))?;
        let state = sm.shared();
        let hb = config.raft_heartbeat.as_millis().max(10) as u64;
        let raft_config = openraft::Config {
            cluster_name: "basalt-metadata".into(),
            heartbeat_interval: hb,
            election_timeout_min: hb * 3,
            election_timeout_max: hb * 6,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(config.snapshot_interval),
            max_in_snapshot_log_to_keep: config.snapshot_interval.min(1000),
            ..Default::default()
        }
        .validate()?;
        let network = NetworkFactory::default();
        let partition = network.partition.clone();
        let raft = Raft::new(config.id, Arc::new(raft_config), network, log, sm).await?;
        bootstrap(&raft, &config, &advertise).await?;

        let core = Arc::new(Core {
            advertise: advertise.clone(),
            raft: raft.clone(),
            state,
            blocks: Mutex::new(BlockManager::new(config.dead_interval)),
            safe_mode: Mutex::new(SafeMode::new(config.safe_mode_threshold)),
            leases: Mutex::new(Leases::default()),
            rng: Mutex::new(fastrand::Rng::new()),
            replicas_reported: tokio::sync::Notify::new(),
            last_round: Mutex::new(Default::default()),
            proposer: crate::service::proposer::Proposer::start(raft.clone(), config.id),
            read_index: {
                let (raft, id) = (raft.clone(), config.id);
                crate::service::read_index::ReadIndex::new(move || Box::pin(Core::read_index_round(raft.clone(), id)))
            },
            partition,
            config,
        });
        let (stop, stop_rx) = watch::channel(false);
        let incoming = TcpListenerStream::new(listener).map(|s| {
            if let Ok(s) = &s {
                let _ = s.set_nodelay(true);
            }
            s
        });
        let mut shutdown = stop_rx.clone();
        let server = tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(
                    ClientProtocolServer::new(ClientService::new(core.clone()))
                        .max_decoding_message_size(MAX_RPC_MESSAGE)
                        .max_encoding_message_size(MAX_RPC_MESSAGE),
                )
                .add_service(
                    DatanodeProtocolServer::new(DatanodeService::new(core.clone()))
                        .max_decoding_message_size(MAX_RPC_MESSAGE * 4)
                        .max_encoding_message_size(MAX_RPC_MESSAGE),
                )
                .add_service(AdminProtocolServer::new(AdminService::new(core.clone())))
                .add_service(
                    RaftTransportServer::new(RaftTransportService::new(raft))
                        .max_decoding_message_size(MAX_RPC_MESSAGE * 4)
                        .max_encoding_message_size(MAX_RPC_MESSAGE * 4),
                )
                .serve_with_incoming_shutdown(incoming, async move {
                    let _ = shutdown.wait_for(|s| *s).await;
                }),
        );
        let monitor = tokio::spawn(monitor(core.clone(), stop_rx));
        tracing::info!(id = core.config.id, %addr, advertise = %core.advertise, "namenode started");
        Ok(Namenode {
            addr,
            core,
            stop,
            server,
            monitor,
        })
    }

    /// The address the services listen on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn raft(&self) -> &Raft {
        &self.core.raft
    }

    /// Stops serving, then stops Raft.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        let _ = self.monitor.await;
        if let Err(e) = self.core.raft.shutdown().await {
            tracing::warn!(error = %e, "raft shutdown");
        }
        // Raft has dropped the log store, which joined its sync thread.
        tracing::info!("namenode stopped");
    }
}

/// Initializes the group on its very first start; later starts (or other members' bootstrap) find it
/// initialized and do nothing.
async fn bootstrap(raft: &Raft, config: &NamenodeConfig, advertise: &str) -> Result<(), NamenodeError> {
    if config.join || raft.is_initialized().await? {
        return Ok(());
    }
    let members: BTreeMap<u64, BasicNode> = if config.peers.is_empty() {
        BTreeMap::from([(config.id, BasicNode::new(advertise))])
    } else {
        config.peers.iter().map(|(id, a)| (*id, BasicNode::new(a))).collect()
    };
    match raft.initialize(members).await {
        Ok(()) => Ok(()),
        Err(openraft::error::RaftError::APIError(openraft::error::InitializeError::NotAllowed(_))) => Ok(()),
        Err(e) => Err(NamenodeError::Bootstrap(e)),
    }
}

/// Background duties of a member: leave safe mode once this member leads with an up-to-date state and
/// enough blocks are reported; then, every second: re-replicate under-replicated blocks (and drain
/// decommissioning nodes), delete orphan and stale replicas, and recover the files of expired leases.
async fn monitor(core: Arc<Core>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut ticks = 0u64;
    let mut last_garbage = crate::blocks::GarbageSummary::default();
    // Decommissioned marks being proposed.
    let marking: Arc<Mutex<HashSet<DatanodeId>>> = Arc::default();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        ticks += 1;
        let leading = core.is_leader();
        core.leases
            .lock()
            .expect("lease lock poisoned")
            .set_leading(leading, Instant::now());
        if !leading {
            continue;
        }
        if core.safe_mode.lock().expect("safe mode lock poisoned").is_on() {
            if core.read_barrier().await.is_ok() {
                core.refresh_safe_mode();
            }
            continue;
        }
        if !ticks.is_multiple_of(10) {
            continue;
        }
        let now = Instant::now();
        let (summary, garbage, open) = {
            let state = core.state();
            let ns = &state.namespace;
            let open = ns.open_files();
            // A node still in the pipeline of a block being written (or recovered) holds data no other
            // node may have yet: it is not drained until that block is finished.
            let busy: HashSet<DatanodeId> = open
                .iter()
                .filter(|f| f.lease.last_block_open)
                .flat_map(|f| f.lease.pipeline.iter().copied())
                .collect();
            let mut bm = core.blocks.lock().expect("block manager lock poisoned");
            let mut rng = core.rng.lock().expect("rng lock poisoned");
            let summary = bm.schedule_replication(
                ns.complete_blocks_with_replication(),
                state.cluster.admin_states(),
                &busy,
                now,
                REPLICATION_PER_NODE,
                REPLICATION_RETRY,
                &mut rng,
            );
            let owner = |b| match ns.block_state(b) {
                None => BlockOwner::None,
                Some((gen_stamp, open)) => BlockOwner::File { gen_stamp, open },
            };
            let garbage = bm.collect_garbage(owner, now, core.config.orphan_grace);
            (summary, garbage, open)
        };
        let last = std::mem::replace(
            &mut *core.last_round.lock().expect("round lock poisoned"),
            summary.clone(),
        );
        if summary != last {
            tracing::info!(
                under_replicated = summary.under_replicated,
                missing = summary.missing,
                scheduled = summary.scheduled,
                trimmed = summary.trimmed,
                "replication monitor"
            );
        }
        if garbage != last_garbage && garbage != Default::default() {
            tracing::info!(
                orphans = garbage.orphans,
                stale = garbage.stale,
                "replicas no file needs queued for deletion"
            );
        }
        last_garbage = garbage;
        for node in summary.drained.iter().copied() {
            if !marking.lock().expect("marking lock poisoned").insert(node) {
                continue; // a proposal for it is in flight
            }
            let (core, marking) = (core.clone(), marking.clone());
            // Only if it is still decommissioning: an operator's cancel meanwhile wins.
            let cmd = ClusterCommand::SetAdminState {
                datanode: node,
                state: AdminState::Decommissioned,
                from: Some(AdminState::Decommissioning),
            };
            tokio::spawn(async move {
                match tokio::time::timeout(PROPOSAL_TIMEOUT, core.propose("namenode", 0, cmd)).await {
                    Ok(Ok(_)) => {
                        tracing::info!(datanode = %node, "decommissioned: every block it held has its replication elsewhere")
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(datanode = %node, error = %e, "could not mark decommissioned")
                    }
                    Err(_) => tracing::warn!(datanode = %node, "marking decommissioned timed out"),
                }
                marking.lock().expect("marking lock poisoned").remove(&node);
            });
        }
        let (due, term) = core
            .leases
            .lock()
            .expect("lease lock poisoned")
            .due(open, now, core.config.lease_hard_limit);
        for file in due {
            let core = core.clone();
            tokio::spawn(async move {
                let path = file.path.clone();
                let res = tokio::time::timeout(RECOVERY_TIMEOUT, crate::recovery::recover(core.clone(), file))
                    .await
                    .unwrap_or_else(|_| {
                        Err(crate::service::ServiceError::RecoveryTimedOut {
                            path: path.clone(),
                            timeout: RECOVERY_TIMEOUT,
                        })
                    });
                if let Err(e) = &res {
                    tracing::warn!(%path, error = %e, "lease recovery failed; it will be retried");
                }
                core.leases.lock().expect("lease lock poisoned").finished(
                    &path,
                    term,
                    res.is_ok(),
                    Instant::now(),
                    LEASE_RECOVERY_RETRY,
                );
            });
        }
    }
}

/// Deadline of a proposal the monitor makes.
const PROPOSAL_TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline of one lease recovery attempt.
const RECOVERY_TIMEOUT: Duration = Duration::from_secs(60);
/// A failed lease recovery is tried again after this long.
const LEASE_RECOVERY_RETRY: Duration = Duration::from_secs(5);
/// Copies queued per source datanode per round (one round a second).
const REPLICATION_PER_NODE: usize = 4;
/// A scheduled copy not reported within this long is scheduled again.
const REPLICATION_RETRY: Duration = Duration::from_secs(10);
