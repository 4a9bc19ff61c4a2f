//! Configuration of a namenode (metadata group member): plain data with every default in
//! [`NamenodeConfig::default`], read from a file by serde (keys in kebab-case, as `basalt namenode
//! --print-config` writes them), checked once by [`NamenodeConfig::validate`] at start.

use basalt_common::config::{InvalidConfig, is_host_port, positive_duration, serde_list};
use basalt_common::units::{format_bytes_exact, serde_duration, serde_size};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct NamenodeConfig {
    /// This member's id in the metadata group. Default 1.
    pub id: u64,
    /// Address to bind; port 0 picks a free port. Default `127.0.0.1:8020` (the address every command
    /// uses when none is given).
    pub listen: SocketAddr,
    /// Address members, datanodes and clients use to reach this member. Default: the bound address.
    pub advertise: Option<String>,
    /// Where the Raft log and snapshots live. Required (no default).
    pub data_dir: PathBuf,
    /// Every member of the group at bootstrap, id → address, written `["1=HOST:PORT", ...]` or
    /// `"1=HOST:PORT,..."`. Default empty: a group of one (this member).
    #[serde(with = "peers_serde")]
    pub peers: BTreeMap<u64, String>,
    /// Start without bootstrapping a group: wait to be added to an existing one (`admin raft add`), or
    /// rejoin it after losing the disk. Default false.
    pub join: bool,
    /// Accept fault-injection requests (network partitions) from the admin service. Tests only. Default
    /// false.
    pub fault_injection: bool,
    /// Replication factor of files created without one (key `replication`). Default 3.
    #[serde(rename = "replication")]
    pub default_replication: u32,
    /// Block size of files created without one (key `block-size`). Default 64MiB.
    #[serde(rename = "block-size", with = "serde_size")]
    pub default_block_size: u64,
    /// A datanode silent for this long is dead; its blocks are re-replicated. Default 30s.
    #[serde(with = "serde_duration")]
    pub dead_interval: Duration,
    /// Take a snapshot every this many log entries (each holds up to 256 client requests). Default 10000.
    pub snapshot_interval: u64,
    /// Fraction of blocks that must be reported before safe mode ends, within 0..=1. Default 0.999.
    pub safe_mode_threshold: f64,
    /// Raft heartbeat interval. A leader that dies is replaced after 9 to 13 of them (a 3-member group;
    /// member 1 campaigns first, then 2, then 3): with the default, 0.85–1.3 s after its last
    /// heartbeat. 50ms halves that, but a group on a loaded disk may then depose healthy leaders.
    /// Default 100ms.
    #[serde(with = "serde_duration")]
    pub raft_heartbeat: Duration,
    /// A writer that has not renewed its lease for this long loses it: its files are recovered and
    /// closed. Default 60s.
    #[serde(with = "serde_duration")]
    pub lease_hard_limit: Duration,
    /// Replicas of blocks no file owns are deleted once they have been orphans this long. Default 5m.
    #[serde(with = "serde_duration")]
    pub orphan_grace: Duration,
    /// Tokens (vnodes) the leader gives each datanode on the table ring when it first registers,
    /// within 1..=256. Changing it affects datanodes that register later only. Default 16.
    pub table_vnodes: u32,
    /// Address the HTTP server (WebHDFS, the web UI, `/metrics`) binds (key and flag `http`); port 0
    /// picks a free port. Default: not set, no HTTP server (`basalt local` sets 127.0.0.1:9870, Hadoop
    /// 3's NameNode HTTP port).
    #[serde(rename = "http")]
    pub http_listen: Option<SocketAddr>,
    /// How long a task waits for a free slot on an executor next to its data before it takes any
    /// slot (delay scheduling). Default 3s.
    #[serde(with = "serde_duration")]
    pub locality_wait: Duration,
    /// An executor without a heartbeat for this long is lost: its tasks run again elsewhere. Default 10s.
    #[serde(with = "serde_duration")]
    pub executor_timeout: Duration,
    /// Check HDFS permissions on every namespace operation (HDFS's `dfs.permissions.enabled`); false
    /// lets every caller do everything (owners and groups are still recorded). Default true.
    pub permissions: bool,
    /// The superuser, who passes every permission check and alone may change owners (HDFS: the user
    /// that started the NameNode). Default: not set, the OS user this namenode runs as.
    pub superuser: Option<String>,
    /// Members of this group are superusers too (HDFS's `dfs.permissions.superusergroup`). Default
    /// `supergroup`.
    pub supergroup: String,
    /// Where a caller's groups come from: `os` (the user's primary group and the groups listing it, as
    /// `id -Gn` and Hadoop's ShellBasedUnixGroupsMapping; a user the `groups` table lists gets the
    /// table's groups instead) or `static` (the `groups` table only: other users are in no group).
    /// Default `os`.
    pub group_mapping: GroupMapping,
    /// Groups of users by name: a `[groups]` section of `user = ["group", ...]` lines (as a flag or
    /// variable: `alice=eng,ops;bob=eng`). Default empty.
    #[serde(with = "groups_serde")]
    pub groups: BTreeMap<String, Vec<String>>,
}

/// See [`NamenodeConfig::group_mapping`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupMapping {
    #[default]
    Os,
    Static,
}

impl Default for NamenodeConfig {
    /// The one place the namenode's defaults are written (the `deploy/config` template is tested
    /// against it).
    fn default() -> Self {
        NamenodeConfig {
            id: 1,
            listen: basalt_common::DEFAULT_NAMENODE_ADDR
                .parse()
                .expect("DEFAULT_NAMENODE_ADDR is an address"),
            advertise: None,
            data_dir: PathBuf::new(),
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
            table_vnodes: 16,
            http_listen: None,
            locality_wait: Duration::from_secs(3),
            executor_timeout: Duration::from_secs(10),
            permissions: true,
            superuser: None,
            supergroup: "supergroup".into(),
            group_mapping: GroupMapping::Os,
            groups: BTreeMap::new(),
        }
    }
}

impl NamenodeConfig {
    /// Every default, with the data directory and the address to bind.
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> Self {
        NamenodeConfig {
            data_dir,
            listen,
            ..Self::default()
        }
    }

    /// Checks every setting; the first problem found is returned, named by its key.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        let bad = |key, must: &str, got: &dyn std::fmt::Display| Err(InvalidConfig::new(key, must, got));
        if self.data_dir.as_os_str().is_empty() {
            return bad("data-dir", "be set", &"\"\"");
        }
        if self.id == 0 {
            return bad("id", "be at least 1", &0);
        }
        if let Some(a) = self.advertise.as_ref().filter(|a| !is_host_port(a)) {
            return bad("advertise", "be HOST:PORT", &format_args!("{a:?}"));
        }
        if let Some(a) = self.peers.values().find(|a| !is_host_port(a)) {
            return bad("peers", "give each member as ID=HOST:PORT", &format_args!("{a:?}"));
        }
        if self.join && !self.peers.is_empty() {
            return bad(
                "join",
                "be false when peers are given (the leader adds a joining member)",
                &true,
            );
        }
        if !self.peers.is_empty() && !self.peers.contains_key(&self.id) {
            return bad(
                "peers",
                &format!("list this member's id {}", self.id),
                &format_args!("{:?}", peers_serde::items(&self.peers)),
            );
        }
        if !matches!(self.peers.len(), 0 | 1 | 3 | 5) {
            tracing::warn!(
                members = self.peers.len(),
                "a metadata group of 1, 3 or 5 members is recommended"
            );
        }
        if self.default_replication == 0 {
            return bad("replication", "be at least 1", &0);
        }
        if self.default_block_size == 0 {
            return bad("block-size", "be > 0", &format_bytes_exact(0));
        }
        if self.snapshot_interval == 0 {
            return bad("snapshot-interval", "be at least 1", &0);
        }
        if !(0.0..=1.0).contains(&self.safe_mode_threshold) {
            return bad("safe-mode-threshold", "be within 0..=1", &self.safe_mode_threshold);
        }
        if !(1..=256).contains(&self.table_vnodes) {
            return bad("table-vnodes", "be within 1..=256", &self.table_vnodes);
        }
        positive_duration("raft-heartbeat", self.raft_heartbeat)?;
        positive_duration("dead-interval", self.dead_interval)?;
        positive_duration("lease-hard-limit", self.lease_hard_limit)?;
        positive_duration("orphan-grace", self.orphan_grace)?;
        basalt_common::config::duration_within(
            "locality-wait",
            self.locality_wait,
            Duration::ZERO,
            Duration::from_secs(3600),
        )?;
        positive_duration("executor-timeout", self.executor_timeout)?;
        let is_name =
            |n: &str| !n.is_empty() && !n.contains([':', ',', ';', '=']) && !n.chars().any(char::is_whitespace);
        if let Some(u) = self.superuser.as_ref().filter(|u| !is_name(u)) {
            return bad(
                "superuser",
                "be a user name (no spaces, ':', ',', ';' or '=')",
                &format_args!("{u:?}"),
            );
        }
        if !is_name(&self.supergroup) {
            return bad(
                "supergroup",
                "be a group name (no spaces, ':', ',', ';' or '=')",
                &format_args!("{:?}", self.supergroup),
            );
        }
        for (user, groups) in &self.groups {
            if let Some(bad_name) = std::iter::once(user).chain(groups).find(|n| !is_name(n)) {
                return bad(
                    "groups",
                    "name users and groups without spaces, ':', ',', ';' or '='",
                    &format_args!("{bad_name:?}"),
                );
            }
        }
        Ok(())
    }

    /// The superuser's name: the configured one, else the OS user running this process, else `basalt`.
    pub fn superuser_name(&self) -> String {
        self.superuser
            .clone()
            .or_else(basalt_host::os_user)
            .unwrap_or_else(|| "basalt".into())
    }
}

impl std::str::FromStr for GroupMapping {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "os" => Ok(GroupMapping::Os),
            "static" => Ok(GroupMapping::Static),
            _ => Err(format!("{s:?} is not a group mapping (os or static)")),
        }
    }
}

/// Parses `alice=eng,ops;bob=eng` (empty: no table), the flag form of [`NamenodeConfig::groups`].
pub fn parse_groups(s: &str) -> Result<BTreeMap<String, Vec<String>>, InvalidConfig> {
    let mut out = BTreeMap::new();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || InvalidConfig::new("groups", "give each user as USER=GROUP,GROUP", format!("{part:?}"));
        let (user, groups) = part.split_once('=').ok_or_else(bad)?;
        let groups: Vec<String> = groups
            .split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect();
        if out.insert(user.trim().to_string(), groups).is_some() {
            return Err(InvalidConfig::new("groups", "name each user once", format!("{s:?}")));
        }
    }
    Ok(out)
}

/// `groups` as a table of lists, or (from a flag or variable) one string [`parse_groups`] reads.
mod groups_serde {
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(groups: &BTreeMap<String, Vec<String>>, s: S) -> Result<S::Ok, S::Error> {
        groups.serialize(s)
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        Table(BTreeMap<String, Vec<String>>),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
        match Form::deserialize(d)? {
            Form::Table(t) => Ok(t),
            Form::Text(s) => super::parse_groups(&s).map_err(D::Error::custom),
        }
    }
}

/// Parses `1=host:port,2=host:port` (empty: no peers).
pub fn parse_peers(s: &str) -> Result<BTreeMap<u64, String>, InvalidConfig> {
    let mut out = BTreeMap::new();
    for part in basalt_common::config::split_list(s) {
        let bad = || InvalidConfig::new("peers", "give each member as ID=HOST:PORT", format!("{part:?}"));
        let (id, addr) = part.split_once('=').ok_or_else(bad)?;
        let id: u64 = id.trim().parse().map_err(|_| bad())?;
        if out.insert(id, addr.trim().to_string()).is_some() {
            return Err(InvalidConfig::new("peers", "name each member once", format!("{s:?}")));
        }
    }
    Ok(out)
}

/// `peers` as a list of `ID=HOST:PORT` strings (or one comma-separated string, as the flag takes it).
mod peers_serde {
    use serde::{Deserializer, Serializer, de::Error};
    use std::collections::BTreeMap;

    pub fn items(peers: &BTreeMap<u64, String>) -> Vec<String> {
        peers.iter().map(|(id, a)| format!("{id}={a}")).collect()
    }

    pub fn serialize<S: Serializer>(peers: &BTreeMap<u64, String>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(items(peers))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<u64, String>, D::Error> {
        let list = super::serde_list::deserialize(d)?;
        super::parse_peers(&list.join(",")).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse() {
        let p = parse_peers("1=a:1, 2=b:2").unwrap();
        assert_eq!(p[&2], "b:2");
        assert!(parse_peers("").unwrap().is_empty());
        assert!(parse_peers("x=a").is_err());
        assert!(parse_peers("1a").is_err());
        assert_eq!(parse_peers("1=a:1,1=b:2").unwrap_err().must, "name each member once");
    }

    #[test]
    fn groups_parse() {
        let g = parse_groups("alice=eng,ops; bob=eng;carol=").unwrap();
        assert_eq!(g["alice"], ["eng", "ops"]);
        assert_eq!(g["bob"], ["eng"]);
        assert!(g["carol"].is_empty());
        assert!(parse_groups("").unwrap().is_empty());
        assert!(parse_groups("alice").is_err());
        assert_eq!(parse_groups("a=x;a=y").unwrap_err().must, "name each user once");
    }

    #[test]
    fn validation_names_the_key() {
        let ok = NamenodeConfig::new("/tmp/x".into(), "127.0.0.1:0".parse().unwrap());
        assert_eq!(ok.validate(), Ok(()));
        let key_of = |c: NamenodeConfig| c.validate().map_err(|e| e.key);
        assert_eq!(key_of(NamenodeConfig::default()), Err("data-dir"));
        type Break = fn(&mut NamenodeConfig);
        let cases: [(&str, Break); 16] = [
            ("superuser", |c| c.superuser = Some("a b".into())),
            ("supergroup", |c| c.supergroup = String::new()),
            ("groups", |c| c.groups = parse_groups("alice=e:ng").unwrap()),
            ("table-vnodes", |c| c.table_vnodes = 0),
            ("id", |c| c.id = 0),
            ("peers", |c| c.peers = parse_peers("2=a:1").unwrap()),
            ("peers", |c| c.peers = parse_peers("1=nohost").unwrap()),
            ("join", |c| {
                c.join = true;
                c.peers = parse_peers("1=a:1").unwrap()
            }),
            ("advertise", |c| c.advertise = Some("http://a:1".into())),
            ("replication", |c| c.default_replication = 0),
            ("block-size", |c| c.default_block_size = 0),
            ("snapshot-interval", |c| c.snapshot_interval = 0),
            ("safe-mode-threshold", |c| c.safe_mode_threshold = f64::NAN),
            ("dead-interval", |c| c.dead_interval = Duration::ZERO),
            ("lease-hard-limit", |c| c.lease_hard_limit = Duration::MAX),
            ("raft-heartbeat", |c| c.raft_heartbeat = Duration::ZERO),
        ];
        for (key, break_it) in cases {
            let mut c = ok.clone();
            break_it(&mut c);
            assert_eq!(key_of(c), Err(key));
        }
        let mut c = ok;
        c.dead_interval = Duration::ZERO;
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "invalid config: dead-interval must be > 0 and at most 365d (got 0s)"
        );
    }
}
