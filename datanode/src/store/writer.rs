//! [`ReplicaWriter`]: one in-progress replica under `tmp/`. Blocking; run it on a blocking thread.
//!
//! A writer starts empty ([`begin_write`](super::BlockStore::begin_write)) or from a kept replica cut to a
//! given length ([`begin_resume`](super::BlockStore::begin_resume),
//! [`finalize_recovery`](super::BlockStore::finalize_recovery)); a cut inside a chunk re-verifies that
//! chunk and recomputes its checksum from the bytes kept. Each [`append`](ReplicaWriter::append) verifies the
//! packet's chunk checksums before writing data and checksums. [`finalize`](ReplicaWriter::finalize) fsyncs
//! both files, renames them into `current/`, fsyncs the directories and publishes the replica in the store's
//! map. [`park`](ReplicaWriter::park) keeps an unfinished replica as parked. Dropping a writer otherwise
//! removes its temp files; either way the block is released for another writer.

use super::{Replica, ReplicaReader, Reservation};
use crate::error::DatanodeError;
use basalt_common::checksum::{self, MetaHeader};
use basalt_common::{BlockId, GenStamp};
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use tokio::sync::watch;

/// Buffer of the metadata (checksum) file.
const META_BUFFER: usize = 64 * 1024;

/// A replica being written.
#[derive(Debug)]
pub struct ReplicaWriter {
    block: BlockId,
    genstamp: GenStamp,
    chunk_size: u32,
    data_path: PathBuf,
    meta_path: PathBuf,
    data: Option<File>,
    meta: Option<BufWriter<File>>,
    length: u64,
    /// A short (partial) chunk was written: nothing may follow it.
    closed_chunk: bool,
    /// The files were published or parked: not removed on drop.
    kept: bool,
    /// The block's `writing` entry, released (after the files are settled) when the writer drops.
    reservation: Reservation,
}

impl ReplicaWriter {
    /// Creates the temp files; the caller ([`begin_write`](super::BlockStore::begin_write)) has reserved the
    /// block.
    pub(super) fn create(
        block: BlockId,
        genstamp: GenStamp,
        chunk_size: u32,
        reservation: Reservation,
    ) -> Result<Self, DatanodeError> {
        let (data_path, meta_path) = reservation.store.layout().tmp_paths(block, genstamp, fastrand::u64(..));
        let mut writer = Self::new(block, genstamp, chunk_size, data_path, meta_path, reservation);
        let data = File::create(&writer.data_path).map_err(DatanodeError::io(&writer.data_path))?;
        writer.data = Some(data);
        let meta = File::create(&writer.meta_path).map_err(DatanodeError::io(&writer.meta_path))?;
        let mut meta = BufWriter::with_capacity(META_BUFFER, meta);
        meta.write_all(&MetaHeader::new(chunk_size).encode())
            .map_err(DatanodeError::io(&writer.meta_path))?;
        writer.meta = Some(meta);
        Ok(writer)
    }

    /// Continues the kept replica `from` (temp files under `tmp/`) under `genstamp`, cut to `length` bytes
    /// (at most its length); the caller has reserved the block. On error the files are removed.
    pub(super) fn reopen(
        from: Replica,
        genstamp: GenStamp,
        length: u64,
        reservation: Reservation,
    ) -> Result<Self, DatanodeError> {
        let (block, chunk_size) = (from.block, from.chunk_size);
        let mut writer = Self::new(
            block,
            genstamp,
            chunk_size,
            from.data_path.clone(),
            from.meta_path.clone(),
            reservation,
        );
        let (data, meta) = cut(&from, length)?;
        writer.data = Some(data);
        writer.meta = Some(BufWriter::with_capacity(META_BUFFER, meta));
        writer.length = length;
        writer.closed_chunk = !length.is_multiple_of(chunk_size as u64);
        Ok(writer)
    }

    fn new(
        block: BlockId,
        genstamp: GenStamp,
        chunk_size: u32,
        data_path: PathBuf,
        meta_path: PathBuf,
        reservation: Reservation,
    ) -> Self {
        ReplicaWriter {
            block,
            genstamp,
            chunk_size,
            data_path,
            meta_path,
            data: None,
            meta: None,
            length: 0,
            closed_chunk: false,
            kept: false,
            reservation,
        }
    }

    pub fn block(&self) -> BlockId {
        self.block
    }

    pub fn genstamp(&self) -> GenStamp {
        self.genstamp
    }

    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Bytes written so far.
    pub fn length(&self) -> u64 {
        self.length
    }

    /// Turns `Some(newer stamp)` when a newer writer or a recovery supersedes this one: its stream should
    /// stop and [`park`](Self::park) it.
    pub fn superseded(&self) -> watch::Receiver<Option<GenStamp>> {
        self.reservation.superseded.clone()
    }

    /// Verifies and appends chunk-aligned `data` at block offset `offset` with one checksum per chunk.
    pub fn append(&mut self, seqno: u64, offset: u64, data: &[u8], sums: &[u32]) -> Result<(), DatanodeError> {
        if offset != self.length {
            return Err(DatanodeError::OutOfOrder {
                block: self.block,
                seqno,
                offset,
                expected: self.length,
            });
        }
        if data.is_empty() {
            return if sums.is_empty() {
                Ok(())
            } else {
                Err(DatanodeError::BadPacket {
                    block: self.block,
                    seqno,
                    reason: "checksums without data",
                })
            };
        }
        if self.closed_chunk {
            return Err(DatanodeError::BadPacket {
                block: self.block,
                seqno,
                reason: "data after a partial chunk",
            });
        }
        checksum::verify_chunks(data, sums, self.chunk_size, offset).map_err(|source| DatanodeError::Checksum {
            block: self.block,
            source,
        })?;
        let (data_path, meta_path) = (&self.data_path, &self.meta_path);
        let (Some(data_file), Some(meta_file)) = (self.data.as_mut(), self.meta.as_mut()) else {
            return Err(DatanodeError::BadStream {
                reason: "writer already closed",
            });
        };
        data_file.write_all(data).map_err(DatanodeError::io(data_path))?;
        meta_file
            .write_all(&checksum::encode_sums(sums))
            .map_err(DatanodeError::io(meta_path))?;
        self.length += data.len() as u64;
        self.closed_chunk = !data.len().is_multiple_of(self.chunk_size as usize);
        Ok(())
    }

    /// Makes the replica durable and visible in `current/`; returns it as the store now lists it.
    pub fn finalize(mut self) -> Result<Replica, DatanodeError> {
        let meta = self.flush_meta()?;
        meta.sync_all().map_err(DatanodeError::io(&self.meta_path))?;
        let data = self.data.take().ok_or(DatanodeError::BadStream {
            reason: "writer already closed",
        })?;
        data.sync_all().map_err(DatanodeError::io(&self.data_path))?;
        drop((data, meta));
        let replica = self.reservation.store.publish(
            self.block,
            self.genstamp,
            self.length,
            self.chunk_size,
            &self.data_path,
            &self.meta_path,
        )?;
        self.kept = true;
        Ok(replica)
    }

    /// Keeps the unfinished replica as parked (its checksums flushed, not fsynced: `tmp/` does not survive
    /// a restart anyway). `None` when the store already has a finalized replica as new: the files are removed.
    pub fn park(mut self) -> Result<Option<Replica>, DatanodeError> {
        self.flush_meta()?;
        self.data = None;
        let replica = Replica {
            block: self.block,
            genstamp: self.genstamp,
            length: self.length,
            chunk_size: self.chunk_size,
            data_path: self.data_path.clone(),
            meta_path: self.meta_path.clone(),
        };
        self.kept = self.reservation.store.park(replica.clone());
        Ok(self.kept.then_some(replica))
    }

    /// Flushes and closes the metadata writer.
    fn flush_meta(&mut self) -> Result<File, DatanodeError> {
        let mut meta = self.meta.take().ok_or(DatanodeError::BadStream {
            reason: "writer already closed",
        })?;
        meta.flush().map_err(DatanodeError::io(&self.meta_path))?;
        meta.into_inner().map_err(|e| DatanodeError::Io {
            path: self.meta_path.clone(),
            source: e.into_error(),
        })
    }
}

impl Drop for ReplicaWriter {
    fn drop(&mut self) {
        if !self.kept {
            drop((self.data.take(), self.meta.take()));
            let _ = fs::remove_file(&self.data_path);
            let _ = fs::remove_file(&self.meta_path);
        }
        // `reservation` drops after this: the block is released and waiters wake once the replica is
        // parked, published or removed.
    }
}

/// Cuts a kept replica's files to `new_len` bytes (at most its length; callers check) and returns them
/// (data, meta) positioned for appending. A cut inside a chunk reads that chunk verified, then stores the
/// checksum of the bytes kept.
fn cut(from: &Replica, new_len: u64) -> Result<(File, File), DatanodeError> {
    let (block, chunk_size, old_len) = (from.block, from.chunk_size, from.length);
    let (data_path, meta_path) = (from.data_path.as_path(), from.meta_path.as_path());
    debug_assert!(new_len <= old_len, "callers check the cut is within the replica");
    let open = |path: &Path| {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(DatanodeError::io(path))
    };
    let (mut data, mut meta) = (open(data_path)?, open(meta_path)?);
    let file_len = |f: &File, path: &Path| f.metadata().map(|m| m.len()).map_err(DatanodeError::io(path));
    for (f, path, want) in [
        (&data, data_path, old_len),
        (&meta, meta_path, checksum::meta_len(old_len, chunk_size)),
    ] {
        if file_len(f, path)? < want {
            return Err(DatanodeError::Truncated {
                block,
                path: path.to_path_buf(),
            });
        }
    }
    let tail = new_len % chunk_size as u64;
    if tail != 0 && new_len < old_len {
        let start = new_len - tail;
        let chunk = ReplicaReader::open(from.clone())?.read(start, 1)?;
        let kept = crc32c::crc32c(&chunk.data[..tail as usize]);
        meta.write_all_at(&kept.to_le_bytes(), checksum::sum_offset(start, chunk_size))
            .map_err(DatanodeError::io(meta_path))?;
    }
    data.set_len(new_len).map_err(DatanodeError::io(data_path))?;
    meta.set_len(checksum::meta_len(new_len, chunk_size))
        .map_err(DatanodeError::io(meta_path))?;
    data.seek(SeekFrom::End(0)).map_err(DatanodeError::io(data_path))?;
    meta.seek(SeekFrom::End(0)).map_err(DatanodeError::io(meta_path))?;
    Ok((data, meta))
}
