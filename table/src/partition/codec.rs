//! The wire encoding of a [`Partition`] and its digest.
//!
//! Layout: one format byte ([`FORMAT_V1`]), then the partition as MessagePack with named fields
//! (rmp-serde), so that a later version can add fields (with serde defaults) and an old reader
//! refuses a newer format byte instead of misreading it. The digest is FNV-1a 64 over the same bytes:
//! a fixed algorithm over a canonical encoding (vectors in their canonical orders), so replicas holding
//! the same reconciled content compute the same digest.

use super::Partition;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The first (and so far only) format of [`encode`].
pub const FORMAT_V1: u8 = 1;

/// Why bytes are not a partition.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PartitionError {
    #[error("empty partition encoding")]
    Empty,
    #[error("unknown partition format {0} (this build reads format {FORMAT_V1})")]
    UnknownFormat(u8),
    #[error("malformed partition encoding: {0}")]
    Malformed(String),
}

impl PartitionError {
    pub fn kind(&self) -> basalt_common::ErrorKind {
        match self {
            PartitionError::Empty | PartitionError::UnknownFormat(_) | PartitionError::Malformed(_) => {
                basalt_common::ErrorKind::Corrupt
            }
        }
    }
}

/// `[format][rmp-serde named]` of any serializable value (also used by storage for row fragments).
pub fn encode_versioned<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![FORMAT_V1];
    // Serializing plain data structures to a Vec cannot fail.
    rmp_serde::encode::write_named(&mut out, value).expect("rmp-serde writes plain data to a Vec");
    out
}

/// Inverse of [`encode_versioned`].
pub fn decode_versioned<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, PartitionError> {
    match bytes.split_first() {
        None => Err(PartitionError::Empty),
        Some((&FORMAT_V1, rest)) => {
            let mut de = rmp_serde::Deserializer::new(std::io::Cursor::new(rest));
            let v = T::deserialize(&mut de).map_err(|e| PartitionError::Malformed(e.to_string()))?;
            let trailing = rest.len() as u64 - de.position();
            if trailing != 0 {
                return Err(PartitionError::Malformed(format!("{trailing} trailing bytes")));
            }
            Ok(v)
        }
        Some((&v, _)) => Err(PartitionError::UnknownFormat(v)),
    }
}

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
