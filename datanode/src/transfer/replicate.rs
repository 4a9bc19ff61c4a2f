//! Executing a namenode's ReplicateBlock command: read the local replica (verified) and write it to the
//! targets as a pipeline, `targets[0]` first, exactly as a client would.
//!
//! Phases: open the local replica; open a write stream to `targets[0]` with `targets[1..]` downstream;
//! send 1 MiB packets while a concurrent loop collects the acks; succeed on the ack of the last packet.

use super::READ_PACKET;
use super::downstream::Downstream;
use crate::context::Context;
use crate::error::DatanodeError;
use basalt_common::{BlockId, GenStamp};
use basalt_proto::pb::{DatanodeInfo, ExtendedBlock, WriteHeader, WritePacket};
use std::sync::Arc;

/// Name a replication stream gives as its writer.
const CLIENT_NAME: &str = "basalt-datanode-replication";

/// Copies the local replica of `block` at `genstamp` to `targets`.
pub(crate) async fn replicate(
    ctx: Arc<Context>,
    block: BlockId,
    genstamp: GenStamp,
    targets: Vec<DatanodeInfo>,
) -> Result<(), DatanodeError> {
    let Some((first_target, rest)) = targets.split_first() else {
        return Ok(());
    };
    let _transfer = ctx.transfer_guard();
    let store = ctx.store.clone();
    let reader = Arc::new(
        tokio::task::spawn_blocking(move || store.open_reader(block, genstamp))
            .await
            .map_err(|source| DatanodeError::Task { source })??,
    );
    let replica = reader.replica().clone();
    let length = replica.length;
    let packets = length.div_ceil(READ_PACKET).max(1);
    let header = WriteHeader {
        block: Some(ExtendedBlock {
            block_id: block.0,
            gen_stamp: genstamp.0,
            length,
        }),
        downstream: rest.to_vec(),
        chunk_size: replica.chunk_size,
        client_name: CLIENT_NAME.to_string(),
        ..Default::default()
    };

    let read_packet = |seqno: u64| {
        let r = reader.clone();
        async move {
            let offset = seqno * READ_PACKET;
            let chunks = if length == 0 {
                None
            } else {
                let c = tokio::task::spawn_blocking(move || r.read(offset, READ_PACKET))
                    .await
                    .map_err(|source| DatanodeError::Task { source })??;
                Some(c)
            };
            let (data, checksums) = chunks.map(|c| (c.data, c.sums)).unwrap_or_default();
            Ok::<_, DatanodeError>(WritePacket {
                header: None,
                seqno,
                offset,
                data: data.into(),
                checksums,
                last: seqno + 1 == packets,
            })
        }
    };

    let mut first = read_packet(0).await?;
    first.header = Some(header);
    let (downstream, mut acks) = Downstream::open(&ctx.connector, first_target, first, ctx.ack_timeout).await?;
    let send = async {
        for seqno in 1..packets {
            if !downstream.send(read_packet(seqno).await?).await {
                return Ok(()); // the ack loop reports why
            }
        }
        Ok::<_, DatanodeError>(())
    };
    let receive = async {
        for seqno in 0..packets {
            acks.next(seqno).await?;
        }
        Ok::<_, DatanodeError>(())
    };
    tokio::try_join!(send, receive)?;
    tracing::info!(%block, %genstamp, targets = targets.len(), "block replicated");
    Ok(())
}
