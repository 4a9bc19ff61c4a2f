//! What the role configs (`NamenodeConfig`, `DatanodeConfig`) share: the error their `validate()`
//! returns, named by the setting's key as files and flags spell it; the range checks for durations; and
//! a serde helper for settings written either as a list or as one comma-separated string.

use crate::units::format_duration;
use std::time::Duration;

/// The longest duration any setting accepts: beyond it, deadlines computed from it would overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 86_400);

/// A setting out of its range, e.g. `invalid config: dead-interval must be > 0 (got 0s)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid config: {key} must {must} (got {got})")]
pub struct InvalidConfig {
    /// The setting as files and flags spell it (`dead-interval`).
    pub key: &'static str,
    /// What it must be, to follow "must" (`be > 0`).
    pub must: String,
    /// The value it had, as a file would write it.
    pub got: String,
}

impl InvalidConfig {
    pub fn new(key: &'static str, must: impl Into<String>, got: impl ToString) -> Self {
        InvalidConfig {
            key,
            must: must.into(),
            got: got.to_string(),
        }
    }
}

/// A duration setting must be > 0 and at most [`MAX_DURATION`].
pub fn positive_duration(key: &'static str, d: Duration) -> Result<(), InvalidConfig> {
    duration_within(key, d, Duration::from_nanos(1), MAX_DURATION)
}

/// A duration setting must lie within `min..=max`.
pub fn duration_within(key: &'static str, d: Duration, min: Duration, max: Duration) -> Result<(), InvalidConfig> {
    if d < min || d > max {
        let must = if min == Duration::from_nanos(1) {
            format!("be > 0 and at most {}", format_duration(max))
        } else {
            format!("be within {}..={}", format_duration(min), format_duration(max))
        };
        return Err(InvalidConfig::new(key, must, format_duration(d)));
    }
    Ok(())
}

/// Whether `s` looks like `host:port` (IPv6 hosts in brackets), not a URL.
pub fn is_host_port(s: &str) -> bool {
    match s.rsplit_once(':') {
        Some((host, port)) => !host.is_empty() && port.parse::<u16>().is_ok() && !s.contains("://"),
        None => false,
    }
}

/// Serde helper for a list of strings: written as a list, read from a list or from one string of
/// comma-separated items (as the flag takes it); items are trimmed and empty ones dropped.
pub mod serde_list {
    use serde::de::{self, Deserializer, SeqAccess, Visitor};
    use serde::ser::Serializer;

    pub fn serialize<S: Serializer>(items: &[String], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(items)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        struct List;
        impl<'de> Visitor<'de> for List {
            type Value = Vec<String>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of strings or one comma-separated string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(super::split_list(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    out.extend(super::split_list(&item));
                }
                Ok(out)
            }
        }
        d.deserialize_any(List)
    }
}

/// `a, b,,c` as `["a", "b", "c"]`.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_key_and_the_value() {
        assert_eq!(
            positive_duration("dead-interval", Duration::ZERO)
                .unwrap_err()
                .to_string(),
            "invalid config: dead-interval must be > 0 and at most 365d (got 0s)"
        );
        assert!(positive_duration("x", MAX_DURATION).is_ok());
        assert!(positive_duration("x", MAX_DURATION + Duration::from_nanos(1)).is_err());
        let e = duration_within(
            "heartbeat-interval",
            Duration::from_millis(5),
            Duration::from_millis(10),
            MAX_DURATION,
        );
        assert_eq!(e.unwrap_err().must, "be within 10ms..=365d");
    }

    #[test]
    fn host_ports() {
        for ok in ["a:1", "[::1]:8020", "10.0.0.1:9866"] {
            assert!(is_host_port(ok), "{ok}");
        }
        for bad in ["a", ":1", "a:x", "a:70000", "http://a:1"] {
            assert!(!is_host_port(bad), "{bad}");
        }
        assert_eq!(split_list(" a, b,,c "), ["a", "b", "c"]);
    }
}

/// How a role writes its log (key `log-format`): `text` for people (the default), `json` for log
/// collectors (one object per line: timestamp, level, target, fields, spans).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("{s:?} is not a log format (text or json)")),
        }
    }
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}
