//! Starting and stopping a namenode: bind the listener (or take one already bound), open the log and
//! the latest snapshot, start Raft (bootstrapping the group on first start), serve the client, datanode
//! and Raft services on that listener, and run the monitor loop ([`crate::monitor`]: safe mode,
//! healing, lease recovery).

use crate::blocks::{BlockManager, SafeMode};
use crate::config::NamenodeConfig;
use crate::error::NamenodeError;
use crate::leases::Leases;
use crate::monitor::monitor;
use crate::raft::Raft;
use crate::raft::log_store::LogStore;
use crate::raft::network::NetworkFactory;
use crate::raft::state_machine::StateMachineStore;
use crate::raft::transport::{Heard, RaftTransportService};
use crate::scheduler::JobScheduler;
use crate::scheduler::service::JobService;
use crate::service::{AdminService, ClientService, Core, DatanodeService};
use basalt_common::MAX_RPC_MESSAGE;
use basalt_proto::link::Connector;
use basalt_proto::pb::admin_protocol_server::AdminProtocolServer;
use basalt_proto::pb::client_protocol_server::ClientProtocolServer;
use basalt_proto::pb::datanode_protocol_server::DatanodeProtocolServer;
use basalt_proto::pb::job_protocol_server::JobProtocolServer;
use basalt_proto::pb::raft_transport_server::RaftTransportServer;
use openraft::{BasicNode, SnapshotPolicy};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
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
    /// The HTTP server, when `http` is set.
    http: Option<crate::http::HttpServer>,
    scheduler: JoinHandle<()>,
}

impl Namenode {
    /// Starts a member listening on `config.listen` (port 0 picks a free port: see [`Self::local_addr`]).
    pub async fn start(config: NamenodeConfig) -> Result<Namenode, NamenodeError> {
        config.validate()?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| NamenodeError::Bind {
                addr: config.listen,
                source,
            })?;
        Self::start_on(config, listener, Connector::default()).await
    }

    /// Starts a member serving on an already bound `listener` (`config.listen` is not bound again), its
    /// outgoing channels (Raft peers, datanodes) opened through `connector`.
    pub async fn start_on(
        config: NamenodeConfig,
        listener: TcpListener,
        connector: Connector,
    ) -> Result<Namenode, NamenodeError> {
        config.validate()?;
        let dir = config.data_dir.clone();
        std::fs::create_dir_all(&dir).map_err(|source| NamenodeError::Io {
            path: dir.clone(),
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| NamenodeError::Bind {
            addr: config.listen,
            source,
        })?;
        let advertise = config.advertise.clone().unwrap_or_else(|| addr.to_string());

        let log_dir = dir.join("raft-log");
        let log = LogStore::open(&log_dir).map_err(|source| NamenodeError::Log { path: log_dir, source })?;
        let sm = StateMachineStore::open(&dir.join(crate::raft::state_machine::SNAPSHOT_DIR))?;
        let state = sm.shared();
        let hb = config.raft_heartbeat.as_millis().max(10) as u64;
        let (election_min, election_max) = election_band(config.id, hb);
        let raft_config = openraft::Config {
            cluster_name: "basalt-metadata".into(),
            heartbeat_interval: hb,
            election_timeout_min: election_min,
            election_timeout_max: election_max,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(config.snapshot_interval),
            max_in_snapshot_log_to_keep: config.snapshot_interval.min(1000),
            // Off until `allow_elections` has seen whether this is a restart (see there).
            enable_elect: false,
            ..Default::default()
        }
        .validate()?;
        let network = NetworkFactory {
            partition: Default::default(),
            connector: connector.clone(),
        };
        let partition = network.partition.clone();
        let raft = Raft::new(config.id, Arc::new(raft_config), network, log, sm).await?;
        allow_elections(&raft, Duration::from_millis(2 * election_max)).await?;
        bootstrap(&raft, &config, &advertise).await?;

        let metrics = crate::metrics::NamenodeMetrics::new();
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
            proposer: crate::service::proposer::Proposer::start(raft.clone(), config.id, metrics.batch_sizes.clone()),
            read_index: {
                let (raft, id) = (raft.clone(), config.id);
                crate::service::read_index::ReadIndex::new(move || Box::pin(Core::read_index_round(raft.clone(), id)))
            },
            partition,
            connector,
            ring_alloc: tokio::sync::Mutex::new(()),
            users: crate::service::users::Users::new(&config),
            metrics,
            config,
        });
        core.metrics.watch_core(&core);
        let (stop, stop_rx) = watch::channel(false);
        let incoming = TcpListenerStream::new(listener).map(|s| {
            if let Ok(s) = &s {
                let _ = s.set_nodelay(true);
            }
            s
        });
        let sched = JobScheduler::new(core.clone());
        let heard = Arc::new(Heard::default());
        tokio::spawn(watch_elections(core.raft.clone(), heard.clone(), election_max));
        core.metrics
            .registry
            .collect(crate::metrics::SchedulerReadings(Arc::downgrade(&sched)));
        tokio::spawn(crate::metrics::count_leader_changes(core.clone(), stop_rx.clone()));
        let mut shutdown = stop_rx.clone();
        let server = tokio::spawn(
            tonic::transport::Server::builder()
                .layer(core.metrics.rpc.layer())
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
                    JobProtocolServer::new(JobService::new(core.clone(), sched.clone()))
                        .max_decoding_message_size(MAX_RPC_MESSAGE)
                        .max_encoding_message_size(MAX_RPC_MESSAGE),
                )
                .add_service(
                    RaftTransportServer::new(RaftTransportService::new(raft, heard))
                        .max_decoding_message_size(MAX_RPC_MESSAGE * 4)
                        .max_encoding_message_size(MAX_RPC_MESSAGE * 4),
                )
                .serve_with_incoming_shutdown(incoming, async move {
                    let _ = shutdown.wait_for(|s| *s).await;
                }),
        );
        let http = match core.config.http_listen {
            Some(at) => {
                Some(crate::http::start(at, crate::http::router(core.clone(), sched.clone())?, stop_rx.clone()).await?)
            }
            None => None,
        };
        let monitor = tokio::spawn(monitor(core.clone(), stop_rx.clone()));
        let scheduler = tokio::spawn(sched.clone().run(stop_rx));
        tracing::info!(id = core.config.id, %addr, advertise = %core.advertise, http = ?http.as_ref().map(|h| h.addr), "namenode started");
        Ok(Namenode {
            addr,
            core,
            stop,
            server,
            monitor,
            http,
            scheduler,
        })
    }

    /// The address the services listen on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address the HTTP server is bound to, when it runs.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|h| h.addr)
    }

    pub fn raft(&self) -> &Raft {
        &self.core.raft
    }

    /// Stops serving, then stops Raft.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        let _ = self.monitor.await;
        if let Some(http) = self.http {
            let _ = http.task.await;
        }
        let _ = self.scheduler.await;
        if let Err(e) = self.core.raft.shutdown().await {
            tracing::warn!(error = %e, "raft shutdown");
        }
        // Raft has dropped the log store, which joined its sync thread.
        tracing::info!("namenode stopped");
    }
}

/// This member's election timeout band in milliseconds, for a heartbeat of `hb` ms.
///
/// openraft 0.9 draws a member's election timeout once, at start, from the band. Two members whose
/// draws are close start their elections together after a leader dies, split the vote, and (their
/// timeouts fixed) can do so again and again while load delays their messages. So each member gets its
/// own band by id, a heartbeat apart: 4-4.5 heartbeats for member 1, 5-5.5 for member 2, ... (ids
/// beyond 5 wrap). A member that followed a leader campaigns once it has heard nothing for the
/// leader's lease (openraft: the top of its band) plus its timeout: 9 heartbeats (450 ms by default)
/// for member 1, 13 for member 3; openraft ticks every 1.5 heartbeats.
fn election_band(id: u64, hb: u64) -> (u64, u64) {
    let min = hb * (4 + id.saturating_sub(1) % 5);
    (min, min + hb / 2)
}

/// Lets this member campaign: at once on a first start or in a group of one; on the restart of a member
/// of a larger group, only after `lease` (a leader's lease plus this member's election timeout).
///
/// A restarted member has no record of when it last heard a leader, so openraft would let it campaign
/// at its first tick, before the leader's heartbeats reach it (the leader backs off a member it found
/// unreachable). Its higher term then makes a healthy leader step down: a needless election, and
/// writes stall, each time a member restarts. Waiting out the lease is what a follower that had heard
/// the leader does anyway (Raft's "disruptive servers"; openraft 0.9 has no pre-vote).
async fn allow_elections(raft: &Raft, lease: Duration) -> Result<(), NamenodeError> {
    let voters = |m: &openraft::RaftMetrics<u64, BasicNode>| m.membership_config.membership().voter_ids().count();
    let restarted_in_group = raft.is_initialized().await?
        && raft
            .wait(Some(Duration::from_secs(1)))
            .metrics(|m| voters(m) > 0, "membership loaded")
            .await
            .is_ok_and(|m| voters(&m) > 1);
    if !restarted_in_group {
        raft.runtime_config().elect(true);
        return Ok(());
    }
    let raft = raft.clone();
    tokio::spawn(async move {
        tokio::time::sleep(lease).await;
        raft.runtime_config().elect(true);
    });
    Ok(())
}

/// Logs each campaign of this member with how long it had not heard a leader, so a spurious election
/// on a loaded machine can be told apart (no AppendEntries arrived: the leader or the link was slow;
/// some did arrive: Raft handled them late) from a real failover. Ends when Raft shuts down.
async fn watch_elections(raft: Raft, heard: Arc<Heard>, election_max_ms: u64) {
    let mut metrics = raft.metrics();
    let mut was = openraft::ServerState::Learner;
    loop {
        let (state, term, leader) = {
            let m = metrics.borrow_and_update();
            (m.state, m.current_term, m.current_leader)
        };
        if state == openraft::ServerState::Candidate && was != openraft::ServerState::Candidate {
            let ago = heard.ago().map(|d| d.as_millis() as i64).unwrap_or(-1);
            tracing::warn!(
                term,
                last_append_entries_ms_ago = ago,
                election_max_ms,
                ?leader,
                "campaigning: no leader heard within the election timeout"
            );
        }
        was = state;
        if metrics.changed().await.is_err() {
            return;
        }
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

#[cfg(test)]
mod tests {
    use super::election_band;

    #[test]
    fn election_bands_of_a_group_do_not_overlap() {
        for hb in [10, 50, 100] {
            let bands: Vec<(u64, u64)> = (1..=5).map(|id| election_band(id, hb)).collect();
            for (i, &(min, max)) in bands.iter().enumerate() {
                assert!(hb < min && min < max, "hb {hb}: {min}..{max}");
                if let Some(&(next, _)) = bands.get(i + 1) {
                    assert!(max < next, "hb {hb}: bands {bands:?} overlap");
                }
            }
            assert_eq!(election_band(6, hb), election_band(1, hb));
        }
    }
}
