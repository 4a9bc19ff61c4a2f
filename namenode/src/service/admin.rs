//! Administration of the metadata group: each member's own status, and membership changes (which the
//! leader carries out through the Raft log: a new member joins as a learner, catches up from the log or
//! a snapshot, then becomes a voter).

use super::{Core, ServiceError};
use crate::state::cluster::{AdminState, ClusterCommand};
use basalt_proto::pb;
use basalt_proto::pb::admin_protocol_server::AdminProtocol;
use openraft::{BasicNode, ServerState};
use std::collections::BTreeSet;
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub struct AdminService {
    core: Arc<Core>,
}

impl AdminService {
    pub fn new(core: Arc<Core>) -> Self {
        AdminService { core }
    }
}

fn role(state: ServerState) -> &'static str {
    match state {
        ServerState::Leader => "leader",
        ServerState::Follower => "follower",
        ServerState::Candidate => "candidate",
        ServerState::Learner => "learner",
        ServerState::Shutdown => "shutdown",
    }
}

type Metrics = openraft::RaftMetrics<u64, BasicNode>;

/// How long a leadership transfer waits for the target to take over.
const TRANSFER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The commit index as this member knows it: on the leader the majority's matched index, elsewhere the
/// applied index (openraft 0.9 does not expose a follower's commit index).
fn commit_index(m: &Metrics, voters: &[u64]) -> u64 {
    let applied = m.last_applied.map(|l| l.index).unwrap_or(0);
    let Some(replication) = &m.replication else {
        return applied;
    };
    let mut matched: Vec<u64> = voters
        .iter()
        .map(|v| replication.get(v).copied().flatten().map(|l| l.index).unwrap_or(0))
        .collect();
    matched.sort_unstable_by(|a, b| b.cmp(a));
    matched.get(voters.len() / 2).copied().unwrap_or(applied)
}

/// This member's own row.
fn own_row(core: &Core, m: &Metrics, commit: u64) -> pb::MemberStatus {
    pb::MemberStatus {
        id: core.config.id,
        addr: core.advertise.clone(),
        role: role(m.state).to_string(),
        term: m.current_term,
        commit_index: commit,
        applied_index: m.last_applied.map(|l| l.index).unwrap_or(0),
        leader_id: m.current_leader.unwrap_or(0),
        last_log_index: m.last_log_index.unwrap_or(0),
        self_reported: true,
    }
}

/// Every member of the group as this member sees it: its own row from its metrics; other rows, on the
/// leader, from replication progress (their matched index as "applied"), elsewhere from membership only.
pub fn member_statuses(core: &Core) -> Vec<pb::MemberStatus> {
    let m = core.raft.metrics().borrow().clone();
    let membership = m.membership_config.membership();
    let voters: Vec<u64> = membership.voter_ids().collect();
    let commit = commit_index(&m, &voters);
    let matched = |id: &u64| {
        m.replication
            .as_ref()
            .and_then(|r| r.get(id).copied().flatten())
            .map_or(0, |l| l.index)
    };
    membership
        .nodes()
        .map(|(id, node)| {
            if *id == core.config.id {
                return own_row(core, &m, commit);
            }
            let role = if Some(*id) == m.current_leader {
                "leader"
            } else if voters.contains(id) {
                "follower"
            } else {
                "learner"
            };
            pb::MemberStatus {
                id: *id,
                addr: node.addr.clone(),
                role: role.to_string(),
                term: m.current_term,
                commit_index: commit,
                applied_index: matched(id),
                leader_id: m.current_leader.unwrap_or(0),
                last_log_index: 0,
                self_reported: false,
            }
        })
        .collect()
}

/// This member's own status (also when it is no longer in the membership it knows, e.g. removed).
pub fn self_status(core: &Core) -> pb::MemberStatus {
    let m = core.raft.metrics().borrow().clone();
    let voters: Vec<u64> = m.membership_config.membership().voter_ids().collect();
    own_row(core, &m, commit_index(&m, &voters))
}

/// The current voting members.
fn voters(raft: &crate::raft::Raft) -> BTreeSet<u64> {
    raft.metrics()
        .borrow()
        .membership_config
        .membership()
        .voter_ids()
        .collect()
}

#[tonic::async_trait]
impl AdminProtocol for AdminService {
    async fn member_status(
        &self,
        _req: Request<pb::MemberStatusRequest>,
    ) -> Result<Response<pb::MemberStatus>, Status> {
        Ok(Response::new(self_status(&self.core)))
    }

    async fn add_member(&self, req: Request<pb::AddMemberRequest>) -> Result<Response<pb::AddMemberResponse>, Status> {
        let r = req.into_inner();
        if r.id == 0 || r.addr.is_empty() {
            return Err(ServiceError::MissingArgument {
                op: "add member",
                what: "an id (>= 1) and an address",
            }
            .into());
        }
        self.core.require_leader()?;
        let raft = &self.core.raft;
        if voters(raft).contains(&r.id) {
            // Already a voter: a retried request (the first may have outlived the client's deadline).
            return Ok(Response::new(pb::AddMemberResponse {}));
        }
        // Join as a learner and wait until it has caught up, then promote it to voter.
        let me = self.core.config.id;
        raft.add_learner(r.id, BasicNode::new(&r.addr), true)
            .await
            .map_err(|e| ServiceError::from_client_write(me, e))?;
        let mut voters = voters(raft);
        voters.insert(r.id);
        raft.change_membership(voters, false)
            .await
            .map_err(|e| ServiceError::from_client_write(me, e))?;
        tracing::info!(member = r.id, addr = %r.addr, "member added");
        Ok(Response::new(pb::AddMemberResponse {}))
    }

    async fn remove_member(
        &self,
        req: Request<pb::RemoveMemberRequest>,
    ) -> Result<Response<pb::RemoveMemberResponse>, Status> {
        let r = req.into_inner();
        self.core.require_leader()?;
        let raft = &self.core.raft;
        let mut voters = voters(raft);
        if !voters.remove(&r.id) {
            return Err(ServiceError::NotAVoter { id: r.id }.into());
        }
        if voters.is_empty() {
            return Err(ServiceError::LastMember.into());
        }
        let me = self.core.config.id;
        raft.change_membership(voters, false)
            .await
            .map_err(|e| ServiceError::from_client_write(me, e))?;
        tracing::info!(member = r.id, "member removed");
        Ok(Response::new(pb::RemoveMemberResponse {}))
    }

    /// Hands leadership to `to`. openraft 0.9 has no transfer primitive, so: every other member pauses
    /// its own campaigns, this leader stops heartbeating, the target's election timer fires once the
    /// followers' leader leases lapse, and it wins (its log is current). Everything is resumed after,
    /// whatever happened; the call waits (bounded) until the target leads.
    async fn transfer_leader(
        &self,
        req: Request<pb::TransferLeaderRequest>,
    ) -> Result<Response<pb::TransferLeaderResponse>, Status> {
        let to = req.into_inner().to;
        self.core.require_leader()?;
        let me = self.core.config.id;
        if to == me {
            return Ok(Response::new(pb::TransferLeaderResponse {}));
        }
        let m = self.core.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        if !membership.voter_ids().any(|v| v == to) {
            return Err(ServiceError::NotAVoter { id: to }.into());
        }
        let others: Vec<String> = membership
            .nodes()
            .filter(|(id, _)| **id != to && **id != me)
            .map(|(_, n)| n.addr.clone())
            .collect();
        for addr in &others {
            set_election(&self.core.connector, addr, false).await;
        }
        let rc = self.core.raft.runtime_config();
        rc.elect(false);
        rc.heartbeat(false);
        let deadline = tokio::time::Instant::now() + TRANSFER_TIMEOUT;
        let mut metrics = self.core.raft.metrics();
        let won = loop {
            if metrics.borrow().current_leader == Some(to) {
                break true;
            }
            if tokio::time::timeout_at(deadline, metrics.changed()).await.is_err() {
                break false;
            }
        };
        rc.heartbeat(true);
        rc.elect(true);
        for addr in &others {
            set_election(&self.core.connector, addr, true).await;
        }
        if !won {
            return Err(ServiceError::TransferTimedOut {
                to,
                secs: TRANSFER_TIMEOUT.as_secs(),
            }
            .into());
        }
        tracing::info!(from = me, to, "leadership transferred");
        Ok(Response::new(pb::TransferLeaderResponse {}))
    }

    async fn set_election(
        &self,
        req: Request<pb::SetElectionRequest>,
    ) -> Result<Response<pb::SetElectionResponse>, Status> {
        self.core.raft.runtime_config().elect(req.into_inner().enabled);
        Ok(Response::new(pb::SetElectionResponse {}))
    }

    async fn decommission(
        &self,
        req: Request<pb::DecommissionRequest>,
    ) -> Result<Response<pb::DecommissionResponse>, Status> {
        let r = req.into_inner();
        self.core.require_leader()?;
        self.core.read_barrier().await?;
        let (id, current) = {
            let state = self.core.state();
            let cluster = &state.cluster;
            let record = cluster
                .datanodes()
                .values()
                .find(|d| d.addr == r.datanode || d.id.short() == r.datanode || d.id.0.to_string() == r.datanode)
                .ok_or_else(|| ServiceError::NoSuchDatanode {
                    name: r.datanode.clone(),
                })?;
            (
                record.id,
                cluster.admin_states().get(&record.id).copied().unwrap_or_default(),
            )
        };
        let state = match (r.cancel, current) {
            (true, _) => AdminState::InService,
            (false, AdminState::InService) => AdminState::Decommissioning,
            (false, s) => s,
        };
        if state != current {
            self.core
                .write(
                    "admin",
                    0,
                    ClusterCommand::SetAdminState {
                        datanode: id,
                        state,
                        from: Some(current),
                    },
                )
                .await?;
            tracing::info!(datanode = %id, state = state.name(), "datanode admin state changed");
        }
        Ok(Response::new(pb::DecommissionResponse {
            datanode_id: id.0,
            state: state.name().to_string(),
        }))
    }

    async fn snapshot(&self, _req: Request<pb::SnapshotRequest>) -> Result<Response<pb::SnapshotResponse>, Status> {
        const WAIT_SECS: u64 = 300;
        let raft = &self.core.raft;
        let applied = raft.metrics().borrow().last_applied.map(|l| l.index);
        raft.trigger()
            .snapshot()
            .await
            .map_err(|e| ServiceError::LogStopped { source: Box::new(e) })?;
        let m = raft
            .wait(Some(std::time::Duration::from_secs(WAIT_SECS)))
            .metrics(
                |m| m.snapshot.map(|s| s.index) >= applied,
                "snapshot covering the applied log",
            )
            .await
            .map_err(|_| ServiceError::SnapshotTimedOut { secs: WAIT_SECS })?;
        let bytes = std::fs::metadata(crate::raft::state_machine::snapshot_file(&self.core.config.data_dir))
            .map(|m| m.len())
            .unwrap_or(0);
        Ok(Response::new(pb::SnapshotResponse {
            last_index: m.snapshot.map_or(0, |s| s.index),
            bytes,
        }))
    }

    async fn set_partition(
        &self,
        req: Request<pb::SetPartitionRequest>,
    ) -> Result<Response<pb::SetPartitionResponse>, Status> {
        if !self.core.config.fault_injection {
            return Err(ServiceError::FaultInjectionDisabled.into());
        }
        let blocked: BTreeSet<u64> = req.into_inner().blocked.into_iter().collect();
        tracing::warn!(?blocked, "fault injection: raft messages to these members are dropped");
        *self.core.partition.write().expect("partition lock poisoned") = blocked;
        Ok(Response::new(pb::SetPartitionResponse {}))
    }
}

/// Asks the member at `addr` to pause or resume its campaigns (best effort: an unreachable member
/// cannot campaign either).
async fn set_election(connector: &basalt_proto::link::Connector, addr: &str, enabled: bool) {
    let res = async {
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?;
        let mut c = pb::admin_protocol_client::AdminProtocolClient::new(connector.connect(endpoint).await?);
        c.set_election(pb::SetElectionRequest { enabled }).await?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    };
    if let Err(e) = tokio::time::timeout(std::time::Duration::from_secs(2), res)
        .await
        .unwrap_or_else(|_| Err("timed out".into()))
    {
        tracing::warn!(member = addr, enabled, error = %e, "could not set election state");
    }
}
