//! Command-line interface: argument parsing and dispatch. One module per command family.

mod admin;
mod bench;
mod cluster;
pub mod config;
mod cql;
mod format;
mod fs;
mod job;
mod local;
mod roles;
mod rows;
pub mod table;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "basalt",
    version,
    about = "Basalt: distributed files, tables and jobs",
    propagate_version = true
)]
pub struct Cli {
    /// Namenode (metadata member) addresses, comma-separated; for a datanode, replaces its config file's.
    #[arg(long, global = true, env = "BASALT_NAMENODE")]
    pub namenode: Option<String>,
    /// The user to call the cluster as (as HADOOP_USER_NAME): default the OS user. Identity, not
    /// authentication, as in unsecured HDFS.
    #[arg(long, global = true, env = "BASALT_USER", value_name = "USER")]
    pub user: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// File system commands (HDFS shell verbs).
    Fs {
        #[command(subcommand)]
        cmd: fs::FsCommand,
    },
    /// Cluster administration and status.
    Cluster {
        #[command(subcommand)]
        cmd: cluster::ClusterCommand,
    },
    /// Tables: the token ring, load and export of CSV and Parquet files, each datanode's store.
    Table {
        #[command(subcommand)]
        cmd: table::TableCommand,
    },
    /// Administration: the metadata group's membership and status.
    Admin {
        #[command(subcommand)]
        cmd: admin::AdminCommand,
    },
    /// Jobs: word count, grep, sort and Hadoop Streaming on the executors; list, status, kill.
    Job {
        #[command(subcommand)]
        cmd: job::JobCommand,
    },
    /// CQL statements against tables: a cqlsh-like shell (`-e`, `-f`, or interactive).
    Cql(cql::CqlArgs),
    /// Run a namenode (metadata group member).
    Namenode(roles::NamenodeArgs),
    /// Run a datanode.
    Datanode(roles::DatanodeArgs),
    /// Run an executor: runs the task attempts the metadata leader places on it.
    Executor(roles::ExecutorArgs),
    /// Run a whole cluster on this machine: a namenode and N datanodes, each its own process.
    Local(local::LocalArgs),
    /// Benchmarks against a running cluster.
    Bench {
        #[command(subcommand)]
        cmd: bench::BenchCommand,
    },
}

impl Command {
    /// A command that prints for a user (as opposed to a long-running server role).
    pub fn is_client(&self) -> bool {
        match self {
            Command::Fs { .. }
            | Command::Cluster { .. }
            | Command::Admin { .. }
            | Command::Bench { .. }
            | Command::Table { .. }
            | Command::Job { .. }
            | Command::Cql(_) => true,
            Command::Namenode(args) => args.print_config,
            Command::Datanode(args) => args.print_config,
            Command::Executor(args) => args.print_config,
            Command::Local(_) => false,
        }
    }
}

/// Runs the command `cli` parsed from `matches` (which tell a role's flags from its variables).
pub async fn run(cli: Cli, matches: &clap::ArgMatches) -> anyhow::Result<ExitCode> {
    let given = matches.subcommand().map_or(matches, |(_, m)| m);
    let namenode = cli.namenode.as_deref().unwrap_or(basalt_common::DEFAULT_NAMENODE_ADDR);
    if let Some(user) = cli.user.filter(|u| !u.is_empty()) {
        let _ = CALLER.set(user);
    }
    match cli.command {
        Command::Fs { cmd } => fs::run(namenode, cmd).await,
        Command::Cluster { cmd } => cluster::run(namenode, cmd).await,
        Command::Table { cmd } => table::run(namenode, cmd).await,
        Command::Admin { cmd } => admin::run(namenode, cmd).await,
        Command::Cql(args) => cql::run(namenode, args).await,
        Command::Job { cmd } => job::run(namenode, cmd).await,
        Command::Executor(args) => roles::executor(cli.namenode.as_deref(), args).await,
        Command::Namenode(args) => roles::namenode(args, given).await,
        // A datanode's list may come from its config file: only a given --namenode replaces it.
        Command::Datanode(args) => roles::datanode(cli.namenode.as_deref(), args, given).await,
        Command::Local(args) => local::run(args).await,
        Command::Bench { cmd } => bench::run(namenode, cmd).await,
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default: info for Basalt's crates, warn for the rest).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "warn,basalt=info,basalt_namenode=info,basalt_datanode=info,basalt_executor=info,basalt_client=warn",
        )
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The user of `--user`, set once when the command line is read (before any client is made).
static CALLER: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The settings of a command's client: `--user` (or `BASALT_USER`) when given, else the OS user.
pub fn client_config(namenode: &str) -> basalt_client::ClientConfig {
    let mut config = basalt_client::ClientConfig::new(namenode);
    if let Some(user) = CALLER.get() {
        config.user = user.clone();
    }
    config
}

/// A client for the given namenode addresses, calling as [`client_config`]'s user.
pub fn client(namenode: &str) -> anyhow::Result<basalt_client::Client> {
    Ok(basalt_client::Client::connect(client_config(namenode))?)
}

/// Ctrl-C (SIGINT) and SIGTERM, registered when created so a signal that arrives early is not lost
/// (and does not kill the process before its children are stopped).
pub struct StopSignal {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl StopSignal {
    pub fn install() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignal {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    /// Resolves when the process is asked to stop.
    pub async fn wait(&mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
    }
}
