//! CRC32C per chunk, and the header of a replica's metadata file.
//!
//! A block is split into chunks of `chunk_size` bytes (the last one may be short); each chunk has a
//! CRC32C. The metadata file beside a replica is a [`MetaHeader`] followed by the chunk checksums as
//! little-endian `u32`s. Writers compute, datanodes verify on receipt and on every read, and readers
//! verify again, so corruption on disk or on the wire is always caught.

/// Default chunk size: 64 KiB.
pub const DEFAULT_CHUNK_SIZE: u32 = 64 * 1024;

/// A chunk whose bytes do not match their checksum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "checksum mismatch in chunk {chunk} (bytes {offset}..{end}): expected {expected:#010x}, computed {actual:#010x}"
)]
pub struct ChecksumMismatch {
    /// Index of the chunk within the block.
    pub chunk: u64,
    /// Offset of the chunk within the block.
    pub offset: u64,
    /// End offset (exclusive) of the chunk.
    pub end: u64,
    pub expected: u32,
    pub actual: u32,
}

/// The CRC32C of each `chunk_size` piece of `data`.
pub fn chunk_checksums(data: &[u8], chunk_size: u32) -> Vec<u32> {
    data.chunks(chunk_size as usize).map(crc32c::crc32c).collect()
}

/// Verifies `data`, which starts at chunk-aligned block offset `offset`, against `sums` (one per chunk).
pub fn verify_chunks(data: &[u8], sums: &[u32], chunk_size: u32, offset: u64) -> Result<(), ChecksumMismatch> {
    let first_chunk = offset / chunk_size as u64;
    let expected_chunks = data.len().div_ceil(chunk_size as usize);
    for (i, chunk) in data.chunks(chunk_size as usize).enumerate() {
        let actual = crc32c::crc32c(chunk);
        let expected = sums.get(i).copied();
        if expected != Some(actual) {
            let chunk_off = offset + i as u64 * chunk_size as u64;
            return Err(ChecksumMismatch {
                chunk: first_chunk + i as u64,
                offset: chunk_off,
                end: chunk_off + chunk.len() as u64,
                expected: expected.unwrap_or(0),
                actual,
            });
        }
    }
    if sums.len() != expected_chunks {
        let chunk = first_chunk + expected_chunks.min(sums.len()) as u64;
        return Err(ChecksumMismatch {
            chunk,
            offset: offset + data.len() as u64,
            end: offset + data.len() as u64,
            expected: 0,
            actual: 0,
        });
    }
    Ok(())
}

/// Magic bytes at the start of every replica metadata file.
pub const META_MAGIC: [u8; 8] = *b"BSLTMETA";
/// Current metadata file format version.
pub const META_VERSION: u16 = 1;
/// Size of the encoded [`MetaHeader`].
pub const META_HEADER_LEN: usize = 16;

/// Length of the metadata file of a replica of `len` bytes checksummed in chunks of `chunk_size`.
pub fn meta_len(len: u64, chunk_size: u32) -> u64 {
    META_HEADER_LEN as u64 + len.div_ceil(chunk_size as u64) * 4
}

/// Offset in a metadata file of the checksum of the chunk holding data offset `offset`.
pub fn sum_offset(offset: u64, chunk_size: u32) -> u64 {
    META_HEADER_LEN as u64 + offset / chunk_size as u64 * 4
}

/// Header of a replica metadata file: format version and chunk size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaHeader {
    pub version: u16,
    pub chunk_size: u32,
}

/// Why a metadata header could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaHeaderError {
    #[error("metadata header too short: {len} bytes")]
    Short { len: usize },
    #[error("metadata header has a bad magic number")]
    BadMagic,
    #[error("metadata format version {version} is not supported (this build reads {META_VERSION})")]
    UnsupportedVersion { version: u16 },
    #[error("metadata chunk size {chunk_size} is invalid")]
    BadChunkSize { chunk_size: u32 },
}

impl MetaHeader {
    pub fn new(chunk_size: u32) -> Self {
        MetaHeader {
            version: META_VERSION,
            chunk_size,
        }
    }

    pub fn encode(&self) -> [u8; META_HEADER_LEN] {
        let mut out = [0u8; META_HEADER_LEN];
        out[..8].copy_from_slice(&META_MAGIC);
        out[8..10].copy_from_slice(&self.version.to_le_bytes());
        out[12..16].copy_from_slice(&self.chunk_size.to_le_bytes());
        out
    }

    pub fn decode(buf: &[u8]) -> Result<Self, MetaHeaderError> {
        if buf.len() < META_HEADER_LEN {
            return Err(MetaHeaderError::Short { len: buf.len() });
        }
        if buf[..8] != META_MAGIC {
            return Err(MetaHeaderError::BadMagic);
        }
        let version = u16::from_le_bytes([buf[8], buf[9]]);
        if version != META_VERSION {
            return Err(MetaHeaderError::UnsupportedVersion { version });
        }
        let chunk_size = u32::from_le_bytes([buf[12], buf[13], buf[14], buf[15]]);
        if chunk_size == 0 || chunk_size > 16 * 1024 * 1024 {
            return Err(MetaHeaderError::BadChunkSize { chunk_size });
        }
        Ok(MetaHeader { version, chunk_size })
    }
}

/// Decodes the little-endian checksum array that follows the header.
pub fn decode_sums(buf: &[u8]) -> Vec<u32> {
    buf.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Encodes checksums as little-endian bytes.
pub fn encode_sums(sums: &[u32]) -> Vec<u8> {
    sums.iter().flat_map(|s| s.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn header_round_trip_and_errors() {
        let h = MetaHeader::new(DEFAULT_CHUNK_SIZE);
        assert_eq!(MetaHeader::decode(&h.encode()).unwrap(), h);
        assert_eq!(MetaHeader::decode(&[0; 4]), Err(MetaHeaderError::Short { len: 4 }));
        let mut bad = h.encode();
        bad[0] = b'X';
        assert_eq!(MetaHeader::decode(&bad), Err(MetaHeaderError::BadMagic));
        let mut v2 = h.encode();
        v2[8] = 2;
        assert_eq!(
            MetaHeader::decode(&v2),
            Err(MetaHeaderError::UnsupportedVersion { version: 2 })
        );
    }

    #[test]
    fn detects_missing_checksum() {
        let data = vec![7u8; 100];
        let sums = chunk_checksums(&data, 64);
        assert_eq!(sums.len(), 2);
        assert!(verify_chunks(&data, &sums[..1], 64, 0).is_err());
        assert!(verify_chunks(&data, &sums, 64, 0).is_ok());
    }

    proptest! {
        #[test]
        fn any_single_bit_flip_is_detected(
            data in proptest::collection::vec(any::<u8>(), 1..2000),
            chunk in 1u32..300,
            pos in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let sums = chunk_checksums(&data, chunk);
            prop_assert!(verify_chunks(&data, &sums, chunk, 0).is_ok());
            let mut bad = data.clone();
            let i = pos.index(bad.len());
            bad[i] ^= 1 << bit;
            let err = verify_chunks(&bad, &sums, chunk, 0).unwrap_err();
            prop_assert_eq!(err.chunk, (i / chunk as usize) as u64);
        }

        #[test]
        fn sums_encode_round_trip(sums in proptest::collection::vec(any::<u32>(), 0..100)) {
            prop_assert_eq!(decode_sums(&encode_sums(&sums)), sums);
        }
    }
}
