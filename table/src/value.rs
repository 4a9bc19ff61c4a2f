//! A typed CQL value. Null is not a value: a nullable place holds `Option<Value>` (a cell that is absent
//! or deleted is `None`), as in Cassandra where null and "no cell" are the same thing.
//!
//! Each variant holds what the CQL native protocol carries, in the units of [`NativeType`]'s docs.
//! Sets hold their elements sorted and without duplicates, maps their entries sorted by key and with
//! unique keys (in the order of the element type's comparison), so that equal collections are equal
//! values.

use crate::types::{CqlType, NativeType};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// A decimal: `unscaled * 10^-scale`, at most [`Decimal::MAX_DIGITS`] digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Decimal {
    pub unscaled: i128,
    pub scale: i32,
}

impl Decimal {
    /// The most digits a decimal may have (Arrow Decimal128's precision); more is refused.
    pub const MAX_DIGITS: u32 = 38;
}

/// A UUID, as its 16 bytes in network order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// The version nibble (1 for a timeuuid).
    pub fn version(&self) -> u8 {
        self.0[6] >> 4
    }
}

/// As CQL writes it: `8-4-4-4-12` lowercase hex.
impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A non-null CQL value.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Value {
    TinyInt(i8),
    SmallInt(i16),
    Int(i32),
    BigInt(i64),
    Float(f32),
    Double(f64),
    Decimal(Decimal),
    Boolean(bool),
    Text(String),
    Ascii(String),
    Blob(Vec<u8>),
    /// Milliseconds since the epoch.
    Timestamp(i64),
    /// Days since the epoch.
    Date(i32),
    /// Nanoseconds since midnight, `0..86_400_000_000_000`.
    Time(i64),
    Uuid(Uuid),
    TimeUuid(Uuid),
    Inet(IpAddr),
    List(Vec<Value>),
    /// Sorted, no duplicates.
    Set(Vec<Value>),
    /// Sorted by key, unique keys.
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// The native type of a non-collection value; `None` for a collection.
    pub fn native_type(&self) -> Option<NativeType> {
        Some(match self {
            Value::TinyInt(_) => NativeType::TinyInt,
            Value::SmallInt(_) => NativeType::SmallInt,
            Value::Int(_) => NativeType::Int,
            Value::BigInt(_) => NativeType::BigInt,
            Value::Float(_) => NativeType::Float,
            Value::Double(_) => NativeType::Double,
            Value::Decimal(_) => NativeType::Decimal,
            Value::Boolean(_) => NativeType::Boolean,
            Value::Text(_) => NativeType::Text,
            Value::Ascii(_) => NativeType::Ascii,
            Value::Blob(_) => NativeType::Blob,
            Value::Timestamp(_) => NativeType::Timestamp,
            Value::Date(_) => NativeType::Date,
            Value::Time(_) => NativeType::Time,
            Value::Uuid(_) => NativeType::Uuid,
            Value::TimeUuid(_) => NativeType::TimeUuid,
            Value::Inet(_) => NativeType::Inet,
            Value::List(_) | Value::Set(_) | Value::Map(_) => return None,
        })
    }

    /// Whether this value is of type `ty` (elements included).
    pub fn is_of(&self, ty: &CqlType) -> bool {
        match (ty, self) {
            (CqlType::Native(t), v) => v.native_type() == Some(*t),
            (CqlType::List(t), Value::List(items)) | (CqlType::Set(t), Value::Set(items)) => {
                items.iter().all(|i| i.native_type() == Some(*t))
            }
            (CqlType::Map(k, v), Value::Map(entries)) => entries
                .iter()
                .all(|(ek, ev)| ek.native_type() == Some(*k) && ev.native_type() == Some(*v)),
            _ => false,
        }
    }
}
