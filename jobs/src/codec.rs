//! The encoding of job values that cross a process boundary (specs, task descriptors, reports,
//! status views): one format byte, then MessagePack with named fields and variants, so that fields
//! added later with `#[serde(default)]` read from older data and reordering is harmless (the same
//! rules as the metadata state's codec).

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The format this build writes.
pub const FORMAT_VERSION: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("empty value")]
    Empty,
    #[error("unsupported job value format {0} (this build reads {FORMAT_VERSION})")]
    Version(u8),
    #[error("malformed job value: {0}")]
    Malformed(#[from] rmp_serde::decode::Error),
}

pub fn encode<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    let mut out = vec![FORMAT_VERSION];
    v.serialize(&mut rmp_serde::Serializer::new(&mut out).with_struct_map())
        .expect("job values encode to MessagePack");
    out
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    match bytes.split_first() {
        None => Err(CodecError::Empty),
        Some((&FORMAT_VERSION, rest)) => Ok(rmp_serde::from_slice(rest)?),
        Some((&v, _)) => Err(CodecError::Version(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bad_input() {
        let v = vec![("a".to_string(), 1u32)];
        assert_eq!(decode::<Vec<(String, u32)>>(&encode(&v)).unwrap(), v);
        assert!(matches!(decode::<u32>(&[]), Err(CodecError::Empty)));
        assert!(matches!(decode::<u32>(&[9, 1]), Err(CodecError::Version(9))));
        assert!(matches!(
            decode::<String>(&[FORMAT_VERSION, 0xc1]),
            Err(CodecError::Malformed(_))
        ));
    }
}
