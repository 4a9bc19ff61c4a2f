//! Configuration of a namenode (metadata group member). Checked once by [`NamenodeConfig::validate`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct NamenodeConfig {
    /// This member's id in the metadata group.
    pub id: u64,
    /// Address to bind; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Address members, datanodes and clients use to reach this member (default: the bound address).
    pub advertise: Option<String>,
    /// Where the Raft log and snapshots live.
    pub data_dir: PathBuf,
    /// Every member of the group at bootstrap, id → address; empty means a group of one (this member).
    pub peers: BTreeMap<u64, String>,
    /// Start without bootstrapping a group: wait to be added to an existing one (`admin raft add`), or
    /// rejoin it after losing the disk.
    pub join: bool,
    /// Accept fault-injection requests (network partitions) from the admin service. Tests only.
    pub fault_injection: bool,
    /// Replication factor of files created without one.
    pub default_replication: u32,
    /// Block size of files created without one.
    pub default_block_size: u64,
    /// A datanode silent for this long is dead.
    pub dead_interval: Duration,
    /// Take a snapshot every this many log entries.
    pub snapshot_interval: u64,
    /// Fraction of blocks that must be reported before safe mode ends.
    pub safe_mode_threshold: f64,
    /// Raft heartbeat interval; elections time out after 3–6 of them.
    pub raft_heartbeat: Duration,
    /// A writer that has not renewed its lease for this long loses it: its files are recovered and closed.
    pub lease_hard_limit: Duration,
    /// Replicas of blocks no file owns are deleted once they have been orphans this long.
    pub orphan_grace: Duration,
}

impl NamenodeConfig {
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> Self {
        NamenodeConfig {
            id: 1,
            listen,
            advertise: None,
            data_dir,
            peers: BTreeMap::new(),
            join: false,
            fault_injection: false,
            default_replication: basalt_common::DEFAULT_REPLICATION,
            default_block_size: basalt_common::DEFAULT_BLOCK_SIZE,
            dead_interval: Duration::from_secs(30),
            snapshot_interval: 10_000,
            safe_mode_threshold: 0.999,
            raft_heartbeat: Duration::from_millis(100),
            lease_hard_limit: Duration::from_secs(60),
            orphan_grace: Duration::from_secs(300),
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.id == 0 {
            return Err(ConfigError::Invalid {
                field: "id",
                reason: "member ids start at 1".into(),
            });
        }
        if self.join && !self.peers.is_empty() {
            return Err(ConfigError::Invalid {
                field: "join",
                reason: "excludes peers: a joining member is added by the leader".into(),
            });
        }
        if !self.peers.is_empty() && !self.peers.contains_key(&self.id) {
            return Err(ConfigError::Invalid {
                field: "peers",
                reason: format!("does not list this member's id {}", self.id),
            });
        }
        if !matches!(self.peers.len(), 0 | 1 | 3 | 5) {
            tracing::warn!(
                members = self.peers.len(),
                "a metadata group of 1, 3 or 5 members is recommended"
            );
        }
        if self.default_replication == 0 {
            return Err(ConfigError::Invalid {
                field: "default_replication",
                reason: "must be at least 1".into(),
            });
        }
        if self.snapshot_interval == 0 {
            return Err(ConfigError::Invalid {
                field: "snapshot_interval",
                reason: "must be at least 1".into(),
            });
        }
        if !(0.0..=1.0).contains(&self.safe_mode_threshold) {
            return Err(ConfigError::Invalid {
                field: "safe_mode_threshold",
                reason: "must be within 0..=1".into(),
            });
        }
        if self.raft_heartbeat.is_zero() || self.dead_interval.is_zero() {
            return Err(ConfigError::Invalid {
                field: "intervals",
                reason: "must be positive".into(),
            });
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid namenode configuration: {field} {reason}")]
    Invalid { field: &'static str, reason: String },
}

/// Parses `1=host:port,2=host:port`.
pub fn parse_peers(s: &str) -> Result<BTreeMap<u64, String>, ConfigError> {
    let mut out = BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (id, addr) = part.split_once('=').ok_or_else(|| ConfigError::Invalid {
            field: "peers",
            reason: format!("{part:?} is not ID=HOST:PORT"),
        })?;
        let id: u64 = id.trim().parse().map_err(|_| ConfigError::Invalid {
            field: "peers",
            reason: format!("{id:?} is not a member id"),
        })?;
        out.insert(id, addr.trim().to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse() {
        let p = parse_peers("1=a:1, 2=b:2").unwrap();
        assert_eq!(p[&2], "b:2");
        assert!(parse_peers("x=a").is_err());
        assert!(parse_peers("1a").is_err());
    }

    #[test]
    fn validation() {
        let mut c = NamenodeConfig::new("/tmp/x".into(), "127.0.0.1:0".parse().unwrap());
        assert!(c.validate().is_ok());
        c.peers = parse_peers("2=a:1").unwrap();
        assert!(c.validate().is_err());
    }
}
