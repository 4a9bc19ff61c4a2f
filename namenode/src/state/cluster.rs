//! The cluster sub-machine: which datanodes exist (their replicated identity: address, host, rack) and
//! which are being drained. Soon also each datanode's tokens on the table ring. Liveness, load and
//! replica locations are not here: they are the leader's soft state (`crate::blocks`).

use basalt_common::{DatanodeId, ErrorKind};
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
}

impl ClusterCommand {
    pub fn name(&self) -> &'static str {
        match self {
            ClusterCommand::RegisterDatanode(_) => "register_datanode",
            ClusterCommand::SetAdminState { .. } => "set_admin_state",
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
}

impl ClusterError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ClusterError::AdminStateChanged { .. } => ErrorKind::Conflict,
        }
    }
}

/// The replicated cluster membership of datanodes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    datanodes: BTreeMap<DatanodeId, DatanodeRecord>,
    /// Datanodes not in service (being or done being decommissioned).
    admin_states: BTreeMap<DatanodeId, AdminState>,
}

impl Cluster {
    pub fn apply(&mut self, cmd: &ClusterCommand) -> Result<ClusterOutput, ClusterError> {
        match cmd {
            ClusterCommand::RegisterDatanode(rec) => {
                self.datanodes.insert(rec.id, rec.clone());
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
        }
        Ok(ClusterOutput::Done)
    }

    /// The datanodes that have registered, by id.
    pub fn datanodes(&self) -> &BTreeMap<DatanodeId, DatanodeRecord> {
        &self.datanodes
    }

    /// Datanodes not in service, with their state.
    pub fn admin_states(&self) -> &BTreeMap<DatanodeId, AdminState> {
        &self.admin_states
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
