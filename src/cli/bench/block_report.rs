//! `basalt bench block-report`: how much full block reports slow down metadata operations.
//!
//! 1. Register D fake datanodes with the leader over the datanode protocol (fixed ids, so a rerun
//!    against the same cluster reuses them; no capacity, so nothing is ever placed on them) and keep
//!    them alive with heartbeats.
//! 2. Idle phase: C clients loop on create+close and stat of empty files for `--secs`.
//! 3. Loaded phase: each fake datanode sends `--reports` full reports of N made-up blocks, back to back,
//!    while the clients loop; it lasts until the last report is answered.
//! 4. After phase: the block map now holds D×N replicas (orphans: no file owns them, so the namenode's
//!    background walks see them): the clients loop for `--secs` again.
//! 5. Empty full reports take the replicas back out; the files are deleted.

use super::report;
use anyhow::{Context, Result, ensure};
use basalt_client::{Client, CreateOptions};
use basalt_proto::pb;
use basalt_proto::pb::datanode_protocol_client::DatanodeProtocolClient;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// First id of the fake datanodes (far from the random ids real datanodes pick, in practice).
const FAKE_ID_BASE: u64 = 0xb5a1_7000_0000_0000;
/// First made-up block id: far above the namenode's (which start at 2^30 and count up).
const FAKE_BLOCK_BASE: u64 = 1 << 50;
/// Largest report message (the namenode accepts 4 × `MAX_RPC_MESSAGE` on its datanode service).
const MAX_REPORT: usize = 4 * basalt_common::MAX_RPC_MESSAGE;

pub struct Options {
    pub blocks: usize,
    pub datanodes: usize,
    pub reports: usize,
    pub concurrency: usize,
    pub idle: Duration,
    pub dir: String,
}

type Dn = DatanodeProtocolClient<tonic::transport::Channel>;

pub async fn run(namenode: &str, o: Options) -> Result<()> {
    ensure!(
        o.blocks > 0 && o.datanodes > 0 && o.reports > 0 && o.concurrency > 0,
        "--blocks, --datanodes, --reports and --concurrency must be positive"
    );
    let client = super::super::client(namenode)?;
    let leader = leader_addr(&client, namenode).await;
    let dn = connect(&leader).await?;
    println!(
        "block-report: {} fake datanode(s) x {} blocks, {} full report(s) each, against {leader}; \
         metadata ops by {} clients",
        o.datanodes, o.blocks, o.reports, o.concurrency
    );
    let ids: Vec<u64> = (0..o.datanodes as u64).map(|i| FAKE_ID_BASE + i).collect();
    for (i, id) in ids.iter().enumerate() {
        register(&dn, *id, i).await?;
    }
    let alive = Arc::new(AtomicBool::new(true));
    let beats = heartbeats(dn.clone(), ids.clone(), alive.clone());

    if client.exists(&o.dir).await? {
        client.delete(&o.dir, true).await?;
    }
    client.mkdirs(&o.dir, true).await?;
    let files = Arc::new(AtomicUsize::new(0));
    let phase = |name: &'static str| Phase {
        name,
        client: client.clone(),
        dir: o.dir.clone(),
        concurrency: o.concurrency,
        files: files.clone(),
    };

    phase("idle").run_for(o.idle).await?;

    let reports: Vec<JoinHandle<Result<Vec<Duration>>>> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (dn, id, n, rounds) = (dn.clone(), *id, o.blocks, o.reports);
            tokio::spawn(async move {
                let blocks = made_up_blocks(i, n);
                let mut took = Vec::new();
                for _ in 0..rounds {
                    let t = Instant::now();
                    full_report(&dn, id, blocks.clone()).await?;
                    took.push(t.elapsed());
                }
                Ok(took)
            })
        })
        .collect();
    let during = phase("during reports");
    let report_times = during
        .run_until(async {
            let mut all = Vec::new();
            for r in reports {
                all.extend(r.await??);
            }
            anyhow::Ok(all)
        })
        .await?;
    let secs: Vec<String> = report_times.iter().map(|d| format!("{:.2}", d.as_secs_f64())).collect();
    println!(
        "  full reports of {} blocks answered in [{}] s",
        o.blocks,
        secs.join(", ")
    );

    phase("after reports").run_for(o.idle).await?;

    for id in &ids {
        full_report(&dn, *id, Vec::new()).await?;
    }
    alive.store(false, Ordering::Relaxed);
    beats.await?;
    client.delete(&o.dir, true).await?;
    println!(
        "  the {} fake datanode(s) (ids from {FAKE_ID_BASE:#x}) stay registered and are declared dead",
        o.datanodes
    );
    Ok(())
}

/// The leader's address (the datanode protocol is served by every member, but only the leader's block
/// map matters here); the first configured member when no leader answers.
async fn leader_addr(client: &Client, namenode: &str) -> String {
    let first = namenode.split(',').next().unwrap_or(namenode).trim().to_string();
    client
        .member_statuses(None)
        .await
        .into_iter()
        .find_map(|(addr, st)| st.ok().filter(|s| s.role == "leader").map(|_| addr))
        .unwrap_or(first)
}

async fn connect(addr: &str) -> Result<Dn> {
    let dn = DatanodeProtocolClient::connect(format!("http://{addr}"))
        .await
        .with_context(|| format!("connect to {addr}"))?;
    Ok(dn
        .max_encoding_message_size(MAX_REPORT)
        .max_decoding_message_size(MAX_REPORT))
}

async fn register(dn: &Dn, id: u64, i: usize) -> Result<()> {
    let name = format!("bench-fake-{i}");
    let req = pb::RegisterRequest {
        info: Some(pb::DatanodeInfo {
            id,
            // The discard port: nothing connects, as no block is ever placed on a node without space.
            addr: "127.0.0.1:9".into(),
            rack: String::new(),
            host_id: name.clone(),
            host: name,
        }),
        capacity: 0,
        cql_addr: String::new(),
        http_addr: String::new(),
    };
    dn.clone()
        .register(req)
        .await
        .with_context(|| format!("register fake datanode {id:#x}"))?;
    Ok(())
}

/// Heartbeats every fake datanode once a second while `alive` holds (the work in the replies is ignored).
fn heartbeats(dn: Dn, ids: Vec<u64>, alive: Arc<AtomicBool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        while alive.load(Ordering::Relaxed) {
            tick.tick().await; // heartbeat interval, as a datanode's
            for id in &ids {
                let req = pb::HeartbeatRequest {
                    datanode_id: *id,
                    ..Default::default()
                };
                if let Err(e) = dn.clone().heartbeat(req).await {
                    eprintln!("heartbeat of fake datanode {id:#x}: {}", e.message());
                }
            }
        }
    })
}

/// Block ids of fake datanode `i`: `n` consecutive ids of its own, like a datanode's real replicas.
fn made_up_blocks(i: usize, n: usize) -> Vec<pb::ExtendedBlock> {
    let base = FAKE_BLOCK_BASE + (i as u64) * (n as u64);
    (0..n as u64)
        .map(|j| pb::ExtendedBlock {
            block_id: base + j,
            gen_stamp: 1001,
            length: 512,
        })
        .collect()
}

async fn full_report(dn: &Dn, id: u64, blocks: Vec<pb::ExtendedBlock>) -> Result<()> {
    let n = blocks.len();
    dn.clone()
        .block_report(pb::BlockReportRequest {
            datanode_id: id,
            blocks,
        })
        .await
        .with_context(|| format!("full report of {n} blocks from fake datanode {id:#x}"))?;
    Ok(())
}

/// One measured phase of the metadata loop.
struct Phase {
    name: &'static str,
    client: Client,
    dir: String,
    concurrency: usize,
    /// Files created so far (over all phases): names stay unique.
    files: Arc<AtomicUsize>,
}

impl Phase {
    async fn run_for(self, d: Duration) -> Result<()> {
        self.run_until(async {
            tokio::time::sleep(d).await; // the phase's length
            anyhow::Ok(())
        })
        .await
    }

    /// Runs the clients until `until` completes; prints the latencies and returns its output.
    async fn run_until<T>(self, until: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let workers: Vec<_> = (0..self.concurrency)
            .map(|_| {
                let (c, dir, files, stop) = (self.client.clone(), self.dir.clone(), self.files.clone(), stop.clone());
                tokio::spawn(async move {
                    let (mut create, mut stat) = (Vec::new(), Vec::new());
                    while !stop.load(Ordering::Relaxed) {
                        let path = format!("{dir}/f{}", files.fetch_add(1, Ordering::Relaxed));
                        let t = Instant::now();
                        c.create(&path, CreateOptions::default()).await?.close().await?;
                        create.push(t.elapsed());
                        let t = Instant::now();
                        c.stat(&path).await?;
                        stat.push(t.elapsed());
                    }
                    anyhow::Ok((create, stat))
                })
            })
            .collect();
        let out = until.await;
        stop.store(true, Ordering::Relaxed);
        let wall = start.elapsed();
        let (mut create, mut stat) = (Vec::new(), Vec::new());
        for w in workers {
            let (c, s) = w.await??;
            create.extend(c);
            stat.extend(s);
        }
        let out = out?;
        create.sort_unstable();
        stat.sort_unstable();
        println!("  {} ({:.1} s):", self.name, wall.as_secs_f64());
        report("create+close", wall, &create);
        report("stat", wall, &stat);
        Ok(out)
    }
}
