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
//!
//! **Pipeline recovery.** Packets stay queued until the whole pipeline acknowledged them. When a
//! pipeline datanode fails (the stream ends with an error naming it, or the first node is unreachable),
//! the writer drops that node, asks the namenode for a new generation stamp for the block
//! (`UpdatePipeline`: replicas left on the lost node are then recognisably stale), reopens the stream to
//! the survivors with `resume` at the first unacknowledged byte, and resends every unacknowledged
//! packet. The write fails only when no pipeline node is left. The namenode restores the replication
//! factor once the file is closed; later blocks avoid the nodes that failed.

use crate::error::{ClientError, Result, required};
use crate::fs::{FileStatus, Inner};
use crate::namenode::{CallerId, nn_call};
use basalt_common::checksum::{DEFAULT_CHUNK_SIZE, chunk_checksums};
use basalt_common::{BlockId, ErrorKind};
use basalt_proto::status::bad_datanode_of;
use basalt_proto::{RemoteError, pb};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::AsyncWrite;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;

/// Packets in flight per block before the writer waits for acks.
pub const WINDOW: usize = 16;
/// Target packet payload.
pub const PACKET_BYTES: usize = 1 << 20;
/// Packets sent and not yet acknowledged (kept for a recovery) before the writer waits for acks.
const MAX_UNACKED: usize = 2 * WINDOW;
/// How often the ack task checks for a stalled pipeline.
const ACK_CHECK: Duration = Duration::from_secs(1);

struct OpenBlock {
    block: pb::ExtendedBlock,
    /// Every node of the current pipeline; the stream goes to the first.
    pipeline: Vec<pb::DatanodeInfo>,
    stream: Stream,
    /// Packets sent and not known to be acknowledged, oldest first: what a recovery resends.
    unacked: VecDeque<pb::WritePacket>,
    next_seqno: u64,
    /// Bytes sent for this block.
    sent: u64,
}

/// One WriteBlock stream of a block (a recovery opens another).
struct Stream {
    /// `None` once the stream was ended.
    tx: Option<mpsc::Sender<pb::WritePacket>>,
    /// The ack task: why the pipeline failed, if it did.
    acks: JoinHandle<Option<Failure>>,
    progress: Arc<Progress>,
    /// The header the stream's first packet carries (with the resume offset after a recovery).
    header: Option<pb::WriteHeader>,
}

/// What the ack task shares with the writer.
#[derive(Default)]
struct Progress {
    /// One past the highest sequence number the whole pipeline acknowledged.
    acked: AtomicU64,
    /// One past the highest sequence number handed to the stream.
    sent: AtomicU64,
    /// Set (before `changed` is signalled) when the stream has ended.
    ended: AtomicBool,
    /// Signalled on every acknowledgement and when the stream ends.
    changed: Notify,
}

/// Why a pipeline failed, and the node to blame (`None`: the first node, or its connection).
#[derive(Debug)]
struct Failure {
    reason: String,
    bad: Option<u64>,
    /// The pipeline refused the data itself (a bad request): recovering would fail the same way.
    fatal: bool,
}

impl Failure {
    /// A stream that stopped taking packets without saying why.
    fn closed() -> Self {
        Failure {
            reason: "the pipeline closed the stream".into(),
            bad: None,
            fatal: false,
        }
    }
}

impl OpenBlock {
    /// Forgets packets the pipeline acknowledged.
    fn prune(&mut self) {
        let acked = self.stream.progress.acked.load(Ordering::Acquire);
        while self.unacked.front().is_some_and(|p| p.seqno < acked) {
            self.unacked.pop_front();
        }
    }

    /// Queues a packet on the stream (with the header if it opens it); false when the stream ended.
    async fn push(&mut self, mut packet: pb::WritePacket) -> bool {
        let Some(tx) = &self.stream.tx else { return false };
        packet.header = self.stream.header.take();
        let seqno = packet.seqno;
        let ok = tx.send(packet).await.is_ok();
        self.stream.progress.sent.fetch_max(seqno + 1, Ordering::AcqRel);
        ok
    }

    /// Waits until fewer than [`MAX_UNACKED`] packets await acknowledgement (or the stream ended).
    async fn wait_for_room(&mut self) {
        loop {
            let progress = self.stream.progress.clone();
            let changed = progress.changed.notified();
            self.prune();
            if self.unacked.len() < MAX_UNACKED || progress.ended.load(Ordering::Acquire) {
                return;
            }
            changed.await;
        }
    }

    /// Ends the stream and waits for its ack task (once per stream); `None` when every packet sent was
    /// acknowledged.
    async fn outcome(&mut self) -> Option<Failure> {
        drop(self.stream.tx.take());
        let failure = (&mut self.stream.acks).await.unwrap_or_else(|e| {
            Some(Failure {
                reason: e.to_string(),
                bad: None,
                fatal: false,
            })
        });
        let acked = self.stream.progress.acked.load(Ordering::Acquire);
        failure.or_else(|| {
            (acked != self.next_seqno).then(|| Failure {
                reason: format!(
                    "the pipeline acknowledged packets up to {:?} of {:?}",
                    acked.checked_sub(1),
                    self.next_seqno.checked_sub(1)
                ),
                bad: None,
                fatal: false,
            })
        })
    }
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
    caller: CallerId,
    path: String,
    block_size: u64,
    chunk_size: u32,
    packet_size: usize,
    buf: Vec<u8>,
    block: Option<OpenBlock>,
    previous: Option<pb::ExtendedBlock>,
    state: State,
    written: u64,
    /// Datanodes that failed in a pipeline of this writer: later blocks avoid them.
    excluded: Vec<u64>,
}

#[derive(PartialEq, Eq)]
enum State {
    Open,
    Closed,
    Failed,
}

impl FileWriter {
    pub(crate) fn new(inner: Arc<Inner>, caller: CallerId, status: FileStatus) -> Self {
        inner.open_writers.fetch_add(1, Ordering::Relaxed);
        FileWriter {
            core: Some(WriterCore::new(inner.clone(), caller, status)),
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
    fn new(inner: Arc<Inner>, caller: CallerId, status: FileStatus) -> Self {
        let chunk_size = DEFAULT_CHUNK_SIZE.min(status.block_size as u32).max(1);
        let packet_size = (PACKET_BYTES / chunk_size as usize).max(1) * chunk_size as usize;
        WriterCore {
            inner,
            caller,
            path: status.path,
            block_size: status.block_size,
            chunk_size,
            packet_size,
            buf: Vec::with_capacity(packet_size),
            block: None,
            previous: None,
            state: State::Open,
            written: 0,
            excluded: Vec::new(),
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
        let res = nn_call!(self.inner.nn, &self.caller, complete, req).map(|_| ());
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

    /// Sends the buffered bytes as one packet; `last` finishes the block (and waits for its acks).
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
        b.next_seqno += 1;
        b.sent += len;
        b.wait_for_room().await;
        b.unacked.push_back(packet.clone());
        if !b.push(packet).await {
            // The stream ended early: its ack task has the reason.
            let mut b = self.block.take().expect("open");
            let failure = b.outcome().await.unwrap_or_else(Failure::closed);
            self.recover(b, failure).await?;
        }
        if !last {
            return Ok(());
        }
        loop {
            let mut b = self.block.take().expect("open");
            let Some(failure) = b.outcome().await else {
                let mut finished = b.block;
                finished.length = b.sent;
                self.previous = Some(finished);
                return Ok(());
            };
            self.recover(b, failure).await?;
        }
    }

    /// Pipeline recovery (see the module docs): on return, `self.block` is a stream to the surviving
    /// nodes that has been handed every unacknowledged packet again.
    async fn recover(&mut self, mut b: OpenBlock, mut failure: Failure) -> Result<()> {
        let block_id = BlockId(b.block.block_id);
        loop {
            if failure.fatal {
                return Err(ClientError::Pipeline {
                    block: block_id,
                    reason: failure.reason,
                });
            }
            let bad = failure.bad.unwrap_or(b.pipeline[0].id);
            let survivors: Vec<pb::DatanodeInfo> = b.pipeline.iter().filter(|d| d.id != bad).cloned().collect();
            if !self.excluded.contains(&bad) {
                self.excluded.push(bad);
            }
            if survivors.is_empty() || survivors.len() == b.pipeline.len() {
                return Err(ClientError::Pipeline {
                    block: block_id,
                    reason: format!("no datanode of the pipeline is left: {}", failure.reason),
                });
            }
            tracing::warn!(
                block = %block_id,
                bad,
                survivors = survivors.len(),
                reason = %failure.reason,
                "pipeline datanode failed; recovering the pipeline"
            );
            let req = pb::UpdatePipelineRequest {
                path: self.path.clone(),
                client_name: self.inner.name.clone(),
                block: Some(b.block),
                pipeline: survivors.iter().map(|d| d.id).collect(),
                request_id: Inner::request_id(),
            };
            let located = required(
                nn_call!(self.inner.nn, &self.caller, update_pipeline, req)?.block,
                "located block",
            )?;
            let mut block = required(located.block, "block in a located block")?;
            block.length = 0;
            b.prune();
            // Nothing acknowledged yet: the survivors may hold nothing either, so the block starts afresh.
            let resume_offset = b.unacked.front().map_or(b.sent, |p| p.offset);
            b.stream = self.start_stream(block, &located.locations, resume_offset)?;
            b.block = block;
            b.pipeline = located.locations;
            let mut resend: Vec<pb::WritePacket> = b.unacked.iter().cloned().collect();
            if resend.is_empty() {
                // Everything was acknowledged: a header-only packet opens the resumed stream.
                resend.push(pb::WritePacket {
                    seqno: b.next_seqno,
                    offset: b.sent,
                    ..Default::default()
                });
                b.next_seqno += 1;
            }
            let mut ok = true;
            for p in resend {
                if !b.push(p).await {
                    ok = false;
                    break;
                }
            }
            if ok {
                self.block = Some(b);
                return Ok(());
            }
            failure = b.outcome().await.unwrap_or_else(Failure::closed);
        }
    }

    async fn open_block(&mut self) -> Result<()> {
        let req = pb::AddBlockRequest {
            path: self.path.clone(),
            client_name: self.inner.name.clone(),
            previous: self.previous,
            exclude: self.excluded.clone(),
            writer_host: String::new(),
            request_id: Inner::request_id(),
        };
        let resp = nn_call!(self.inner.nn, &self.caller, add_block, req)?;
        let located = required(resp.block, "located block")?;
        let block = required(located.block, "block in a located block")?;
        self.block = Some(OpenBlock {
            block,
            stream: self.start_stream(block, &located.locations, 0)?,
            pipeline: located.locations,
            unacked: VecDeque::new(),
            next_seqno: 0,
            sent: 0,
        });
        Ok(())
    }

    /// Opens a WriteBlock stream of `block` to `pipeline[0]` (resuming the replicas at `resume_offset`
    /// when it is not 0); the ack task records acknowledgements as they come.
    fn start_stream(
        &self,
        block: pb::ExtendedBlock,
        pipeline: &[pb::DatanodeInfo],
        resume_offset: u64,
    ) -> Result<Stream> {
        let block_id = BlockId(block.block_id);
        let first = pipeline.first().ok_or_else(|| ClientError::Pipeline {
            block: block_id,
            reason: "the namenode returned no datanodes".into(),
        })?;
        let header = pb::WriteHeader {
            block: Some(block),
            downstream: pipeline[1..].to_vec(),
            chunk_size: self.chunk_size,
            client_name: self.inner.name.clone(),
            resume: resume_offset > 0,
            resume_offset,
        };
        let (tx, rx) = mpsc::channel::<pb::WritePacket>(WINDOW);
        let nodes: Vec<u64> = pipeline.iter().map(|d| d.id).collect();
        let mut dn = self.inner.dns.client(&first.addr)?;
        let first_addr = first.addr.clone();
        let progress = Arc::new(Progress::default());
        let shared = progress.clone();
        // The configured deadline (the datanodes' own per hop), plus a margin per node so a node deeper in
        // the pipeline is blamed by its upstream neighbour first.
        let base = self.inner.config.ack_timeout;
        let deadline = base + base / 6 * nodes.len() as u32;
        // The call runs in its own task: the request stream must flow while we wait for the response.
        let acks = tokio::spawn(async move {
            let failure = ack_loop(&mut dn, rx, &nodes, &first_addr, block_id, &shared, deadline).await;
            shared.ended.store(true, Ordering::Release);
            shared.changed.notify_waiters();
            failure
        });
        Ok(Stream {
            tx: Some(tx),
            acks,
            progress,
            header: Some(header),
        })
    }
}

/// Reads a pipeline's acknowledgements until the stream ends (`None`) or fails.
async fn ack_loop(
    dn: &mut crate::datanodes::DnClient,
    rx: mpsc::Receiver<pb::WritePacket>,
    nodes: &[u64],
    first_addr: &str,
    block_id: BlockId,
    progress: &Progress,
    deadline: Duration,
) -> Option<Failure> {
    let fail = |reason: String, bad: Option<u64>, fatal| Some(Failure { reason, bad, fatal });
    let from_status = |s: tonic::Status| {
        let bad = bad_datanode_of(&s);
        let e = RemoteError::from(s);
        // The first node refused the data itself: a bad request, which no recovery would cure.
        let fatal = bad.is_none() && matches!(e.kind, ErrorKind::Invalid | ErrorKind::Corrupt);
        fail(format!("{first_addr}: {e}"), bad, fatal)
    };
    let mut stream = match tokio::time::timeout(deadline, dn.write_block(ReceiverStream::new(rx))).await {
        Ok(Ok(r)) => r.into_inner(),
        Ok(Err(s)) => return from_status(s),
        Err(_) => return fail(format!("{first_addr}: no answer in {deadline:?}"), None, false),
    };
    // Since when a sent packet has been waiting for its ack with no ack arriving (checked every second).
    let mut waiting_since: Option<tokio::time::Instant> = None;
    let mut check = tokio::time::interval(ACK_CHECK);
    loop {
        let msg = tokio::select! {
            m = stream.message() => m,
            _ = check.tick() => {
                let outstanding = progress.sent.load(Ordering::Acquire) > progress.acked.load(Ordering::Acquire);
                match (outstanding, waiting_since) {
                    (false, _) => waiting_since = None,
                    (true, None) => waiting_since = Some(tokio::time::Instant::now()),
                    (true, Some(t)) if t.elapsed() > deadline => {
                        return fail(format!("{first_addr}: no acknowledgement in {deadline:?}"), None, false);
                    }
                    (true, Some(_)) => {}
                }
                continue;
            }
        };
        match msg {
            Ok(Some(ack)) => {
                if ack.acked_by.len() != nodes.len() {
                    let bad = nodes.get(ack.acked_by.len()).copied();
                    let reason = format!(
                        "{block_id}: packet {} acknowledged by {} of {} datanodes",
                        ack.seqno,
                        ack.acked_by.len(),
                        nodes.len()
                    );
                    return fail(reason, bad, false);
                }
                waiting_since = None;
                progress.acked.store(ack.seqno + 1, Ordering::Release);
                progress.changed.notify_waiters();
            }
            Ok(None) => return None,
            Err(s) => return from_status(s),
        }
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        self.inner.open_writers.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests;
