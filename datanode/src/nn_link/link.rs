//! One namenode member's link. Phases, repeated until shutdown:
//!
//! 1. connect (bounded exponential backoff with jitter between attempts);
//! 2. Register, then a full BlockReport (the incremental queue is cleared first: the full report covers it);
//! 3. every `interval` a Heartbeat (usage, active transfers), executing the commands in its reply; between
//!    heartbeats, incremental reports of whatever is queued, batched;
//! 4. on `reregister = true`, back to 2; on any failure, back to 1.
//!
//! A member answering NotLeader is a follower: the link keeps it informed all the same and moves on, so
//! that a newly elected leader already knows every replica location.

use super::commands;
use super::reports::{ReportQueue, ReportedBlock};
use crate::context::Context;
use crate::error::DatanodeError;
use basalt_common::ErrorKind;
use basalt_proto::RemoteError;
use basalt_proto::link::{Channel, Connector};
use basalt_proto::pb::datanode_protocol_client::DatanodeProtocolClient;
use basalt_proto::pb::{
    BlockReportRequest, DatanodeInfo, ExtendedBlock, HeartbeatRequest, IncrementalBlockReportRequest, RegisterRequest,
};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tonic::transport::Endpoint;

const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
const RPC_TIMEOUT: Duration = Duration::from_secs(30);

/// What every link of this datanode tells its namenode.
#[derive(Debug, Clone)]
pub(crate) struct LinkInfo {
    pub info: DatanodeInfo,
    pub interval: Duration,
    /// The CQL server's address, "" when there is none (told to the namenode for cluster status).
    pub cql_addr: String,
    /// The HTTP server's address, "" when there is none (the namenode redirects WebHDFS data there).
    pub http_addr: String,
}

type Client = DatanodeProtocolClient<Channel>;

/// Runs the link to the namenode at `addr` until `shutdown` turns true.
pub(crate) async fn run_link(
    ctx: Arc<Context>,
    addr: String,
    queue: Arc<ReportQueue>,
    info: Arc<LinkInfo>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = MIN_BACKOFF;
    loop {
        tokio::select! {
            biased;
            _ = shutdown.wait_for(|s| *s) => return,
            r = connect_and_serve(&ctx, &addr, &queue, &info, &mut backoff) => {
                let Err(e) = r;
                tracing::warn!(namenode = %addr, error = %e, retry_in = ?backoff, "namenode link down");
            }
        }
        // Reconnecting sends a full report, which supersedes anything queued meanwhile.
        queue.take();
        let jitter = Duration::from_millis(fastrand::u64(0..=backoff.as_millis() as u64 / 4));
        tokio::select! {
            biased;
            _ = shutdown.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(backoff + jitter) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Connects, then runs sessions until one fails.
async fn connect_and_serve(
    ctx: &Arc<Context>,
    addr: &str,
    queue: &ReportQueue,
    info: &LinkInfo,
    backoff: &mut Duration,
) -> Result<Infallible, DatanodeError> {
    let mut client = connect(&ctx.connector, addr).await?;
    loop {
        session(ctx, addr, &mut client, queue, info, backoff).await?;
        tracing::info!(namenode = %addr, "namenode asked this datanode to register again");
    }
}

/// Registers, reports and heartbeats; returns `Ok` when the namenode asks for a new registration.
async fn session(
    ctx: &Arc<Context>,
    addr: &str,
    client: &mut Client,
    queue: &ReportQueue,
    info: &LinkInfo,
    backoff: &mut Duration,
) -> Result<(), DatanodeError> {
    let capacity = usage(ctx).await?.capacity;
    let req = RegisterRequest {
        info: Some(info.info.clone()),
        capacity,
        cql_addr: info.cql_addr.clone(),
        http_addr: info.http_addr.clone(),
    };
    soft(addr, client.register(req).await)?;
    full_report(ctx, addr, client, queue).await?;
    tracing::info!(namenode = %addr, blocks = ctx.store.len(), "registered with namenode");
    *backoff = MIN_BACKOFF;

    let mut tick = tokio::time::interval(info.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let u = usage(ctx).await?;
                let req = HeartbeatRequest {
                    datanode_id: ctx.id.0,
                    capacity: u.capacity,
                    used: u.used,
                    remaining: u.remaining,
                    active_transfers: ctx.active_transfers(),
                };
                if let Some(reply) = soft(addr, client.heartbeat(req).await)? {
                    for member in &reply.members {
                        ctx.ensure_link(member);
                    }
                    if reply.reregister {
                        return Ok(());
                    }
                    ctx.schema.observe(addr, reply.catalog_version, reply.ring_version);
                    commands::execute(ctx, reply.commands);
                }
            }
            _ = queue.notified() => {
                let batch = queue.take();
                if batch.overflowed {
                    full_report(ctx, addr, client, queue).await?;
                } else if !batch.is_empty() {
                    let req = IncrementalBlockReportRequest {
                        datanode_id: ctx.id.0,
                        received: batch.received.iter().map(to_pb).collect(),
                        deleted: batch.deleted.iter().map(to_pb).collect(),
                        corrupt: batch.corrupt.iter().map(to_pb).collect(),
                    };
                    soft(addr, client.block_received_and_deleted(req).await)?;
                }
            }
        }
    }
}

async fn full_report(
    ctx: &Arc<Context>,
    addr: &str,
    client: &mut Client,
    queue: &ReportQueue,
) -> Result<(), DatanodeError> {
    queue.take();
    let blocks = ctx
        .store
        .replicas()
        .iter()
        .map(|r| ExtendedBlock {
            block_id: r.block.0,
            gen_stamp: r.genstamp.0,
            length: r.length,
        })
        .collect();
    soft(
        addr,
        client
            .block_report(BlockReportRequest {
                datanode_id: ctx.id.0,
                blocks,
            })
            .await,
    )?;
    Ok(())
}

async fn usage(ctx: &Arc<Context>) -> Result<crate::store::Usage, DatanodeError> {
    let store = ctx.store.clone();
    tokio::task::spawn_blocking(move || store.usage())
        .await
        .map_err(|source| DatanodeError::Task { source })?
}

async fn connect(connector: &Connector, addr: &str) -> Result<Client, DatanodeError> {
    let channel = namenode_channel(connector, addr, RPC_TIMEOUT).await?;
    Ok(DatanodeProtocolClient::new(channel)
        .max_decoding_message_size(basalt_common::MAX_RPC_MESSAGE)
        .max_encoding_message_size(basalt_common::MAX_RPC_MESSAGE))
}

/// A channel to the metadata member at `addr` (3 s to connect, `timeout` per call); a failure is the
/// member being unavailable.
pub(crate) async fn namenode_channel(
    connector: &Connector,
    addr: &str,
    timeout: Duration,
) -> Result<Channel, DatanodeError> {
    let unavailable = |e: tonic::transport::Error| DatanodeError::Namenode {
        addr: addr.to_string(),
        source: RemoteError {
            kind: ErrorKind::Unavailable,
            message: e.to_string(),
            leader: None,
            transport: true,
        },
    };
    let endpoint = Endpoint::from_shared(format!("http://{addr}"))
        .map_err(unavailable)?
        .connect_timeout(Duration::from_secs(3))
        .timeout(timeout);
    connector.connect(endpoint).await.map_err(unavailable)
}

/// A reply, `None` for a follower's NotLeader, or the error.
fn soft<T>(addr: &str, r: Result<tonic::Response<T>, tonic::Status>) -> Result<Option<T>, DatanodeError> {
    match r {
        Ok(resp) => Ok(Some(resp.into_inner())),
        Err(status) => match RemoteError::from(status) {
            e if e.kind == ErrorKind::NotLeader => Ok(None),
            source => Err(DatanodeError::Namenode {
                addr: addr.to_string(),
                source,
            }),
        },
    }
}

fn to_pb(b: &ReportedBlock) -> ExtendedBlock {
    ExtendedBlock {
        block_id: b.block.0,
        gen_stamp: b.genstamp.0,
        length: b.length,
    }
}
