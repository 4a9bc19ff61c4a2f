//! The namenode's RPC services and the state they share.
//!
//! [`Core`] holds the Raft handle, the replicated state (read directly, behind a lock) and the leader's
//! soft state (block manager, safe mode, leases). Mutations go through [`Core::write`]: leader check,
//! safe mode check, then a Raft proposal that returns once the entry is committed and applied. Reads
//! that must be linearizable pass [`Core::read_barrier`] first (openraft's read index). Every failure
//! is a [`ServiceError`], turned into a gRPC status in one place.
//!
//! Locks: the state lock and the block-manager lock are never held together (what one side needs of
//! the other is copied out first), and each is held for bounded work only (one file, one slice of a
//! walk or a report): whole-tree work (a full block report, fsck, the monitor's sweep) goes a slice at
//! a time on a blocking thread, releasing the lock between slices. The small locks (safe mode, rng,
//! leases, last round) are leaves: nothing else is taken while one is held.

pub mod admin;
mod client;
pub mod convert;
mod datanode;
pub mod error;
pub mod proposer;
pub mod read_index;
mod tables;
pub mod users;

pub use admin::AdminService;
pub use client::ClientService;
pub use datanode::{DatanodeService, cluster_status};
pub use error::ServiceError;

use crate::blocks::{BlockManager, SafeMode};
use crate::config::NamenodeConfig;
use crate::leases::Leases;
use crate::raft::Raft;
use crate::raft::state_machine::{SharedState, SmState};
use crate::state::namespace::BlockMeta;
use crate::state::{Gate, Request, SubCommand};
use openraft::error::{CheckIsLeaderError, RaftError};
use std::sync::{Arc, Mutex, MutexGuard, RwLockReadGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub struct Core {
    pub config: NamenodeConfig,
    pub advertise: String,
    pub raft: Raft,
    pub state: SharedState,
    pub blocks: Mutex<BlockManager>,
    pub safe_mode: Mutex<SafeMode>,
    /// When each lease holder last renewed, and the recoveries running (leader soft state).
    pub leases: Mutex<Leases>,
    pub rng: Mutex<fastrand::Rng>,
    /// Signalled whenever a datanode reports received replicas.
    pub replicas_reported: tokio::sync::Notify,
    /// Batches proposals into log entries (group commit).
    pub proposer: proposer::Proposer,
    /// Batches linearizable reads into shared read-index rounds.
    pub read_index: Arc<read_index::ReadIndex>,
    /// The replication monitor's last round.
    pub last_round: Mutex<crate::blocks::RoundSummary>,
    /// Members the Raft transport must not send to (fault injection).
    pub partition: crate::raft::network::Partition,
    /// Opens this member's outgoing channels (to other members and to datanodes).
    pub connector: basalt_proto::link::Connector,
    /// Held while the leader chooses and records a datanode's ring tokens (one at a time).
    pub ring_alloc: tokio::sync::Mutex<()>,
    /// Permission settings: who is a superuser, and the callers' groups.
    pub users: users::Users,
    /// This member's metrics registry (`/metrics`).
    pub metrics: crate::metrics::NamenodeMetrics,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Core {
    /// The replicated state, for reading.
    pub fn state(&self) -> RwLockReadGuard<'_, SmState> {
        self.state.read().expect("state lock poisoned")
    }

    /// The block manager (soft state). Hold it for bounded work only; never take the state lock while
    /// holding it.
    pub fn blocks(&self) -> MutexGuard<'_, BlockManager> {
        self.blocks.lock().expect("block manager lock poisoned")
    }

    fn leader_addr(&self) -> Option<String> {
        let m = self.raft.metrics().borrow().clone();
        let leader = m.current_leader?;
        if leader == self.config.id {
            return Some(self.advertise.clone());
        }
        m.membership_config
            .membership()
            .get_node(&leader)
            .map(|n| n.addr.clone())
    }

    /// Whether this member currently believes it leads (cheap, local; not a linearizable check).
    pub fn is_leader(&self) -> bool {
        self.raft.metrics().borrow().current_leader == Some(self.config.id)
    }

    /// Fails with NotLeader (and the leader's address) unless this member leads.
    pub fn require_leader(&self) -> Result<(), ServiceError> {
        if self.is_leader() {
            Ok(())
        } else {
            Err(ServiceError::NotLeader {
                member: self.config.id,
                leader: self.leader_addr(),
            })
        }
    }

    /// Fails unless this member leads and has left safe mode (what a namespace write needs).
    pub fn check_writable(&self) -> Result<(), ServiceError> {
        self.require_leader()?;
        self.safe_mode_error().map_or(Ok(()), Err)
    }

    /// The error to answer while in safe mode; `None` once it is off.
    pub fn safe_mode_error(&self) -> Option<ServiceError> {
        let sm = self.safe_mode.lock().expect("safe mode lock poisoned");
        sm.status().map(ServiceError::SafeMode)
    }

    /// Proposes a command of one sub-machine, after the checks its gate asks for
    /// ([`crate::state::Command::gate`]), and waits until it is committed and applied.
    pub async fn write<C: SubCommand>(
        &self,
        client: &str,
        request_id: u64,
        command: C,
    ) -> Result<C::Output, ServiceError> {
        self.gated_write(None, client, request_id, command).await
    }

    /// [`Self::write`] made by `caller`, whose permissions the state machine checks.
    pub async fn write_as<C: SubCommand>(
        &self,
        caller: crate::state::namespace::Caller,
        client: &str,
        request_id: u64,
        command: C,
    ) -> Result<C::Output, ServiceError> {
        self.gated_write(Some(caller), client, request_id, command).await
    }

    async fn gated_write<C: SubCommand>(
        &self,
        caller: Option<crate::state::namespace::Caller>,
        client: &str,
        request_id: u64,
        command: C,
    ) -> Result<C::Output, ServiceError> {
        let command: crate::state::Command = command.into();
        match command.gate() {
            Gate::SafeMode => self.check_writable()?,
            Gate::Leader => self.require_leader()?,
        }
        self.propose_command(client, request_id, caller, command, C::output)
            .await
    }

    /// Proposes without the gate: the namenode's own follow-up work (lease recovery, decommission
    /// progress) and datanode registration, which must go on in safe mode.
    pub async fn propose<C: SubCommand>(
        &self,
        client: &str,
        request_id: u64,
        command: C,
    ) -> Result<C::Output, ServiceError> {
        self.propose_command(client, request_id, None, command.into(), C::output)
            .await
    }

    async fn propose_command<O>(
        &self,
        client: &str,
        request_id: u64,
        caller: Option<crate::state::namespace::Caller>,
        command: crate::state::Command,
        output: fn(crate::state::Output) -> Option<O>,
    ) -> Result<O, ServiceError> {
        let name = command.name();
        let req = Request::new(client, request_id, command).with_caller(caller);
        let resp = self.proposer.propose(req).await?;
        output(resp.0?).ok_or(ServiceError::WrongSubMachine { command: name })
    }

    /// Waits until this member has applied everything committed before the call (read index), so a
    /// read that follows sees every acknowledged write. Concurrent reads share rounds ([`read_index`]).
    pub async fn read_barrier(&self) -> Result<(), ServiceError> {
        self.read_index.barrier().await
    }

    /// One read-index round on member `id`.
    pub async fn read_index_round(raft: Raft, id: u64) -> Result<(), ServiceError> {
        match raft.ensure_linearizable().await {
            Ok(_) => Ok(()),
            Err(RaftError::APIError(CheckIsLeaderError::ForwardToLeader(f))) => Err(ServiceError::NotLeader {
                member: id,
                leader: f.leader_node.map(|n| n.addr),
            }),
            Err(RaftError::APIError(CheckIsLeaderError::QuorumNotEnough(source))) => Err(ServiceError::NoQuorum {
                source: Box::new(source),
            }),
            Err(RaftError::Fatal(source)) => Err(ServiceError::LogStopped {
                source: Box::new(source),
            }),
        }
    }

    /// Records that a lease holder is alive.
    pub fn renew_lease(&self, client: &str) {
        self.leases
            .lock()
            .expect("lease lock poisoned")
            .renew(client, Instant::now());
    }

    /// Forgets freed blocks and queues their replicas for deletion.
    pub fn free_blocks(&self, blocks: &[BlockMeta]) {
        if !blocks.is_empty() {
            self.blocks().invalidate(blocks);
        }
    }

    /// Waits (bounded) until a datanode has reported a replica of `block`, so a file is readable the
    /// moment `complete` returns (HDFS's minimal replication before close).
    pub async fn wait_reported(&self, block: &BlockMeta) -> Result<(), ServiceError> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let notified = self.replicas_reported.notified();
            if self.blocks().live_holders(block, Instant::now()).next().is_some() {
                return Ok(());
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(ServiceError::NotReported { block: block.id });
            }
        }
    }
}
