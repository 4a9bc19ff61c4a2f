//! `basalt bench`: dfsio (file throughput), nnbench (metadata operations), table (statements,
//! scans, bulk loads) and cql (the same statements through a CQL driver) against a running cluster. Reports figures only; compare them with the machine's limits measured in the same run
//! (`../shared/tools/limits/limits.sh`).

mod block_report;
mod table;

use anyhow::{Result, bail, ensure};
use basalt_client::{Client, CreateOptions};
use clap::Subcommand;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Write then read N files of size S concurrently; MB/s.
    Dfsio {
        #[arg(long, default_value_t = 4)]
        files: usize,
        /// Size of each file (e.g. 256MiB).
        #[arg(long, default_value = "128MiB", value_parser = parse_size)]
        size: u64,
        #[arg(long, default_value_t = 3)]
        replication: u32,
        #[arg(long, default_value = "64MiB", value_parser = parse_size)]
        block_size: u64,
        #[arg(long, default_value = "/benchmarks/dfsio")]
        dir: String,
        /// Read the files this many times (each read phase is reported).
        #[arg(long, default_value_t = 1)]
        read_rounds: usize,
    },
    /// Create+close, stat and delete of empty files by C concurrent clients; ops/s and latency.
    Nnbench {
        #[arg(long, default_value_t = 2000)]
        ops: usize,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        #[arg(long, default_value = "/benchmarks/nnbench")]
        dir: String,
    },
    /// Metadata scale: creates N files (each with B blocks, replication 1) with C concurrent writers, in
    /// directories of `--per-dir` files; files/s. With `--keep` the files stay, so the namenode's memory
    /// per file can be read after a restart (scripts/namespace-bench.sh).
    Namespace {
        #[arg(long, default_value_t = 100_000)]
        files: usize,
        /// Blocks per file (each 512 bytes of data, the smallest block size).
        #[arg(long, default_value_t = 0)]
        blocks_per_file: usize,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        #[arg(long, default_value_t = 1000)]
        per_dir: usize,
        #[arg(long, default_value = "/benchmarks/namespace")]
        dir: String,
        /// Leave the files in place afterwards.
        #[arg(long)]
        keep: bool,
    },
    /// Metadata latency under full block reports: registers D fake datanodes over the datanode protocol
    /// and has each send full reports of N made-up blocks (orphans to the namenode) while C clients run
    /// create+close and stat; p50/p99 before, during and after the reports. The fake datanodes stay
    /// registered (dead once the bench ends): run it against a throwaway cluster.
    BlockReport {
        /// Blocks in each fake datanode's full report.
        #[arg(long, default_value_t = 1_000_000)]
        blocks: usize,
        #[arg(long, default_value_t = 1)]
        datanodes: usize,
        /// Full reports each fake datanode sends, back to back, during the loaded phase.
        #[arg(long, default_value_t = 3)]
        reports: usize,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Length of the phases without reports.
        #[arg(long, default_value_t = 10)]
        secs: u64,
        #[arg(long, default_value = "/benchmarks/block-report")]
        dir: String,
    },
    /// Re-replication after a node loss: run it right after killing a datanode (e.g. `kill -9`); it
    /// times detection (the node declared dead) and repair (every block back at its replication factor),
    /// and the repair rate in MB/s of the lost node's data.
    Heal {
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 900)]
        timeout_secs: u64,
    },
    /// Tables, in the spirit of cassandra-stress: write, read or mixed prepared statements (ops/s,
    /// p50/p99/p999), a full scan (rows/s as Arrow), or a bulk load of the events Parquet file.
    Table(table::TableBenchArgs),
    /// The same statements as `table`, through the CQL native protocol with ScyllaDB's Rust driver
    /// (`basalt-bench-cql`, built apart: `cargo build --release --manifest-path bench/cql/Cargo.toml`;
    /// run from beside this binary or `BASALT_BENCH_CQL`). Arguments go to it (`-- --help`).
    Cql {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// Runs `basalt-bench-cql` (beside this binary, or `BASALT_BENCH_CQL`) with `args`.
async fn cql(args: &[String]) -> Result<ExitCode> {
    let exe = match std::env::var_os("BASALT_BENCH_CQL") {
        Some(p) => std::path::PathBuf::from(p),
        None => std::env::current_exe()?.with_file_name("basalt-bench-cql"),
    };
    ensure!(
        exe.exists(),
        "{} not found: build it with `cargo build --release --manifest-path bench/cql/Cargo.toml` (same CARGO_TARGET_DIR), or set BASALT_BENCH_CQL",
        exe.display()
    );
    let status = tokio::process::Command::new(&exe).args(args).status().await?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn parse_size(s: &str) -> Result<u64, String> {
    basalt_common::units::parse_bytes(s).map_err(|e| e.to_string())
}

pub async fn run(namenode: &str, cmd: BenchCommand) -> Result<ExitCode> {
    match cmd {
        BenchCommand::Dfsio {
            files,
            size,
            replication,
            block_size,
            dir,
            read_rounds,
        } => dfsio(namenode, files, size, replication, block_size, &dir, read_rounds).await?,
        BenchCommand::Nnbench { ops, concurrency, dir } => nnbench(namenode, ops, concurrency, &dir).await?,
        BenchCommand::Namespace {
            files,
            blocks_per_file,
            concurrency,
            per_dir,
            dir,
            keep,
        } => namespace(namenode, files, blocks_per_file, concurrency, per_dir, &dir, keep).await?,
        BenchCommand::Heal { timeout_secs } => heal(namenode, Duration::from_secs(timeout_secs)).await?,
        BenchCommand::Table(args) => table::run(namenode, args).await?,
        BenchCommand::Cql { args } => return cql(&args).await,
        BenchCommand::BlockReport {
            blocks,
            datanodes,
            reports,
            concurrency,
            secs,
            dir,
        } => {
            let opts = block_report::Options {
                blocks,
                datanodes,
                reports,
                concurrency,
                idle: Duration::from_secs(secs),
                dir,
            };
            block_report::run(namenode, opts).await?
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn mib_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / d.as_secs_f64()
}

/// Deterministic contents of file `i` (a 1 MiB pattern), so reads can be checked.
fn pattern(i: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(i as u64 + 1);
    (0..1 << 20).map(|_| rng.u8(..)).collect()
}

async fn dfsio(
    namenode: &str,
    files: usize,
    size: u64,
    replication: u32,
    block_size: u64,
    dir: &str,
    read_rounds: usize,
) -> Result<()> {
    let client = super::client(namenode)?;
    if client.exists(dir).await? {
        client.delete(dir, true).await?;
    }
    client.mkdirs(dir, true).await?;
    let total = size * files as u64;
    println!(
        "dfsio: {files} files x {} (RF={replication}, block {})",
        fmt(size),
        fmt(block_size)
    );

    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..files {
        let (client, path) = (client.clone(), format!("{dir}/file-{i}"));
        tasks.push(tokio::spawn(async move {
            let data = pattern(i);
            let opts = CreateOptions {
                overwrite: true,
                replication,
                block_size,
                create_parent: false,
            };
            let mut w = client.create(&path, opts).await?;
            let mut left = size;
            while left > 0 {
                let n = left.min(data.len() as u64) as usize;
                w.write(&data[..n]).await?;
                left -= n as u64;
            }
            w.close().await?;
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let write = start.elapsed();
    println!(
        "  write: {} in {:.2} s = {:.1} MiB/s",
        fmt(total),
        write.as_secs_f64(),
        mib_s(total, write)
    );

    let phases = [("read (short-circuit)", true), ("read (remote, over TCP)", false)];
    for (label, short_circuit) in (0..read_rounds.max(1)).flat_map(|_| phases) {
        let mut config = super::client_config(namenode);
        config.short_circuit = short_circuit;
        let reader = Client::connect(config)?;
        let start = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..files {
            let (client, path) = (reader.clone(), format!("{dir}/file-{i}"));
            tasks.push(tokio::spawn(async move {
                let data = pattern(i);
                let mut r = client.open(&path).await?;
                let mut buf = vec![0u8; 4 << 20];
                let mut at = 0u64;
                loop {
                    let n = r.read(&mut buf).await?;
                    if n == 0 {
                        break;
                    }
                    if let Some(bad) = mismatch(&buf[..n], at, &data) {
                        bail!("{path}: wrong byte at offset {bad}");
                    }
                    at += n as u64;
                }
                ensure!(at == size, "{path}: read {at} bytes, expected {size}");
                anyhow::Ok(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        let read = start.elapsed();
        println!(
            "  {label}: {} in {:.2} s = {:.1} MiB/s",
            fmt(total),
            read.as_secs_f64(),
            mib_s(total, read)
        );
    }
    client.delete(dir, true).await?;
    Ok(())
}

/// Offset of the first byte of `buf` (read at file offset `at`) that differs from the repeated `pattern`.
fn mismatch(buf: &[u8], at: u64, pattern: &[u8]) -> Option<u64> {
    let mut i = 0;
    while i < buf.len() {
        let p = ((at + i as u64) % pattern.len() as u64) as usize;
        let seg = (buf.len() - i).min(pattern.len() - p);
        if buf[i..i + seg] != pattern[p..p + seg] {
            let k = (0..seg).find(|&k| buf[i + k] != pattern[p + k]).unwrap_or(0);
            return Some(at + (i + k) as u64);
        }
        i += seg;
    }
    None
}

fn fmt(b: u64) -> String {
    basalt_common::units::format_bytes(b)
}

/// Runs `ops` operations on `concurrency` workers; returns wall time and sorted latencies.
async fn phase<F, Fut>(ops: usize, concurrency: usize, op: F) -> Result<(Duration, Vec<Duration>)>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let op = Arc::new(op);
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (next, op) = (next.clone(), op.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= ops {
                    return anyhow::Ok(lat);
                }
                let t = Instant::now();
                op(i).await?;
                lat.push(t.elapsed());
            }
        }));
    }
    let mut all = Vec::with_capacity(ops);
    for w in workers {
        all.extend(w.await??);
    }
    let wall = start.elapsed();
    all.sort_unstable();
    Ok((wall, all))
}

/// Prints throughput and p50/p99 of sorted latencies `lat` measured over `wall`.
fn report(name: &str, wall: Duration, lat: &[Duration]) {
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "  {name:<14} {:>9.0} ops/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
        lat.len() as f64 / wall.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
}

async fn nnbench(namenode: &str, ops: usize, concurrency: usize, dir: &str) -> Result<()> {
    ensure!(concurrency > 0 && ops > 0, "--ops and --concurrency must be positive");
    let client = super::client(namenode)?;
    if client.exists(dir).await? {
        client.delete(dir, true).await?;
    }
    client.mkdirs(dir, true).await?;
    println!("nnbench: {ops} ops per phase, concurrency {concurrency}");
    let dir = Arc::new(dir.to_string());
    let (c, d) = (client.clone(), dir.clone());
    let (wall, lat) = phase(ops, concurrency, move |i| {
        let (c, path) = (c.clone(), format!("{d}/f{i}"));
        async move {
            let w = c.create(&path, CreateOptions::default()).await?;
            w.close().await?;
            Ok(())
        }
    })
    .await?;
    report("create+close", wall, &lat);
    let (c, d) = (client.clone(), dir.clone());
    let (wall, lat) = phase(ops, concurrency, move |i| {
        let (c, path) = (c.clone(), format!("{d}/f{i}"));
        async move {
            c.stat(&path).await?;
            Ok(())
        }
    })
    .await?;
    report("stat", wall, &lat);
    let (c, d) = (client.clone(), dir.clone());
    let (wall, lat) = phase(ops, concurrency, move |i| {
        let (c, path) = (c.clone(), format!("{d}/f{i}"));
        async move {
            c.delete(&path, false).await?;
            Ok(())
        }
    })
    .await?;
    report("delete", wall, &lat);
    client.delete(&dir, true).await?;
    Ok(())
}

/// Smallest block size a file may have: `--blocks-per-file` writes blocks of this size.
const SMALL_BLOCK: u64 = 512;

async fn namespace(
    namenode: &str,
    files: usize,
    blocks_per_file: usize,
    concurrency: usize,
    per_dir: usize,
    dir: &str,
    keep: bool,
) -> Result<()> {
    ensure!(
        files > 0 && concurrency > 0 && per_dir > 0,
        "--files, --concurrency and --per-dir must be positive"
    );
    let client = super::client(namenode)?;
    if client.exists(dir).await? {
        client.delete(dir, true).await?;
    }
    println!("namespace: {files} files x {blocks_per_file} blocks, {per_dir} per directory, concurrency {concurrency}");
    let data = Arc::new(vec![0x5a; blocks_per_file * SMALL_BLOCK as usize]);
    let done = Arc::new(AtomicUsize::new(0));
    let (c, d, done2) = (client.clone(), Arc::new(dir.to_string()), done.clone());
    let reporter = tokio::spawn({
        let done = done.clone();
        async move {
            let start = Instant::now();
            let mut tick = tokio::time::interval(Duration::from_secs(10));
            tick.tick().await;
            loop {
                tick.tick().await;
                let n = done.load(Ordering::Relaxed);
                println!(
                    "  {n} files after {:.0} s ({:.0} files/s)",
                    start.elapsed().as_secs_f64(),
                    n as f64 / start.elapsed().as_secs_f64()
                );
            }
        }
    });
    let result = phase(files, concurrency, move |i| {
        let (c, data, done) = (c.clone(), data.clone(), done2.clone());
        let path = format!("{d}/d{}/f{i}", i / per_dir);
        async move {
            let opts = CreateOptions {
                replication: 1,
                block_size: SMALL_BLOCK,
                create_parent: true,
                overwrite: false,
            };
            let mut w = c.create(&path, opts).await?;
            if !data.is_empty() {
                w.write(&data).await?;
            }
            w.close().await?;
            done.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    })
    .await;
    reporter.abort();
    let (wall, lat) = result?;
    report("create+close", wall, &lat);
    println!(
        "  {files} files, {} blocks in {:.1} s",
        files * blocks_per_file,
        wall.as_secs_f64()
    );
    if !keep {
        client.delete(dir, true).await?;
    }
    Ok(())
}

/// Polls the cluster status (every 100 ms) from a node's loss to full replication.
async fn heal(namenode: &str, timeout: Duration) -> Result<()> {
    let client = super::client(namenode)?;
    let start = Instant::now();
    let mut poll = tokio::time::interval(Duration::from_millis(100));
    let mut dead_at = None;
    let mut lost_bytes = 0;
    // The monitor's counts lag the death by up to a round: wait to see the damage before its repair.
    let mut seen_under = false;
    loop {
        poll.tick().await; // poll interval, deadline below
        ensure!(start.elapsed() < timeout, "the cluster did not heal within {timeout:?}");
        let st = match client.cluster_status().await {
            Ok(st) => st,
            Err(e) => {
                eprintln!("cluster status: {e}");
                continue;
            }
        };
        let h = st.healing.unwrap_or_default();
        let Some(dead) = dead_at else {
            let dead: Vec<_> = st.datanodes.iter().filter(|d| !d.live).collect();
            if !dead.is_empty() {
                lost_bytes = dead.iter().map(|d| d.used).sum::<u64>();
                let t = start.elapsed();
                println!(
                    "heal: {} datanode(s) declared dead after {:.1} s, holding {} in {} replicas",
                    dead.len(),
                    t.as_secs_f64(),
                    fmt(lost_bytes),
                    dead.iter().map(|d| d.block_count).sum::<u64>()
                );
                dead_at = Some(t);
            }
            continue;
        };
        if h.under_replicated > 0 || h.copies_in_flight > 0 {
            seen_under = true;
        } else if seen_under && h.missing == 0 {
            let done = start.elapsed();
            let repair = done - dead;
            println!(
                "heal: every block at its replication factor {:.1} s after the loss ({:.1} s of repair); \
                 {} copies; {:.1} MiB/s repaired",
                done.as_secs_f64(),
                repair.as_secs_f64(),
                h.copies_done,
                mib_s(lost_bytes, repair)
            );
            return Ok(());
        }
    }
}
