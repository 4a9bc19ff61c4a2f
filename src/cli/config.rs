//! Role settings (`basalt namenode`, `basalt datanode`). Each role has one serde struct,
//! [`NamenodeConfig`] and [`DatanodeConfig`], whose `Default` is the only place a default is written.
//! The effective config is built in four layers, each winning over the ones before:
//!
//! 1. the defaults;
//! 2. the `--config FILE`: TOML `key = value` lines, the keys `--print-config` writes, for example
//!    ```toml
//!    id = 1
//!    listen = "10.0.0.10:8020"
//!    data-dir = "/var/lib/basalt/namenode"
//!    peers = ["1=10.0.0.10:8020", "2=10.0.0.11:8020", "3=10.0.0.12:8020"]
//!    dead-interval = "30s"
//!    block-size = "64MiB"
//!    ```
//!    Unknown keys, sections, wrong types and bad values are errors naming the key;
//! 3. environment variables, `BASALT_NAMENODE_<KEY>` / `BASALT_DATANODE_<KEY>` (`BASALT_NAMENODE` for
//!    the datanode's `namenode` list);
//! 4. command-line flags, `--<key>`.
//!
//! Layers 3 and 4 are clap's (`roles`), a thin layer of optional fields copied over the struct; the
//! result is checked once by the struct's `validate()`. This module reads files ([`load`]), writes the
//! effective config back as TOML ([`to_toml`], for `--print-config`) and puts the defaults into `--help`
//! ([`command`]).
//!
//! Older spellings still work, in files and as (hidden) flags: a [`Legacy`] key such as
//! `dead-interval-secs = 30` takes a bare number in the unit its name ends with.

use anyhow::{Context, Result, anyhow, bail};
use basalt_datanode::DatanodeConfig;
use basalt_namenode::NamenodeConfig;
use clap::CommandFactory;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::fmt::Write;
use std::path::Path;

/// An older spelling of a duration setting: `old = N` means `key = "N<unit>"`.
pub struct Legacy {
    pub old: &'static str,
    pub key: &'static str,
    pub unit: &'static str,
}

/// The namenode's older spellings (from when durations were bare seconds).
pub const NAMENODE_LEGACY: &[Legacy] = &[
    Legacy {
        old: "dead-interval-secs",
        key: "dead-interval",
        unit: "s",
    },
    Legacy {
        old: "lease-hard-limit-secs",
        key: "lease-hard-limit",
        unit: "s",
    },
    Legacy {
        old: "orphan-grace-secs",
        key: "orphan-grace",
        unit: "s",
    },
];

/// The datanode's older spellings.
pub const DATANODE_LEGACY: &[Legacy] = &[
    Legacy {
        old: "heartbeat-ms",
        key: "heartbeat-interval",
        unit: "ms",
    },
    Legacy {
        old: "scan-pause-ms",
        key: "scan-pause",
        unit: "ms",
    },
    Legacy {
        old: "ack-timeout-secs",
        key: "ack-timeout",
        unit: "s",
    },
];

/// `s` with `unit` appended when it is a bare number (`60` → `60s`), as is otherwise.
pub fn legacy_value(s: &str, unit: &str) -> String {
    let s = s.trim();
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        format!("{s}{unit}")
    } else {
        s.to_string()
    }
}

/// The defaults of `T` with the file at `path` (if any) over them.
pub fn load<T: Serialize + DeserializeOwned + Default>(
    role: &str,
    path: Option<&Path>,
    legacy: &[Legacy],
) -> Result<T> {
    let Some(path) = path else { return Ok(T::default()) };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the config file {}", path.display()))?;
    from_toml(role, &text, legacy).with_context(|| format!("config file {}", path.display()))
}

/// The defaults of `T` with the settings of `text` (a TOML file for `basalt role`) over them.
pub fn from_toml<T: Serialize + DeserializeOwned + Default>(role: &str, text: &str, legacy: &[Legacy]) -> Result<T> {
    let doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let line = e
            .span()
            .map_or(0, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        anyhow!("not valid TOML (line {line}): {}", e.message().trim())
    })?;
    let mut settings = as_map(&T::default())?;
    let mut seen = std::collections::BTreeMap::new();
    for (written, item) in doc.iter() {
        // A section is taken only for a setting that is a table (the namenode's `[groups]`).
        let table_value = item
            .as_table()
            .filter(|_| matches!(settings.get(written), Some(Value::Object(_))));
        let section = table_value.map(|t| toml_edit::Value::InlineTable(t.clone().into_inline_table()));
        let Some(value) = item.as_value().or(section.as_ref()) else {
            bail!("`{written}`: sections are not supported; write `key = value` lines");
        };
        let old = legacy.iter().find(|l| l.old == written);
        let key = old.map_or(written, |l| l.key);
        if key == "config" {
            bail!("`config` cannot name another file");
        }
        if !settings.contains_key(key) {
            bail!("`{written}` is not a setting of `basalt {role}` (see `basalt {role} --print-config`)");
        }
        if let Some(first) = seen.insert(key, written) {
            bail!("`{written}` and `{first}` are the same setting");
        }
        let is_table = matches!(settings.get(key), Some(Value::Object(_)));
        let mut json =
            if is_table { table_json_of(value) } else { json_of(value) }.with_context(|| format!("`{written}`"))?;
        if let Some(l) = old {
            json = match json {
                Value::Number(n) => Value::String(legacy_value(&n.to_string(), l.unit)),
                Value::String(s) => Value::String(legacy_value(&s, l.unit)),
                other => other,
            };
        }
        settings.insert(key.to_string(), json);
        // Deserialized after every entry, so that a wrong value is reported with its key.
        serde_json::from_value::<T>(Value::Object(settings.clone())).map_err(|e| anyhow!("`{written}`: {e}"))?;
    }
    Ok(serde_json::from_value(Value::Object(settings))?)
}

/// `config` as TOML that [`from_toml`] reads back: one `key = value` line per setting (keys sorted), and
/// a comment for a setting that is not set.
pub fn to_toml<T: Serialize>(role: &str, config: &T) -> Result<String> {
    let mut out = format!("# Effective settings of `basalt {role}`; `basalt {role} --config FILE` reads this back.\n");
    for (key, value) in as_map(config)? {
        match value {
            Value::Null => writeln!(out, "# {key}: not set")?,
            v => writeln!(out, "{key} = {}", toml_of(&v).with_context(|| format!("`{key}`"))?)?,
        }
    }
    Ok(out)
}

/// The CLI with each role flag's default (from the config struct) added to its help.
pub fn command() -> clap::Command {
    let cli = crate::cli::Cli::command();
    let (Ok(nn), Ok(dn), Ok(ex)) = (
        as_map(&NamenodeConfig::default()),
        as_map(&DatanodeConfig::default()),
        as_map(&basalt_executor::ExecutorConfig::default()),
    ) else {
        return cli;
    };
    cli.mut_arg("namenode", |a| {
        let help = format!(
            "{} [default: {}]",
            a.get_help().unwrap_or(&Default::default()),
            basalt_common::DEFAULT_NAMENODE_ADDR
        );
        a.help(help)
    })
    .mut_subcommand("namenode", |c| with_defaults(c, &nn))
    .mut_subcommand("datanode", |c| with_defaults(c, &dn))
    .mut_subcommand("executor", |c| with_defaults(c, &ex))
}

fn with_defaults(cmd: clap::Command, defaults: &Map<String, Value>) -> clap::Command {
    let shown: Vec<(clap::Id, String)> = cmd
        .get_arguments()
        .filter_map(|a| {
            let text = match defaults.get(a.get_long()?)? {
                Value::Null => return None,
                Value::String(s) if s.is_empty() => return None,
                Value::String(s) => s.clone(),
                Value::Array(items) if items.is_empty() => "none".into(),
                Value::Object(map) if map.is_empty() => "none".into(),
                v => toml_of(v).ok()?,
            };
            Some((a.get_id().clone(), text))
        })
        .collect();
    shown.into_iter().fold(cmd, |cmd, (id, text)| {
        cmd.mut_arg(id, |a| {
            let with_default = |h: &clap::builder::StyledStr| format!("{h} [default: {text}]");
            let help = with_default(a.get_help().unwrap_or(&Default::default()));
            let long = a.get_long_help().map(with_default);
            let a = a.help(help);
            match long {
                Some(long) => a.long_help(long),
                None => a,
            }
        })
    })
}

/// A config struct as a JSON object, one entry per setting.
fn as_map<T: Serialize>(config: &T) -> Result<Map<String, Value>> {
    match serde_json::to_value(config)? {
        Value::Object(map) => Ok(map),
        _ => bail!("a config is a struct"),
    }
}

/// A TOML value of a setting that is a table (the namenode's `groups`) as JSON: an inline table of
/// values; anything else as [`json_of`] reads it.
fn table_json_of(v: &toml_edit::Value) -> Result<Value> {
    match v {
        toml_edit::Value::InlineTable(t) => Ok(Value::Object(
            t.iter()
                .map(|(k, v)| Ok((k.to_string(), json_of(v)?)))
                .collect::<Result<_>>()?,
        )),
        other => json_of(other),
    }
}

/// A TOML value as JSON, for serde; what no setting can hold is refused here.
fn json_of(v: &toml_edit::Value) -> Result<Value> {
    use toml_edit::Value as T;
    Ok(match v {
        T::String(s) => Value::String(s.value().clone()),
        T::Integer(i) => Value::from(*i.value()),
        T::Float(f) => {
            let x = *f.value();
            Value::Number(serde_json::Number::from_f64(x).ok_or_else(|| anyhow!("{x} is not a finite number"))?)
        }
        T::Boolean(b) => Value::Bool(*b.value()),
        T::Array(a) => Value::Array(a.iter().map(json_of).collect::<Result<_>>()?),
        T::Datetime(_) => bail!("dates are not supported"),
        T::InlineTable(_) => bail!("tables are not supported; write `key = value` lines"),
    })
}

/// A JSON value (of a setting) as a TOML value.
fn toml_of(v: &Value) -> Result<String> {
    Ok(match v {
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(toml_of).collect::<Result<_>>()?;
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| Ok(format!("{} = {}", quote(k), toml_of(v)?)))
                .collect::<Result<_>>()?;
            format!("{{ {} }}", items.join(", "))
        }
        Value::Null => bail!("no TOML form for {v}"),
    })
}

/// `s` as a TOML basic string.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests;
