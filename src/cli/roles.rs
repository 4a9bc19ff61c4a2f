//! `basalt namenode`, `basalt datanode` and `basalt executor`: run a server role until Ctrl-C or SIGTERM.
//!
//! The flags are a thin layer over the role's config struct: each is optional, is named after a key of
//! the struct (as `--print-config` writes it), falls back to its `BASALT_NAMENODE_<KEY>` /
//! `BASALT_DATANODE_<KEY>` environment variable, and when given replaces what the `--config` file or
//! the default says (see [`super::config`]). Defaults appear in `--help` from the struct's `Default`.

use super::config::{self, DATANODE_LEGACY, NAMENODE_LEGACY};
use anyhow::{Context, Result, bail};
use basalt_datanode::{Datanode, DatanodeConfig};
use basalt_executor::{Executor, ExecutorConfig};
use basalt_namenode::{Namenode, NamenodeConfig};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct NamenodeArgs {
    /// A TOML file of settings (`key = value`, the keys --print-config writes); flags and environment
    /// variables win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the effective settings (checked) as TOML, readable by --config, and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Directory for the Raft log and snapshots (required).
    #[arg(long, env = "BASALT_NAMENODE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "BASALT_NAMENODE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Address others use to reach this member (default: the bound address).
    #[arg(long, env = "BASALT_NAMENODE_ADVERTISE")]
    pub advertise: Option<String>,
    /// This member's id in the metadata group.
    #[arg(long, env = "BASALT_NAMENODE_ID")]
    pub id: Option<u64>,
    /// Every member at bootstrap: `1=HOST:PORT,2=HOST:PORT,3=HOST:PORT` (empty: a group of one). Replaces
    /// the file's `join`.
    #[arg(long, env = "BASALT_NAMENODE_PEERS", value_parser = peers)]
    pub peers: Option<BTreeMap<u64, String>>,
    /// Do not bootstrap a group: wait to be added to a running one (`basalt admin raft add ID ADDR`);
    /// also how a member that lost its disk rejoins. Replaces the file's `peers`.
    #[arg(long, env = "BASALT_NAMENODE_JOIN", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_name = "BOOL")]
    pub join: Option<bool>,
    /// Accept fault-injection requests (simulated network partitions). For tests only.
    #[arg(long, hide = true, env = "BASALT_NAMENODE_FAULT_INJECTION", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub fault_injection: Option<bool>,
    /// Default replication factor of new files.
    #[arg(long, env = "BASALT_NAMENODE_REPLICATION")]
    pub replication: Option<u32>,
    /// Default block size of new files (e.g. 64MiB).
    #[arg(long, env = "BASALT_NAMENODE_BLOCK_SIZE", value_parser = size, value_name = "SIZE")]
    pub block_size: Option<u64>,
    /// A datanode without a heartbeat for this long is dead; its blocks are re-replicated.
    #[arg(long, env = "BASALT_NAMENODE_DEAD_INTERVAL", value_parser = duration, value_name = "DURATION")]
    pub dead_interval: Option<Duration>,
    /// Older spelling of --dead-interval: a bare number is seconds.
    #[arg(long, hide = true, value_name = "SECS", value_parser = secs)]
    pub dead_interval_secs: Option<Duration>,
    /// Log entries between state machine snapshots (each entry holds up to 256 client requests).
    #[arg(long, env = "BASALT_NAMENODE_SNAPSHOT_INTERVAL")]
    pub snapshot_interval: Option<u64>,
    /// Fraction of blocks that must be reported before safe mode ends (0..=1).
    #[arg(long, env = "BASALT_NAMENODE_SAFE_MODE_THRESHOLD")]
    pub safe_mode_threshold: Option<f64>,
    /// Raft heartbeat interval; a leader that dies is replaced after 9 to 13 of them.
    #[arg(long, env = "BASALT_NAMENODE_RAFT_HEARTBEAT", value_parser = duration, value_name = "DURATION")]
    pub raft_heartbeat: Option<Duration>,
    /// A writer that has not renewed its lease for this long loses it: its files are recovered and closed.
    #[arg(long, env = "BASALT_NAMENODE_LEASE_HARD_LIMIT", value_parser = duration, value_name = "DURATION")]
    pub lease_hard_limit: Option<Duration>,
    /// Older spelling of --lease-hard-limit: a bare number is seconds.
    #[arg(long, hide = true, value_name = "SECS", value_parser = secs)]
    pub lease_hard_limit_secs: Option<Duration>,
    /// How long a replica of a block no file owns is kept before it is deleted.
    #[arg(long, env = "BASALT_NAMENODE_ORPHAN_GRACE", value_parser = duration, value_name = "DURATION")]
    pub orphan_grace: Option<Duration>,
    /// Older spelling of --orphan-grace: a bare number is seconds.
    #[arg(long, hide = true, value_name = "SECS", value_parser = secs)]
    pub orphan_grace_secs: Option<Duration>,
    /// Ring tokens (vnodes) given to each datanode when it first registers (1..=256).
    #[arg(long, env = "BASALT_NAMENODE_TABLE_VNODES")]
    pub table_vnodes: Option<u32>,
    /// Address of the HTTP server (WebHDFS, web UI, /metrics); unset: none.
    #[arg(long, env = "BASALT_NAMENODE_HTTP", value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// How long a task waits for a slot next to its data before it runs anywhere (delay scheduling).
    #[arg(long, env = "BASALT_NAMENODE_LOCALITY_WAIT", value_parser = duration, value_name = "DURATION")]
    pub locality_wait: Option<Duration>,
    /// An executor without a heartbeat for this long is lost; its tasks run again elsewhere.
    #[arg(long, env = "BASALT_NAMENODE_EXECUTOR_TIMEOUT", value_parser = duration, value_name = "DURATION")]
    pub executor_timeout: Option<Duration>,
    /// Check HDFS permissions (dfs.permissions.enabled); false lets every caller do everything.
    #[arg(long, env = "BASALT_NAMENODE_PERMISSIONS", value_name = "BOOL")]
    pub permissions: Option<bool>,
    /// The superuser, who passes every permission check [default: the OS user running the namenode].
    #[arg(long, env = "BASALT_NAMENODE_SUPERUSER", value_name = "USER")]
    pub superuser: Option<String>,
    /// Members of this group are superusers too.
    #[arg(long, env = "BASALT_NAMENODE_SUPERGROUP", value_name = "GROUP")]
    pub supergroup: Option<String>,
    /// Where callers' groups come from: os (primary group and /etc/group memberships; --groups wins
    /// for the users it lists) or static (--groups only).
    #[arg(long, env = "BASALT_NAMENODE_GROUP_MAPPING", value_name = "os|static")]
    pub group_mapping: Option<basalt_namenode::GroupMapping>,
    /// Static groups of users: `alice=eng,ops;bob=eng` (in a config file: a [groups] section).
    #[arg(long, env = "BASALT_NAMENODE_GROUPS", value_parser = groups, value_name = "USER=GROUP,..;..")]
    pub groups: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Args, Debug)]
pub struct DatanodeArgs {
    /// A TOML file of settings (`key = value`, the keys --print-config writes); flags and environment
    /// variables win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the effective settings (checked) as TOML, readable by --config, and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Directory for block replicas (required).
    #[arg(long, env = "BASALT_DATANODE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "BASALT_DATANODE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Address clients and other datanodes use to reach this one (default: the bound address).
    #[arg(long, env = "BASALT_DATANODE_ADVERTISE")]
    pub advertise: Option<String>,
    /// Rack of this datanode (for rack-aware placement).
    #[arg(long, env = "BASALT_DATANODE_RACK")]
    pub rack: Option<String>,
    /// Interval between heartbeats to each namenode (10ms..=10m).
    #[arg(long, env = "BASALT_DATANODE_HEARTBEAT_INTERVAL", value_parser = duration, value_name = "DURATION")]
    pub heartbeat_interval: Option<Duration>,
    /// Older spelling of --heartbeat-interval: a bare number is milliseconds.
    #[arg(long, hide = true, value_name = "MS", value_parser = millis)]
    pub heartbeat_ms: Option<Duration>,
    /// Chunk size of a replica's checksums when the writer names none (at most 16MiB).
    #[arg(long, env = "BASALT_DATANODE_CHUNK_SIZE", value_parser = size_u32, value_name = "SIZE")]
    pub chunk_size: Option<u32>,
    /// Block scanner bandwidth per second (e.g. 64MiB): every replica is re-verified at this rate.
    #[arg(long, env = "BASALT_DATANODE_SCAN_RATE", value_parser = size, value_name = "SIZE")]
    pub scan_rate: Option<u64>,
    /// Pause between block scanner passes.
    #[arg(long, env = "BASALT_DATANODE_SCAN_PAUSE", value_parser = duration, value_name = "DURATION")]
    pub scan_pause: Option<Duration>,
    /// Older spelling of --scan-pause: a bare number is milliseconds.
    #[arg(long, hide = true, value_name = "MS", value_parser = millis)]
    pub scan_pause_ms: Option<Duration>,
    /// How long a replica kept after a broken write waits for a resume or a recovery before it is removed.
    #[arg(long, env = "BASALT_DATANODE_PARKED_EXPIRY", value_parser = duration, value_name = "DURATION")]
    pub parked_expiry: Option<Duration>,
    /// How long a downstream pipeline datanode may take to acknowledge a packet before it is blamed.
    #[arg(long, env = "BASALT_DATANODE_ACK_TIMEOUT", value_parser = duration, value_name = "DURATION")]
    pub ack_timeout: Option<Duration>,
    /// Older spelling of --ack-timeout: a bare number is seconds.
    #[arg(long, hide = true, value_name = "SECS", value_parser = secs)]
    pub ack_timeout_secs: Option<Duration>,
    /// When table writes are synced: periodic (every --table-sync-period; a power loss can lose up to
    /// one period of acknowledged writes) or batch (before each acknowledgement).
    #[arg(long, env = "BASALT_DATANODE_TABLE_DURABILITY", value_name = "periodic|batch")]
    pub table_durability: Option<basalt_datanode::config::TableDurability>,
    /// WAL sync period of periodic table durability (1ms..=10s).
    #[arg(long, env = "BASALT_DATANODE_TABLE_SYNC_PERIOD", value_parser = duration, value_name = "DURATION")]
    pub table_sync_period: Option<Duration>,
    /// How long a coordinator waits for a write's replicas before answering WriteTimeout.
    #[arg(long, env = "BASALT_DATANODE_TABLE_WRITE_TIMEOUT", value_parser = duration, value_name = "DURATION")]
    pub table_write_timeout: Option<Duration>,
    /// How long a coordinator waits for a read's replicas before answering ReadTimeout.
    #[arg(long, env = "BASALT_DATANODE_TABLE_READ_TIMEOUT", value_parser = duration, value_name = "DURATION")]
    pub table_read_timeout: Option<Duration>,
    /// Replicas down longer than this get no more hints (0: no hints).
    #[arg(long, env = "BASALT_DATANODE_TABLE_HINT_WINDOW", value_parser = duration, value_name = "DURATION")]
    pub table_hint_window: Option<Duration>,
    /// Address of the CQL native protocol server (Cassandra drivers, cqlsh); unset: none.
    #[arg(long, env = "BASALT_DATANODE_CQL", value_name = "ADDR")]
    pub cql: Option<SocketAddr>,
    /// Largest CQL frame accepted (1KiB..=1GiB).
    #[arg(long, env = "BASALT_DATANODE_CQL_MAX_FRAME_SIZE", value_parser = size, value_name = "SIZE")]
    pub cql_max_frame_size: Option<u64>,
    /// CQL connections served at once (more: Overloaded).
    #[arg(long, env = "BASALT_DATANODE_CQL_MAX_CONNECTIONS", value_name = "N")]
    pub cql_max_connections: Option<u32>,
    /// Requests of one CQL connection running at once (more: Overloaded).
    #[arg(long, env = "BASALT_DATANODE_CQL_MAX_IN_FLIGHT", value_name = "N")]
    pub cql_max_in_flight: Option<u32>,
    /// A file of CQL users (`name:password` lines): clients must authenticate.
    #[arg(long, env = "BASALT_DATANODE_CQL_USERS", value_name = "FILE")]
    pub cql_users: Option<PathBuf>,
    /// Address of the HTTP server (WebHDFS data transfer, /metrics); unset: none.
    #[arg(long, env = "BASALT_DATANODE_HTTP", value_name = "ADDR")]
    pub http: Option<SocketAddr>,
}

#[derive(Args, Debug)]
pub struct ExecutorArgs {
    /// A TOML file of settings (`key = value`, the keys --print-config writes); flags and environment
    /// variables win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the effective settings (checked) as TOML, readable by --config, and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Task attempts run at once (0: one per CPU core).
    #[arg(long, env = "BASALT_EXECUTOR_SLOTS")]
    pub slots: Option<u32>,
    /// Where task attempts get their working directories.
    #[arg(long, env = "BASALT_EXECUTOR_WORK_DIR")]
    pub work_dir: Option<PathBuf>,
    /// The datanode keeping this executor's shuffle output (default: the one on this host).
    #[arg(long, env = "BASALT_EXECUTOR_DATANODE", value_name = "ADDR")]
    pub datanode: Option<String>,
    /// Interval between heartbeats to the metadata leader (10ms..=1m).
    #[arg(long, env = "BASALT_EXECUTOR_HEARTBEAT_INTERVAL", value_parser = duration, value_name = "DURATION")]
    pub heartbeat_interval: Option<Duration>,
}

impl ExecutorArgs {
    /// Defaults, then the file, then variables and flags (not yet validated).
    pub fn into_config(self, namenode: Option<&str>) -> Result<ExecutorConfig> {
        let mut c: ExecutorConfig = config::load("executor", self.config.as_deref(), &[])?;
        set(&mut c.namenodes, namenode.map(basalt_common::config::split_list));
        set(&mut c.slots, self.slots);
        set(&mut c.work_dir, self.work_dir);
        set(&mut c.datanode, self.datanode.map(Some));
        set(&mut c.heartbeat_interval, self.heartbeat_interval);
        Ok(c)
    }
}

pub async fn executor(namenode: Option<&str>, args: ExecutorArgs) -> Result<ExitCode> {
    let print = args.print_config;
    let config = args.into_config(namenode)?;
    config.validate()?;
    if print {
        print!("{}", config::to_toml("executor", &config)?);
        return Ok(ExitCode::SUCCESS);
    }
    super::init_logging();
    let mut stop = super::StopSignal::install()?;
    let ex = Executor::start(config).await.context("starting the executor")?;
    println!("executor {} started with {} slots", ex.id(), ex.slots());
    stop.wait().await;
    ex.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

fn size(s: &str) -> Result<u64, String> {
    basalt_common::units::parse_bytes(s).map_err(|e| e.to_string())
}

fn size_u32(s: &str) -> Result<u32, String> {
    u32::try_from(size(s)?).map_err(|_| format!("{s} is too large"))
}

fn duration(s: &str) -> Result<Duration, String> {
    basalt_common::units::parse_duration(s).map_err(|e| e.to_string())
}

/// A duration of an older flag: a bare number is seconds.
fn secs(s: &str) -> Result<Duration, String> {
    duration(&config::legacy_value(s, "s"))
}

/// A duration of an older flag: a bare number is milliseconds.
fn millis(s: &str) -> Result<Duration, String> {
    duration(&config::legacy_value(s, "ms"))
}

fn peers(s: &str) -> Result<BTreeMap<u64, String>, String> {
    basalt_namenode::parse_peers(s).map_err(|e| e.to_string())
}

fn groups(s: &str) -> Result<BTreeMap<String, Vec<String>>, String> {
    basalt_namenode::parse_groups(s).map_err(|e| e.to_string())
}

/// `*field = value` when the flag (or its variable) was given.
fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

/// Which flags came from the command line (rather than from their environment variable).
struct Given<'a>(&'a ArgMatches);

impl Given<'_> {
    fn on_command_line(&self, id: &str) -> bool {
        matches!(self.0.try_get_raw(id), Ok(Some(_))) && self.0.value_source(id) == Some(ValueSource::CommandLine)
    }

    /// An older spelling (`--dead-interval-secs`, command line only) wins over the variable of the newer
    /// one; both on the command line is an error.
    fn older_or_newer<T>(&self, old: (&str, Option<T>), new: (&str, Option<T>)) -> Result<Option<T>> {
        if old.1.is_some() && self.on_command_line(new.0) {
            bail!("--{} and --{} are the same setting", flag(old.0), flag(new.0));
        }
        Ok(old.1.or(new.1))
    }
}

fn flag(id: &str) -> String {
    id.replace('_', "-")
}

impl NamenodeArgs {
    /// Defaults, then the file, then variables and flags (not yet validated). `given` is the
    /// subcommand's matches.
    pub fn into_config(self, given: &ArgMatches) -> Result<NamenodeConfig> {
        let given = Given(given);
        let mut c: NamenodeConfig = config::load("namenode", self.config.as_deref(), NAMENODE_LEGACY)?;
        set(&mut c.data_dir, self.data_dir);
        set(&mut c.listen, self.listen);
        set(&mut c.advertise, self.advertise.map(Some));
        set(&mut c.id, self.id);
        // `peers` and `join` exclude each other: a flag wins over the other's variable, and either
        // replaces the file's choice.
        let (peers, join) = match (self.peers, self.join) {
            (Some(p), Some(true)) if !p.is_empty() => {
                match (given.on_command_line("peers"), given.on_command_line("join")) {
                    (true, false) => (Some(p), None),
                    (false, true) => (None, Some(true)),
                    _ => bail!("--peers and --join exclude each other: the leader adds a joining member"),
                }
            }
            other => other,
        };
        if let Some(p) = peers {
            c.peers = p;
            c.join = false;
        }
        if let Some(join) = join {
            c.join = join;
            if join {
                c.peers.clear();
            }
        }
        set(&mut c.fault_injection, self.fault_injection);
        set(&mut c.default_replication, self.replication);
        set(&mut c.default_block_size, self.block_size);
        let dead = given.older_or_newer(
            ("dead_interval_secs", self.dead_interval_secs),
            ("dead_interval", self.dead_interval),
        )?;
        set(&mut c.dead_interval, dead);
        set(&mut c.snapshot_interval, self.snapshot_interval);
        set(&mut c.safe_mode_threshold, self.safe_mode_threshold);
        set(&mut c.raft_heartbeat, self.raft_heartbeat);
        let lease = given.older_or_newer(
            ("lease_hard_limit_secs", self.lease_hard_limit_secs),
            ("lease_hard_limit", self.lease_hard_limit),
        )?;
        set(&mut c.lease_hard_limit, lease);
        let grace = given.older_or_newer(
            ("orphan_grace_secs", self.orphan_grace_secs),
            ("orphan_grace", self.orphan_grace),
        )?;
        set(&mut c.orphan_grace, grace);
        set(&mut c.table_vnodes, self.table_vnodes);
        set(&mut c.http_listen, self.http.map(Some));
        set(&mut c.locality_wait, self.locality_wait);
        set(&mut c.executor_timeout, self.executor_timeout);
        set(&mut c.permissions, self.permissions);
        set(&mut c.superuser, self.superuser.map(Some));
        set(&mut c.supergroup, self.supergroup);
        set(&mut c.group_mapping, self.group_mapping);
        set(&mut c.groups, self.groups);
        Ok(c)
    }
}

impl DatanodeArgs {
    /// Defaults, then the file, then variables and flags (not yet validated). `namenode` is the global
    /// `--namenode` (or `BASALT_NAMENODE`), when given; `given` is the subcommand's matches.
    pub fn into_config(self, namenode: Option<&str>, given: &ArgMatches) -> Result<DatanodeConfig> {
        let given = Given(given);
        let mut c: DatanodeConfig = config::load("datanode", self.config.as_deref(), DATANODE_LEGACY)?;
        set(&mut c.data_dir, self.data_dir);
        set(&mut c.listen, self.listen);
        set(&mut c.advertise, self.advertise.map(Some));
        set(&mut c.namenodes, namenode.map(basalt_common::config::split_list));
        set(&mut c.rack, self.rack);
        let heartbeat = given.older_or_newer(
            ("heartbeat_ms", self.heartbeat_ms),
            ("heartbeat_interval", self.heartbeat_interval),
        )?;
        set(&mut c.heartbeat_interval, heartbeat);
        set(&mut c.chunk_size, self.chunk_size);
        set(&mut c.scan_rate, self.scan_rate);
        let pause = given.older_or_newer(("scan_pause_ms", self.scan_pause_ms), ("scan_pause", self.scan_pause))?;
        set(&mut c.scan_pause, pause);
        set(&mut c.rbw_expiry, self.parked_expiry);
        let ack = given.older_or_newer(
            ("ack_timeout_secs", self.ack_timeout_secs),
            ("ack_timeout", self.ack_timeout),
        )?;
        set(&mut c.ack_timeout, ack);
        set(&mut c.table_durability, self.table_durability);
        set(&mut c.table_sync_period, self.table_sync_period);
        set(&mut c.table_write_timeout, self.table_write_timeout);
        set(&mut c.table_read_timeout, self.table_read_timeout);
        set(&mut c.table_hint_window, self.table_hint_window);
        set(&mut c.cql_listen, self.cql.map(Some));
        set(&mut c.cql_max_frame_size, self.cql_max_frame_size);
        set(&mut c.cql_max_connections, self.cql_max_connections);
        set(&mut c.cql_max_in_flight, self.cql_max_in_flight);
        set(&mut c.cql_users, self.cql_users.clone().map(Some));
        set(&mut c.http_listen, self.http.map(Some));
        Ok(c)
    }
}

pub async fn namenode(args: NamenodeArgs, given: &ArgMatches) -> Result<ExitCode> {
    let print = args.print_config;
    let config = args.into_config(given)?;
    config.validate()?;
    if print {
        print!("{}", config::to_toml("namenode", &config)?);
        return Ok(ExitCode::SUCCESS);
    }
    super::init_logging();
    let mut stop = super::StopSignal::install()?;
    let nn = Namenode::start(config).await.context("starting the namenode")?;
    if let Some(http) = nn.http_addr() {
        println!("namenode http on {http}");
    }
    println!("namenode listening on {}", nn.local_addr());
    stop.wait().await;
    nn.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn datanode(namenode: Option<&str>, args: DatanodeArgs, given: &ArgMatches) -> Result<ExitCode> {
    let print = args.print_config;
    let config = args.into_config(namenode, given)?;
    config.validate()?;
    if print {
        print!("{}", config::to_toml("datanode", &config)?);
        return Ok(ExitCode::SUCCESS);
    }
    super::init_logging();
    let mut stop = super::StopSignal::install()?;
    let dn = Datanode::start(config).await.context("starting the datanode")?;
    if let Some(http) = dn.http_addr() {
        println!("datanode {} http on {http}", dn.id());
    }
    if let Some(cql) = dn.cql_addr() {
        println!("datanode {} cql on {cql}", dn.id());
    }
    println!("datanode {} listening on {}", dn.id(), dn.local_addr());
    stop.wait().await;
    dn.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
