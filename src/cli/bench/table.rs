//! `basalt bench table`: a cassandra-stress-like load against a running cluster.
//!
//! - `write`: prepared `INSERT INTO KS.kv (k, v) VALUES (?, ?)`, k drawn from `0..keys`, v a blob of
//!   `value_bytes` (8 + 92 bytes: rows of ~100 B by default).
//! - `read`: prepared `SELECT v FROM KS.kv WHERE k = ?` over the same keys (run `write` first; rows
//!   not found are counted as misses).
//! - `mixed`: half writes, half reads.
//! - `scan`: a full scan of a table through `Client::scan` (rows/s as Arrow).
//! - `--bulk-load FILE`: the events Parquet file (`gen_data.py table`) into `KS.events` with `basalt
//!   table load`'s loader; rows/s and MiB/s of the file; then a full scan of it.
//!
//! `--rate` paces the operations (the latency of an operation counts from when it was due, so a
//! stalled server shows in the percentiles instead of slowing the clock: no coordinated omission).

use crate::cli::table::load::{self, FileFormat, LoadOptions};
use anyhow::{Context, Result, bail};
use basalt_client::cql::{CqlOptions, CqlResult};
use basalt_client::{Client, ScanOptions};
use basalt_table::{Consistency, Value};
use futures::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    Write,
    Read,
    Mixed,
    Scan,
}

#[derive(clap::Args, Debug)]
pub struct TableBenchArgs {
    /// What to run (ignored with --bulk-load).
    #[arg(value_enum, default_value = "write")]
    pub workload: Workload,
    /// Operations in all.
    #[arg(long, default_value_t = 200_000)]
    pub ops: u64,
    /// Operations in flight at once (1..256).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub concurrency: u64,
    /// Distinct keys written and read.
    #[arg(long, default_value_t = 100_000)]
    pub keys: u64,
    /// Bytes of each row's value (the key is 8 more).
    #[arg(long, default_value_t = 92)]
    pub value_bytes: usize,
    #[arg(long, default_value = "QUORUM")]
    pub consistency: Consistency,
    /// Replication factor of the bench keyspace (created if missing).
    #[arg(long, default_value_t = 3)]
    pub replication: u32,
    #[arg(long, default_value = "bench")]
    pub keyspace: String,
    /// Operations per second in all (0: as fast as the cluster answers).
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Load this events Parquet file into KEYSPACE.events (then scan it) instead of the workload.
    #[arg(long)]
    pub bulk_load: Option<PathBuf>,
    /// Table of the `scan` workload (default KEYSPACE.kv).
    #[arg(long)]
    pub table: Option<String>,
    /// Token ranges scanned at once.
    #[arg(long, default_value_t = 8)]
    pub scan_parallelism: usize,
    /// Rows per batch of a bulk load.
    #[arg(long, default_value_t = 500)]
    pub batch_rows: usize,
}

pub async fn run(namenode: &str, a: TableBenchArgs) -> Result<()> {
    let client = crate::cli::client(namenode)?;
    let ks = a.keyspace.clone();
    ddl(
        &client,
        &format!(
            "CREATE KEYSPACE IF NOT EXISTS {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': {}}}",
            a.replication
        ),
    )
    .await?;
    if let Some(file) = &a.bulk_load {
        ddl(
            &client,
            &format!(
                "CREATE TABLE IF NOT EXISTS {ks}.events (user_id bigint, ts bigint, country text, amount double, payload text, PRIMARY KEY ((user_id), ts))"
            ),
        )
        .await?;
        return bulk(&client, &a, file).await;
    }
    ddl(
        &client,
        &format!("CREATE TABLE IF NOT EXISTS {ks}.kv (k bigint PRIMARY KEY, v blob)"),
    )
    .await?;
    if a.workload == Workload::Scan {
        let t = a.table.clone().unwrap_or_else(|| format!("{ks}.kv"));
        let (k, t) = t.split_once('.').context("--table: KEYSPACE.TABLE")?;
        return scan(&client, k, t, a.scan_parallelism).await;
    }
    ops(&client, &a).await
}

async fn ddl(client: &Client, text: &str) -> Result<()> {
    client
        .cql(text, &[], &CqlOptions::default())
        .await
        .with_context(|| text.to_string())?;
    Ok(())
}

/// Latencies in microseconds, sorted, as percentiles.
fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

async fn ops(client: &Client, a: &TableBenchArgs) -> Result<()> {
    let ks = &a.keyspace;
    let insert = Arc::new(
        client
            .prepare(&format!("INSERT INTO {ks}.kv (k, v) VALUES (?, ?)"), None)
            .await?,
    );
    let select = Arc::new(
        client
            .prepare(&format!("SELECT v FROM {ks}.kv WHERE k = ?"), None)
            .await?,
    );
    let opts = CqlOptions {
        consistency: a.consistency,
        ..Default::default()
    };
    let next = Arc::new(AtomicU64::new(0));
    let misses = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..a.concurrency {
        let (client, insert, select, opts) = (client.clone(), insert.clone(), select.clone(), opts.clone());
        let (next, misses, errors) = (next.clone(), misses.clone(), errors.clone());
        let (total, keys, value_bytes, rate, workload) = (a.ops, a.keys.max(1), a.value_bytes, a.rate, a.workload);
        workers.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(w + 1);
            let mut lat: Vec<u32> = Vec::new();
            let value: Vec<u8> = (0..value_bytes).map(|_| rng.u8(..)).collect();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let due = if rate > 0 {
                    let at = started + Duration::from_secs_f64(i as f64 / rate as f64);
                    tokio::time::sleep_until(at.into()).await;
                    at
                } else {
                    Instant::now()
                };
                let k = Value::BigInt(rng.u64(..keys) as i64);
                let write = match workload {
                    Workload::Write => true,
                    Workload::Read => false,
                    _ => i % 2 == 0,
                };
                let r = if write {
                    client
                        .execute(&insert, &[Some(k), Some(Value::Blob(value.clone()))], &opts)
                        .await
                } else {
                    client.execute(&select, &[Some(k)], &opts).await
                };
                match r {
                    Ok(CqlResult::Rows(p)) if p.row_count == 0 => {
                        misses.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                }
                lat.push(due.elapsed().as_micros().min(u32::MAX as u128) as u32);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await?);
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    let done = all.len() as f64;
    println!(
        "bench table {:?}: {} ops, concurrency {}, {} at RF={}, rows of {} B{}",
        a.workload,
        all.len(),
        a.concurrency,
        a.consistency,
        a.replication,
        8 + a.value_bytes,
        if a.rate > 0 {
            format!(", paced at {} ops/s", a.rate)
        } else {
            String::new()
        }
    );
    println!(
        "  {:.0} ops/s in {:.2} s; latency ms p50 {:.2} p99 {:.2} p999 {:.2} max {:.2}; errors {}, read misses {}",
        done / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        percentile(&all, 0.999),
        percentile(&all, 1.0),
        errors.load(Ordering::Relaxed),
        misses.load(Ordering::Relaxed),
    );
    if all.is_empty() {
        bail!("no operation succeeded");
    }
    Ok(())
}

async fn scan(client: &Client, ks: &str, table: &str, parallelism: usize) -> Result<()> {
    let started = Instant::now();
    let mut s = client
        .scan(
            ks,
            table,
            ScanOptions {
                parallelism,
                ..Default::default()
            },
        )
        .await?;
    let (mut rows, mut batches, mut bytes) = (0u64, 0u64, 0usize);
    while let Some(b) = s.next().await {
        let b = b?;
        rows += b.num_rows() as u64;
        bytes += b.get_array_memory_size();
        batches += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "bench table scan {ks}.{table}: {rows} rows in {batches} Arrow batches in {secs:.2} s = {:.0} rows/s ({:.1} MiB/s of Arrow memory), parallelism {parallelism}",
        rows as f64 / secs,
        bytes as f64 / (1 << 20) as f64 / secs
    );
    Ok(())
}

async fn bulk(client: &Client, a: &TableBenchArgs, file: &std::path::Path) -> Result<()> {
    let opts = LoadOptions {
        keyspace: a.keyspace.clone(),
        table: "events".into(),
        format: FileFormat::Parquet,
        consistency: a.consistency,
        concurrency: a.concurrency as usize,
        batch_rows: a.batch_rows,
        skip_bad: false,
        progress: false,
    };
    let name = file.display().to_string();
    let r = load::load(client, file, &name, &opts).await?;
    let secs = r.elapsed.as_secs_f64();
    println!(
        "bench table bulk load {name}: {} rows in {secs:.2} s = {:.0} rows/s, {:.1} MiB/s of Parquet; {} at RF={}, {} rows per batch, {} batches in flight",
        r.rows,
        r.rows as f64 / secs,
        r.bytes as f64 / (1 << 20) as f64 / secs,
        a.consistency,
        a.replication,
        a.batch_rows,
        a.concurrency
    );
    scan(client, &a.keyspace, "events", a.scan_parallelism).await
}
