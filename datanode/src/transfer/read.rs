//! ReadBlock: streams chunk-aligned, verified packets of a finalized replica. A checksum mismatch ends the
//! stream with a Corrupt status, moves the replica aside and reports it deleted, so the namenode
//! re-replicates it from a good copy.

use crate::context::Context;
use crate::error::DatanodeError;
use crate::nn_link::ReportedBlock;
use crate::store::{ReadChunks, ReplicaReader};
use basalt_common::{BlockId, GenStamp};
use basalt_metrics::Counter;
use basalt_proto::pb::{ReadBlockRequest, ReadPacket};
use std::sync::Arc;
use tokio::sync::mpsc;
use tonic::Status;

/// Data per read packet.
pub const READ_PACKET: u64 = 1024 * 1024;
/// Packets read ahead of the network.
const READ_AHEAD: usize = 4;

/// Checks the request, opens the replica and returns the packet stream.
pub async fn open(
    ctx: Arc<Context>,
    req: ReadBlockRequest,
    bytes: Counter,
) -> Result<mpsc::Receiver<Result<ReadPacket, Status>>, DatanodeError> {
    let eb = req.block.ok_or(DatanodeError::BadStream {
        reason: "read request names no block",
    })?;
    let (block, genstamp) = (BlockId(eb.block_id), GenStamp(eb.gen_stamp));
    let store = ctx.store.clone();
    let reader = tokio::task::spawn_blocking(move || store.open_reader(block, genstamp))
        .await
        .map_err(|source| DatanodeError::Task { source })??;
    let length = reader.replica().length;
    if req.offset > length {
        return Err(DatanodeError::OffsetBeyondEnd {
            block,
            offset: req.offset,
            length,
        });
    }
    let end = match req.length {
        0 => length,
        n => req.offset.saturating_add(n).min(length),
    };
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    tokio::spawn(stream(ctx, Arc::new(reader), req.offset, end, tx, bytes));
    Ok(rx)
}

async fn stream(
    ctx: Arc<Context>,
    reader: Arc<ReplicaReader>,
    mut offset: u64,
    end: u64,
    tx: mpsc::Sender<Result<ReadPacket, Status>>,
    bytes: Counter,
) {
    let _transfer = ctx.transfer_guard();
    let replica = reader.replica().clone();
    let packet = |c: ReadChunks| ReadPacket {
        offset: c.offset,
        data: c.data.into(),
        checksums: c.sums,
        chunk_size: replica.chunk_size,
        block_length: replica.length,
    };
    if offset >= end {
        // Nothing to read: one empty packet still tells the reader the block's length.
        let _ = tx
            .send(Ok(packet(ReadChunks {
                offset,
                data: Vec::new(),
                sums: Vec::new(),
            })))
            .await;
        return;
    }
    while offset < end {
        let r = reader.clone();
        let want = (end - offset).min(READ_PACKET);
        let result = tokio::task::spawn_blocking(move || r.read(offset, want))
            .await
            .unwrap_or_else(|source| Err(DatanodeError::Task { source }));
        match result {
            Ok(chunks) => {
                offset = chunks.offset + chunks.data.len() as u64;
                bytes.inc_by(chunks.data.len() as u64);
                if tx.send(Ok(packet(chunks))).await.is_err() {
                    return; // the reader went away
                }
            }
            Err(e) => {
                tracing::warn!(block = %replica.block, error = %e, "block read failed");
                if e.kind() == basalt_common::ErrorKind::Corrupt {
                    quarantine(&ctx, replica.block, replica.genstamp).await;
                }
                let _ = tx.send(Err(e.to_status())).await;
                return;
            }
        }
    }
}

/// Moves a corrupt replica aside and reports it corrupt to the namenodes (which copy a good one back).
pub(crate) async fn quarantine(ctx: &Arc<Context>, block: BlockId, genstamp: GenStamp) {
    let store = ctx.store.clone();
    if let Ok(Some(r)) = tokio::task::spawn_blocking(move || store.quarantine(block, genstamp)).await {
        ctx.reports.corrupt(ReportedBlock {
            block,
            genstamp,
            length: r.length,
        });
    }
}
