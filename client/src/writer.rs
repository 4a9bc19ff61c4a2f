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
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};
use tokio::io::AsyncWrite;
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

/// A file being written. Dropping it without [`close`](FileWriter::close) (or `shutdown` through
/// [`AsyncWrite`]) leaves the file open (under construction) with whatever blocks were finished.
///
/// Two interfaces: the inherent async [`write`](FileWriter::write) and [`close`](FileWriter::close),
/// and `tokio::io::AsyncWrite` (so `tokio::io::copy` works), where `poll_shutdown` closes the file.
pub struct FileWriter {
    /// `None` while a packet flush or the close runs as `pending`.
    core: Option<WriterCore>,
    pending: Option<Pending>,
    inner: Arc<Inner>,
}

type Pending = Pin<Box<dyn Future<Output = (WriterCore, Result<()>)> + Send>>;

/// The writer's state, owned by whichever future is working on it.
struct WriterCore {
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
        FileWriter {
            core: Some(WriterCore::new(inner.clone(), status)),
            pending: None,
            inner,
        }
    }

    /// The core, once no flush is pending.
    async fn core(&mut self) -> &mut WriterCore {
        if let Some(p) = self.pending.take() {
            let (core, res) = p.await;
            if res.is_err() {
                tracing::debug!("a buffered write failed; the writer is failed");
            }
            self.core = Some(core);
        }
        self.core.as_mut().expect("core present when nothing is pending")
    }

    /// Bytes accepted so far.
    pub fn written(&self) -> u64 {
        self.core.as_ref().map_or(0, |c| c.written)
    }

    /// Appends `data` to the file.
    pub async fn write(&mut self, mut data: &[u8]) -> Result<()> {
        let core = self.core().await;
        core.check_open()?;
        while !data.is_empty() {
            let (n, flush) = core.accept(data);
            data = &data[n..];
            if let Some(last) = flush {
                let res = core.send_packet(last).await;
                core.fail_on_err(res)?;
            }
        }
        Ok(())
    }

    /// Finishes the last block and closes the file: when this returns, every byte written is durable
    /// on every pipeline datanode and the file is visible at its full length.
    pub async fn close(mut self) -> Result<()> {
        self.core().await.finish().await
    }

    /// Drives a pending flush; its error, if any, surfaces here.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if let Some(p) = self.pending.as_mut() {
            let (core, res) = ready!(p.as_mut().poll(cx));
            self.pending = None;
            self.core = Some(core);
            return Poll::Ready(res);
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for FileWriter {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx)).map_err(io::Error::other)?;
        let core = this.core.as_mut().expect("no flush pending");
        core.check_open().map_err(io::Error::other)?;
        let (n, flush) = core.accept(buf);
        if let Some(last) = flush {
            let mut core = this.core.take().expect("present");
            this.pending = Some(Box::pin(async move {
                let res = core.send_packet(last).await;
                let res = core.fail_on_err(res);
                (core, res)
            }));
        }
        Poll::Ready(Ok(n))
    }

    /// Waits for packets already handed to the pipeline; a partial chunk stays buffered until more data
    /// or the close (a block's chunks are whole except its last).
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_pending(cx).map_err(io::Error::other)
    }

    /// Closes the file (see [`FileWriter::close`]).
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx)).map_err(io::Error::other)?;
        if this.core.as_ref().is_some_and(|c| c.state == State::Closed) {
            return Poll::Ready(Ok(()));
        }
        let mut core = this.core.take().expect("no flush pending");
        this.pending = Some(Box::pin(async move {
            let res = core.finish().await;
            (core, res)
        }));
        this.poll_pending(cx).map_err(io::Error::other)
    }
}

impl WriterCore {
    fn new(inner: Arc<Inner>, status: FileStatus) -> Self {
        let chunk_size = DEFAULT_CHUNK_SIZE.min(status.block_size as u32).max(1);
        let packet_size = (PACKET_BYTES / chunk_size as usize).max(1) * chunk_size as usize;
        WriterCore {
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

    fn check_open(&self) -> Result<()> {
        match self.state {
            State::Open => Ok(()),
            State::Closed | State::Failed => Err(ClientError::WriterClosed),
        }
    }

    /// Buffers as much of `data` as fits the current packet and block. Returns the bytes taken and,
    /// when the packet must go now, whether it ends the block.
    fn accept(&mut self, data: &[u8]) -> (usize, Option<bool>) {
        let in_block = self.block.as_ref().map_or(0, |b| b.sent) + self.buf.len() as u64;
        let room = (self.packet_size - self.buf.len()).min((self.block_size - in_block) as usize);
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        self.written += n as u64;
        let block_full = in_block + n as u64 == self.block_size;
        let flush = (block_full || self.buf.len() == self.packet_size).then_some(block_full);
        (n, flush)
    }

    /// Sends what is buffered as the end of the last block, then `Complete` at the namenode.
    async fn finish(&mut self) -> Result<()> {
        self.check_open()?;
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
        let res = nn_call!(self.inner.nn, complete, req).map(|_| ());
        self.fail_on_err(res)?;
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
            data: data.into(),
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
                    ..Default::default()
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
            let block = BlockId(b.block.block_id);
            return Err(pipeline_result(b).await.err().unwrap_or(ClientError::Pipeline {
                block,
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
