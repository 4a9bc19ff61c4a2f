//! The datanode's configuration: plain data, checked once by [`DatanodeConfig::validate`] at start.

use crate::error::DatanodeError;
use basalt_common::checksum::DEFAULT_CHUNK_SIZE;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Largest chunk size a replica may use (the metadata header rejects anything larger).
pub const MAX_CHUNK_SIZE: u32 = 16 * 1024 * 1024;

/// Configuration of one datanode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatanodeConfig {
    /// Directory holding the identity file and the replicas (`current/`, `tmp/`, `corrupt/`). Required.
    pub data_dir: PathBuf,
    /// Address the data transfer service binds. Default `0.0.0.0:9866`; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Address told to namenodes and clients. Default: the bound address (with the real port).
    pub advertise: Option<String>,
    /// `host:port` of every namenode member; heartbeats and block reports go to all of them. Default none.
    pub namenodes: Vec<String>,
    /// Rack of this datanode for placement; empty = no rack. Default empty.
    pub rack: String,
    /// Interval between heartbeats to each namenode. Default 1 s.
    pub heartbeat_interval: Duration,
    /// Default chunk size of a replica's checksums when a writer does not name one. Default 64 KiB.
    pub chunk_size: u32,
    /// Background block scanner: bandwidth and pause between passes. Default 64 MiB/s, 60 s.
    pub scan: crate::scanner::ScanConfig,
    /// How long a replica kept after a broken write ("parked", awaiting a resume or a recovery) is kept
    /// before it is removed. Default 1 hour.
    pub rbw_expiry: Duration,
    /// How long a downstream pipeline node may take to acknowledge a packet (or to accept the stream)
    /// before it is blamed and the pipeline broken. Default 60 s.
    pub ack_timeout: Duration,
}

impl DatanodeConfig {
    /// Default port of the data transfer service.
    pub const DEFAULT_PORT: u16 = 9866;

    /// A config with every default, storing replicas under `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        DatanodeConfig {
            data_dir: data_dir.into(),
            listen: SocketAddr::from(([0, 0, 0, 0], Self::DEFAULT_PORT)),
            advertise: None,
            namenodes: Vec::new(),
            rack: String::new(),
            heartbeat_interval: Duration::from_secs(1),
            chunk_size: DEFAULT_CHUNK_SIZE,
            scan: crate::scanner::ScanConfig::default(),
            rbw_expiry: Duration::from_secs(3600),
            ack_timeout: Duration::from_secs(60),
        }
    }

    /// Checks every field; the first problem found is returned.
    pub fn validate(&self) -> Result<(), DatanodeError> {
        let bad = |field: &'static str, reason: String| Err(DatanodeError::Config { field, reason });
        if self.data_dir.as_os_str().is_empty() {
            return bad("data_dir", "must not be empty".into());
        }
        if let Some(a) = &self.advertise
            && !is_host_port(a)
        {
            return bad("advertise", format!("{a:?} is not host:port"));
        }
        if let Some(a) = self.namenodes.iter().find(|a| !is_host_port(a)) {
            return bad("namenodes", format!("{a:?} is not host:port"));
        }
        if self.heartbeat_interval < Duration::from_millis(10) || self.heartbeat_interval > Duration::from_secs(600) {
            return bad(
                "heartbeat_interval",
                format!("{:?} is outside 10ms..=600s", self.heartbeat_interval),
            );
        }
        if self.chunk_size == 0 || self.chunk_size > MAX_CHUNK_SIZE {
            return bad(
                "chunk_size",
                format!("{} is outside 1..={MAX_CHUNK_SIZE}", self.chunk_size),
            );
        }
        if self.ack_timeout.is_zero() {
            return bad("ack_timeout", "must not be zero".into());
        }
        if self.rbw_expiry.is_zero() {
            return bad("rbw_expiry", "must not be zero".into());
        }
        Ok(())
    }
}

/// Whether `s` looks like `host:port` (IPv6 hosts in brackets).
fn is_host_port(s: &str) -> bool {
    match s.rsplit_once(':') {
        Some((host, port)) => !host.is_empty() && port.parse::<u16>().is_ok() && !s.contains("://"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_fields_are_named() {
        let ok = DatanodeConfig::new("/tmp/dn");
        assert!(ok.validate().is_ok());
        let field_of = |c: DatanodeConfig| match c.validate() {
            Err(DatanodeError::Config { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        };
        assert_eq!(
            field_of(DatanodeConfig {
                chunk_size: 0,
                ..ok.clone()
            }),
            "chunk_size"
        );
        assert_eq!(
            field_of(DatanodeConfig {
                namenodes: vec!["nn1".into()],
                ..ok.clone()
            }),
            "namenodes"
        );
        assert_eq!(
            field_of(DatanodeConfig {
                advertise: Some("http://a:1".into()),
                ..ok.clone()
            }),
            "advertise"
        );
        assert_eq!(
            field_of(DatanodeConfig {
                heartbeat_interval: Duration::ZERO,
                ..ok.clone()
            }),
            "heartbeat_interval"
        );
        assert_eq!(
            field_of(DatanodeConfig {
                rbw_expiry: Duration::ZERO,
                ..ok.clone()
            }),
            "rbw_expiry"
        );
        assert_eq!(field_of(DatanodeConfig::new("")), "data_dir");
        assert!(
            DatanodeConfig {
                namenodes: vec!["[::1]:8020".into(), "nn:8020".into()],
                ..ok
            }
            .validate()
            .is_ok()
        );
    }
}
