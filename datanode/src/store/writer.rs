//! [`ReplicaWriter`]: one in-progress replica under `tmp/`. Blocking; run it on a blocking thread.
//!
//! Each [`append`](ReplicaWriter::append) verifies the packet's chunk checksums before writing data and
//! checksums. [`finalize`](ReplicaWriter::finalize) fsyncs both files, renames them into `current/`, fsyncs
//! the directories and publishes the replica in the store's map. Dropping an unfinalized writer removes its
//! temp files and releases the block for another writer.

use super::{BlockStore, Replica};
use crate::error::DatanodeError;
use basalt_common::checksum::{self, MetaHeader};
use basalt_common::{BlockId, GenStamp};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// A replica being written.
#[derive(Debug)]
pub struct ReplicaWriter {
    store: BlockStore,
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
    finalized: bool,
}

impl ReplicaWriter {
    /// Creates the temp files; the caller ([`BlockStore::begin_write`]) has reserved the block.
    pub(super) fn create(
        store: BlockStore,
        block: BlockId,
        genstamp: GenStamp,
        chunk_size: u32,
    ) -> Result<Self, DatanodeError> {
        let (data_path, meta_path) = store.layout().tmp_paths(block, genstamp, fastrand::u64(..));
        let mut writer = ReplicaWriter {
            store,
            block,
            genstamp,
            chunk_size,
            data_path,
            meta_path,
            data: None,
            meta: None,
            length: 0,
            closed_chunk: false,
            finalized: false,
        };
        let data = File::create(&writer.data_path).map_err(DatanodeError::io(&writer.data_path))?;
        writer.data = Some(data);
        let meta = File::create(&writer.meta_path).map_err(DatanodeError::io(&writer.meta_path))?;
        let mut meta = BufWriter::with_capacity(64 * 1024, meta);
        meta.write_all(&MetaHeader::new(chunk_size).encode())
            .map_err(DatanodeError::io(&writer.meta_path))?;
        writer.meta = Some(meta);
        Ok(writer)
    }

    pub fn block(&self) -> BlockId {
        self.block
    }

    /// Bytes written so far.
    pub fn length(&self) -> u64 {
        self.length
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
        let mut meta = self.meta.take().ok_or(DatanodeError::BadStream {
            reason: "writer already closed",
        })?;
        meta.flush().map_err(DatanodeError::io(&self.meta_path))?;
        let meta = meta.into_inner().map_err(|e| DatanodeError::Io {
            path: self.meta_path.clone(),
            source: e.into_error(),
        })?;
        meta.sync_all().map_err(DatanodeError::io(&self.meta_path))?;
        let data = self.data.take().ok_or(DatanodeError::BadStream {
            reason: "writer already closed",
        })?;
        data.sync_all().map_err(DatanodeError::io(&self.data_path))?;
        drop((data, meta));
        let replica = self.store.publish(
            self.block,
            self.genstamp,
            self.length,
            self.chunk_size,
            &self.data_path,
            &self.meta_path,
        )?;
        self.finalized = true;
        Ok(replica)
    }
}

impl Drop for ReplicaWriter {
    fn drop(&mut self) {
        if !self.finalized {
            drop((self.data.take(), self.meta.take()));
            let _ = fs::remove_file(&self.data_path);
            let _ = fs::remove_file(&self.meta_path);
        }
        self.store.end_write(self.block);
    }
}
