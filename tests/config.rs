//! `basalt namenode|datanode --print-config` as a process: the effective settings come from the
//! defaults, a `--config` file, `BASALT_*` environment variables and flags, each winning over the ones
//! before; what it prints reads back; bad values are a one-line error and a failing exit, never a panic.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_basalt");

/// `basalt args...` with only the `BASALT_*` variables given in `env`.
fn basalt(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("BASALT_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied()).output().expect("run basalt")
}

/// The printed settings of a successful `--print-config`.
fn printed(args: &[&str], env: &[(&str, &str)]) -> String {
    let o = basalt(args, env);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "basalt {args:?} failed: {err}");
    String::from_utf8(o.stdout).unwrap()
}

/// The value of `key` in printed settings.
fn value(printed: &str, key: &str) -> String {
    let prefix = format!("{key} = ");
    let line = printed.lines().find(|l| l.starts_with(&prefix));
    line.unwrap_or_else(|| panic!("no {key} in\n{printed}"))[prefix.len()..].to_string()
}

/// The one-line error of a failing command (no panic).
fn fails(args: &[&str], env: &[(&str, &str)]) -> String {
    let o = basalt(args, env);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "basalt {args:?} succeeded");
    assert!(!err.contains("panicked"), "basalt {args:?} panicked: {err}");
    assert_eq!(o.status.code(), Some(1), "basalt {args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "basalt {args:?}: one line, got {err}");
    err
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn flag_over_environment_over_file_over_default() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "nn.toml",
        "data-dir = \"/nn\"\nreplication = 2\ndead-interval = \"5s\"\nlease-hard-limit = \"7s\"\n",
    );
    let env = [
        ("BASALT_NAMENODE_REPLICATION", "4"),
        ("BASALT_NAMENODE_DEAD_INTERVAL", "6s"),
    ];
    let out = printed(
        &["namenode", "--config", &f, "--replication", "1", "--print-config"],
        &env,
    );
    assert_eq!(value(&out, "replication"), "1", "flag over variable and file");
    assert_eq!(value(&out, "dead-interval"), "\"6s\"", "variable over file");
    assert_eq!(value(&out, "lease-hard-limit"), "\"7s\"", "file over default");
    assert_eq!(value(&out, "orphan-grace"), "\"5m\"", "default");
    // An older flag spelling (bare seconds) still wins over the newer spelling's variable.
    let out = printed(
        &[
            "namenode",
            "--config",
            &f,
            "--dead-interval-secs",
            "2",
            "--print-config",
        ],
        &env,
    );
    assert_eq!(value(&out, "dead-interval"), "\"2s\"");

    // The datanode's `namenode` list: --namenode, then BASALT_NAMENODE, then the file, then the default.
    let f = write(dir.path(), "dn.toml", "data-dir = \"/dn\"\nnamenode = [\"f:1\"]\n");
    let dn = |args: &[&str], env: &[(&str, &str)]| value(&printed(args, env), "namenode");
    let env = [("BASALT_NAMENODE", "e:1,e:2")];
    assert_eq!(
        dn(
            &["--namenode", "x:1", "datanode", "--config", &f, "--print-config"],
            &env
        ),
        "[\"x:1\"]"
    );
    assert_eq!(
        dn(&["datanode", "--config", &f, "--print-config"], &env),
        "[\"e:1\", \"e:2\"]"
    );
    assert_eq!(dn(&["datanode", "--config", &f, "--print-config"], &[]), "[\"f:1\"]");
    assert_eq!(
        dn(&["datanode", "--data-dir", "/dn", "--print-config"], &[]),
        "[\"127.0.0.1:8020\"]"
    );
}

#[test]
fn print_config_reads_back_through_config() {
    let dir = tempfile::tempdir().unwrap();
    for (role, args) in [
        (
            "namenode",
            &[
                "--data-dir",
                "/nn",
                "--id",
                "2",
                "--peers",
                "1=a:1,2=b:2,3=c:3",
                "--orphan-grace",
                "90s",
            ][..],
        ),
        (
            "datanode",
            &[
                "--data-dir",
                "/dn",
                "--rack",
                "/r\"1",
                "--advertise",
                "dn:1",
                "--chunk-size",
                "4097",
            ][..],
        ),
    ] {
        let mut argv = vec![role];
        argv.extend_from_slice(args);
        argv.push("--print-config");
        let first = printed(&argv, &[]);
        let f = write(dir.path(), &format!("{role}.toml"), &first);
        assert_eq!(printed(&[role, "--config", &f, "--print-config"], &[]), first, "{role}");
    }
}

#[test]
fn the_test_harness_flag_spellings_keep_working() {
    let out = printed(
        &[
            "namenode",
            "--data-dir",
            "/nn",
            "--listen",
            "127.0.0.1:0",
            "--block-size",
            "128KiB",
            "--replication",
            "3",
            "--snapshot-interval",
            "50",
            "--dead-interval-secs",
            "2",
            "--lease-hard-limit-secs",
            "0.5",
            "--orphan-grace-secs",
            "300",
            "--id",
            "2",
            "--peers",
            "1=a:1,2=b:2,3=c:3",
            "--fault-injection",
            "--print-config",
        ],
        &[],
    );
    for (key, want) in [
        ("block-size", "\"128KiB\""),
        ("dead-interval", "\"2s\""),
        ("lease-hard-limit", "\"500ms\""),
        ("orphan-grace", "\"5m\""),
        ("table-vnodes", "16"),
        ("fault-injection", "true"),
        ("peers", "[\"1=a:1\", \"2=b:2\", \"3=c:3\"]"),
    ] {
        assert_eq!(value(&out, key), want, "{key}");
    }
    assert_eq!(
        value(
            &printed(&["namenode", "--data-dir", "/nn", "--join", "--print-config"], &[]),
            "join"
        ),
        "true"
    );
    let out = printed(
        &[
            "--namenode",
            "a:1",
            "datanode",
            "--data-dir",
            "/dn",
            "--listen",
            "127.0.0.1:0",
            "--heartbeat-ms",
            "200",
            "--scan-pause-ms",
            "60000",
            "--ack-timeout-secs",
            "2",
            "--print-config",
        ],
        &[],
    );
    assert_eq!(value(&out, "heartbeat-interval"), "\"200ms\"");
    assert_eq!(value(&out, "scan-pause"), "\"1m\"");
    assert_eq!(value(&out, "ack-timeout"), "\"2s\"");
}

#[test]
fn bad_settings_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = write(dir.path(), "unknown.toml", "data-dir = \"/nn\"\ncolour = \"blue\"\n");
    let err = fails(&["namenode", "--config", &unknown, "--print-config"], &[]);
    assert!(
        err.starts_with(&format!("basalt: config file {unknown}: `colour` is not a setting")),
        "{err}"
    );
    let typed = write(dir.path(), "typed.toml", "replication = \"three\"\n");
    let err = fails(&["namenode", "--config", &typed], &[]);
    assert!(
        err.contains("`replication`: invalid type: string \"three\", expected u32"),
        "{err}"
    );
    let zero = write(dir.path(), "zero.toml", "data-dir = \"/nn\"\ndead-interval = \"0s\"\n");
    let err = fails(&["namenode", "--config", &zero], &[]);
    assert_eq!(
        err,
        "basalt: invalid config: dead-interval must be > 0 and at most 365d (got 0s)\n"
    );
    let err = fails(
        &[
            "namenode",
            "--data-dir",
            "/nn",
            "--safe-mode-threshold",
            "NaN",
            "--print-config",
        ],
        &[],
    );
    assert_eq!(
        err,
        "basalt: invalid config: safe-mode-threshold must be within 0..=1 (got NaN)\n"
    );
    let err = fails(&["datanode", "--print-config"], &[]);
    assert_eq!(err, "basalt: invalid config: data-dir must be set (got \"\")\n");
    let err = fails(
        &["datanode", "--data-dir", "/dn", "--heartbeat-ms", "1", "--print-config"],
        &[],
    );
    assert!(
        err.contains("heartbeat-interval must be within 10ms..=10m (got 1ms)"),
        "{err}"
    );

    // Values no parser accepts are refused by the flag parser (clap's usage error, exit 2), never a panic.
    for (args, env) in [
        (&["namenode", "--data-dir", "/nn", "--dead-interval=-1s"][..], &[][..]),
        (
            &["namenode", "--data-dir", "/nn", "--dead-interval-secs", "inf"][..],
            &[][..],
        ),
        (
            &[
                "namenode",
                "--data-dir",
                "/nn",
                "--lease-hard-limit",
                "99999999999999999999999h",
            ][..],
            &[][..],
        ),
        (&["namenode", "--data-dir", "/nn", "--block-size", "1e9"][..], &[][..]),
        (
            &["namenode", "--data-dir", "/nn"][..],
            &[("BASALT_NAMENODE_ORPHAN_GRACE", "nan")][..],
        ),
        (&["datanode", "--data-dir", "/dn", "--chunk-size", "8GiB"][..], &[][..]),
    ] {
        let o = basalt(args, env);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?} {env:?}: {err}");
        assert!(err.starts_with("error: invalid value"), "{args:?} {env:?}: {err}");
    }
}
