//! The datanode's configuration: plain data with every default in [`DatanodeConfig::default`], read
//! from a file by serde (keys in kebab-case, as `basalt datanode --print-config` writes them), checked
//! once by [`DatanodeConfig::validate`] at start.

use basalt_common::checksum::DEFAULT_CHUNK_SIZE;
use basalt_common::config::{
    InvalidConfig, MAX_DURATION, duration_within, is_host_port, positive_duration, serde_list,
};
use basalt_common::units::{format_bytes_exact, serde_duration, serde_size};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Largest chunk size a replica may use (the metadata header rejects anything larger).
pub const MAX_CHUNK_SIZE: u32 = 16 * 1024 * 1024;

/// Configuration of one datanode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct DatanodeConfig {
    /// Directory holding the identity file and the replicas (`current/`, `tmp/`, `corrupt/`). Required
    /// (no default).
    pub data_dir: PathBuf,
    /// Address the data transfer service binds; port 0 picks a free port. Default `0.0.0.0:9866`.
    pub listen: SocketAddr,
    /// Address told to namenodes and clients. Default: the bound address (with the real port; the host
    /// name for an unspecified IP).
    pub advertise: Option<String>,
    /// `host:port` of every namenode member (key `namenode`, as the `--namenode` flag); heartbeats and
    /// block reports go to all of them. Default `["127.0.0.1:8020"]`.
    #[serde(rename = "namenode", with = "serde_list")]
    pub namenodes: Vec<String>,
    /// Rack of this datanode for placement; empty = no rack. Default empty.
    pub rack: String,
    /// Interval between heartbeats to each namenode, within 10ms..=10m. Default 1s.
    #[serde(with = "serde_duration")]
    pub heartbeat_interval: Duration,
    /// Chunk size of a replica's checksums when a writer does not name one, within 1B..=16MiB.
    /// Default 64KiB.
    #[serde(with = "serde_size")]
    pub chunk_size: u32,
    /// Block scanner bandwidth per second: every replica is re-verified at this rate. Default 64MiB.
    #[serde(with = "serde_size")]
    pub scan_rate: u64,
    /// Pause between block scanner passes. Default 60s.
    #[serde(with = "serde_duration")]
    pub scan_pause: Duration,
    /// How long a replica kept after a broken write ("parked", awaiting a resume or a recovery) is kept
    /// before it is removed (key `parked-expiry`). Default 1h.
    #[serde(rename = "parked-expiry", with = "serde_duration")]
    pub rbw_expiry: Duration,
    /// How long a downstream pipeline node may take to acknowledge a packet (or to accept the stream)
    /// before it is blamed and the pipeline broken. Default 60s.
    #[serde(with = "serde_duration")]
    pub ack_timeout: Duration,
    /// When a table write is on stable storage before it is acknowledged (Cassandra's
    /// `commitlog_sync`): `periodic` (the default) writes every update to RocksDB's WAL and syncs the
    /// WAL every `table-sync-period` (group commit), so a power loss can lose up to one period of
    /// acknowledged writes; `batch` syncs the WAL before each acknowledgement. A process crash
    /// (kill -9) loses nothing acknowledged in either mode: the WAL is in the page cache.
    pub table_durability: TableDurability,
    /// Period of the WAL sync in `periodic` table durability, within 1ms..=10s. Default 10ms.
    #[serde(with = "serde_duration")]
    pub table_sync_period: Duration,
    /// How long a coordinator waits for the replicas a write's consistency level needs before it
    /// answers WriteTimeout (Cassandra's `write_request_timeout`), within 10ms..=10m. Default 2s.
    #[serde(with = "serde_duration")]
    pub table_write_timeout: Duration,
    /// The same for a read of one partition (`read_request_timeout`), within 10ms..=10m. Default 5s.
    #[serde(with = "serde_duration")]
    pub table_read_timeout: Duration,
    /// A replica down for longer than this gets no more hints (`max_hint_window`); it is brought up to
    /// date by read repair instead. 0 turns hints off. Default 3h.
    #[serde(with = "serde_duration")]
    pub table_hint_window: Duration,
    /// Address the CQL native protocol server (v4, for Cassandra drivers and cqlsh) binds (key and
    /// flag `cql`); port 0 picks a free port. Default: not set, no CQL server (`basalt local` sets
    /// 127.0.0.1:9042 on its first datanode).
    #[serde(rename = "cql")]
    pub cql_listen: Option<SocketAddr>,
    /// Largest CQL frame accepted, header included, within 1KiB..=1GiB; a larger frame closes its
    /// connection with a protocol error. Default 256MiB.
    #[serde(with = "serde_size")]
    pub cql_max_frame_size: u64,
    /// CQL connections served at once, within 1..=65536; one more is answered Overloaded and closed.
    /// Default 4096.
    pub cql_max_connections: u32,
    /// Requests one CQL connection may have running at once, within 1..=32768; one more is
    /// answered Overloaded. Default 1024.
    pub cql_max_in_flight: u32,
    /// A file of CQL users, one `name:password` a line: CQL clients must then authenticate
    /// (PasswordAuthenticator, SASL PLAIN). Default: not set, every client is allowed
    /// (AllowAllAuthenticator).
    pub cql_users: Option<PathBuf>,
    /// Address the HTTP server (WebHDFS data transfer, `/metrics`) binds (key and flag `http`); port
    /// 0 picks a free port. Default: not set, no HTTP server (`basalt local` gives each datanode one).
    #[serde(rename = "http")]
    pub http_listen: Option<SocketAddr>,
    /// How the log is written: `text` (for people) or `json` (one object per line). Default `text`.
    pub log_format: basalt_common::config::LogFormat,
}

/// See [`DatanodeConfig::table_durability`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableDurability {
    #[default]
    Periodic,
    Batch,
}

impl std::str::FromStr for TableDurability {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "periodic" => Ok(TableDurability::Periodic),
            "batch" => Ok(TableDurability::Batch),
            _ => Err(format!("{s:?} is not a table durability (periodic or batch)")),
        }
    }
}

impl Default for DatanodeConfig {
    /// The one place the datanode's defaults are written (the `deploy/config` template is tested
    /// against it).
    fn default() -> Self {
        DatanodeConfig {
            data_dir: PathBuf::new(),
            listen: SocketAddr::from(([0, 0, 0, 0], Self::DEFAULT_PORT)),
            advertise: None,
            namenodes: vec![basalt_common::DEFAULT_NAMENODE_ADDR.to_string()],
            rack: String::new(),
            heartbeat_interval: Duration::from_secs(1),
            chunk_size: DEFAULT_CHUNK_SIZE,
            // A node holding a few GiB is re-verified within a couple of minutes.
            scan_rate: 64 << 20,
            scan_pause: Duration::from_secs(60),
            rbw_expiry: Duration::from_secs(3600),
            ack_timeout: Duration::from_secs(60),
            table_durability: TableDurability::Periodic,
            table_sync_period: Duration::from_millis(10),
            table_write_timeout: Duration::from_secs(2),
            table_read_timeout: Duration::from_secs(5),
            table_hint_window: Duration::from_secs(3 * 3600),
            cql_listen: None,
            cql_max_frame_size: 256 << 20,
            cql_max_connections: 4096,
            cql_max_in_flight: 1024,
            cql_users: None,
            http_listen: None,
            log_format: Default::default(),
        }
    }
}

impl DatanodeConfig {
    /// Default port of the data transfer service.
    pub const DEFAULT_PORT: u16 = 9866;

    /// A config with every default, storing replicas under `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        DatanodeConfig {
            data_dir: data_dir.into(),
            ..Self::default()
        }
    }

    /// Checks every setting; the first problem found is returned, named by its key.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        let bad = |key, must: &str, got: &dyn std::fmt::Display| Err(InvalidConfig::new(key, must, got));
        if self.data_dir.as_os_str().is_empty() {
            return bad("data-dir", "be set", &"\"\"");
        }
        if let Some(a) = self.advertise.as_ref().filter(|a| !is_host_port(a)) {
            return bad("advertise", "be HOST:PORT", &format_args!("{a:?}"));
        }
        if let Some(a) = self.namenodes.iter().find(|a| !is_host_port(a)) {
            return bad("namenode", "list HOST:PORT addresses", &format_args!("{a:?}"));
        }
        duration_within(
            "heartbeat-interval",
            self.heartbeat_interval,
            Duration::from_millis(10),
            Duration::from_secs(600),
        )?;
        if self.chunk_size == 0 || self.chunk_size > MAX_CHUNK_SIZE {
            return bad(
                "chunk-size",
                &format!("be within 1B..={}", format_bytes_exact(MAX_CHUNK_SIZE.into())),
                &format_bytes_exact(self.chunk_size.into()),
            );
        }
        if self.scan_rate == 0 {
            return bad("scan-rate", "be > 0", &format_bytes_exact(0));
        }
        duration_within("scan-pause", self.scan_pause, Duration::ZERO, MAX_DURATION)?;
        positive_duration("parked-expiry", self.rbw_expiry)?;
        positive_duration("ack-timeout", self.ack_timeout)?;
        duration_within(
            "table-sync-period",
            self.table_sync_period,
            Duration::from_millis(1),
            Duration::from_secs(10),
        )?;
        for (key, d) in [
            ("table-write-timeout", self.table_write_timeout),
            ("table-read-timeout", self.table_read_timeout),
        ] {
            duration_within(key, d, Duration::from_millis(10), Duration::from_secs(600))?;
        }
        if !(1 << 10..=1 << 30).contains(&self.cql_max_frame_size) {
            return bad(
                "cql-max-frame-size",
                "be within 1KiB..=1GiB",
                &format_bytes_exact(self.cql_max_frame_size),
            );
        }
        if !(1..=65536).contains(&self.cql_max_connections) {
            return bad(
                "cql-max-connections",
                "be within 1..=65536",
                &self.cql_max_connections.to_string(),
            );
        }
        if !(1..=32768).contains(&self.cql_max_in_flight) {
            return bad(
                "cql-max-in-flight",
                "be within 1..=32768",
                &self.cql_max_in_flight.to_string(),
            );
        }
        Ok(())
    }

    /// The table store's durability, from `table-durability` and `table-sync-period`.
    pub fn table_store_durability(&self) -> crate::tables::store::Durability {
        match self.table_durability {
            TableDurability::Periodic => crate::tables::store::Durability::Periodic {
                period: self.table_sync_period,
            },
            TableDurability::Batch => crate::tables::store::Durability::Batch,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_fields_are_named() {
        let ok = DatanodeConfig::new("/tmp/dn");
        assert_eq!(ok.validate(), Ok(()));
        let key_of = |c: DatanodeConfig| c.validate().map_err(|e| e.key);
        type Break = fn(&mut DatanodeConfig);
        let cases: [(&str, Break); 13] = [
            ("data-dir", |c| c.data_dir = PathBuf::new()),
            ("chunk-size", |c| c.chunk_size = 0),
            ("chunk-size", |c| c.chunk_size = MAX_CHUNK_SIZE + 1),
            ("namenode", |c| c.namenodes = vec!["nn1".into()]),
            ("advertise", |c| c.advertise = Some("http://a:1".into())),
            ("heartbeat-interval", |c| c.heartbeat_interval = Duration::ZERO),
            ("scan-rate", |c| c.scan_rate = 0),
            ("scan-pause", |c| c.scan_pause = Duration::MAX),
            ("parked-expiry", |c| c.rbw_expiry = Duration::ZERO),
            ("table-sync-period", |c| c.table_sync_period = Duration::ZERO),
            ("cql-max-frame-size", |c| c.cql_max_frame_size = 100),
            ("cql-max-connections", |c| c.cql_max_connections = 0),
            ("cql-max-in-flight", |c| c.cql_max_in_flight = 40_000),
        ];
        for (key, break_it) in cases {
            let mut c = ok.clone();
            break_it(&mut c);
            assert_eq!(key_of(c), Err(key));
        }
        let c = DatanodeConfig {
            heartbeat_interval: Duration::from_millis(5),
            ..ok.clone()
        };
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "invalid config: heartbeat-interval must be within 10ms..=10m (got 5ms)"
        );
        let c = DatanodeConfig {
            namenodes: vec!["[::1]:8020".into(), "nn:8020".into()],
            scan_pause: Duration::ZERO,
            ..ok
        };
        assert_eq!(c.validate(), Ok(()));
    }
}
