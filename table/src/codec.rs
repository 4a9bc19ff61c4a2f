//! The encoding of what table code sends between Basalt processes (read commands, catalog objects) and
//! keeps in small persisted records: one format byte, then MessagePack with named fields and variants
//! (`rmp-serde`), the metadata log's evolvable scheme: a field added with `#[serde(default)]` reads as
//! its default from older data, an unknown field is skipped, an unknown variant is an error.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The format this build writes.
pub const FORMAT_VERSION: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("empty value")]
    Empty,
    #[error("unsupported format version {0} (this build reads {FORMAT_VERSION})")]
    Version(u8),
    #[error("malformed value: {0}")]
    Malformed(#[from] rmp_serde::decode::Error),
}

impl CodecError {
    pub fn kind(&self) -> basalt_common::ErrorKind {
        basalt_common::ErrorKind::Corrupt
    }
}

/// Encodes `v` with its leading format byte.
pub fn encode<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    let mut out = vec![FORMAT_VERSION];
    v.serialize(&mut rmp_serde::Serializer::new(&mut out).with_struct_map())
        .expect("table types encode to MessagePack");
    out
}

/// Decodes a value written by [`encode`].
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    match bytes.split_first() {
        None => Err(CodecError::Empty),
        Some((&FORMAT_VERSION, rest)) => Ok(rmp_serde::from_slice(rest)?),
        Some((&v, _)) => Err(CodecError::Version(v)),
    }
}
