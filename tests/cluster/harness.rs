//! A cluster of real `basalt` processes for end-to-end tests: each role its own OS process on loopback
//! with an ephemeral port and its own temp dir; logs (stderr) go to whole files in that dir, which
//! [`TestCluster::log_contains`] searches and whose tails are printed when a wait fails. Kill is SIGKILL;
//! restart reuses the data dir (and the namenode its port).
//!
//! For fast fault tests in one process, with filters on every link, see `basalt-testkit` (`testkit/`).
//!
//! Random choices (victims, sizes) come from [`test_rng`], seeded from `BASALT_TEST_SEED` when set, so a
//! failing run can be replayed with the seed it printed.

use basalt_client::{Client, ClientConfig};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_basalt");
/// Generous: the CI machine has two cores shared by parallel tests.
pub const DEADLINE: Duration = Duration::from_secs(60);

pub use basalt_wait::{wait_for, wait_until};

pub struct Proc {
    child: Child,
    pub addr: String,
    /// The CQL address a datanode started with `--cql` printed ("cql on ADDR", before its
    /// "listening on" line).
    pub cql: Option<String>,
    /// The HTTP address a role started with `--http` printed ("http on ADDR"; the namenode and the
    /// datanodes print it before their "listening on" line).
    pub http: Option<String>,
}

impl Proc {
    /// Starts `basalt args...` and waits for its "listening on ADDR" line on stdout.
    pub fn spawn(args: &[String], log: &Path) -> Proc {
        Self::spawn_until(args, log, "listening on ")
    }

    /// Starts `basalt args...` and waits for a stdout line containing `marker`; [`Proc::addr`] is
    /// what follows it on that line.
    pub fn spawn_until(args: &[String], log: &Path, marker: &'static str) -> Proc {
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log file");
        let mut child = Command::new(BIN)
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(err))
            .spawn()
            .expect("spawn basalt");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            let (mut cql, mut http) = (None, None);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.split(" cql on ").nth(1) {
                    cql = Some(addr.trim().to_string());
                }
                if let Some(addr) = line.split(" http on ").nth(1) {
                    http = Some(addr.trim().to_string());
                }
                if let Some(addr) = line.split(marker).nth(1)
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send((addr.trim().to_string(), cql.take(), http.take()));
                }
            }
        });
        match rx.recv_timeout(DEADLINE) {
            Ok((addr, cql, http)) => Proc { child, addr, cql, http },
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "basalt {args:?} did not start; log:\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends `sig` (e.g. SIGSTOP, SIGCONT) without waiting.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// SIGTERM and wait for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.child.wait().expect("wait")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Options for [`TestCluster::start`].
#[derive(Clone)]
pub struct Opts {
    pub datanodes: usize,
    pub block_size: &'static str,
    pub replication: u32,
    /// Seconds without a heartbeat before the namenode declares a datanode dead.
    pub dead_interval_secs: f64,
    /// Pause between the datanodes' block scanner passes.
    pub scan_pause_ms: u64,
    /// Seconds a writer may go without renewing its lease.
    pub lease_hard_limit_secs: f64,
    /// Seconds before replicas of blocks no file owns are deleted.
    pub orphan_grace_secs: f64,
    /// Seconds a datanode waits for a downstream pipeline node's acknowledgement.
    pub ack_timeout_secs: f64,
    /// Rack of datanode `i` (`--rack`); empty: no racks.
    pub racks: &'static [&'static str],
    /// Datanodes serve CQL (`--cql 127.0.0.1:0`; [`Proc::cql`] is the address).
    pub cql: bool,
    /// The namenode and the datanodes serve HTTP (`--http 127.0.0.1:0`; [`Proc::http`] is the
    /// address).
    pub http: bool,
    /// More flags for every datanode.
    pub datanode_args: &'static [&'static str],
    /// More flags for the namenode.
    pub namenode_args: &'static [&'static str],
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            datanodes: 3,
            block_size: "128KiB",
            replication: 3,
            dead_interval_secs: 30.0,
            scan_pause_ms: 60_000,
            lease_hard_limit_secs: 60.0,
            orphan_grace_secs: 300.0,
            ack_timeout_secs: 60.0,
            racks: &[],
            cql: false,
            http: false,
            datanode_args: &[],
            namenode_args: &[],
        }
    }
}

pub struct TestCluster {
    pub dir: tempfile::TempDir,
    pub opts: Opts,
    pub nn: Proc,
    pub dns: Vec<Option<Proc>>,
    /// Executors ([`TestCluster::start_executors`]); [`Proc::addr`] is the executor's id.
    pub executors: Vec<Option<Proc>>,
}

impl TestCluster {
    pub async fn start(opts: Opts) -> TestCluster {
        Self::start_in(tempfile::tempdir().expect("temp dir"), opts).await
    }

    /// Starts a cluster on data dirs already in `dir` (`nn`, `dn0`, `dn1`…), e.g. an upgrade fixture.
    pub async fn start_in(dir: tempfile::TempDir, opts: Opts) -> TestCluster {
        let nn = Self::spawn_namenode(dir.path(), &opts, "127.0.0.1:0");
        let mut c = TestCluster {
            dir,
            opts: opts.clone(),
            nn,
            dns: Vec::new(),
            executors: Vec::new(),
        };
        for i in 0..opts.datanodes {
            let dn = c.spawn_datanode(i);
            c.dns.push(Some(dn));
        }
        c.wait_ready().await;
        c
    }

    fn spawn_namenode(dir: &Path, opts: &Opts, listen: &str) -> Proc {
        let args: Vec<String> = [
            "namenode",
            "--data-dir",
            &dir.join("nn").display().to_string(),
            "--listen",
            listen,
            "--block-size",
            opts.block_size,
            "--replication",
            &opts.replication.to_string(),
            "--snapshot-interval",
            "50",
            "--dead-interval-secs",
            &opts.dead_interval_secs.to_string(),
            "--lease-hard-limit-secs",
            &opts.lease_hard_limit_secs.to_string(),
            "--orphan-grace-secs",
            &opts.orphan_grace_secs.to_string(),
        ]
        .iter()
        .chain(if opts.http { &["--http", "127.0.0.1:0"][..] } else { &[] })
        .chain(opts.namenode_args)
        .map(|s| s.to_string())
        .collect();
        Proc::spawn(&args, &dir.join("namenode.log"))
    }

    /// Starts one more datanode (a new data dir) and adds it to the cluster.
    pub fn add_datanode(&mut self) {
        let dn = self.spawn_datanode(self.dns.len());
        self.dns.push(Some(dn));
    }

    /// Starts one executor per running datanode (paired with it, `slots` task slots each) and waits
    /// until the scheduler knows them all.
    pub async fn start_executors(&mut self, slots: u32) {
        let addrs: Vec<String> = self.dns.iter().flatten().map(|d| d.addr.clone()).collect();
        for addr in addrs {
            let ex = self.spawn_executor(&addr, slots);
            self.executors.push(Some(ex));
        }
        let want = self.executors.iter().flatten().count();
        let client = self.client();
        let known = basalt_wait::try_wait_for(DEADLINE, || async {
            let e = client.executors().await.ok()?;
            (e.len() >= want).then_some(())
        })
        .await;
        if let Err(e) = known {
            panic!("executors not registered: {e}; logs:\n{}", self.logs());
        }
    }

    /// Starts an executor paired with the datanode at `datanode`.
    pub fn spawn_executor(&self, datanode: &str, slots: u32) -> Proc {
        let i = self.executors.len();
        let work = self.dir.path().join(format!("ex{i}"));
        let args: Vec<String> = [
            "--namenode",
            &self.nn.addr,
            "executor",
            "--datanode",
            datanode,
            "--slots",
            &slots.to_string(),
            "--heartbeat-interval",
            "100ms",
            "--work-dir",
            &work.display().to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        Proc::spawn_until(&args, &self.dir.path().join(format!("executor-{i}.log")), "executor ")
    }

    /// SIGKILLs executor `i`.
    pub fn kill_executor(&mut self, i: usize) {
        if let Some(mut e) = self.executors[i].take() {
            e.kill();
        }
    }

    /// Whether `fsck /` succeeds with no under-replicated, corrupt or missing block.
    pub fn fsck_healthy(&self) -> bool {
        let o = self.cli(&["fs", "fsck", "/"]);
        let out = stdout(&o);
        o.status.success()
            && out.contains("under-replicated 0")
            && out.contains("corrupt 0")
            && out.contains("missing 0")
    }

    pub fn spawn_datanode(&self, i: usize) -> Proc {
        let (pause, ack) = (
            self.opts.scan_pause_ms.to_string(),
            self.opts.ack_timeout_secs.to_string(),
        );
        let mut extra = vec!["--scan-pause-ms", &pause, "--ack-timeout-secs", &ack];
        if let Some(rack) = self.opts.racks.get(i) {
            extra.extend(["--rack", rack]);
        }
        if self.opts.cql {
            extra.extend(["--cql", "127.0.0.1:0"]);
        }
        if self.opts.http {
            extra.extend(["--http", "127.0.0.1:0"]);
        }
        extra.extend(self.opts.datanode_args);
        spawn_datanode(self.dir.path(), &self.nn.addr, i, &extra)
    }

    /// Data dir of datanode `i`.
    pub fn dn_dir(&self, i: usize) -> std::path::PathBuf {
        self.dir.path().join(format!("dn{i}"))
    }

    /// The finalized replicas on datanode `i`'s disk.
    pub fn disk_replicas(&self, i: usize) -> Vec<DiskReplica> {
        disk_replicas(&self.dn_dir(i))
    }

    /// How many datanodes among `nodes` hold a finalized replica of each of `blocks` on disk.
    pub fn replica_counts(&self, blocks: &[u64], nodes: impl IntoIterator<Item = usize>) -> Vec<usize> {
        let mut counts = vec![0; blocks.len()];
        for i in nodes {
            for r in self.disk_replicas(i) {
                if let Some(k) = blocks.iter().position(|&b| b == r.block) {
                    counts[k] += 1;
                }
            }
        }
        counts
    }

    /// Every datanode index, running or not.
    pub fn all_dns(&self) -> std::ops::Range<usize> {
        0..self.dns.len()
    }

    pub fn nn_addr(&self) -> String {
        self.nn.addr.clone()
    }

    pub fn client(&self) -> Client {
        Client::connect(ClientConfig::new(self.nn_addr())).expect("client")
    }

    /// A client that never reads replicas short-circuit (always over TCP).
    pub fn remote_client(&self) -> Client {
        let mut cfg = ClientConfig::new(self.nn_addr());
        cfg.short_circuit = false;
        Client::connect(cfg).expect("client")
    }

    /// Waits until every running datanode is live and safe mode is off.
    pub async fn wait_ready(&self) {
        let want = self.dns.iter().filter(|d| d.is_some()).count();
        let client = self.client();
        let ready = basalt_wait::try_wait_for(DEADLINE, || async {
            let st = client.cluster_status().await.ok()?;
            (!st.safe_mode && st.datanodes.iter().filter(|d| d.live).count() >= want).then_some(())
        })
        .await;
        if let Err(e) = ready {
            panic!("cluster not ready: {e}; logs:\n{}", self.logs());
        }
    }

    pub fn kill_namenode(&mut self) {
        self.nn.kill();
    }

    /// Restarts the namenode on the same port and data dir.
    pub fn restart_namenode(&mut self) {
        let addr = self.nn.addr.clone();
        self.nn.kill();
        self.nn = Self::spawn_namenode(self.dir.path(), &self.opts, &addr);
    }

    pub fn kill_datanode(&mut self, i: usize) {
        if let Some(mut dn) = self.dns[i].take() {
            dn.kill();
        }
    }

    /// SIGKILLs the datanode serving at `addr`.
    pub fn kill_datanode_at(&mut self, addr: &str) {
        let i = self
            .dns
            .iter()
            .position(|d| d.as_ref().is_some_and(|p| p.addr == addr))
            .expect("a datanode at addr");
        self.kill_datanode(i);
    }

    pub fn restart_datanode(&mut self, i: usize) {
        self.kill_datanode(i);
        self.dns[i] = Some(self.spawn_datanode(i));
    }

    /// Runs the CLI against this cluster.
    pub fn cli(&self, args: &[&str]) -> Output {
        cli_with(&self.nn_addr(), args)
    }

    /// Runs the CLI against this cluster with `input` on its stdin.
    pub fn cli_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = Command::new(BIN)
            .args(args)
            .env("BASALT_NAMENODE", self.nn_addr())
            .env("BASALT_CONNECT_TIMEOUT_MS", "1500")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run basalt");
        let mut stdin = child.stdin.take().expect("piped");
        let input = input.to_vec();
        // Written from a thread: a large input must not block while the child fills its stdout.
        let feeder = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &input));
        let out = child.wait_with_output().expect("wait basalt");
        feeder.join().expect("stdin feeder").expect("write stdin");
        out
    }

    /// Every role's log file (whole), by path.
    fn log_files(&self) -> Vec<(std::path::PathBuf, String)> {
        let mut out: Vec<_> = std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                (p, text)
            })
            .collect();
        out.sort();
        out
    }

    /// Whether any role's whole log (not only its tail) contains `needle`.
    pub fn log_contains(&self, needle: &str) -> bool {
        self.log_files().iter().any(|(_, text)| text.contains(needle))
    }

    /// The last 30 lines of every role's log, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for (p, text) in self.log_files() {
            let tail: Vec<&str> = text.lines().rev().take(30).collect();
            out.push_str(&format!("== {} ==\n", p.display()));
            for l in tail.into_iter().rev() {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }
}

/// Starts datanode `i` with its data and log under `dir`, reporting to `namenodes` (comma-separated),
/// with `extra` datanode flags.
pub fn spawn_datanode(dir: &Path, namenodes: &str, i: usize, extra: &[&str]) -> Proc {
    let data = dir.join(format!("dn{i}")).display().to_string();
    let mut args: Vec<String> = [
        "--namenode",
        namenodes,
        "datanode",
        "--data-dir",
        &data,
        "--listen",
        "127.0.0.1:0",
        "--heartbeat-ms",
        "200",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    Proc::spawn(&args, &dir.join(format!("datanode-{i}.log")))
}

/// Runs `basalt args...` with `BASALT_NAMENODE=namenode`.
pub fn cli_with(namenode: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("BASALT_NAMENODE", namenode)
        .env("BASALT_CONNECT_TIMEOUT_MS", "1500")
        .stdin(Stdio::null())
        .output()
        .expect("run basalt")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a CLI run succeeded, showing its output otherwise.
pub fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "command failed: {}\nstdout: {}",
        stderr(&o),
        stdout(&o)
    );
    o
}

/// Asserts a CLI run failed with one clear line on stderr containing `needle`, and no panic.
pub fn fails_with(o: Output, needle: &str) {
    let err = stderr(&o);
    assert!(
        !o.status.success(),
        "expected failure containing {needle:?}, but it succeeded: {}",
        stdout(&o)
    );
    assert!(err.contains(needle), "stderr {err:?} does not contain {needle:?}");
    assert!(!err.contains("panicked"), "the command panicked: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "expected one line on stderr, got: {err}"
    );
}

/// Deterministic test bytes.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..len).map(|_| rng.u8(..)).collect()
}

/// Every replica data file (`blk_<id>`, not `.meta`) below `dir` (a datanode's `current/` or `tmp/`).
pub fn replica_files(dir: &Path) -> Vec<std::path::PathBuf> {
    files_below(dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("blk_") && !n.ends_with(".meta"))
        })
        .collect()
}

/// A finalized replica as a datanode stores it: `current/.../blk_<id>` beside `blk_<id>_<gs>.meta`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskReplica {
    pub block: u64,
    pub gen_stamp: u64,
    pub data: std::path::PathBuf,
}

/// The finalized replicas below a datanode data dir (`dn`), from their meta file names.
pub fn disk_replicas(dn: &Path) -> Vec<DiskReplica> {
    let mut out = Vec::new();
    for meta in files_below(&dn.join("current")) {
        let Some(name) = meta.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_prefix("blk_").and_then(|n| n.strip_suffix(".meta")) else {
            continue;
        };
        if let Some((id, gs)) = stem.split_once('_')
            && let (Ok(block), Ok(gen_stamp)) = (id.parse(), gs.parse())
        {
            let data = meta.with_file_name(format!("blk_{block}"));
            out.push(DiskReplica { block, gen_stamp, data });
        }
    }
    out.sort_by_key(|r| r.block);
    out
}

/// Replicas being written (in `tmp/`): (block id, generation stamp) from `blk_<id>_<gs>.<nonce>`.
pub fn tmp_replicas(dn: &Path) -> Vec<(u64, u64)> {
    files_below(&dn.join("tmp"))
        .iter()
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?;
            if name.ends_with(".meta") {
                return None;
            }
            let (id, rest) = name.strip_prefix("blk_")?.split_once('_')?;
            let gs = rest.split('.').next()?;
            Some((id.parse().ok()?, gs.parse().ok()?))
        })
        .collect()
}

fn files_below(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Block ids of a file, in order.
pub async fn block_ids(client: &Client, path: &str) -> Vec<u64> {
    client
        .block_locations(path)
        .await
        .unwrap_or_else(|e| panic!("block locations of {path}: {e}"))
        .iter()
        .map(|b| b.block.expect("block").block_id)
        .collect()
}

/// A random number generator for a test's random choices, seeded from `BASALT_TEST_SEED` if set (to
/// replay a failure) or at random; the seed is printed so a failing run can be replayed.
pub fn test_rng(test: &str) -> fastrand::Rng {
    let seed = std::env::var("BASALT_TEST_SEED")
        .ok()
        .map(|s| s.parse().expect("BASALT_TEST_SEED must be a u64"))
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("{test}: seed = {seed} (replay with BASALT_TEST_SEED={seed})");
    fastrand::Rng::with_seed(seed)
}

/// `n` distinct free ports on loopback (all listeners are held until every port is chosen).
pub fn free_ports(n: usize) -> Vec<u16> {
    let ls: Vec<_> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    ls.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

/// A job id as the CLI prints it (`job_7`).
pub fn job_id(s: &str) -> basalt_jobs::JobId {
    basalt_jobs::JobId(s.trim().trim_start_matches("job_").parse().expect("a job id"))
}
