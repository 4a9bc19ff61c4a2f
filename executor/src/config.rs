//! The executor's configuration: plain data with every default in [`ExecutorConfig::default`], read
//! from a file by serde (keys in kebab-case, as `basalt executor --print-config` writes them), checked
//! once by [`ExecutorConfig::validate`] at start.

use basalt_common::config::{InvalidConfig, duration_within, is_host_port, serde_list};
use basalt_common::units::serde_duration;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Configuration of one executor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ExecutorConfig {
    /// `host:port` of every namenode member (key `namenode`, as the `--namenode` flag); heartbeats go
    /// to the leader. Default `["127.0.0.1:8020"]`.
    #[serde(rename = "namenode", with = "serde_list")]
    pub namenodes: Vec<String>,
    /// Task attempts run at once, within 0..=1024; 0 means one per CPU core. Default 0.
    pub slots: u32,
    /// Where tasks get their working directories (removed after each attempt). Default
    /// `/tmp/basalt-executor`.
    pub work_dir: PathBuf,
    /// The datanode whose shuffle service keeps this executor's map output (`HOST:PORT`); it also
    /// decides locality. Default: not set, the live datanode of this host (same host id).
    pub datanode: Option<String>,
    /// Interval between heartbeats to the metadata leader, within 10ms..=1m. Default 500ms.
    #[serde(with = "serde_duration")]
    pub heartbeat_interval: Duration,
    /// Address of the HTTP server (`/metrics`; key `http`). Default: not set, none.
    #[serde(rename = "http")]
    pub http_listen: Option<std::net::SocketAddr>,
    /// How the log is written: `text` (for people) or `json` (one object per line). Default `text`.
    pub log_format: basalt_common::config::LogFormat,
}

impl Default for ExecutorConfig {
    /// The one place the executor's defaults are written (the `deploy/config` template is tested
    /// against it).
    fn default() -> Self {
        ExecutorConfig {
            namenodes: vec![basalt_common::DEFAULT_NAMENODE_ADDR.to_string()],
            slots: 0,
            work_dir: PathBuf::from("/tmp/basalt-executor"),
            datanode: None,
            heartbeat_interval: Duration::from_millis(500),
            http_listen: None,
            log_format: Default::default(),
        }
    }
}

impl ExecutorConfig {
    /// Checks every setting; the first problem found is returned, named by its key.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        let bad = |key, must: &str, got: &dyn std::fmt::Display| Err(InvalidConfig::new(key, must, got));
        if self.namenodes.is_empty() {
            return bad("namenode", "list at least one HOST:PORT", &"[]");
        }
        if let Some(a) = self.namenodes.iter().find(|a| !is_host_port(a)) {
            return bad("namenode", "list HOST:PORT addresses", &format_args!("{a:?}"));
        }
        if self.slots > 1024 {
            return bad("slots", "be within 0..=1024", &self.slots);
        }
        if self.work_dir.as_os_str().is_empty() {
            return bad("work-dir", "be set", &"\"\"");
        }
        if let Some(a) = self.datanode.as_ref().filter(|a| !is_host_port(a)) {
            return bad("datanode", "be HOST:PORT", &format_args!("{a:?}"));
        }
        duration_within(
            "heartbeat-interval",
            self.heartbeat_interval,
            Duration::from_millis(10),
            Duration::from_secs(60),
        )
    }

    /// The slots to use: `slots`, or the number of cores when 0.
    pub fn effective_slots(&self) -> u32 {
        match self.slots {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
            n => n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_name_their_key() {
        assert_eq!(ExecutorConfig::default().validate(), Ok(()));
        assert!(ExecutorConfig::default().effective_slots() >= 1);
        let c = ExecutorConfig {
            slots: 5000,
            ..Default::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("slots"));
        let c = ExecutorConfig {
            datanode: Some("nope".into()),
            ..Default::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("datanode"));
    }
}
