//! GETFILECHECKSUM: Hadoop's MD5-of-MD5-of-CRC construction over the CRC32C of each chunk that our
//! datanodes store and our reader verifies.
//!
//! For each block, the CRC32C of every `bytes_per_crc` chunk of it (the last chunk of a block may be
//! shorter; chunks never span blocks), big-endian, concatenated, hashed with MD5; the file's digest is
//! the MD5 of the blocks' digests in order. The body's bytes are Hadoop's `MD5MD5CRC32FileChecksum`
//! encoding: `bytes_per_crc` (u32), `crc_per_block` (u64: chunks per full block when the file has more
//! than one block, else 0), the digest (16 bytes), all big-endian; the algorithm is named
//! `MD5-of-{crc_per_block}MD5-of-{bytes_per_crc}CRC32C`. With our 64 KiB chunks (Hadoop's are 512 B)
//! the value differs from an HDFS cluster's for the same bytes, and the name says so.
//!
//! The gateway computes it from the file's bytes, read block by block through the verified reader
//! (each chunk's CRC is the stored one, or the read fails): it costs a read of the file.

/// The checksum of one block, fed its bytes in order.
pub struct BlockDigest {
    bytes_per_crc: usize,
    crcs: md5::Context,
    chunk_crc: u32,
    in_chunk: usize,
}

impl BlockDigest {
    pub fn new(bytes_per_crc: u32) -> Self {
        BlockDigest {
            bytes_per_crc: bytes_per_crc.max(1) as usize,
            crcs: md5::Context::new(),
            chunk_crc: 0,
            in_chunk: 0,
        }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let n = (self.bytes_per_crc - self.in_chunk).min(data.len());
            self.chunk_crc = crc32c::crc32c_append(self.chunk_crc, &data[..n]);
            self.in_chunk += n;
            data = &data[n..];
            if self.in_chunk == self.bytes_per_crc {
                self.end_chunk();
            }
        }
    }

    fn end_chunk(&mut self) {
        self.crcs.consume(self.chunk_crc.to_be_bytes());
        self.chunk_crc = 0;
        self.in_chunk = 0;
    }

    /// The MD5 of the block's chunk CRCs.
    pub fn finish(mut self) -> [u8; 16] {
        if self.in_chunk > 0 {
            self.end_chunk();
        }
        self.crcs.finalize().0
    }
}

/// The file checksum: (algorithm name, Hadoop's byte encoding).
pub fn file_checksum(bytes_per_crc: u32, block_size: u64, blocks: &[[u8; 16]]) -> (String, Vec<u8>) {
    let crc_per_block = if blocks.len() > 1 {
        block_size.div_ceil(bytes_per_crc.max(1) as u64)
    } else {
        0
    };
    let mut md5 = md5::Context::new();
    for b in blocks {
        md5.consume(b);
    }
    let mut bytes = Vec::with_capacity(28);
    bytes.extend_from_slice(&bytes_per_crc.to_be_bytes());
    bytes.extend_from_slice(&crc_per_block.to_be_bytes());
    bytes.extend_from_slice(&md5.finalize().0);
    (format!("MD5-of-{crc_per_block}MD5-of-{bytes_per_crc}CRC32C"), bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_digest_is_the_md5_of_its_chunk_crcs() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        let mut expected = Vec::new();
        for chunk in data.chunks(4096) {
            expected.extend_from_slice(&crc32c::crc32c(chunk).to_be_bytes());
        }
        let mut d = BlockDigest::new(4096);
        // Fed in pieces that do not align with chunks.
        for piece in data.chunks(1000) {
            d.update(piece);
        }
        assert_eq!(d.finish(), md5::compute(&expected).0);
        // The same CRCs as the datanodes store.
        let stored = basalt_common::checksum::chunk_checksums(&data, 4096);
        let stored: Vec<u8> = stored.iter().flat_map(|c| c.to_be_bytes()).collect();
        assert_eq!(stored, expected);
    }

    #[test]
    fn the_file_checksum_is_hadoops_encoding() {
        let blocks = [[1u8; 16], [2u8; 16]];
        let (name, bytes) = file_checksum(65536, 1 << 20, &blocks);
        assert_eq!(name, "MD5-of-16MD5-of-65536CRC32C");
        assert_eq!(bytes.len(), 28);
        assert_eq!(&bytes[..4], &65536u32.to_be_bytes());
        assert_eq!(&bytes[4..12], &16u64.to_be_bytes());
        assert_eq!(&bytes[12..], &md5::compute([[1u8; 16], [2u8; 16]].concat()).0);
        let (one, _) = file_checksum(65536, 1 << 20, &blocks[..1]);
        assert_eq!(one, "MD5-of-0MD5-of-65536CRC32C");
        // An empty file: no block, the MD5 of nothing.
        let (_, empty) = file_checksum(65536, 1 << 20, &[]);
        assert_eq!(&empty[12..], &md5::compute(b"").0);
    }
}
