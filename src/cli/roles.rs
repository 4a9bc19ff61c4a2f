//! `basalt namenode` and `basalt datanode`: run a server role until Ctrl-C or SIGTERM.

use anyhow::{Context, Result};
use basalt_datanode::{Datanode, DatanodeConfig};
use basalt_namenode::{Namenode, NamenodeConfig, parse_peers};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct NamenodeArgs {
    /// Directory for the Raft log and snapshots.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = basalt_common::DEFAULT_NAMENODE_ADDR)]
    pub listen: SocketAddr,
    /// Address others use to reach this member (default: the bound address).
    #[arg(long)]
    pub advertise: Option<String>,
    /// This member's id in the metadata group.
    #[arg(long, default_value_t = 1)]
    pub id: u64,
    /// Every member at bootstrap: `1=HOST:PORT,2=HOST:PORT,3=HOST:PORT` (empty: a group of one).
    #[arg(long, default_value = "")]
    pub peers: String,
    /// Do not bootstrap a group: wait to be added to a running one (`basalt admin raft add ID ADDR`);
    /// also how a member that lost its disk rejoins.
    #[arg(long, conflicts_with = "peers")]
    pub join: bool,
    /// Accept fault-injection requests (simulated network partitions). For tests only.
    #[arg(long, hide = true)]
    pub fault_injection: bool,
    /// Default replication factor of new files.
    #[arg(long, default_value_t = basalt_common::DEFAULT_REPLICATION)]
    pub replication: u32,
    /// Default block size of new files (e.g. 64MiB).
    #[arg(long, default_value = "64MiB", value_parser = parse_size)]
    pub block_size: u64,
    /// Seconds without a heartbeat after which a datanode is dead.
    #[arg(long, default_value_t = 30.0)]
    pub dead_interval_secs: f64,
    /// Log entries between state machine snapshots (each entry holds up to 256 client requests).
    #[arg(long, default_value_t = 10_000)]
    pub snapshot_interval: u64,
    /// Seconds a writer may go without renewing its lease before its files are recovered and closed.
    #[arg(long, default_value_t = 60.0)]
    pub lease_hard_limit_secs: f64,
    /// Seconds a replica of a block no file owns is kept before it is deleted.
    #[arg(long, default_value_t = 300.0)]
    pub orphan_grace_secs: f64,
    /// A TOML file of `flag-name = value` lines; flags given on the command line win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DatanodeArgs {
    /// Directory for block replicas.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Address clients and other datanodes use to reach this one (default: the bound address).
    #[arg(long)]
    pub advertise: Option<String>,
    /// Rack of this datanode (for rack-aware placement).
    #[arg(long, default_value = "")]
    pub rack: String,
    /// Milliseconds between heartbeats.
    #[arg(long, default_value_t = 1000)]
    pub heartbeat_ms: u64,
    /// Block scanner bandwidth (e.g. 64MiB): every replica is re-verified at this rate.
    #[arg(long, default_value = "64MiB", value_parser = parse_size)]
    pub scan_rate: u64,
    /// Milliseconds between block scanner passes.
    #[arg(long, default_value_t = 60_000)]
    pub scan_pause_ms: u64,
    /// Seconds a downstream pipeline datanode may take to acknowledge a packet before it is blamed.
    #[arg(long, default_value_t = 60.0)]
    pub ack_timeout_secs: f64,
    /// A TOML file of `flag-name = value` lines; flags given on the command line win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

fn parse_size(s: &str) -> Result<u64, String> {
    basalt_common::units::parse_bytes(s).map_err(|e| e.to_string())
}

pub async fn namenode(args: NamenodeArgs) -> Result<ExitCode> {
    super::init_logging();
    let mut stop = super::StopSignal::install()?;
    let mut config = NamenodeConfig::new(args.data_dir, args.listen);
    config.id = args.id;
    config.advertise = args.advertise;
    config.peers = parse_peers(&args.peers)?;
    config.join = args.join;
    config.fault_injection = args.fault_injection;
    config.default_replication = args.replication;
    config.default_block_size = args.block_size;
    config.dead_interval = Duration::from_secs_f64(args.dead_interval_secs);
    config.snapshot_interval = args.snapshot_interval;
    config.lease_hard_limit = Duration::from_secs_f64(args.lease_hard_limit_secs);
    config.orphan_grace = Duration::from_secs_f64(args.orphan_grace_secs);
    let nn = Namenode::start(config).await.context("starting the namenode")?;
    println!("namenode listening on {}", nn.local_addr());
    stop.wait().await;
    nn.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn datanode(namenode: &str, args: DatanodeArgs) -> Result<ExitCode> {
    super::init_logging();
    let mut stop = super::StopSignal::install()?;
    let mut config = DatanodeConfig::new(args.data_dir);
    config.listen = args.listen;
    config.advertise = args.advertise;
    config.namenodes = namenode
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    config.rack = args.rack;
    config.heartbeat_interval = Duration::from_millis(args.heartbeat_ms);
    config.scan = basalt_datanode::ScanConfig {
        bytes_per_sec: args.scan_rate,
        pause: Duration::from_millis(args.scan_pause_ms),
    };
    config.ack_timeout = Duration::from_secs_f64(args.ack_timeout_secs);
    let dn = Datanode::start(config).await.context("starting the datanode")?;
    println!("datanode {} listening on {}", dn.id(), dn.local_addr());
    stop.wait().await;
    dn.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
