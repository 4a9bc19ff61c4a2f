//! The encoding of everything the metadata group persists or sends: log entries, votes, log ids,
//! snapshots and Raft messages.
//!
//! A value is one format byte, then the value in MessagePack with **named fields and variants**
//! (`rmp_serde::to_vec_named`). That is what makes the formats evolvable:
//! - a field added later with `#[serde(default)]` reads as its default from older data;
//! - a field or variant a reader does not know is skipped (fields) or refused (variants), so a new
//!   command is only proposed once every member applies it (`state::STATE_VERSION`);
//! - field and variant names, not positions, carry meaning: reordering is safe, renaming is not.
//!
//! | format byte | encoding | written by |
//! |---|---|---|
//! | 2 | bincode of the v2 types (`state::legacy`), read-only | builds before the state sub-machines |
//! | 3 | MessagePack with names | this build |

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The format this build writes.
pub const FORMAT_VERSION: u8 = 3;
/// The bincode format of earlier builds, which this build still reads (see `state::legacy`).
pub const LEGACY_FORMAT_V2: u8 = 2;

/// Decoding failure of a persisted or transmitted value.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("empty value")]
    Empty,
    #[error("unsupported format version {0} (this build reads {LEGACY_FORMAT_V2} and {FORMAT_VERSION})")]
    Version(u8),
    #[error("malformed value: {0}")]
    Malformed(#[from] rmp_serde::decode::Error),
    #[error("malformed value in format {LEGACY_FORMAT_V2}: {0}")]
    MalformedLegacy(#[from] bincode::Error),
}

/// Encodes `v` with a leading format byte.
pub fn encode<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(&mut out, v);
    out
}

/// Appends `v` with its leading format byte to `out`.
pub fn encode_into<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    out.push(FORMAT_VERSION);
    v.serialize(&mut rmp_serde::Serializer::new(&mut *out).with_struct_map())
        .expect("every persisted type encodes to MessagePack");
}

/// Writes `v` with its leading format byte to `w`, streamed (a large value is never whole in memory).
pub fn encode_to<T: Serialize + ?Sized, W: std::io::Write>(mut w: W, v: &T) -> std::io::Result<()> {
    w.write_all(&[FORMAT_VERSION])?;
    v.serialize(&mut rmp_serde::Serializer::new(&mut w).with_struct_map())
        .map_err(std::io::Error::other)
}

/// Decodes one value written by [`encode`] from a reader, reading no further than its end.
pub fn decode_from<T: DeserializeOwned, R: std::io::Read>(mut r: R) -> Result<T, DecodeError> {
    let mut version = [0u8];
    r.read_exact(&mut version).map_err(|_| DecodeError::Empty)?;
    match version[0] {
        FORMAT_VERSION => Ok(rmp_serde::from_read(r)?),
        v => Err(DecodeError::Version(v)),
    }
}

/// Decodes a value written by [`encode`] (format 3 only: messages between members, which must run
/// builds of the same format).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    match bytes.split_first() {
        None => Err(DecodeError::Empty),
        Some((&FORMAT_VERSION, rest)) => Ok(rmp_serde::from_slice(rest)?),
        Some((&v, _)) => Err(DecodeError::Version(v)),
    }
}

/// Decodes a persisted value of this or the previous format; an older value (`L`, the v2 type) is
/// upgraded with `upgrade`.
pub fn decode_or_upgrade<T: DeserializeOwned, L: DeserializeOwned>(
    bytes: &[u8],
    upgrade: impl FnOnce(L) -> T,
) -> Result<T, DecodeError> {
    match bytes.split_first() {
        Some((&LEGACY_FORMAT_V2, rest)) => Ok(upgrade(bincode::deserialize(rest)?)),
        _ => decode(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct V1 {
        a: u64,
        kind: Kind1,
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    enum Kind1 {
        X { n: u32 },
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct V2 {
        kind: Kind2,
        a: u64,
        #[serde(default)]
        added: Vec<String>,
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    enum Kind2 {
        New,
        X {
            n: u32,
            #[serde(default)]
            m: u32,
        },
    }

    #[test]
    fn fields_and_variants_evolve() {
        let old = encode(&V1 {
            a: 7,
            kind: Kind1::X { n: 3 },
        });
        // A newer reader: fields reordered, one added, a variant added before the old one.
        let new: V2 = decode(&old).unwrap();
        assert_eq!(
            new,
            V2 {
                kind: Kind2::X { n: 3, m: 0 },
                a: 7,
                added: vec![]
            }
        );
        // An older reader skips the field it does not know.
        let back: V1 = decode(&encode(&V2 {
            kind: Kind2::X { n: 1, m: 9 },
            a: 2,
            added: vec!["x".into()],
        }))
        .unwrap();
        assert_eq!(back.a, 2);
        // …and refuses a variant it does not know, with an error rather than a wrong value.
        assert!(
            decode::<V1>(&encode(&V2 {
                kind: Kind2::New,
                a: 2,
                added: vec![]
            }))
            .is_err()
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(matches!(decode::<V1>(&[]), Err(DecodeError::Empty)));
        assert!(matches!(decode::<V1>(&[9, 1, 2]), Err(DecodeError::Version(9))));
        assert!(matches!(
            decode::<V1>(&[FORMAT_VERSION, 0xc1]),
            Err(DecodeError::Malformed(_))
        ));
        let mut truncated = encode(&V1 {
            a: 1,
            kind: Kind1::X { n: 2 },
        });
        truncated.truncate(truncated.len() - 1);
        assert!(decode::<V1>(&truncated).is_err());
    }
}
