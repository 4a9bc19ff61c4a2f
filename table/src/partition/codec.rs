//! The wire encoding of a [`Partition`] and its digest.
//!
//! Layout: the table codec's ([`crate::codec`]): one format byte, then the partition as MessagePack
//! with named fields, so that a later version can add fields (with serde defaults) and an old reader
//! refuses a newer format byte instead of misreading it. The digest is FNV-1a 64 over the same bytes:
//! a fixed algorithm over a canonical encoding (vectors in their canonical orders), so replicas holding
//! the same reconciled content compute the same digest.

use super::Partition;

/// The format of [`encode`]: the table codec's.
pub const FORMAT_V1: u8 = crate::codec::FORMAT_VERSION;

/// Why bytes are not a partition.
pub type PartitionError = crate::codec::CodecError;

pub use crate::codec::{decode as decode_versioned, encode as encode_versioned};

/// The wire form of a partition.
pub fn encode(p: &Partition) -> Vec<u8> {
    encode_versioned(p)
}

/// Inverse of [`encode`]; bad bytes give an error, never a panic.
pub fn decode(bytes: &[u8]) -> Result<Partition, PartitionError> {
    decode_versioned(bytes)
}

/// FNV-1a, 64 bits.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Partition {
    /// A stable hash of the content (for digest reads); compare digests of compacted answers.
    pub fn digest(&self) -> u64 {
        fnv1a64(&encode(self))
    }
}
