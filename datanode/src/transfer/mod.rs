//! The `DataTransfer` gRPC service: the write pipeline and its resume after a pipeline failure ([`write`]),
//! block reads ([`read`]), the short-circuit path lookup and replica recovery ([`recover`]). [`downstream`]
//! is the client side of a pipeline hop, shared with replication ([`replicate`]). Errors become statuses
//! here, through [`DatanodeError::to_status`].

pub mod downstream;
mod read;
mod recover;
pub(crate) mod replicate;
mod write;

pub use read::READ_PACKET;
pub(crate) use read::quarantine;

use crate::context::Context;
use crate::error::DatanodeError;
use crate::metrics::BytePath;
use basalt_common::{BlockId, GenStamp};
use basalt_proto::pb::data_transfer_server::DataTransfer;
use basalt_proto::pb::{
    LocalPathRequest, LocalPathResponse, ReadBlockRequest, ReadPacket, RecoverReplicaRequest, RecoverReplicaResponse,
    WriteAck, WritePacket,
};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

/// Whether a request's peer is on this host.
fn byte_path<T>(request: &Request<T>) -> BytePath {
    BytePath::of(request.remote_addr(), request.local_addr())
}

/// Acks buffered towards the writer.
const ACK_BUFFER: usize = 64;

/// The service implementation; one per datanode.
#[derive(Debug, Clone)]
pub(crate) struct DataTransferService {
    ctx: Arc<Context>,
}

impl DataTransferService {
    pub fn new(ctx: Arc<Context>) -> Self {
        DataTransferService { ctx }
    }
}

#[tonic::async_trait]
impl DataTransfer for DataTransferService {
    type WriteBlockStream = ReceiverStream<Result<WriteAck, Status>>;
    type ReadBlockStream = ReceiverStream<Result<ReadPacket, Status>>;

    async fn write_block(
        &self,
        request: Request<Streaming<WritePacket>>,
    ) -> Result<Response<Self::WriteBlockStream>, Status> {
        // Answer at once and run the pipeline in its own task: errors, even about the header, arrive as the
        // stream's status, and a writer that waits for the response before sending works too.
        let (tx, rx) = mpsc::channel(ACK_BUFFER);
        let bytes = self.ctx.metrics.written_bytes(byte_path(&request));
        tokio::spawn(write::serve(self.ctx.clone(), request.into_inner(), tx, bytes));
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn read_block(&self, request: Request<ReadBlockRequest>) -> Result<Response<Self::ReadBlockStream>, Status> {
        let bytes = self.ctx.metrics.read_bytes(byte_path(&request));
        let rx = read::open(self.ctx.clone(), request.into_inner(), bytes).await?;
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn get_local_path(&self, request: Request<LocalPathRequest>) -> Result<Response<LocalPathResponse>, Status> {
        let eb = request.into_inner().block.ok_or(DatanodeError::BadStream {
            reason: "request names no block",
        })?;
        let replica = self.ctx.store.lookup(BlockId(eb.block_id), GenStamp(eb.gen_stamp))?;
        // The client reads the files itself: counted as read when their paths are handed out.
        self.ctx
            .metrics
            .read_bytes(BytePath::ShortCircuit)
            .inc_by(replica.length);
        Ok(Response::new(LocalPathResponse {
            data_path: replica.data_path.to_string_lossy().into_owned(),
            meta_path: replica.meta_path.to_string_lossy().into_owned(),
            length: replica.length,
            host_id: self.ctx.host_id.clone(),
        }))
    }

    async fn recover_replica(
        &self,
        request: Request<RecoverReplicaRequest>,
    ) -> Result<Response<RecoverReplicaResponse>, Status> {
        let response = recover::recover_replica(&self.ctx, request.into_inner())
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "replica recovery failed"))?;
        Ok(Response::new(response))
    }
}
