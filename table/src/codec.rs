//! The one encoding of what table code sends between Basalt processes (partitions, read commands,
//! catalog objects, paging states) and keeps in small persisted records (row headers): one format
//! byte, then MessagePack with named fields and variants (`rmp-serde`), the metadata log's evolvable
//! scheme: a field added with `#[serde(default)]` reads as its default from older data, an unknown
//! field is skipped, an unknown variant is an error, a newer format byte is refused rather than
//! misread. Decoding never panics: empty, truncated, malformed or trailing bytes are errors.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The format this build writes (and the only one it reads so far).
pub const FORMAT_VERSION: u8 = 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("empty value")]
    Empty,
    #[error("unsupported format version {0} (this build reads {FORMAT_VERSION})")]
    Version(u8),
    #[error("malformed value: {0}")]
    Malformed(String),
    #[error("{0} trailing bytes after the value")]
    Trailing(u64),
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
        .expect("plain data encodes to MessagePack in a Vec");
    out
}

/// Decodes a value written by [`encode`], all of `bytes`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    match bytes.split_first() {
        None => Err(CodecError::Empty),
        Some((&FORMAT_VERSION, rest)) => {
            let mut de = rmp_serde::Deserializer::new(std::io::Cursor::new(rest));
            let v = T::deserialize(&mut de).map_err(|e| CodecError::Malformed(e.to_string()))?;
            let trailing = rest.len() as u64 - de.position();
            if trailing != 0 {
                return Err(CodecError::Trailing(trailing));
            }
            Ok(v)
        }
        Some((&v, _)) => Err(CodecError::Version(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_bytes_are_errors() {
        assert_eq!(decode::<u32>(&[]), Err(CodecError::Empty));
        assert_eq!(decode::<u32>(&[9, 1]), Err(CodecError::Version(9)));
        assert!(matches!(
            decode::<String>(&[FORMAT_VERSION, 0xc1]),
            Err(CodecError::Malformed(_))
        ));
        let mut b = encode(&7u32);
        b.push(0);
        assert_eq!(decode::<u32>(&b), Err(CodecError::Trailing(1)));
        assert_eq!(decode::<u32>(&encode(&7u32)), Ok(7));
    }
}
