//! [`ReplicaReader`]: positional, verified reads of one finalized replica. Blocking; run it on a blocking
//! thread. Every chunk returned has been checked against its stored CRC32C.

use super::Replica;
use crate::error::DatanodeError;
use basalt_common::BlockId;
use basalt_common::checksum::{self, META_HEADER_LEN, MetaHeader};
use std::fs::File;
use std::io::ErrorKind as IoKind;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Chunk-aligned data read from a replica, with its checksums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadChunks {
    /// Block offset of `data[0]` (a multiple of the chunk size).
    pub offset: u64,
    pub data: Vec<u8>,
    pub sums: Vec<u32>,
}

/// An open finalized replica.
#[derive(Debug)]
pub struct ReplicaReader {
    replica: Replica,
    data: File,
    meta: File,
}

impl ReplicaReader {
    /// Opens the replica's files and checks the metadata header.
    pub fn open(replica: Replica) -> Result<Self, DatanodeError> {
        let block = replica.block;
        let data = File::open(&replica.data_path).map_err(DatanodeError::io(&replica.data_path))?;
        let meta = File::open(&replica.meta_path).map_err(DatanodeError::io(&replica.meta_path))?;
        let mut header = [0u8; META_HEADER_LEN];
        read_exact_at(&meta, &replica.meta_path, &mut header, 0, block)?;
        let decoded = MetaHeader::decode(&header).map_err(|source| DatanodeError::BadMeta {
            block,
            path: replica.meta_path.clone(),
            source,
        })?;
        if decoded.chunk_size != replica.chunk_size {
            return Err(DatanodeError::MetaLength {
                block,
                data_len: replica.length,
                sums: 0,
            });
        }
        Ok(ReplicaReader { replica, data, meta })
    }

    pub fn replica(&self) -> &Replica {
        &self.replica
    }

    /// Reads whole chunks covering `[offset, offset + max_len)` (clipped to the block; `offset` is rounded
    /// down to a chunk boundary, and at least one chunk is read when `offset` is inside the block).
    pub fn read(&self, offset: u64, max_len: u64) -> Result<ReadChunks, DatanodeError> {
        let r = &self.replica;
        if offset > r.length {
            return Err(DatanodeError::OffsetBeyondEnd {
                block: r.block,
                offset,
                length: r.length,
            });
        }
        let chunk = r.chunk_size as u64;
        let start = offset - offset % chunk;
        let want = max_len.max(1).div_ceil(chunk) * chunk;
        let end = (start + want).min(r.length);
        let mut data = vec![0u8; (end - start) as usize];
        read_exact_at(&self.data, &r.data_path, &mut data, start, r.block)?;
        let n_sums = data.len().div_ceil(chunk as usize);
        let mut raw = vec![0u8; n_sums * 4];
        let sums_at = checksum::sum_offset(start, r.chunk_size);
        read_exact_at(&self.meta, &r.meta_path, &mut raw, sums_at, r.block)?;
        let sums = checksum::decode_sums(&raw);
        checksum::verify_chunks(&data, &sums, r.chunk_size, start)
            .map_err(|source| DatanodeError::Checksum { block: r.block, source })?;
        Ok(ReadChunks {
            offset: start,
            data,
            sums,
        })
    }
}

fn read_exact_at(file: &File, path: &Path, buf: &mut [u8], at: u64, block: BlockId) -> Result<(), DatanodeError> {
    file.read_exact_at(buf, at).map_err(|e| {
        if e.kind() == IoKind::UnexpectedEof {
            DatanodeError::Truncated {
                block,
                path: path.to_path_buf(),
            }
        } else {
            DatanodeError::Io {
                path: path.to_path_buf(),
                source: e,
            }
        }
    })
}
