//! The receiving end of a WriteBlock pipeline stream, in three concurrent parts:
//!
//! 1. **Receiver** (this task): reads packets from upstream, checks their order and shape, forwards each
//!    to the downstream datanode (if any), hands it to the disk writer and queues a pending ack. It never
//!    waits for an ack, so the writer can keep many packets in flight; the bounded queues give backpressure.
//! 2. **Disk writer** (a blocking thread): verifies each packet's chunk checksums, appends data and
//!    checksums to the temp replica, and on the `last` packet finalizes it (fsync, rename, dir fsync).
//! 3. **Responder** (this task, joined with the receiver): for each pending ack in order, waits for the
//!    local write and then the downstream ack of the same seqno, and sends `WriteAck{seqno, [self, ..]}`
//!    upstream. After the local finalize it queues an incremental block report ("received").
//!
//! The first error of any part ends the stream with its status (downstream failures name the failed
//! datanode in `basalt-bad-datanode`). A stream that ends before its last packet (upstream error or EOF,
//! downstream failure, writer gone, superseded) while the local replica is intact keeps it *parked*, for a
//! resume or a recovery; a malformed packet, a checksum mismatch or a local IO error discards it.
//!
//! **Resume** (`header.resume`, pipeline recovery): the writer lost a node and continues with the survivors
//! under a newer generation stamp. An older writer of the block still running here is superseded (stopped
//! and parked, see [`super::recover`]); then the parked replica (or the finalized one, taken back and
//! reported deleted) is cut to `resume_offset` and continued: packets start at that offset, and the `last`
//! one finalizes under the new stamp. The header is forwarded downstream as received.

use super::downstream::{Downstream, DownstreamAcks};
use crate::config::MAX_CHUNK_SIZE;
use crate::context::Context;
use crate::error::DatanodeError;
use crate::nn_link::ReportedBlock;
use crate::store::{Replica, ReplicaWriter};
use basalt_common::{BlockId, GenStamp};
use basalt_metrics::Counter;
use basalt_proto::pb::{WriteAck, WriteHeader, WritePacket};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};
use tonic::{Status, Streaming};

/// Largest data payload of one packet: 1 MiB plus chunk alignment slack.
const MAX_PACKET_DATA: usize = 1024 * 1024;
/// Packets accepted but not yet acknowledged.
const ACK_WINDOW: usize = 64;
/// How long opening the stream to the downstream datanode may take (at most; less when acks are due sooner).
const OPEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// Packets queued for the disk writer.
const DISK_WINDOW: usize = 8;

/// One packet for the disk writer.
struct DiskJob {
    seqno: u64,
    offset: u64,
    data: bytes::Bytes,
    sums: Vec<u32>,
    last: bool,
    done: oneshot::Sender<Result<Option<Replica>, DatanodeError>>,
}

/// An accepted packet awaiting its acknowledgement.
struct PendingAck {
    seqno: u64,
    last: bool,
    local: oneshot::Receiver<Result<Option<Replica>, DatanodeError>>,
}

/// Serves one WriteBlock stream; acks (or the final error) go to `acks`.
pub async fn serve(
    ctx: Arc<Context>,
    mut inbound: Streaming<WritePacket>,
    acks: mpsc::Sender<Result<WriteAck, Status>>,
    bytes: Counter,
) {
    let _transfer = ctx.transfer_guard();
    if let Err(e) = pipeline(&ctx, &mut inbound, &acks, bytes).await {
        tracing::warn!(error = %e, "write pipeline failed");
        let _ = acks.send(Err(e.to_status())).await;
    }
}

async fn pipeline(
    ctx: &Arc<Context>,
    inbound: &mut Streaming<WritePacket>,
    acks: &mpsc::Sender<Result<WriteAck, Status>>,
    bytes: Counter,
) -> Result<(), DatanodeError> {
    let mut first = next_packet(inbound, None)
        .await?
        .ok_or(DatanodeError::BadStream { reason: "empty stream" })?;
    let header = first.header.take().ok_or(DatanodeError::BadStream {
        reason: "first packet has no header",
    })?;
    let eb = header.block.ok_or(DatanodeError::BadStream {
        reason: "header names no block",
    })?;
    let (block, genstamp) = (BlockId(eb.block_id), GenStamp(eb.gen_stamp));
    tracing::debug!(%block, %genstamp, downstream = header.downstream.len(), resume = header.resume, "write stream opened");

    let writer = open_replica(ctx, &header, block, genstamp).await?;
    let (chunk_size, start, superseded) = (writer.chunk_size(), writer.length(), writer.superseded());

    let (disk_tx, disk_rx) = mpsc::channel(DISK_WINDOW);
    let disk = tokio::task::spawn_blocking(move || disk_writer(writer, disk_rx));
    // Opening the downstream and the whole stream are given up at once for a newer stamp (a recovery waits
    // only STOP_WAIT for us); dropping `disk_tx` then hands the replica back for parking.
    let work = async {
        let (downstream, ds_acks) = match header.downstream.split_first() {
            None => (None, None),
            Some((next, rest)) => {
                let mut fwd = first.clone();
                fwd.header = Some(WriteHeader {
                    downstream: rest.to_vec(),
                    chunk_size,
                    ..header.clone()
                });
                let open_timeout = ctx.ack_timeout.min(OPEN_TIMEOUT);
                let (d, a) = tokio::time::timeout(
                    open_timeout,
                    Downstream::open(&ctx.connector, next, fwd, ctx.ack_timeout),
                )
                .await
                .unwrap_or_else(|_| {
                    Err(DatanodeError::DownstreamTimeout {
                        node: basalt_common::DatanodeId(next.id),
                        seqno: first.seqno,
                        secs: open_timeout.as_secs(),
                    })
                })?;
                (Some(d), Some(a))
            }
        };
        let (pending_tx, pending_rx) = mpsc::channel(ACK_WINDOW);
        let rx = Receiver {
            block,
            chunk_size,
            next_offset: start,
            last_seqno: None,
            partial: !start.is_multiple_of(chunk_size as u64),
            bytes,
        };
        tokio::try_join!(
            rx.run(first, inbound, downstream, disk_tx, pending_tx),
            respond(ctx, block, ds_acks, pending_rx, acks),
        )
        .map(|_| ())
    };
    let result = tokio::select! {
        r = work => r,
        by = superseded_by(superseded) => Err(DatanodeError::Superseded { block, genstamp, by }),
    };
    // The disk writer stops once its queue closes; settle its replica before answering. A stream that
    // failed on a malformed packet is not worth keeping.
    let malformed = matches!(
        result,
        Err(DatanodeError::BadPacket { .. } | DatanodeError::OutOfOrder { .. })
    );
    if let Ok(Some(writer)) = disk.await {
        release(writer, !malformed).await;
    }
    result
}

/// The writer of this stream's replica: a new one, or the resumed replica.
async fn open_replica(
    ctx: &Arc<Context>,
    header: &WriteHeader,
    block: BlockId,
    genstamp: GenStamp,
) -> Result<ReplicaWriter, DatanodeError> {
    if header.resume {
        let (offset, chunk_size) = (header.resume_offset, header.chunk_size);
        // A finalized replica taken back for the resume is reported deleted by `after_older_writer`.
        let writer = super::recover::after_older_writer(ctx, block, genstamp, move |s| {
            s.begin_resume(block, genstamp, offset, chunk_size)
        })
        .await?;
        tracing::info!(%block, %genstamp, offset, "write resumed");
        return Ok(writer);
    }
    let chunk_size = match header.chunk_size {
        0 => ctx.default_chunk_size,
        c if c > MAX_CHUNK_SIZE => {
            return Err(DatanodeError::BadStream {
                reason: "chunk size too large",
            });
        }
        c => c,
    };
    // A writer restarting a block afresh under a newer stamp (pipeline recovery before anything was
    // acknowledged) supersedes a stream of the older stamp still attached here.
    super::recover::after_older_writer(ctx, block, genstamp, move |s| {
        s.begin_write(block, genstamp, chunk_size)
    })
    .await
}

/// Settles the replica of a stream that ended before its last packet: parked if `keep`, else removed.
async fn release(writer: ReplicaWriter, keep: bool) {
    let (block, genstamp) = (writer.block(), writer.genstamp());
    let parked = tokio::task::spawn_blocking(move || if keep { writer.park() } else { Ok(None) }).await;
    match parked {
        Ok(Ok(Some(r))) => tracing::info!(%block, %genstamp, length = r.length, "unfinished replica parked"),
        Ok(Ok(None)) => tracing::debug!(%block, %genstamp, "unfinished replica discarded"),
        Ok(Err(e)) => tracing::warn!(%block, %genstamp, error = %e, "cannot park the unfinished replica"),
        Err(e) => tracing::warn!(%block, %genstamp, error = %e, "parking task failed"),
    }
}

/// The newer generation stamp once the writer is superseded; pending forever otherwise.
async fn superseded_by(mut superseded: watch::Receiver<Option<GenStamp>>) -> GenStamp {
    let by = superseded
        .wait_for(Option::is_some)
        .await
        .map(|by| by.unwrap_or_default());
    match by {
        Ok(by) => by,
        Err(_) => std::future::pending().await,
    }
}

/// Order and shape checks of incoming packets.
struct Receiver {
    block: BlockId,
    chunk_size: u32,
    next_offset: u64,
    last_seqno: Option<u64>,
    /// A packet with a partial chunk was seen: only an empty `last` packet may follow.
    partial: bool,
    /// Bytes received (the datanode's `block_bytes{op="write"}` of this stream's path).
    bytes: Counter,
}

impl Receiver {
    async fn run(
        mut self,
        first: WritePacket,
        inbound: &mut Streaming<WritePacket>,
        downstream: Option<Downstream>,
        disk: mpsc::Sender<DiskJob>,
        pending: mpsc::Sender<PendingAck>,
    ) -> Result<(), DatanodeError> {
        let mut packet = first;
        let mut is_first = true;
        loop {
            self.check(&packet)?;
            self.bytes.inc_by(packet.data.len() as u64);
            if let Some(d) = &downstream {
                let mut fwd = packet.clone();
                if !is_first {
                    fwd.header = None;
                }
                if is_first || d.send(fwd).await {
                    // The first packet was queued by Downstream::open.
                } else {
                    // The responder reports why, from the downstream's ack stream.
                    return Ok(());
                }
            }
            is_first = false;
            let (done, local) = oneshot::channel();
            let (seqno, last) = (packet.seqno, packet.last);
            let job = DiskJob {
                seqno,
                offset: packet.offset,
                data: packet.data,
                sums: packet.checksums,
                last,
                done,
            };
            if disk.send(job).await.is_err() || pending.send(PendingAck { seqno, last, local }).await.is_err() {
                return Ok(()); // the responder or the disk writer failed and reports it
            }
            if last {
                return Ok(());
            }
            packet = next_packet(inbound, Some(self.block))
                .await?
                .ok_or(DatanodeError::BadStream {
                    reason: "stream ended before the last packet",
                })?;
            if packet.header.is_some() {
                return Err(DatanodeError::BadPacket {
                    block: self.block,
                    seqno: packet.seqno,
                    reason: "repeated header",
                });
            }
        }
    }

    fn check(&mut self, p: &WritePacket) -> Result<(), DatanodeError> {
        let (block, seqno) = (self.block, p.seqno);
        let bad = |reason| Err(DatanodeError::BadPacket { block, seqno, reason });
        if self.last_seqno.is_some_and(|s| seqno <= s) {
            return bad("sequence number does not increase");
        }
        if p.offset != self.next_offset {
            return Err(DatanodeError::OutOfOrder {
                block,
                seqno,
                offset: p.offset,
                expected: self.next_offset,
            });
        }
        if p.data.len() > MAX_PACKET_DATA + self.chunk_size as usize {
            return bad("packet data too large");
        }
        if p.checksums.len() != p.data.len().div_ceil(self.chunk_size as usize) {
            return bad("checksum count does not match the data");
        }
        if self.partial && !p.data.is_empty() {
            return bad("data after a partial chunk");
        }
        self.partial |= !p.data.len().is_multiple_of(self.chunk_size as usize);
        self.last_seqno = Some(seqno);
        self.next_offset += p.data.len() as u64;
        Ok(())
    }
}

/// Sends acks upstream in order, once the local write and the downstream ack of a packet are both done.
async fn respond(
    ctx: &Arc<Context>,
    block: BlockId,
    mut downstream: Option<DownstreamAcks>,
    mut pending: mpsc::Receiver<PendingAck>,
    acks: &mpsc::Sender<Result<WriteAck, Status>>,
) -> Result<(), DatanodeError> {
    loop {
        let Some(p) = pending.recv().await else {
            // The receiver stopped early because the downstream went away: report why.
            return Err(match downstream {
                Some(d) => d.failure().await,
                None => DatanodeError::WriterStopped { block },
            });
        };
        let local = p.local.await.map_err(|_| DatanodeError::WriterStopped { block })??;
        if let Some(r) = local {
            ctx.reports.received(ReportedBlock {
                block: r.block,
                genstamp: r.genstamp,
                length: r.length,
            });
            tracing::info!(%block, genstamp = %r.genstamp, length = r.length, "block received");
        }
        let mut acked_by = vec![ctx.id.0];
        if let Some(d) = downstream.as_mut() {
            acked_by.extend(d.next(p.seqno).await?.acked_by);
        }
        if acks
            .send(Ok(WriteAck {
                seqno: p.seqno,
                acked_by,
            }))
            .await
            .is_err()
            || p.last
        {
            return Ok(());
        }
    }
}

/// The blocking disk side: verify, append, finalize on `last`. Stops at the first error, discarding the
/// replica. Returns the writer if the queue closed before the last packet with the replica intact.
fn disk_writer(writer: ReplicaWriter, mut jobs: mpsc::Receiver<DiskJob>) -> Option<ReplicaWriter> {
    let mut writer = Some(writer);
    while let Some(job) = jobs.blocking_recv() {
        let result = match writer.as_mut() {
            None => Err(DatanodeError::BadStream {
                reason: "packet after the last packet",
            }),
            Some(w) => w.append(job.seqno, job.offset, &job.data, &job.sums),
        };
        let result = match result {
            Ok(()) if job.last => writer.take().map(ReplicaWriter::finalize).transpose(),
            Ok(()) => Ok(None),
            Err(e) => Err(e),
        };
        let failed = result.is_err();
        let _ = job.done.send(result);
        if failed {
            return None; // dropping the writer discards the temp replica
        }
    }
    writer
}

/// The next packet from upstream; `None` when the stream ended.
async fn next_packet(
    inbound: &mut Streaming<WritePacket>,
    block: Option<BlockId>,
) -> Result<Option<WritePacket>, DatanodeError> {
    inbound.message().await.map_err(|source| DatanodeError::Upstream {
        block: block.unwrap_or_default(),
        source,
    })
}
