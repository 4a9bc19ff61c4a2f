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
//! Precedence: a flag given on the command line wins over the file (and so does its environment
//! variable, e.g. `BASALT_NAMENODE`), and the file wins over the built-in defaults. A file entry that
//! conflicts with a command-line flag (say `peers` in the file, `--join` on the command line) is left out.
//! Booleans turn a switch on (`true`) or leave it off; arrays are joined with commas.

use anyhow::{Context, Result, bail};
use clap::CommandFactory;
use std::ffi::OsString;

/// Roles that take `--config`.
const ROLES: [&str; 2] = ["namenode", "datanode"];

/// `args` with a role's `--config FILE` expanded into flags (unchanged when there is none).
pub fn expand(args: Vec<OsString>) -> Result<Vec<OsString>> {
    let strs: Vec<&str> = args.iter().map(|a| a.to_str().unwrap_or("")).collect();
    let Some(role_at) = subcommand_at(&strs) else {
        return Ok(args);
    };
    let role = strs[role_at];
    if !ROLES.contains(&role) {
        return Ok(args);
    }
    let given: Vec<&str> = strs[role_at + 1..]
        .iter()
        .filter_map(|a| a.strip_prefix("--"))
        .map(|a| a.split('=').next().unwrap_or(a))
        .collect();
    let mut file = None;
    for (i, a) in strs.iter().enumerate().skip(role_at + 1) {
        if *a == "--config" {
            file = strs.get(i + 1).map(|f| f.to_string());
        } else if let Some(f) = a.strip_prefix("--config=") {
            file = Some(f.to_string());
        }
    }
    let Some(file) = file else { return Ok(args) };
    let text = std::fs::read_to_string(&file).with_context(|| format!("reading the config file {file}"))?;
    let flags = flags_of(role, &text, &given).with_context(|| format!("config file {file}"))?;
    let mut out = args[..=role_at].to_vec();
    out.extend(flags.into_iter().map(OsString::from));
    out.extend_from_slice(&args[role_at + 1..]);
    Ok(out)
}

/// Where the subcommand is: the first word after the program that is neither a flag nor the value of the
/// global `--namenode`.
fn subcommand_at(args: &[&str]) -> Option<usize> {
    let mut i = 1;
    while i < args.len() {
        match args[i] {
            "--namenode" => i += 2,
            a if a.starts_with('-') => i += 1,
            _ => return Some(i),
        }
    }
    None
}

/// The flags `role`'s config file stands for, leaving out what `given` (flags on the command line)
/// overrides or conflicts with, and what an environment variable sets.
fn flags_of(role: &str, text: &str, given: &[&str]) -> Result<Vec<String>> {
    let mut cli = crate::cli::Cli::command();
    cli.build();
    let cmd = cli.find_subcommand(role).expect("a role is a subcommand");
    let arg_of = |name: &str| cmd.get_arguments().find(|a| a.get_long() == Some(name));
    let given_args: Vec<&clap::Arg> = given.iter().filter_map(|g| arg_of(g)).collect();
    let doc: toml_edit::DocumentMut = text.parse().context("not valid TOML")?;
    let mut flags = Vec::new();
    for (key, item) in doc.iter() {
        if key == "config" {
            bail!("`config` cannot name another file");
        }
        let Some(arg) = arg_of(key) else {
            bail!("`{key}` is not a setting of `basalt {role}` (see `basalt {role} --help`)");
        };
        let Some(value) = item.as_value() else {
            bail!("`{key}`: sections are not supported; write `flag-name = value` lines");
        };
        // Conflicts are declared on one side of a pair: look both ways.
        let conflicts =
            |a: &clap::Arg, b: &clap::Arg| cmd.get_arg_conflicts_with(a).iter().any(|c| c.get_id() == b.get_id());
        let overridden = given.contains(&key)
            || arg.get_env().is_some_and(|v| std::env::var_os(v).is_some())
            || given_args.iter().any(|g| conflicts(arg, g) || conflicts(g, arg));
        if overridden {
            continue;
        }
        match value {
            toml_edit::Value::Boolean(b) => {
                if *b.value() {
                    flags.push(format!("--{key}"));
                }
            }
            toml_edit::Value::Array(a) => {
                let parts: Vec<String> = a
                    .iter()
                    .map(scalar)
                    .collect::<Result<_>>()
                    .with_context(|| format!("`{key}`"))?;
                flags.push(format!("--{key}={}", parts.join(",")));
            }
            v => flags.push(format!("--{key}={}", scalar(v).with_context(|| format!("`{key}`"))?)),
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
    fn file_entries_become_flags_unless_the_command_line_says_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("nn.toml");
        std::fs::write(
            &f,
            "id = 2\nlisten = \"127.0.0.1:9\"\npeers = [\"1=a:1\", \"2=b:2\"]\nfault-injection = true\nblock-size = \"-1\"\n",
        )
        .unwrap();
        let path = f.to_str().unwrap();
        let out = expand(os(&[
            "basalt",
            "--namenode",
            "namenode",
            "namenode",
            "--config",
            path,
            "--id=3",
        ]))
        .unwrap();
        assert_eq!(
            out,
            os(&[
                "basalt",
                "--namenode",
                "namenode",
                "namenode",
                "--listen=127.0.0.1:9",
                "--peers=1=a:1,2=b:2",
                "--fault-injection",
                "--block-size=-1",
                "--config",
                path,
                "--id=3"
            ]),
            "the command line's --id wins; a value starting with '-' stays one token"
        );
        // `--join` on the command line leaves out the file's conflicting `peers`.
        let out = expand(os(&["basalt", "namenode", "--config", path, "--join"])).unwrap();
        assert!(
            !out.iter().any(|a| a.to_str().unwrap().starts_with("--peers")),
            "{out:?}"
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
            ("colour = \"blue\"\n", "`colour` is not a setting of `basalt namenode`"),
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
            argv.extend(flags_of(role, text, &[]).unwrap());
            if let Err(e) = crate::cli::Cli::try_parse_from(&argv) {
                panic!("{role}: {e}");
            }
        }
    }
}
