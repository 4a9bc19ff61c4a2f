//! The cluster sub-machine: which datanodes exist (their replicated identity: address, host, rack),
//! which are being drained, and each datanode's tokens on the table ring (with a ring version, bumped
//! by every token change). Liveness, load and replica locations are not here: they are the leader's
//! soft state (`crate::blocks`).
//!
//! Tokens are chosen by the leader (`basalt_table::ring::allocate_tokens`) and recorded with
//! [`ClusterCommand::SetTokens`]; a token owned by another datanode is refused, so the ring never has
//! a token twice.

use basalt_common::{DatanodeId, ErrorKind};
use basalt_table::ring::Ring;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whether a datanode takes new replicas, or is being drained before it leaves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminState {
    #[default]
    InService,
    /// Its replicas are being copied elsewhere; it takes no new ones and its replicas do not count.
    Decommissioning,
    /// Every block it held has its replication factor on other nodes: it may be shut down.
    Decommissioned,
}

impl AdminState {
    pub fn name(&self) -> &'static str {
        match self {
            AdminState::InService => "in service",
            AdminState::Decommissioning => "decommissioning",
            AdminState::Decommissioned => "decommissioned",
        }
    }
}

/// A datanode's replicated identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatanodeRecord {
    pub id: DatanodeId,
    pub addr: String,
    pub host: String,
    pub host_id: String,
    pub rack: String,
}

/// Commands of the cluster sub-machine. Evolving: as for every command (see `state::codec`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterCommand {
    /// Records (or updates) a datanode's identity.
    RegisterDatanode(DatanodeRecord),
    /// Starts or ends a datanode's decommission. With `from`, only if the node is still in that state.
    SetAdminState {
        datanode: DatanodeId,
        state: AdminState,
        from: Option<AdminState>,
    },
    /// Records a datanode's ring tokens (replacing any it had; empty removes it from the ring).
    /// State version 4.
    SetTokens { datanode: DatanodeId, tokens: Vec<i64> },
}

impl ClusterCommand {
    pub fn name(&self) -> &'static str {
        match self {
            ClusterCommand::RegisterDatanode(_) => "register_datanode",
            ClusterCommand::SetAdminState { .. } => "set_admin_state",
            ClusterCommand::SetTokens { .. } => "set_tokens",
        }
    }

    /// The state version that introduced the command.
    pub fn version(&self) -> u16 {
        match self {
            ClusterCommand::RegisterDatanode(_) | ClusterCommand::SetAdminState { .. } => 3,
            ClusterCommand::SetTokens { .. } => 4,
        }
    }
}

/// What a successfully applied cluster command returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterOutput {
    Done,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ClusterError {
    #[error("datanode {datanode} is {current}, not {expected}")]
    AdminStateChanged {
        datanode: DatanodeId,
        current: String,
        expected: String,
    },
    #[error("datanode {datanode} is not registered")]
    UnknownDatanode { datanode: DatanodeId },
    #[error("token {token} is already owned by datanode {owner}")]
    TokenTaken { token: i64, owner: DatanodeId },
    #[error("token {token} is not a ring token (the minimum token is reserved)")]
    InvalidToken { token: i64 },
}

impl ClusterError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ClusterError::AdminStateChanged { .. } | ClusterError::TokenTaken { .. } => ErrorKind::Conflict,
            ClusterError::UnknownDatanode { .. } => ErrorKind::NotFound,
            ClusterError::InvalidToken { .. } => ErrorKind::Invalid,
        }
    }
}

/// The replicated cluster membership of datanodes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    datanodes: BTreeMap<DatanodeId, DatanodeRecord>,
    /// Datanodes not in service (being or done being decommissioned).
    admin_states: BTreeMap<DatanodeId, AdminState>,
    /// Each datanode's ring tokens, sorted (state version 4; absent from older snapshots).
    #[serde(default)]
    tokens: BTreeMap<DatanodeId, Vec<i64>>,
    /// Who owns each token (the inverse of `tokens`).
    #[serde(default)]
    token_owners: BTreeMap<i64, DatanodeId>,
    /// Bumped by every token change.
    #[serde(default)]
    ring_version: u64,
}

impl Cluster {
    pub fn apply(&mut self, cmd: &ClusterCommand) -> Result<ClusterOutput, ClusterError> {
        match cmd {
            ClusterCommand::RegisterDatanode(rec) => {
                let old = self.datanodes.insert(rec.id, rec.clone());
                // The ring carries its owners' addresses and racks, and nodes refetch it on a new
                // version: a token owner back on another address (or rack) is a ring change, or
                // coordinators would keep calling (and hinting) the old address.
                let moved = old.is_some_and(|o| (&o.addr, &o.host, &o.rack) != (&rec.addr, &rec.host, &rec.rack));
                if moved && self.tokens.contains_key(&rec.id) {
                    self.ring_version += 1;
                }
            }
            ClusterCommand::SetAdminState { datanode, state, from } => {
                let current = self.admin_states.get(datanode).copied().unwrap_or_default();
                if let Some(from) = from
                    && *from != current
                {
                    return Err(ClusterError::AdminStateChanged {
                        datanode: *datanode,
                        current: current.name().into(),
                        expected: from.name().into(),
                    });
                }
                match state {
                    AdminState::InService => self.admin_states.remove(datanode),
                    s => self.admin_states.insert(*datanode, *s),
                };
            }
            ClusterCommand::SetTokens { datanode, tokens } => self.set_tokens(*datanode, tokens)?,
        }
        Ok(ClusterOutput::Done)
    }

    /// The datanodes that have registered, by id.
    pub fn datanodes(&self) -> &BTreeMap<DatanodeId, DatanodeRecord> {
        &self.datanodes
    }

    fn set_tokens(&mut self, datanode: DatanodeId, tokens: &[i64]) -> Result<(), ClusterError> {
        if !self.datanodes.contains_key(&datanode) {
            return Err(ClusterError::UnknownDatanode { datanode });
        }
        let mut tokens = tokens.to_vec();
        tokens.sort_unstable();
        tokens.dedup();
        if let Some(&token) = tokens.iter().find(|t| **t == i64::MIN) {
            return Err(ClusterError::InvalidToken { token });
        }
        for t in &tokens {
            if let Some(&owner) = self.token_owners.get(t)
                && owner != datanode
            {
                return Err(ClusterError::TokenTaken { token: *t, owner });
            }
        }
        if self.tokens.get(&datanode).map(Vec::as_slice).unwrap_or(&[]) == tokens.as_slice() {
            return Ok(());
        }
        for t in self.tokens.remove(&datanode).unwrap_or_default() {
            self.token_owners.remove(&t);
        }
        if !tokens.is_empty() {
            self.token_owners.extend(tokens.iter().map(|t| (*t, datanode)));
            self.tokens.insert(datanode, tokens);
        }
        self.ring_version += 1;
        Ok(())
    }

    /// A datanode's ring tokens (empty when it has none).
    pub fn tokens(&self, datanode: DatanodeId) -> &[i64] {
        self.tokens.get(&datanode).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every datanode's tokens.
    pub fn all_tokens(&self) -> &BTreeMap<DatanodeId, Vec<i64>> {
        &self.tokens
    }

    /// Bumped by every token change.
    pub fn ring_version(&self) -> u64 {
        self.ring_version
    }

    /// The table ring: every datanode's tokens with its rack.
    pub fn ring(&self) -> Ring {
        let racks = self
            .tokens
            .keys()
            .filter_map(|id| self.datanodes.get(id).map(|r| (*id, r.rack.clone())))
            .collect();
        let tokens = self.token_owners.iter().map(|(t, n)| (*t, *n));
        Ring::new(self.ring_version, tokens, racks).expect("token_owners holds each token once")
    }

    /// Datanodes not in service, with their state.
    pub fn admin_states(&self) -> &BTreeMap<DatanodeId, AdminState> {
        &self.admin_states
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: u64) -> DatanodeRecord {
        DatanodeRecord {
            id: DatanodeId(id),
            addr: format!("10.0.0.{id}:9866"),
            host: format!("h{id}"),
            host_id: format!("hid{id}"),
            rack: format!("/r{}", id % 2),
        }
    }

    #[test]
    fn a_token_owner_registering_on_another_address_changes_the_ring_version() {
        let mut c = Cluster::default();
        c.apply(&ClusterCommand::RegisterDatanode(record(1))).unwrap();
        c.apply(&ClusterCommand::RegisterDatanode(record(2))).unwrap();
        c.apply(&ClusterCommand::SetTokens {
            datanode: DatanodeId(1),
            tokens: vec![10],
        })
        .unwrap();
        assert_eq!(c.ring_version(), 1);
        // The same record again (a restart on the same address) changes nothing.
        c.apply(&ClusterCommand::RegisterDatanode(record(1))).unwrap();
        assert_eq!(c.ring_version(), 1);
        // A node without tokens is not in the ring.
        let mut moved = record(2);
        moved.addr = "10.0.0.2:1".into();
        c.apply(&ClusterCommand::RegisterDatanode(moved)).unwrap();
        assert_eq!(c.ring_version(), 1);
        let mut moved = record(1);
        moved.addr = "10.0.0.1:40000".into();
        c.apply(&ClusterCommand::RegisterDatanode(moved)).unwrap();
        assert_eq!(c.ring_version(), 2, "a token owner moved");
    }

    #[test]
    fn tokens_make_one_ring() {
        let mut c = Cluster::default();
        let set = |id: u64, tokens: Vec<i64>| ClusterCommand::SetTokens {
            datanode: DatanodeId(id),
            tokens,
        };
        assert_eq!(
            c.apply(&set(1, vec![5])).unwrap_err(),
            ClusterError::UnknownDatanode {
                datanode: DatanodeId(1)
            }
        );
        c.apply(&ClusterCommand::RegisterDatanode(record(1))).unwrap();
        c.apply(&ClusterCommand::RegisterDatanode(record(2))).unwrap();
        c.apply(&set(1, vec![30, 10])).unwrap();
        assert_eq!(c.ring_version(), 1);
        // Setting the same tokens again changes nothing.
        c.apply(&set(1, vec![10, 30])).unwrap();
        assert_eq!(c.ring_version(), 1);
        let err = c.apply(&set(2, vec![20, 30])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert!(c.tokens(DatanodeId(2)).is_empty(), "a refused command changes nothing");
        assert_eq!(c.apply(&set(2, vec![i64::MIN])).unwrap_err().kind(), ErrorKind::Invalid);
        c.apply(&set(2, vec![20])).unwrap();
        let ring = c.ring();
        assert_eq!(ring.version(), 2);
        assert_eq!(
            ring.tokens(),
            [(10, DatanodeId(1)), (20, DatanodeId(2)), (30, DatanodeId(1))]
        );
        assert_eq!(ring.rack(DatanodeId(2)), "/r0");
        // Replacing a node's tokens frees the old ones.
        c.apply(&set(1, vec![40])).unwrap();
        c.apply(&set(2, vec![10, 20])).unwrap();
        assert_eq!(c.ring().tokens().len(), 3);
    }

    #[test]
    fn admin_states_are_replicated_state() {
        let mut c = Cluster::default();
        let set = |state, from| ClusterCommand::SetAdminState {
            datanode: DatanodeId(4),
            state,
            from,
        };
        c.apply(&set(AdminState::Decommissioning, None)).unwrap();
        assert_eq!(c.admin_states().get(&DatanodeId(4)), Some(&AdminState::Decommissioning));
        c.apply(&set(AdminState::InService, Some(AdminState::Decommissioning)))
            .unwrap();
        assert!(c.admin_states().is_empty());
        // The monitor's "drained" does not undo an operator's cancel.
        let err = c
            .apply(&set(AdminState::Decommissioned, Some(AdminState::Decommissioning)))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert!(c.admin_states().is_empty());
    }
}
