//! [`Downstream`]: this datanode's own WriteBlock stream to the next datanode of a pipeline (also used to
//! push a replica to new targets on a ReplicateBlock command). Split into a packet sender and an ack
//! reader so forwarding and acknowledging run concurrently.

use crate::error::{DatanodeError, bad_datanode_of};
use basalt_common::{DatanodeId, ErrorKind, MAX_RPC_MESSAGE};
use basalt_proto::RemoteError;
use basalt_proto::link::{Channel, Connector};
use basalt_proto::pb::data_transfer_client::DataTransferClient;
use basalt_proto::pb::{DatanodeInfo, WriteAck, WritePacket};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Streaming;
use tonic::transport::Endpoint;

/// Packets buffered towards the downstream datanode.
const FORWARD_WINDOW: usize = 16;
/// HTTP/2 flow-control windows for bulk data streams.
pub const STREAM_WINDOW: u32 = 4 * 1024 * 1024;
pub const CONNECTION_WINDOW: u32 = 16 * 1024 * 1024;
/// Largest HTTP/2 frame accepted (the default 16 KiB costs a frame header per 16 KiB of data).
pub const MAX_FRAME: u32 = 1024 * 1024;

/// Opens a data transfer client to `addr` (`host:port`) through `connector`, with Basalt's message size
/// limits.
pub async fn connect(
    connector: &Connector,
    addr: &str,
) -> Result<DataTransferClient<Channel>, tonic::transport::Error> {
    let endpoint = Endpoint::from_shared(format!("http://{addr}"))?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_frame_size(MAX_FRAME);
    let channel = connector.connect(endpoint).await?;
    Ok(DataTransferClient::new(channel)
        .max_decoding_message_size(MAX_RPC_MESSAGE)
        .max_encoding_message_size(MAX_RPC_MESSAGE))
}

/// The sending half: forwards packets to the downstream datanode.
#[derive(Debug)]
pub struct Downstream {
    pub node: DatanodeId,
    tx: mpsc::Sender<WritePacket>,
}

/// The receiving half: the downstream datanode's acknowledgements, in order.
#[derive(Debug)]
pub struct DownstreamAcks {
    pub node: DatanodeId,
    acks: Streaming<WriteAck>,
    /// How long the node may take to acknowledge a packet before it is declared failed.
    timeout: Duration,
}

impl Downstream {
    /// Opens a write stream to `target` (through `connector`) whose first packet is `first` (it must carry
    /// the header); each acknowledgement must come within `timeout`.
    pub async fn open(
        connector: &Connector,
        target: &DatanodeInfo,
        first: WritePacket,
        timeout: Duration,
    ) -> Result<(Self, DownstreamAcks), DatanodeError> {
        let node = DatanodeId(target.id);
        let mut client =
            connect(connector, &target.addr)
                .await
                .map_err(|source| DatanodeError::DownstreamUnreachable {
                    node,
                    addr: target.addr.clone(),
                    source,
                })?;
        let (tx, rx) = mpsc::channel(FORWARD_WINDOW);
        // Queue the header before the call: a server may wait for it before answering.
        let _ = tx.try_send(first);
        let acks = client
            .write_block(ReceiverStream::new(rx))
            .await
            .map_err(|status| failed(node, &status))?
            .into_inner();
        Ok((Downstream { node, tx }, DownstreamAcks { node, acks, timeout }))
    }

    /// Forwards a packet; `false` if the downstream stream is gone (its ack stream says why).
    pub async fn send(&self, packet: WritePacket) -> bool {
        self.tx.send(packet).await.is_ok()
    }
}

impl DownstreamAcks {
    /// Waits for the acknowledgement of `seqno`, which must be the next one.
    pub async fn next(&mut self, seqno: u64) -> Result<WriteAck, DatanodeError> {
        let node = self.node;
        let msg = tokio::time::timeout(self.timeout, self.acks.message())
            .await
            .map_err(|_| DatanodeError::DownstreamTimeout {
                node,
                seqno,
                secs: self.timeout.as_secs(),
            })?;
        match msg {
            Ok(Some(ack)) if ack.seqno == seqno => Ok(ack),
            Ok(Some(ack)) => Err(DatanodeError::DownstreamAckOrder {
                node,
                expected: seqno,
                got: ack.seqno,
            }),
            Ok(None) => Err(closed_early(node, seqno)),
            Err(status) => Err(failed(node, &status)),
        }
    }

    /// Why the downstream stopped accepting packets: its final status, or a timeout.
    pub async fn failure(mut self) -> DatanodeError {
        let (node, timeout) = (self.node, self.timeout);
        match tokio::time::timeout(timeout, async {
            loop {
                match self.acks.message().await {
                    Ok(Some(_)) => continue,
                    Ok(None) => return closed_early(node, u64::MAX),
                    Err(status) => return failed(node, &status),
                }
            }
        })
        .await
        {
            Ok(e) => e,
            Err(_) => DatanodeError::DownstreamTimeout {
                node,
                seqno: u64::MAX,
                secs: timeout.as_secs(),
            },
        }
    }
}

/// The error for a failed downstream call: the deepest datanode it blames, with its kind and message.
fn failed(node: DatanodeId, status: &tonic::Status) -> DatanodeError {
    let blamed = bad_datanode_of(status);
    let remote = RemoteError::from(status.clone());
    let kind = match remote.kind {
        // Failures inside the downstream node are failures of that node, as far as the writer can tell.
        ErrorKind::Internal | ErrorKind::Unavailable => ErrorKind::Unavailable,
        k => k,
    };
    DatanodeError::DownstreamFailed {
        node: blamed.unwrap_or(node),
        kind,
        message: remote.message,
    }
}

fn closed_early(node: DatanodeId, seqno: u64) -> DatanodeError {
    let message = if seqno == u64::MAX {
        "closed its stream early".to_string()
    } else {
        format!("closed its stream before acknowledging packet {seqno}")
    };
    DatanodeError::DownstreamFailed {
        node,
        kind: ErrorKind::Unavailable,
        message,
    }
}
