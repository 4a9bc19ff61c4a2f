//! [`ValueError`]: why a value, its bytes or its Arrow column were refused. Every variant names the
//! CQL type it was about and carries the numbers that were wrong; [`ValueError::kind`] maps it onto
//! [`ErrorKind`] exhaustively: a value a client sent that does not fit its type is `Invalid`; bytes
//! that do not decode (from the wire, from storage) are `Corrupt` only where the caller cannot tell, so
//! decoding errors are `Invalid` too (the CQL layer answers a client's bad bytes with a protocol
//! error); storage decoding its own bytes should map a decode failure to `Corrupt` itself.

use crate::types::{CqlType, NativeType};
use basalt_common::ErrorKind;
use thiserror::Error;

/// A value, its serialization or its Arrow column did not fit its CQL type.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ValueError {
    /// A fixed-size type's bytes had the wrong length.
    #[error("a {ty} value is {expected} bytes, got {actual}")]
    WrongLength {
        ty: NativeType,
        expected: usize,
        actual: usize,
    },
    /// An `inet` value must be 4 (IPv4) or 16 (IPv6) bytes.
    #[error("an inet value is 4 or 16 bytes, got {actual}")]
    InetLength { actual: usize },
    /// A `text` value was not UTF-8.
    #[error("a {ty} value is not valid UTF-8 (first bad byte at {position})")]
    InvalidUtf8 { ty: NativeType, position: usize },
    /// An `ascii` value held a byte (or character) outside US-ASCII.
    #[error("an ascii value holds a non-ASCII byte at {position}")]
    NotAscii { position: usize },
    /// A decimal had more digits than [`crate::Decimal::MAX_DIGITS`] (or its unscaled part did not fit
    /// 128 bits: `digits` is then a lower bound).
    #[error("a decimal has at most {max} digits, got {digits}", max = crate::Decimal::MAX_DIGITS)]
    DecimalTooLarge { digits: u32 },
    /// A decimal's unscaled part (a varint) was empty.
    #[error("a decimal needs at least one byte of unscaled value after its 4-byte scale")]
    DecimalNoDigits,
    /// A `time` value was outside `0..86_400_000_000_000` nanoseconds.
    #[error("a time value is 0 to 86399999999999 nanoseconds after midnight, got {nanos}")]
    TimeOutOfRange { nanos: i64 },
    /// A `timeuuid` value was not a version 1 UUID.
    #[error("a timeuuid must be a version 1 UUID, got version {version}")]
    NotTimeUuid { version: u8 },
    /// The bytes ended inside a collection.
    #[error("a {ty} value ends after {available} bytes, {needed} more needed")]
    Truncated {
        ty: CqlType,
        needed: usize,
        available: usize,
    },
    /// A collection's bytes went on after its last element.
    #[error("a {ty} value has {extra} bytes after its last element")]
    TrailingBytes { ty: CqlType, extra: usize },
    /// A collection's element count (or an element's length) was negative: a collection holds no nulls.
    #[error("a {ty} value has a negative count or element length ({value}); collections hold no nulls")]
    NegativeLength { ty: CqlType, value: i32 },
    /// A value was not of the type expected (a `text` for an `int` column, an `int` element in a
    /// `list<text>`).
    #[error("expected a {expected} value, got a {actual}")]
    WrongType { expected: CqlType, actual: &'static str },
    /// A set's elements were not sorted and unique, or a map's keys (use `Value::set`/`Value::map`).
    #[error("a {ty} value is not in sorted order without duplicates (element {index})")]
    NotNormalized { ty: CqlType, index: usize },
    /// A collection or partition key component was too large for its length prefix.
    #[error("a {ty} value or element of {len} bytes is too large for its length prefix")]
    TooLarge { ty: CqlType, len: usize },
    /// A partition key component serialized to more than 65535 bytes (Cassandra's limit, from the u16
    /// lengths of its composite keys).
    #[error("partition key component {component} is {len} bytes, at most 65535 allowed")]
    KeyTooLarge { component: usize, len: usize },
    /// A row given to an Arrow batch builder had the wrong number of values.
    #[error("a row has {expected} columns, got {actual} values")]
    RowWidth { expected: usize, actual: usize },
    /// An Arrow column index past the batch's columns.
    #[error("column {column} does not exist: the batch has {columns} columns")]
    NoSuchColumn { column: usize, columns: usize },
    /// An Arrow column's type did not match the CQL type it was read as.
    #[error("column {column} read as {ty} has Arrow type {arrow}")]
    ArrowType { column: usize, ty: CqlType, arrow: String },
    /// An Arrow collection held a null element (or a decimal a null part), which CQL cannot carry.
    #[error("a {ty} value in Arrow holds a null element")]
    NullElement { ty: CqlType },
}

impl ValueError {
    /// What the caller should do: every variant is a value or bytes that do not fit their type.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ValueError::WrongLength { .. }
            | ValueError::InetLength { .. }
            | ValueError::InvalidUtf8 { .. }
            | ValueError::NotAscii { .. }
            | ValueError::DecimalTooLarge { .. }
            | ValueError::DecimalNoDigits
            | ValueError::TimeOutOfRange { .. }
            | ValueError::NotTimeUuid { .. }
            | ValueError::Truncated { .. }
            | ValueError::TrailingBytes { .. }
            | ValueError::NegativeLength { .. }
            | ValueError::WrongType { .. }
            | ValueError::NotNormalized { .. }
            | ValueError::TooLarge { .. }
            | ValueError::KeyTooLarge { .. }
            | ValueError::RowWidth { .. }
            | ValueError::NoSuchColumn { .. }
            | ValueError::ArrowType { .. }
            | ValueError::NullElement { .. } => ErrorKind::Invalid,
        }
    }
}
