//! `basalt-bench-cql` (run as `basalt bench cql`): writes, reads or a mix of both through the CQL
//! native protocol with ScyllaDB's Rust driver, an implementation independent of Basalt's, on the
//! same table and with the same report as `basalt bench table` (the gRPC path): `KEYSPACE.kv (k
//! bigint PRIMARY KEY, v blob)`, prepared statements, token-aware routing, ops/s and latency
//! percentiles.
//!
//! Several datanodes of one host differ by port, which `system.peers` (v4) cannot say to this driver:
//! the bench asks each `--hosts` address for its host id (`system.local`) and gives the driver an
//! address translator from host id to that address.

use anyhow::{Context, Result, bail};
use clap::Parser;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::errors::TranslationError;
use scylla::policies::address_translator::{AddressTranslator, UntranslatedPeer};
use scylla::statement::Consistency;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Workload {
    Write,
    Read,
    Mixed,
}

#[derive(Parser, Debug)]
#[command(
    name = "basalt bench cql",
    about = "Load through the CQL native protocol (scylla driver)"
)]
struct Args {
    #[arg(value_enum, default_value = "write")]
    workload: Workload,
    /// CQL addresses of the datanodes (comma-separated); the first is the contact point.
    #[arg(long, default_value = "127.0.0.1:9042", value_delimiter = ',')]
    hosts: Vec<SocketAddr>,
    /// Operations in all.
    #[arg(long, default_value_t = 200_000)]
    ops: u64,
    /// Operations in flight at once (1..=256).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=256))]
    concurrency: u64,
    /// Distinct keys written and read.
    #[arg(long, default_value_t = 100_000)]
    keys: u64,
    /// Bytes of each row's value (the key is 8 more).
    #[arg(long, default_value_t = 92)]
    value_bytes: usize,
    /// ONE, QUORUM or ALL.
    #[arg(long, default_value = "QUORUM")]
    consistency: String,
    /// Replication factor of the bench keyspace (created if missing).
    #[arg(long, default_value_t = 3)]
    replication: u32,
    #[arg(long, default_value = "bench")]
    keyspace: String,
    /// Connections per node (the driver's pool).
    #[arg(long, default_value_t = 2)]
    connections: usize,
}

/// Host id → the address given for it.
#[derive(Debug)]
struct ByHostId(HashMap<uuid::Uuid, SocketAddr>);

#[async_trait::async_trait]
impl AddressTranslator for ByHostId {
    async fn translate_address(&self, peer: &UntranslatedPeer) -> Result<SocketAddr, TranslationError> {
        Ok(self
            .0
            .get(&peer.host_id())
            .copied()
            .unwrap_or_else(|| peer.untranslated_address()))
    }
}

fn consistency(s: &str) -> Result<Consistency> {
    Ok(match s.to_ascii_uppercase().as_str() {
        "ONE" => Consistency::One,
        "QUORUM" => Consistency::Quorum,
        "ALL" => Consistency::All,
        "LOCAL_ONE" => Consistency::LocalOne,
        "LOCAL_QUORUM" => Consistency::LocalQuorum,
        other => bail!("--consistency: {other}: ONE, QUORUM, ALL, LOCAL_ONE or LOCAL_QUORUM"),
    })
}

/// The host id each address answers with.
async fn host_ids(hosts: &[SocketAddr]) -> Result<HashMap<uuid::Uuid, SocketAddr>> {
    let mut out = HashMap::new();
    for &h in hosts {
        let s = SessionBuilder::new()
            .known_node_addr(h)
            .build()
            .await
            .with_context(|| format!("connecting to {h}"))?;
        let (id,) = s
            .query_unpaged("SELECT host_id FROM system.local WHERE key = 'local'", &[])
            .await?
            .into_rows_result()?
            .single_row::<(uuid::Uuid,)>()?;
        out.insert(id, h);
    }
    Ok(out)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = Args::parse();
    let cl = consistency(&a.consistency)?;
    let ids = host_ids(&a.hosts).await?;
    let session: Arc<Session> = Arc::new(
        SessionBuilder::new()
            .known_node_addr(a.hosts[0])
            .address_translator(Arc::new(ByHostId(ids)))
            .pool_size(scylla::client::PoolSize::PerHost(
                std::num::NonZeroUsize::new(a.connections.max(1)).unwrap(),
            ))
            .build()
            .await
            .context("connecting")?,
    );
    let ks = &a.keyspace;
    session
        .query_unpaged(
            format!(
                "CREATE KEYSPACE IF NOT EXISTS {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': {}}}",
                a.replication
            ),
            &[],
        )
        .await?;
    session
        .query_unpaged(
            format!("CREATE TABLE IF NOT EXISTS {ks}.kv (k bigint PRIMARY KEY, v blob)"),
            &[],
        )
        .await?;
    session.await_schema_agreement().await?;
    let mut insert = session
        .prepare(format!("INSERT INTO {ks}.kv (k, v) VALUES (?, ?)"))
        .await?;
    insert.set_consistency(cl);
    let mut select = session.prepare(format!("SELECT v FROM {ks}.kv WHERE k = ?")).await?;
    select.set_consistency(cl);

    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let misses = Arc::new(AtomicU64::new(0));
    let value = vec![0xABu8; a.value_bytes];
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..a.concurrency {
        let (session, insert, select) = (session.clone(), insert.clone(), select.clone());
        let (next, errors, misses, value) = (next.clone(), errors.clone(), misses.clone(), value.clone());
        let (ops, keys, workload) = (a.ops, a.keys.max(1), a.workload);
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ w;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= ops {
                    return lat;
                }
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let k = (if workload == Workload::Write { i } else { rng } % keys) as i64;
                let write = match workload {
                    Workload::Write => true,
                    Workload::Read => false,
                    Workload::Mixed => i % 2 == 0,
                };
                let t = Instant::now();
                let ok = if write {
                    session.execute_unpaged(&insert, (k, &value)).await.is_ok()
                } else {
                    match session.execute_unpaged(&select, (k,)).await {
                        Ok(r) => {
                            if r.into_rows_result().map(|r| r.rows_num()).unwrap_or(0) == 0 {
                                misses.fetch_add(1, Ordering::Relaxed);
                            }
                            true
                        }
                        Err(_) => false,
                    }
                };
                if ok {
                    lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await?);
    }
    let elapsed = started.elapsed().max(Duration::from_micros(1));
    all.sort_unstable();
    let nodes = session.get_cluster_state().get_nodes_info().len();
    println!(
        "bench cql {:?}: {} ops, concurrency {}, {} at RF={}, rows of {} B, {} nodes (scylla driver, token-aware)",
        a.workload,
        all.len(),
        a.concurrency,
        a.consistency.to_ascii_uppercase(),
        a.replication,
        8 + a.value_bytes,
        nodes
    );
    println!(
        "  {:.0} ops/s in {:.2} s; latency ms p50 {:.2} p99 {:.2} p999 {:.2} max {:.2}; errors {}, read misses {}",
        all.len() as f64 / elapsed.as_secs_f64(),
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
