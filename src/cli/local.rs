//! `basalt local`: a whole cluster on this machine, each role its own process (this binary, spawned
//! as `basalt namenode`, `basalt datanode` and `basalt executor`, one executor per datanode), with one
//! data folder. Runs until Ctrl-C, then stops the
//! datanodes and the namenode cleanly. Started again on the same folder, the same files are there.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

#[derive(Args, Debug)]
pub struct LocalArgs {
    /// Folder holding every role's data and logs.
    #[arg(long, default_value = "./basalt-data")]
    pub data_dir: PathBuf,
    /// Number of datanodes.
    #[arg(long, default_value_t = 3)]
    pub datanodes: usize,
    /// Members of the metadata group (1, 3 or 5), each its own process on consecutive ports.
    #[arg(long, default_value_t = 1)]
    pub namenodes: usize,
    /// Address of the (first) namenode.
    #[arg(long, default_value = basalt_common::DEFAULT_NAMENODE_ADDR)]
    pub listen: SocketAddr,
    /// CQL native protocol address of the first datanode; the others take the next ports (port 0:
    /// each a free port, told in its log).
    #[arg(long, default_value = "127.0.0.1:9042")]
    pub cql: SocketAddr,
    /// A file of CQL users (`name:password` lines): CQL clients must log in (PasswordAuthenticator).
    #[arg(long, value_name = "FILE")]
    pub cql_users: Option<PathBuf>,
    /// HTTP address (WebHDFS, web UI, /metrics) of the (first) namenode; further members take the next
    /// ports (port 0: each a free port, told in its log). Datanodes serve HTTP on free ports.
    #[arg(long, default_value = "127.0.0.1:9870")]
    pub http: SocketAddr,
    /// Default block size of new files (default: the namenode's).
    #[arg(long, value_parser = block_size)]
    pub block_size: Option<u64>,
    /// Task slots of each executor (one executor per datanode, paired with it).
    #[arg(long, default_value_t = 2)]
    pub executor_slots: u32,
    /// How every role writes its log: text or json (one object per line).
    #[arg(long, default_value = "text", value_name = "text|json")]
    pub log_format: basalt_common::config::LogFormat,
}

/// The address a role's log tells for a service (its "`what` on ADDR" line, e.g. "cql on"; the last
/// start's).
fn told(log: &Path, what: &str) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let marker = format!(" {what} on ");
    text.lines()
        .rev()
        .find_map(|l| l.split(marker.as_str()).nth(1).map(|a| a.trim().to_string()))
}

/// The address of role `i` (from 1) when the first is at `first` and the next ones on the next ports.
fn nth_addr(first: SocketAddr, i: usize) -> SocketAddr {
    if first.port() == 0 {
        return first;
    }
    SocketAddr::new(first.ip(), first.port() + (i - 1) as u16)
}

fn block_size(s: &str) -> Result<u64, String> {
    basalt_common::units::parse_bytes(s).map_err(|e| e.to_string())
}

struct Role {
    name: String,
    child: Child,
    /// Its exit was reported already.
    exited: bool,
}

fn spawn(name: &str, args: &[String], log: &Path) -> Result<Role> {
    let exe = std::env::current_exe().context("locating the basalt binary")?;
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("{}", log.display()))?;
    let err = out.try_clone()?;
    let mut cmd = Command::new(exe);
    // SAFETY: prctl is async-signal-safe; it only asks the kernel to SIGTERM the child if this process
    // dies (even by SIGKILL), so no role outlives `basalt local`.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {name}"))?;
    Ok(Role {
        name: name.to_string(),
        child,
        exited: false,
    })
}

pub async fn run(args: LocalArgs) -> Result<ExitCode> {
    if args.datanodes == 0 {
        bail!("--datanodes must be at least 1");
    }
    let mut stop = super::StopSignal::install()?;
    let dir = &args.data_dir;
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("{}", logs.display()))?;
    if !matches!(args.namenodes, 1 | 3 | 5) {
        bail!("--namenodes must be 1, 3 or 5");
    }
    let members: Vec<String> = (0..args.namenodes)
        .map(|i| SocketAddr::new(args.listen.ip(), args.listen.port() + i as u16).to_string())
        .collect();
    let nn_addr = members.join(",");
    let peers = if args.namenodes == 1 {
        String::new()
    } else {
        members
            .iter()
            .enumerate()
            .map(|(i, a)| format!("{}={a}", i + 1))
            .collect::<Vec<_>>()
            .join(",")
    };
    let replication = args.datanodes.min(3).to_string();
    let mut roles = Vec::new();
    for (i, member) in members.iter().enumerate() {
        let name = if args.namenodes == 1 {
            "namenode".to_string()
        } else {
            format!("namenode-{}", i + 1)
        };
        let data = dir.join(&name);
        let mut nn_args: Vec<String> = vec![
            "namenode".into(),
            "--id".into(),
            (i + 1).to_string(),
            "--peers".into(),
            peers.clone(),
            "--data-dir".into(),
            data.display().to_string(),
            "--listen".into(),
            member.clone(),
            "--replication".into(),
            replication.clone(),
            "--dead-interval".into(),
            "10s".into(),
            "--http".into(),
            nth_addr(args.http, i + 1).to_string(),
            "--log-format".into(),
            args.log_format.to_string(),
        ];
        if let Some(size) = args.block_size {
            nn_args.extend(["--block-size".into(), basalt_common::units::format_bytes_exact(size)]);
        }
        roles.push(spawn(&name, &nn_args, &logs.join(format!("{name}.log")))?);
    }
    let users = match &args.cql_users {
        // Absolute: the datanodes may resolve paths from elsewhere.
        Some(p) => Some(std::path::absolute(p).with_context(|| format!("{}", p.display()))?),
        None => None,
    };
    for i in 1..=args.datanodes {
        let mut dn_args: Vec<String> = vec![
            "--namenode".into(),
            nn_addr.clone(),
            "datanode".into(),
            "--data-dir".into(),
            dir.join(format!("datanode-{i}")).display().to_string(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--cql".into(),
            nth_addr(args.cql, i).to_string(),
            "--http".into(),
            "127.0.0.1:0".into(),
            "--log-format".into(),
            args.log_format.to_string(),
        ];
        if let Some(users) = &users {
            dn_args.extend(["--cql-users".into(), users.display().to_string()]);
        }
        roles.push(spawn(
            &format!("datanode-{i}"),
            &dn_args,
            &logs.join(format!("datanode-{i}.log")),
        )?);
    }
    let ready = wait_ready(&nn_addr, args.datanodes, &mut roles).await;
    if let Err(e) = ready {
        stop_all(&mut roles).await;
        return Err(e.context(format!(
            "the local cluster did not come up (logs in {})",
            logs.display()
        )));
    }
    // One executor per datanode, each paired with its datanode (on one host, the host id cannot tell
    // them apart).
    if let Err(e) = start_executors(&nn_addr, &args, dir, &logs, &mut roles).await {
        stop_all(&mut roles).await;
        return Err(e.context(format!("starting the executors (logs in {})", logs.display())));
    }
    println!(
        "Basalt local cluster is up: namenode {nn_addr}, {} datanodes and executors, data in {}, logs in {}\n(for other shells: export BASALT_NAMENODE={nn_addr})",
        args.datanodes,
        dir.display(),
        logs.display()
    );
    let http: Vec<String> = roles
        .iter()
        .filter(|r| r.name.starts_with("namenode"))
        .filter_map(|r| told(&logs.join(format!("{}.log", r.name)), "http"))
        .collect();
    if !http.is_empty() {
        let urls: Vec<String> = http.iter().map(|a| format!("http://{a}")).collect();
        println!("HTTP (WebHDFS, web UI, /metrics): {}", urls.join(", "));
        println!("Web UI: http://{}/ui/", http[0]);
    }
    let cql: Vec<String> = (1..=args.datanodes)
        .filter_map(|i| told(&logs.join(format!("datanode-{i}.log")), "cql"))
        .collect();
    if let Some(first) = cql.first() {
        let (host, port) = first.rsplit_once(':').unwrap_or((first, "9042"));
        println!(
            "CQL native protocol (Cassandra drivers, cqlsh): {} (e.g. cqlsh {host} {port})",
            cql.join(", ")
        );
    }
    println!("Press Ctrl-C to stop.");
    // A role that dies is reported, not restarted, and the rest keep running: killing a process is how
    // one tries out failover (`--namenodes 3`) and re-replication.
    loop {
        tokio::select! {
            _ = stop.wait() => break,
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        for r in roles.iter_mut() {
            if !r.exited
                && let Ok(Some(status)) = r.child.try_wait()
            {
                r.exited = true;
                eprintln!(
                    "basalt local: {} exited ({status}); the others keep running (logs in {})",
                    r.name,
                    logs.display()
                );
            }
        }
    }
    stop_all(&mut roles).await;
    println!("Basalt local cluster stopped.");
    Ok(ExitCode::SUCCESS)
}

/// Waits until the namenode answers with every datanode live and safe mode off.
async fn wait_ready(nn_addr: &str, datanodes: usize, roles: &mut [Role]) -> Result<()> {
    let client = super::client(nn_addr)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        for r in roles.iter_mut() {
            if let Some(status) = r.child.try_wait()? {
                bail!("{} exited with {status}", r.name);
            }
        }
        if let Ok(st) = client.cluster_status().await {
            let live = st.datanodes.iter().filter(|d| d.live).count();
            if live >= datanodes && !st.safe_mode {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("timed out after 60 s waiting for {datanodes} live datanodes");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts one executor per live datanode and waits until the scheduler knows them all.
async fn start_executors(
    nn_addr: &str,
    args: &LocalArgs,
    dir: &Path,
    logs: &Path,
    roles: &mut Vec<Role>,
) -> Result<()> {
    let client = super::client(nn_addr)?;
    let st = client.cluster_status().await.context("cluster status")?;
    let addrs: Vec<String> = st
        .datanodes
        .iter()
        .filter(|d| d.live)
        .filter_map(|d| d.info.as_ref().map(|i| i.addr.clone()))
        .collect();
    for (i, addr) in addrs.iter().enumerate() {
        let name = format!("executor-{}", i + 1);
        let ex_args: Vec<String> = vec![
            "--namenode".into(),
            nn_addr.to_string(),
            "executor".into(),
            "--datanode".into(),
            addr.clone(),
            "--slots".into(),
            args.executor_slots.to_string(),
            "--work-dir".into(),
            dir.join(&name).display().to_string(),
            "--http".into(),
            "127.0.0.1:0".into(),
            "--log-format".into(),
            args.log_format.to_string(),
        ];
        roles.push(spawn(&name, &ex_args, &logs.join(format!("{name}.log")))?);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if client.executors().await.is_ok_and(|e| e.len() >= addrs.len()) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("timed out after 60 s waiting for {} executors", addrs.len());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// SIGTERM to datanodes, then the namenode; SIGKILL whatever is still running after 10 s.
async fn stop_all(roles: &mut [Role]) {
    for r in roles.iter_mut().rev() {
        if let Some(pid) = r.child.id() {
            // SAFETY: plain kill(2) on our own child's pid.
            unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        }
        match tokio::time::timeout(Duration::from_secs(10), r.child.wait()).await {
            Ok(_) => {}
            Err(_) => {
                eprintln!("basalt local: {} did not stop in 10 s; killing it", r.name);
                let _ = r.child.kill().await;
            }
        }
    }
}
