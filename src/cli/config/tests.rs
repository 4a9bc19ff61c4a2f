use super::*;
use crate::cli::{Cli, Command};
use basalt_namenode::parse_peers;
use clap::FromArgMatches;
use std::path::PathBuf;
use std::time::Duration;

fn nn(text: &str) -> Result<NamenodeConfig> {
    from_toml("namenode", text, NAMENODE_LEGACY)
}

fn dn(text: &str) -> Result<DatanodeConfig> {
    from_toml("datanode", text, DATANODE_LEGACY)
}

/// `basalt ARGS` (a namenode command line) to its config, as `basalt namenode` builds it.
fn nn_from_argv(argv: &[&str]) -> Result<NamenodeConfig> {
    let m = command().try_get_matches_from(argv)?;
    let Command::Namenode(args) = Cli::from_arg_matches(&m)?.command else {
        panic!("not a namenode command line: {argv:?}")
    };
    args.into_config(m.subcommand().expect("a subcommand").1)
}

#[test]
fn file_settings_replace_defaults_and_keep_the_rest() {
    let c = nn(
        "id = 2\nlisten = \"127.0.0.1:9\"\npeers = [\"1=a:1\", \"2=b:2\"]\nblock-size = \"1MiB\"\n\
         dead-interval = \"1.5s\"\nsafe-mode-threshold = 1\nfault-injection = true\n",
    )
    .unwrap();
    let want = NamenodeConfig {
        id: 2,
        listen: "127.0.0.1:9".parse().unwrap(),
        peers: parse_peers("1=a:1,2=b:2").unwrap(),
        default_block_size: 1 << 20,
        dead_interval: Duration::from_millis(1500),
        safe_mode_threshold: 1.0,
        fault_injection: true,
        ..NamenodeConfig::default()
    };
    assert_eq!(c, want);
    // Sizes may be bare byte counts; lists may be one comma-separated string.
    let c = dn("chunk-size = 4096\nnamenode = \"a:1, b:2\"\nscan-rate = \"1.5GiB\"\n").unwrap();
    assert_eq!((c.chunk_size, c.scan_rate), (4096, 3 << 29));
    assert_eq!(c.namenodes, ["a:1", "b:2"]);
}

#[test]
fn older_spellings_take_bare_numbers_in_their_unit() {
    let c = dn("heartbeat-ms = 200\nscan-pause-ms = \"2s\"\nack-timeout-secs = 0.5\n").unwrap();
    assert_eq!(c.heartbeat_interval, Duration::from_millis(200));
    assert_eq!(c.scan_pause, Duration::from_secs(2));
    assert_eq!(c.ack_timeout, Duration::from_millis(500));
    let c = nn("dead-interval-secs = 2\nlease-hard-limit-secs = 60\norphan-grace-secs = 1\n").unwrap();
    assert_eq!(
        (c.dead_interval, c.lease_hard_limit, c.orphan_grace),
        (Duration::from_secs(2), Duration::from_secs(60), Duration::from_secs(1))
    );
    let e = nn("dead-interval = \"1s\"\ndead-interval-secs = 2\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "`dead-interval-secs` and `dead-interval` are the same setting"
    );
}

#[test]
fn bad_files_are_one_line_errors_naming_the_key() {
    for (text, want) in [
        ("id = ", "not valid TOML (line 1)"),
        ("id = 1\nid = 2\n", "not valid TOML (line 2)"),
        ("[namenode]\nid = 1\n", "`namenode`: sections are not supported"),
        ("colour = \"blue\"\n", "`colour` is not a setting of `basalt namenode`"),
        ("config = \"x.toml\"\n", "`config` cannot name another file"),
        ("id = \"one\"\n", "`id`: invalid type: string \"one\", expected u64"),
        ("id = -1\n", "`id`: invalid value: integer `-1`, expected u64"),
        ("id = 1.5\n", "`id`: invalid type: floating point `1.5`, expected u64"),
        (
            "replication = 4294967296\n",
            "`replication`: invalid value: integer `4294967296`, expected u32",
        ),
        ("join = \"yes\"\n", "`join`: invalid type: string \"yes\""),
        ("listen = \"localhost\"\n", "`listen`: invalid socket address syntax"),
        ("peers = [{ a = 1 }]\n", "`peers`: tables are not supported"),
        (
            "peers = [\"1a\"]\n",
            "`peers`: invalid config: peers must give each member as ID=HOST:PORT",
        ),
        (
            "dead-interval = 30\n",
            "`dead-interval`: invalid type: integer `30`, expected a duration with a unit",
        ),
        (
            "dead-interval = \"-1s\"\n",
            "`dead-interval`: invalid duration \"-1s\": must not be negative",
        ),
        (
            "dead-interval = \"nan\"\n",
            "`dead-interval`: invalid duration \"nan\": expected a number",
        ),
        (
            "dead-interval = \"99999999999999999999d\"\n",
            "`dead-interval`: invalid duration \"99999999999999999999d\": too large",
        ),
        (
            "dead-interval-secs = -1\n",
            "`dead-interval-secs`: invalid duration \"-1\": must not be negative",
        ),
        (
            "dead-interval-secs = nan\n",
            "`dead-interval-secs`: NaN is not a finite number",
        ),
        (
            "safe-mode-threshold = inf\n",
            "`safe-mode-threshold`: inf is not a finite number",
        ),
        (
            "safe-mode-threshold = -nan\n",
            "`safe-mode-threshold`: NaN is not a finite number",
        ),
        (
            "block-size = \"-1\"\n",
            "`block-size`: invalid size \"-1\": must not be negative",
        ),
        (
            "block-size = -1\n",
            "`block-size`: invalid value: integer `-1`, expected a size",
        ),
        (
            "block-size = \"17179869184PiB\"\n",
            "`block-size`: invalid size \"17179869184PiB\": too large",
        ),
        ("orphan-grace = 1979-05-27\n", "`orphan-grace`: dates are not supported"),
    ] {
        let e = nn(text).map(|_| ()).unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.starts_with(want), "{text:?}: {msg:?}");
        assert!(!msg.contains('\n'), "{text:?}: one line, got {msg:?}");
    }
    let e = dn("chunk-size = \"8GiB\"\n").map(|_| ()).unwrap_err();
    assert_eq!(e.to_string(), "`chunk-size`: size 8GiB is too large");
}

#[test]
fn values_that_parse_are_still_validated() {
    let c = nn("data-dir = \"/d\"\ndead-interval = \"0s\"\n").unwrap();
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "invalid config: dead-interval must be > 0 and at most 365d (got 0s)"
    );
}

#[test]
fn flags_win_over_the_file_which_wins_over_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nn.toml");
    std::fs::write(
        &file,
        "data-dir = \"/from-file\"\nreplication = 2\ndead-interval = \"5s\"\nlease-hard-limit-secs = 7\njoin = true\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let c = nn_from_argv(&[
        "basalt",
        "namenode",
        "--config",
        f,
        "--replication",
        "1",
        "--lease-hard-limit=9s",
    ])
    .unwrap();
    assert_eq!(c.default_replication, 1, "flag over file");
    assert_eq!(
        c.lease_hard_limit,
        Duration::from_secs(9),
        "flag over the file's older spelling"
    );
    assert_eq!(c.dead_interval, Duration::from_secs(5), "file over default");
    assert_eq!(c.data_dir, PathBuf::from("/from-file"));
    assert_eq!(c.orphan_grace, NamenodeConfig::default().orphan_grace, "default");
    assert!(c.join && c.peers.is_empty());
    // Older flag spellings, bare numbers in their unit; `--peers` replaces the file's `join`.
    let c = nn_from_argv(&[
        "basalt",
        "namenode",
        "--config",
        f,
        "--dead-interval-secs",
        "0.5",
        "--peers",
        "1=a:1",
    ])
    .unwrap();
    assert_eq!(c.dead_interval, Duration::from_millis(500));
    assert!(!c.join && c.peers.len() == 1);
    let c = nn_from_argv(&["basalt", "namenode", "--config", f, "--join=false"]).unwrap();
    assert!(!c.join);
    // Without a file: the defaults and the flags.
    let c = nn_from_argv(&["basalt", "namenode", "--data-dir", "/d", "--fault-injection"]).unwrap();
    assert_eq!(
        c,
        NamenodeConfig {
            fault_injection: true,
            ..NamenodeConfig::new("/d".into(), NamenodeConfig::default().listen)
        }
    );
    let e = nn_from_argv(&[
        "basalt",
        "namenode",
        "--dead-interval",
        "1s",
        "--dead-interval-secs",
        "1",
    ])
    .unwrap_err();
    assert!(e.to_string().contains("are the same setting"), "{e}");
    assert!(nn_from_argv(&["basalt", "namenode", "--dead-interval=-1s"]).is_err());
}

#[test]
fn print_config_reads_back() {
    let odd = DatanodeConfig {
        advertise: Some("dn1:9866".into()),
        rack: "/r \"1\"\\\n\u{1}é".into(),
        namenodes: vec!["a:1".into(), "b:2".into()],
        heartbeat_interval: Duration::from_millis(250),
        rbw_expiry: Duration::new(1, 1),
        chunk_size: 4097,
        ..DatanodeConfig::new("/data/dn")
    };
    for c in [DatanodeConfig::default(), odd] {
        assert_eq!(dn(&to_toml("datanode", &c).unwrap()).unwrap(), c);
    }
    let c = NamenodeConfig {
        peers: parse_peers("1=a:1,2=b:2,3=c:3").unwrap(),
        safe_mode_threshold: 1.0,
        raft_heartbeat: Duration::from_micros(1500),
        ..NamenodeConfig::new("/data/nn".into(), "0.0.0.0:0".parse().unwrap())
    };
    let text = to_toml("namenode", &c).unwrap();
    assert!(text.contains("\nsafe-mode-threshold = 1.0\n"), "{text}");
    assert!(text.contains("\n# advertise: not set\n"), "{text}");
    assert_eq!(nn(&text).unwrap(), c);
    assert_eq!(
        nn(&to_toml("namenode", &NamenodeConfig::default()).unwrap()).unwrap(),
        NamenodeConfig::default()
    );
}

/// Each `deploy/config` template sets or mentions (commented out) every setting; every value is the
/// built-in default except the host-specific examples of `site` keys.
fn check_template<T: Serialize + DeserializeOwned + Default>(role: &str, text: &str, legacy: &[Legacy], site: &[&str]) {
    let defaults = as_map(&T::default()).unwrap();
    let active = as_map(&from_toml::<T>(role, text, legacy).unwrap_or_else(|e| panic!("{role}: {e:#}"))).unwrap();
    let doc: toml_edit::DocumentMut = text.parse().unwrap();
    let mut mentioned: Vec<String> = doc.iter().map(|(k, _)| k.to_string()).collect();
    for (key, default) in &defaults {
        if !site.contains(&key.as_str()) {
            assert_eq!(
                &active[key], default,
                "{role} template: `{key}` differs from the default"
            );
        }
    }
    for line in text.lines() {
        let Some(commented) = line.trim_start().strip_prefix('#').map(str::trim_start) else {
            continue;
        };
        let Some((key, _)) = commented.split_once(" = ").filter(|(k, _)| defaults.contains_key(*k)) else {
            continue;
        };
        mentioned.push(key.to_string());
        let value = &as_map(&from_toml::<T>(role, commented, legacy).unwrap()).unwrap()[key];
        if !site.contains(&key) {
            assert_eq!(
                value, &defaults[key],
                "{role} template: commented-out `{key}` differs from the default"
            );
        }
    }
    for key in defaults.keys() {
        assert!(mentioned.contains(key), "{role} template does not mention `{key}`");
    }
}

#[test]
fn deploy_templates_hold_the_defaults() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/config");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["datanode.toml", "executor.toml", "namenode.toml"],
        "a new template needs a check here"
    );
    check_template::<NamenodeConfig>(
        "namenode",
        include_str!("../../../deploy/config/namenode.toml"),
        NAMENODE_LEGACY,
        &[
            "listen",
            "data-dir",
            "advertise",
            "peers",
            "join",
            "http",
            "superuser",
            "groups",
        ],
    );
    check_template::<DatanodeConfig>(
        "datanode",
        include_str!("../../../deploy/config/datanode.toml"),
        DATANODE_LEGACY,
        &["namenode", "advertise", "data-dir", "rack", "cql", "cql-users", "http"],
    );
    check_template::<basalt_executor::ExecutorConfig>(
        "executor",
        include_str!("../../../deploy/config/executor.toml"),
        &[],
        &["namenode", "datanode"],
    );
}

#[test]
fn help_shows_the_struct_defaults() {
    let mut cmd = command();
    let nn = cmd.find_subcommand_mut("namenode").unwrap().render_help().to_string();
    assert!(nn.contains("[default: 30s]"), "{nn}");
    assert!(nn.contains("[default: 64MiB]"), "{nn}");
    let dn = cmd
        .find_subcommand_mut("datanode")
        .unwrap()
        .render_long_help()
        .to_string();
    assert!(dn.contains("[default: 0.0.0.0:9866]"), "{dn}");
}

#[test]
fn every_setting_is_a_flag_with_a_variable() {
    let cmd = command();
    let roles = [
        ("namenode", as_map(&NamenodeConfig::default()).unwrap()),
        ("datanode", as_map(&DatanodeConfig::default()).unwrap()),
        ("executor", as_map(&basalt_executor::ExecutorConfig::default()).unwrap()),
    ];
    for (role, defaults) in roles {
        let sub = cmd.find_subcommand(role).unwrap();
        for key in defaults.keys() {
            if key == "namenode" && role != "namenode" {
                continue; // the global --namenode, BASALT_NAMENODE
            }
            let arg = sub.get_arguments().find(|a| a.get_long() == Some(key));
            let arg = arg.unwrap_or_else(|| panic!("`basalt {role}` has no --{key}"));
            let env = format!(
                "BASALT_{}_{}",
                role.to_uppercase(),
                key.to_uppercase().replace('-', "_")
            );
            assert_eq!(arg.get_env(), Some(std::ffi::OsStr::new(&env)), "--{key}");
        }
    }
}

#[test]
fn the_namenode_groups_table_reads_as_a_section_an_inline_table_or_a_flag_string() {
    let section = "supergroup = \"admins\"\n\n[groups]\nalice = [\"eng\", \"ops\"]\nbob = [\"eng\"]\n";
    let c: NamenodeConfig = from_toml("namenode", section, NAMENODE_LEGACY).unwrap();
    assert_eq!(c.supergroup, "admins");
    assert_eq!(c.groups["alice"], ["eng", "ops"]);
    assert_eq!(c.groups["bob"], ["eng"]);
    let inline: NamenodeConfig = from_toml(
        "namenode",
        "groups = { alice = [\"eng\", \"ops\"], bob = [\"eng\"] }",
        NAMENODE_LEGACY,
    )
    .unwrap();
    assert_eq!(inline.groups, c.groups);
    // --print-config writes it back so that --config reads the same.
    let text = to_toml("namenode", &c).unwrap();
    let back: NamenodeConfig = from_toml("namenode", &text, NAMENODE_LEGACY).unwrap();
    assert_eq!(back, c);
    // A section for a setting that is not a table is still refused.
    assert!(from_toml::<NamenodeConfig>("namenode", "[peers]\na = 1\n", NAMENODE_LEGACY).is_err());
}
