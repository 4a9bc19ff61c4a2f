//! Reading a file: block by block from the nearest healthy replica.
//!
//! For the block under the read position the reader tries the replicas in the order the namenode gave
//! (nearest first). A replica on this host (same machine id) is read short-circuit: the datanode tells
//! where the block and checksum files are, the reader maps the block file into memory and verifies each
//! chunk before copying from it. Other replicas stream chunk-aligned packets over gRPC, verified as they
//! arrive. Any failure (unreachable node, checksum mismatch) marks that replica bad for this reader and
//! the read continues from the next one; when none is left, the locations are fetched once more.
//!
//! Every client counts how its bytes were served ([`ReadStats`], from [`Client::read_stats`]): a local
//! replica that cannot be read short-circuit is read over the network instead, which is correct but
//! slower, and the counters are how a caller (or a test) tells the two paths apart.
//!
//! [`Client::read_stats`]: crate::Client::read_stats

use crate::error::{ClientError, Result, required};
use crate::fs::Inner;
use crate::namenode::{CallerId, nn_call};
use basalt_common::checksum::{self, MetaHeader, decode_sums, verify_chunks};
use basalt_common::{BlockId, ErrorKind};
use basalt_proto::{RemoteError, pb};
use memmap2::Mmap;
use std::collections::HashSet;
use std::future::Future;
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncSeek, ReadBuf};

/// How a client's reads were served: counters since it connected, shared by its clones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Bytes copied out of replicas on this host through a memory map (short-circuit).
    pub short_circuit_bytes: u64,
    /// Bytes received from datanodes over the network.
    pub network_bytes: u64,
    /// Replicas on this host that could not be opened short-circuit and were read over the network.
    pub short_circuit_fallbacks: u64,
    /// Replicas read short-circuit in which a chunk failed its checksum (reported to their datanode).
    pub short_circuit_corrupt: u64,
}

/// The live counters behind [`ReadStats`].
#[derive(Default)]
pub(crate) struct ReadCounters {
    short_circuit_bytes: AtomicU64,
    network_bytes: AtomicU64,
    short_circuit_fallbacks: AtomicU64,
    short_circuit_corrupt: AtomicU64,
}

impl ReadCounters {
    pub(crate) fn snapshot(&self) -> ReadStats {
        ReadStats {
            short_circuit_bytes: self.short_circuit_bytes.load(Ordering::Relaxed),
            network_bytes: self.network_bytes.load(Ordering::Relaxed),
            short_circuit_fallbacks: self.short_circuit_fallbacks.load(Ordering::Relaxed),
            short_circuit_corrupt: self.short_circuit_corrupt.load(Ordering::Relaxed),
        }
    }

    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// A file opened for reading.
///
/// Two interfaces: the inherent async [`read`](FileReader::read), [`seek`](FileReader::seek) and
/// [`read_rest`](FileReader::read_rest), and `tokio::io::{AsyncRead, AsyncSeek}` (whose extension
/// methods `seek`, `read_to_end`, `read_exact` work as for any tokio reader).
pub struct FileReader {
    /// `None` while a read runs as `pending`.
    core: Option<ReaderCore>,
    pending: Option<PendingRead>,
    /// Bytes read ahead by a pending read and not yet handed out; `spill_at` is the next one.
    spill: Vec<u8>,
    spill_at: usize,
    /// Logical position: bytes handed to the caller.
    pos: u64,
    length: u64,
}

/// A read running on the core: its start position and the bytes it got.
type PendingRead = Pin<Box<dyn Future<Output = (ReaderCore, u64, Result<Vec<u8>>)> + Send>>;

/// Largest read a single `poll_read` starts.
const MAX_ASYNC_READ: usize = 4 << 20;

impl FileReader {
    pub(crate) async fn open(inner: Arc<Inner>, caller: CallerId, path: String) -> Result<FileReader> {
        let core = ReaderCore::open(inner, caller, path).await?;
        let length = core.length;
        Ok(FileReader {
            core: Some(core),
            pending: None,
            spill: Vec::new(),
            spill_at: 0,
            pos: 0,
            length,
        })
    }

    /// File length in bytes (of the closed part, for a file still being written).
    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Moves the read position; positions past the end read nothing.
    pub fn set_position(&mut self, pos: u64) {
        if pos != self.pos {
            self.pos = pos;
            self.spill.clear();
            self.spill_at = 0;
        }
    }

    /// Copies read-ahead bytes, if any.
    fn take_spill(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.spill.len() - self.spill_at);
        out[..n].copy_from_slice(&self.spill[self.spill_at..self.spill_at + n]);
        self.spill_at += n;
        self.pos += n as u64;
        n
    }

    /// Lands a finished pending read: its bytes become read-ahead if the position has not moved.
    fn land(&mut self, core: ReaderCore, start: u64, res: Result<Vec<u8>>) -> Result<()> {
        self.core = Some(core);
        let data = res?;
        if start == self.pos {
            self.spill = data;
            self.spill_at = 0;
        }
        Ok(())
    }

    /// Reads up to `out.len()` bytes at the current position; 0 means end of file.
    pub async fn read(&mut self, out: &mut [u8]) -> Result<usize> {
        if let Some(p) = self.pending.take() {
            let (core, start, res) = p.await;
            self.land(core, start, res)?;
        }
        if self.spill_at < self.spill.len() {
            return Ok(self.take_spill(out));
        }
        let core = self.core.as_mut().expect("no read pending");
        core.seek(self.pos);
        let n = core.read(out).await?;
        self.pos += n as u64;
        Ok(n)
    }

    /// Reads from the current position to the end of the file.
    pub async fn read_rest(&mut self) -> Result<Vec<u8>> {
        let mut out = vec![0u8; (self.length.saturating_sub(self.pos)) as usize];
        let mut filled = 0;
        while filled < out.len() {
            let n = self.read(&mut out[filled..]).await?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        out.truncate(filled);
        Ok(out)
    }
}

impl AsyncRead for FileReader {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.spill_at < this.spill.len() {
                let n = this.take_spill(buf.initialize_unfilled());
                buf.advance(n);
                return Poll::Ready(Ok(()));
            }
            if let Some(p) = this.pending.as_mut() {
                let (core, start, res) = ready!(p.as_mut().poll(cx));
                this.pending = None;
                let empty = matches!(&res, Ok(d) if d.is_empty());
                this.land(core, start, res).map_err(io::Error::other)?;
                if empty && start == this.pos {
                    return Poll::Ready(Ok(())); // end of file
                }
                continue;
            }
            if this.pos >= this.length || buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            let mut core = this.core.take().expect("no read pending");
            let (start, want) = (this.pos, buf.remaining().clamp(64 << 10, MAX_ASYNC_READ));
            this.pending = Some(Box::pin(async move {
                core.seek(start);
                let mut data = vec![0u8; want];
                let res = core.read(&mut data).await.map(|n| {
                    data.truncate(n);
                    data
                });
                (core, start, res)
            }));
        }
    }
}

impl AsyncSeek for FileReader {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        let this = self.get_mut();
        let target = match position {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => this.pos.checked_add_signed(d),
            SeekFrom::End(d) => this.length.checked_add_signed(d),
        };
        let target = target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        this.set_position(target);
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Poll::Ready(Ok(self.pos))
    }
}

/// The reader's state, owned by whichever future is working on it.
struct ReaderCore {
    inner: Arc<Inner>,
    caller: CallerId,
    path: String,
    length: u64,
    blocks: Vec<pb::LocatedBlock>,
    pos: u64,
    cur: Option<Cursor>,
    /// (block id, datanode id) pairs that failed for this reader.
    bad: HashSet<(u64, u64)>,
    refreshed: bool,
}

/// An open replica of one block.
struct Cursor {
    index: usize,
    block: BlockId,
    datanode: u64,
    source: Source,
}

enum Source {
    /// A memory-mapped local replica; `verified` marks chunks already checked.
    Local {
        map: Mmap,
        sums: Vec<u32>,
        chunk: u32,
        verified: Vec<bool>,
        addr: String,
    },
    /// A remote stream positioned at `next` (block offset of `buf[0]`).
    Remote {
        stream: Box<tonic::Streaming<pb::ReadPacket>>,
        buf: bytes::Bytes,
        buf_at: u64,
        addr: String,
    },
}

impl ReaderCore {
    async fn open(inner: Arc<Inner>, caller: CallerId, path: String) -> Result<ReaderCore> {
        let (length, blocks) = locate(&inner, &caller, &path).await?;
        Ok(ReaderCore {
            inner,
            caller,
            path,
            length,
            blocks,
            pos: 0,
            cur: None,
            bad: HashSet::new(),
            refreshed: false,
        })
    }

    /// Moves the read position; a remote stream is reopened at the next read.
    fn seek(&mut self, pos: u64) {
        if pos != self.pos {
            self.pos = pos;
            if matches!(
                self.cur,
                Some(Cursor {
                    source: Source::Remote { .. },
                    ..
                })
            ) {
                self.cur = None;
            }
        }
    }

    /// Reads up to `out.len()` bytes at the current position; 0 means end of file.
    async fn read(&mut self, out: &mut [u8]) -> Result<usize> {
        if self.pos >= self.length || out.is_empty() {
            return Ok(0);
        }
        loop {
            let index = self.block_index(self.pos);
            if self.cur.as_ref().is_none_or(|c| c.index != index) {
                self.cur = Some(self.open_replica(index).await?);
            }
            let cur = self.cur.as_mut().expect("opened above");
            let block = &self.blocks[index];
            let block_off = self.pos - block.offset;
            let block_len = block.block.as_ref().map_or(0, |b| b.length);
            let want = out.len().min((block_len - block_off) as usize);
            match read_from(cur, block_off, &mut out[..want]).await {
                Ok(n) => {
                    let counters = &self.inner.reads;
                    let counter = match cur.source {
                        Source::Local { .. } => &counters.short_circuit_bytes,
                        Source::Remote { .. } => &counters.network_bytes,
                    };
                    ReadCounters::add(counter, n as u64);
                    self.pos += n as u64;
                    return Ok(n);
                }
                Err(e) => {
                    tracing::warn!(block = %cur.block, datanode = cur.datanode, error = %e, "replica failed; trying another");
                    if let (ClientError::Corrupt { mismatch, .. }, Source::Local { addr, .. }) = (&e, &cur.source) {
                        ReadCounters::add(&self.inner.reads.short_circuit_corrupt, 1);
                        report_local_corruption(&self.inner, addr, block, mismatch.offset);
                    }
                    self.bad.insert((cur.block.0, cur.datanode));
                    self.cur = None;
                }
            }
        }
    }

    fn block_index(&self, pos: u64) -> usize {
        block_index(&self.blocks, pos)
    }

    /// Opens the first usable replica of block `index`, refreshing locations once if all failed.
    async fn open_replica(&mut self, index: usize) -> Result<Cursor> {
        let mut last_err = String::from("no live replica");
        loop {
            let block = self.blocks[index].clone();
            let eb = required(block.block, "block in a located block")?;
            for dn in &block.locations {
                if self.bad.contains(&(eb.block_id, dn.id)) {
                    continue;
                }
                match self.open_on(&eb, dn, self.pos - block.offset).await {
                    Ok(source) => {
                        return Ok(Cursor {
                            index,
                            block: BlockId(eb.block_id),
                            datanode: dn.id,
                            source,
                        });
                    }
                    Err(e) => {
                        tracing::warn!(block = %BlockId(eb.block_id), datanode = %dn.addr, error = %e, "cannot open replica");
                        last_err = format!("{}: {e}", dn.addr);
                        self.bad.insert((eb.block_id, dn.id));
                    }
                }
            }
            if self.refreshed {
                return Err(ClientError::BlockUnreadable {
                    path: self.path.clone(),
                    block: BlockId(eb.block_id),
                    reason: last_err,
                });
            }
            self.refreshed = true;
            let (_, blocks) = locate(&self.inner, &self.caller, &self.path).await?;
            if blocks.len() == self.blocks.len() {
                self.blocks = blocks;
            }
        }
    }

    async fn open_on(&self, block: &pb::ExtendedBlock, dn: &pb::DatanodeInfo, offset: u64) -> Result<Source> {
        if reads_locally(&self.inner, dn) {
            match open_local(&self.inner, block, dn).await {
                Ok(src) => return Ok(src),
                Err(e) => {
                    ReadCounters::add(&self.inner.reads.short_circuit_fallbacks, 1);
                    tracing::debug!(error = %e, "short-circuit read unavailable; reading over the network");
                }
            }
        }
        let mut client = self.inner.dns.client(&dn.addr)?;
        let req = pb::ReadBlockRequest {
            block: Some(*block),
            offset,
            length: 0,
        };
        let stream = Box::new(client.read_block(req).await?.into_inner());
        Ok(Source::Remote {
            stream,
            buf: bytes::Bytes::new(),
            buf_at: offset,
            addr: dn.addr.clone(),
        })
    }
}

/// The block holding file offset `pos` (the last block for a position past the end).
fn block_index(blocks: &[pb::LocatedBlock], pos: u64) -> usize {
    blocks.partition_point(|b| b.offset <= pos).saturating_sub(1)
}

/// Whether a replica on `dn` is read short-circuit: enabled, and the datanode is on this host.
fn reads_locally(inner: &Inner, dn: &pb::DatanodeInfo) -> bool {
    inner.config.short_circuit && !dn.host_id.is_empty() && dn.host_id == inner.host_id
}

/// A short-circuit read found a bad chunk in a local replica the datanode has not seen fail. Asking the
/// datanode to serve that chunk makes it verify the chunk itself: it moves the replica aside and reports
/// it, and the namenode has a good copy made. Fire and forget; the reader has already moved on.
fn report_local_corruption(inner: &Arc<Inner>, addr: &str, block: &pb::LocatedBlock, offset: u64) {
    let Ok(mut client) = inner.dns.client(addr) else { return };
    let req = pb::ReadBlockRequest {
        block: block.block,
        offset,
        length: 1,
    };
    tokio::spawn(async move {
        if let Ok(resp) = client.read_block(req).await {
            let mut stream = resp.into_inner();
            while let Ok(Some(_)) = stream.message().await {}
        }
    });
}

async fn locate(inner: &Inner, caller: &CallerId, path: &str) -> Result<(u64, Vec<pb::LocatedBlock>)> {
    let req = pb::GetBlockLocationsRequest {
        path: path.to_string(),
        offset: 0,
        length: 0,
        reader_host: String::new(),
    };
    let resp = nn_call!(inner.nn, caller, get_block_locations, req)?;
    let status = required(resp.status, "file status")?;
    if status.is_dir {
        return Err(ClientError::IsADirectory(path.to_string()));
    }
    let length = resp
        .blocks
        .iter()
        .map(|b| b.block.as_ref().map_or(0, |b| b.length))
        .sum();
    Ok((length, resp.blocks))
}

async fn open_local(inner: &Inner, block: &pb::ExtendedBlock, dn: &pb::DatanodeInfo) -> Result<Source> {
    let mut client = inner.dns.client(&dn.addr)?;
    let resp = client
        .get_local_path(pb::LocalPathRequest { block: Some(*block) })
        .await?
        .into_inner();
    if resp.host_id != inner.host_id || resp.length != block.length {
        return Err(ClientError::InvalidArgument(
            "replica is not local or has another length".into(),
        ));
    }
    let (data_path, meta_path) = (resp.data_path.clone(), resp.meta_path.clone());
    let io = |path: &str| {
        let path = std::path::PathBuf::from(path);
        move |source| ClientError::LocalIo { path, source }
    };
    let (map, meta) = tokio::task::spawn_blocking(move || -> Result<(Mmap, Vec<u8>)> {
        let file = std::fs::File::open(&data_path).map_err(io(&data_path))?;
        // SAFETY: finalized replicas are never modified in place (they are replaced by rename), and the
        // mapping is only read through checksum-verified ranges.
        let map = unsafe { Mmap::map(&file) }.map_err(io(&data_path))?;
        let meta = std::fs::read(&meta_path).map_err(io(&meta_path))?;
        Ok((map, meta))
    })
    .await
    .map_err(|e| ClientError::InvalidArgument(e.to_string()))??;
    let header = MetaHeader::decode(&meta).map_err(|e| ClientError::InvalidArgument(e.to_string()))?;
    let sums = decode_sums(&meta[checksum::META_HEADER_LEN..]);
    if map.len() as u64 != block.length {
        return Err(ClientError::InvalidArgument("local replica length differs".into()));
    }
    let chunks = sums.len();
    Ok(Source::Local {
        map,
        sums,
        chunk: header.chunk_size,
        verified: vec![false; chunks],
        addr: dn.addr.clone(),
    })
}

/// Copies bytes at block offset `off` into `out` from an open replica, verifying what it serves.
async fn read_from(cur: &mut Cursor, off: u64, out: &mut [u8]) -> Result<usize> {
    let block = cur.block;
    match &mut cur.source {
        Source::Local {
            map,
            sums,
            chunk,
            verified,
            addr,
        } => {
            let chunk = *chunk as u64;
            let end = off + out.len() as u64;
            let (first, last) = (off / chunk, (end - 1) / chunk);
            for c in first..=last {
                let ci = c as usize;
                if verified.get(ci) == Some(&true) {
                    continue;
                }
                let start = c * chunk;
                let stop = (start + chunk).min(map.len() as u64);
                let data = &map[start as usize..stop as usize];
                verify_chunks(data, sums.get(ci..ci + 1).unwrap_or(&[]), chunk as u32, start).map_err(|mismatch| {
                    ClientError::Corrupt {
                        block,
                        source_addr: addr.clone(),
                        mismatch,
                    }
                })?;
                verified[ci] = true;
            }
            out.copy_from_slice(&map[off as usize..end as usize]);
            Ok(out.len())
        }
        Source::Remote {
            stream,
            buf,
            buf_at,
            addr,
        } => {
            // Serve from the current packet; skip forward packet by packet otherwise.
            loop {
                let end = *buf_at + buf.len() as u64;
                if off >= *buf_at && off < end {
                    let start = (off - *buf_at) as usize;
                    let n = out.len().min(buf.len() - start);
                    out[..n].copy_from_slice(&buf[start..start + n]);
                    return Ok(n);
                }
                if off < *buf_at {
                    return Err(ClientError::InvalidArgument(
                        "read position behind the block stream".into(),
                    ));
                }
                let packet = match stream.message().await {
                    Ok(Some(p)) => p,
                    Ok(None) => {
                        return Err(ClientError::Remote(RemoteError {
                            kind: ErrorKind::Unavailable,
                            message: format!("{addr} ended the block stream early"),
                            leader: None,
                            transport: true,
                        }));
                    }
                    Err(s) => return Err(ClientError::Remote(RemoteError::from(s))),
                };
                verify_chunks(&packet.data, &packet.checksums, packet.chunk_size.max(1), packet.offset).map_err(
                    |mismatch| ClientError::Corrupt {
                        block,
                        source_addr: addr.clone(),
                        mismatch,
                    },
                )?;
                *buf = packet.data;
                *buf_at = packet.offset;
            }
        }
    }
}

#[cfg(test)]
mod tests;
