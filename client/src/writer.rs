//! Writing a file: blocks streamed down a datanode pipeline.
//!
//! Phases of one block:
//! 1. `AddBlock` at the namenode (reporting the previous block's final length) returns a new block id
//!    and a pipeline of datanodes chosen by placement.
//! 2. Packets of up to 1 MiB (whole checksum chunks, one CRC32C each) go to the first datanode, which
//!    persists and forwards them; up to [`WINDOW`] packets are in flight while acks flow back.
//! 3. The block's last packet is marked `last`; its ack arrives only once every pipeline node has
//!    fsynced and finalized the replica.
//!
//! [`FileWriter::close`] finishes the open block and sends `Complete`: when it returns, the file's
//! bytes are durable on every pipeline node.

use crate::error::{ClientError, Result};
use crate::fs::{FileStatus, Inner};
use crate::namenode::nn_call;
use basalt_common::BlockId;
use basalt_common::checksum::{DEFAULT_CHUNK_SIZE, chunk_checksums};
use basalt_proto::{RemoteError, pb};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;

/// Packets in flight per block before the writer waits for acks.
pub const WINDOW: usize = 16;
/// Target packet payload.
pub const PACKET_BYTES: usize = 1 << 20;

struct OpenBlock {
    block: pb::ExtendedBlock,
    downstream: Vec<pb::DatanodeInfo>,
    tx: mpsc::Sender<pb::WritePacket>,
    /// Ends with the highest sequence number the whole pipeline acknowledged.
    acks: JoinHandle<Result<Option<u64>>>,
    next_seqno: u64,
    /// Bytes sent for this block.
    sent: u64,
}

/// A file being written. Dropping it without [`close`](FileWriter::close) leaves the file open
/// (under construction) with whatever blocks were finished.
pub struct FileWriter {
    inner: Arc<Inner>,
    path: String,
    block_size: u64,
    chunk_size: u32,
    packet_size: usize,
    buf: Vec<u8>,
    block: Option<OpenBlock>,
    previous: Option<pb::ExtendedBlock>,
    state: State,
    written: u64,
}

#[derive(PartialEq, Eq)]
enum State {
    Open,
    Closed,
    Failed,
}

impl FileWriter {
    pub(crate) fn new(inner: Arc<Inner>, status: FileStatus) -> Self {
        inner.open_writers.fetch_add(1, Ordering::Relaxed);
        let chunk_size = DEFAULT_CHUNK_SIZE.min(status.block_size as u32).max(1);
        let packet_size = (PACKET_BYTES / chunk_size as usize).max(1) * chunk_size as usize;
        FileWriter {
            inner,
            path: status.path,
            block_size: status.block_size,
            chunk_size,
            packet_size,
            buf: Vec::with_capacity(packet_size),
            block: None,
            previous: None,
            state: State::Open,
            written: 0,
        }
    }

    /// Bytes accepted so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// Appends `data` to the file.
    pub async fn write(&mut self, mut data: &[u8]) -> Result<()> {
        if self.state != State::Open {
            return Err(ClientError::WriterClosed);
        }
        while !data.is_empty() {
            let in_block = self.block.as_ref().map_or(0, |b| b.sent) + self.buf.len() as u64;
            let room = (self.packet_size - self.buf.len()).min((self.block_size - in_block) as usize);
            let n = room.min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            self.written += n as u64;
            let block_full = in_block + n as u64 == self.block_size;
            if block_full || self.buf.len() == self.packet_size {
                let res = self.send_packet(block_full).await;
                self.fail_on_err(res)?;
            }
        }
        Ok(())
    }

    /// Finishes the last block and closes the file.
    pub async fn close(mut self) -> Result<()> {
        if self.state != State::Open {
            return Err(ClientError::WriterClosed);
        }
        if self.block.is_some() || !self.buf.is_empty() {
            let res = self.send_packet(true).await;
            self.fail_on_err(res)?;
        }
        let req = pb::CompleteRequest {
            path: self.path.clone(),
            client_name: self.inner.name.clone(),
            last: self.previous,
            request_id: Inner::request_id(),
        };
        nn_call!(self.inner.nn, complete, req)?;
        self.state = State::Closed;
        Ok(())
    }

    fn fail_on_err(&mut self, res: Result<()>) -> Result<()> {
        if res.is_err() {
            self.state = State::Failed;
        }
        res
    }

    /// Sends the buffered bytes as one packet; `last` finishes the block.
    async fn send_packet(&mut self, last: bool) -> Result<()> {
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(self.packet_size));
        let checksums = chunk_checksums(&data, self.chunk_size);
        let len = data.len() as u64;
        if self.block.is_none() {
            self.open_block().await?;
        }
        let b = self.block.as_mut().expect("opened above");
        let packet = pb::WritePacket {
            header: None,
            seqno: b.next_seqno,
            offset: b.sent,
            data,
            checksums,
            last,
        };
        let packet = if b.next_seqno == 0 {
            pb::WritePacket {
                header: Some(pb::WriteHeader {
                    block: Some(b.block),
                    downstream: b.downstream.clone(),
                    chunk_size: self.chunk_size,
                    client_name: self.inner.name.clone(),
                }),
                ..packet
            }
        } else {
            packet
        };
        b.next_seqno += 1;
        b.sent += len;
        if b.tx.send(packet).await.is_err() {
            // The stream ended early: the ack task has the reason.
            let b = self.block.take().expect("open");
            return Err(pipeline_result(b).await.err().unwrap_or(ClientError::Pipeline {
                block: BlockId(0),
                reason: "the pipeline closed the stream".into(),
            }));
        }
        if last {
            let b = self.block.take().expect("open");
            let mut finished = b.block;
            finished.length = b.sent;
            pipeline_result(b).await?;
            self.previous = Some(finished);
        }
        Ok(())
    }

    async fn open_block(&mut self) -> Result<()> {
        let req = pb::AddBlockRequest {
            path: self.path.clone(),
            client_name: self.inner.name.clone(),
            previous: self.previous,
            exclude: Vec::new(),
            writer_host: String::new(),
            request_id: Inner::request_id(),
        };
        let resp = nn_call!(self.inner.nn, add_block, req)?;
        let located = resp.block.expect("namenode returns a block");
        let block = located.block.expect("located block has a block");
        let first = located.locations.first().ok_or_else(|| ClientError::Pipeline {
            block: BlockId(block.block_id),
            reason: "the namenode returned no datanodes".into(),
        })?;
        let (tx, rx) = mpsc::channel::<pb::WritePacket>(WINDOW);
        let expected_acks = located.locations.len();
        let mut dn = self.inner.dns.client(&first.addr)?;
        let block_id = BlockId(block.block_id);
        let first_addr = first.addr.clone();
        let downstream = located.locations[1..].to_vec();
        // The call runs in its own task: the request stream must flow while we wait for the response.
        let acks = tokio::spawn(async move {
            let pipeline_err = |reason: String| ClientError::Pipeline {
                block: block_id,
                reason,
            };
            let mut last_acked = None;
            let mut stream = dn
                .write_block(ReceiverStream::new(rx))
                .await
                .map_err(|s| pipeline_err(format!("{first_addr}: {}", RemoteError::from(s))))?
                .into_inner();
            loop {
                match stream.message().await {
                    Ok(Some(ack)) => {
                        if ack.acked_by.len() != expected_acks {
                            return Err(pipeline_err(format!(
                                "packet {} acknowledged by {} of {} datanodes",
                                ack.seqno,
                                ack.acked_by.len(),
                                expected_acks
                            )));
                        }
                        last_acked = Some(ack.seqno);
                    }
                    Ok(None) => return Ok(last_acked),
                    Err(s) => return Err(pipeline_err(format!("{first_addr}: {}", RemoteError::from(s)))),
                }
            }
        });
        self.block = Some(OpenBlock {
            block,
            downstream,
            tx,
            acks,
            next_seqno: 0,
            sent: 0,
        });
        Ok(())
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        self.inner.open_writers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Waits for the pipeline to acknowledge everything sent and end the stream.
async fn pipeline_result(b: OpenBlock) -> Result<()> {
    drop(b.tx);
    let block = BlockId(b.block.block_id);
    let expected = b.next_seqno.checked_sub(1);
    match b.acks.await {
        Ok(Ok(acked)) if acked == expected => Ok(()),
        Ok(Ok(acked)) => Err(ClientError::Pipeline {
            block,
            reason: format!("the pipeline acknowledged packets up to {acked:?} of {expected:?}"),
        }),
        Ok(Err(e)) => Err(e),
        Err(e) => Err(ClientError::Pipeline {
            block,
            reason: e.to_string(),
        }),
    }
}
