//! Role config files (`basalt namenode --config FILE`, `basalt datanode --config FILE`): a TOML file of
//! `flag-name = value` lines, the same names as the role's command-line flags, for example
//!
//! ```toml
//! id = 1
//! listen = "10.0.0.10:8020"
//! data-dir = "/var/lib/basalt/namenode"
//! peers = ["1=10.0.0.10:8020", "2=10.0.0.11:8020", "3=10.0.0.12:8020"]
//! lease-hard-limit-secs = 60
//! ```
//!
//! The file's entries become flags placed before the command line's own, so a flag given on the command
//! line wins over the file, and the file over the built-in defaults. Booleans turn a switch on (`true`) or
//! leave it off; arrays are joined with commas.

use anyhow::{Context, Result, bail};
use std::ffi::OsString;

/// Roles that take `--config`.
const ROLES: [&str; 2] = ["namenode", "datanode"];

/// `args` with a role's `--config FILE` expanded into flags (unchanged when there is none).
pub fn expand(args: Vec<OsString>) -> Result<Vec<OsString>> {
    let strs: Vec<Option<&str>> = args.iter().map(|a| a.to_str()).collect();
    let Some(role_at) = strs.iter().position(|a| a.is_some_and(|a| ROLES.contains(&a))) else {
        return Ok(args);
    };
    let mut file = None;
    for (i, a) in strs.iter().enumerate().skip(role_at + 1) {
        match a {
            Some("--config") => file = strs.get(i + 1).copied().flatten().map(str::to_string),
            Some(a) if a.starts_with("--config=") => file = Some(a["--config=".len()..].to_string()),
            _ => {}
        }
    }
    let Some(file) = file else { return Ok(args) };
    let text = std::fs::read_to_string(&file).with_context(|| format!("reading the config file {file}"))?;
    let flags = flags_of(&text).with_context(|| format!("config file {file}"))?;
    let mut out = args[..=role_at].to_vec();
    out.extend(flags.into_iter().map(OsString::from));
    out.extend_from_slice(&args[role_at + 1..]);
    Ok(out)
}

/// The flags a config file stands for.
fn flags_of(text: &str) -> Result<Vec<String>> {
    let doc: toml_edit::DocumentMut = text.parse().context("not valid TOML")?;
    let mut flags = Vec::new();
    for (key, item) in doc.iter() {
        if key == "config" {
            bail!("`config` cannot name another file");
        }
        let Some(value) = item.as_value() else {
            bail!("`{key}`: sections are not supported; write `flag-name = value` lines");
        };
        let flag = format!("--{key}");
        match value {
            toml_edit::Value::Boolean(b) => {
                if *b.value() {
                    flags.push(flag);
                }
            }
            toml_edit::Value::Array(a) => {
                let parts: Vec<String> = a
                    .iter()
                    .map(scalar)
                    .collect::<Result<_>>()
                    .with_context(|| format!("`{key}`"))?;
                flags.push(flag);
                flags.push(parts.join(","));
            }
            v => {
                flags.push(flag);
                flags.push(scalar(v).with_context(|| format!("`{key}`"))?);
            }
        }
    }
    Ok(flags)
}

fn scalar(v: &toml_edit::Value) -> Result<String> {
    Ok(match v {
        toml_edit::Value::String(s) => s.value().clone(),
        toml_edit::Value::Integer(i) => i.value().to_string(),
        toml_edit::Value::Float(f) => f.value().to_string(),
        toml_edit::Value::Boolean(b) => b.value().to_string(),
        _ => bail!("expected a string, number or boolean"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn file_entries_become_flags_before_the_command_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("nn.toml");
        std::fs::write(
            &f,
            "id = 2\nlisten = \"127.0.0.1:9\"\npeers = [\"1=a:1\", \"2=b:2\"]\njoin = false\nfault-injection = true\n",
        )
        .unwrap();
        let path = f.to_str().unwrap();
        let out = expand(os(&["basalt", "namenode", "--config", path, "--id", "3"])).unwrap();
        assert_eq!(
            out,
            os(&[
                "basalt",
                "namenode",
                "--id",
                "2",
                "--listen",
                "127.0.0.1:9",
                "--peers",
                "1=a:1,2=b:2",
                "--fault-injection",
                "--config",
                path,
                "--id",
                "3"
            ])
        );
        // Without --config, or for a client command, nothing changes.
        let plain = os(&["basalt", "fs", "ls", "/"]);
        assert_eq!(expand(plain.clone()).unwrap(), plain);
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bad.toml");
        for (text, needle) in [
            ("id = ", "not valid TOML"),
            ("[namenode]\nid = 1\n", "sections are not supported"),
            ("peers = [{ a = 1 }]\n", "expected a string"),
        ] {
            std::fs::write(&f, text).unwrap();
            let e = expand(os(&["basalt", "namenode", "--config", f.to_str().unwrap()])).unwrap_err();
            assert!(format!("{e:#}").contains(needle), "{text:?}: {e:#}");
        }
        let e = expand(os(&["basalt", "datanode", "--config", "/nonexistent.toml"])).unwrap_err();
        assert!(format!("{e:#}").contains("reading the config file /nonexistent.toml"));
    }

    #[test]
    fn the_deploy_examples_parse() {
        use clap::Parser;
        for (role, text) in [
            ("namenode", include_str!("../../deploy/config/namenode.toml")),
            ("datanode", include_str!("../../deploy/config/datanode.toml")),
        ] {
            let mut argv = vec!["basalt".to_string(), role.to_string()];
            argv.extend(flags_of(text).unwrap());
            if let Err(e) = crate::cli::Cli::try_parse_from(&argv) {
                panic!("{role}: {e}");
            }
        }
    }
}
