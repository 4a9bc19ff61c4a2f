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

impl Value {
    /// A set: the elements sorted (in [`compare`]'s order) and without duplicates.
    pub fn set(mut items: Vec<Value>) -> Value {
        items.sort();
        items.dedup();
        Value::Set(items)
    }

    /// A map: the entries sorted by key and with unique keys; of entries with equal keys the last
    /// one given wins (as when a CQL map literal repeats a key).
    pub fn map(entries: Vec<(Value, Value)>) -> Value {
        let mut indexed: Vec<(usize, (Value, Value))> = entries.into_iter().enumerate().collect();
        // Sort by key, later entries first among equal keys, then keep the first of each key.
        indexed.sort_by(|(ia, (ka, _)), (ib, (kb, _))| ka.cmp(kb).then(ib.cmp(ia)));
        indexed.dedup_by(|(_, (kb, _)), (_, (ka, _))| ka == kb);
        Value::Map(indexed.into_iter().map(|(_, e)| e).collect())
    }

    /// The CQL name of the value's type: `int`, `text`, ...; `list`, `set` or `map` for a collection.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            v => v.native_type().map_or("collection", NativeType::cql_name),
        }
    }
}

impl Value {
    /// Position of the variant, to order values of different types (which no column mixes).
    fn rank(&self) -> u8 {
        match self {
            Value::TinyInt(_) => 0,
            Value::SmallInt(_) => 1,
            Value::Int(_) => 2,
            Value::BigInt(_) => 3,
            Value::Float(_) => 4,
            Value::Double(_) => 5,
            Value::Decimal(_) => 6,
            Value::Boolean(_) => 7,
            Value::Text(_) => 8,
            Value::Ascii(_) => 9,
            Value::Blob(_) => 10,
            Value::Timestamp(_) => 11,
            Value::Date(_) => 12,
            Value::Time(_) => 13,
            Value::Uuid(_) => 14,
            Value::TimeUuid(_) => 15,
            Value::Inet(_) => 16,
            Value::List(_) => 17,
            Value::Set(_) => 18,
            Value::Map(_) => 19,
        }
    }
}

/// Values compare as Cassandra orders them in a clustering column or a set (see `compare`); values of
/// different types (which no column mixes) by type.
impl Ord for Value {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        crate::value::compare::cmp(self, other).then_with(|| self.rank().cmp(&other.rank()))
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Value {}

pub mod compare {
    //! Cassandra's comparison of values of one type (Equal for values of different types; `Ord`
    //! breaks that tie by type), as its `AbstractType`s compare serialized values:
    //! - integers, timestamps, dates and times: signed numeric order (dates' unsigned wire form with
    //!   2^31 at the epoch orders as the signed day count);
    //! - float/double: Java's `Float.compare` (see `float`);
    //! - decimal: numeric (`BigDecimal.compareTo`: 1.0 equals 1.00, so a set holds one of them);
    //! - text, ascii, blob, inet: unsigned bytes, lexicographically, shorter first on a common prefix;
    //! - boolean: false before true;
    //! - uuid: UUIDType (version, then time for version 1, then unsigned bytes);
    //! - timeuuid: TimeUUIDType (time, then the last 8 bytes as signed bytes);
    //! - list/set: element by element, then shorter first; map: key, then value, entry by entry.
    //!
    //! Equality (`Value`'s `Eq`) is this order's `Equal`, so `Eq` and `Ord` agree by construction.
    use super::{Decimal, Uuid, Value};
    use std::cmp::Ordering;
    use std::net::IpAddr;

    pub fn cmp(a: &Value, b: &Value) -> Ordering {
        use Value::*;
        match (a, b) {
            (TinyInt(x), TinyInt(y)) => x.cmp(y),
            (SmallInt(x), SmallInt(y)) => x.cmp(y),
            (Int(x), Int(y)) => x.cmp(y),
            (BigInt(x), BigInt(y)) | (Timestamp(x), Timestamp(y)) | (Time(x), Time(y)) => x.cmp(y),
            (Float(x), Float(y)) => float(*x as f64, *y as f64),
            (Double(x), Double(y)) => float(*x, *y),
            (Decimal(x), Decimal(y)) => decimal(x, y),
            (Boolean(x), Boolean(y)) => x.cmp(y),
            (Text(x), Text(y)) | (Ascii(x), Ascii(y)) => x.as_bytes().cmp(y.as_bytes()),
            (Blob(x), Blob(y)) => x.cmp(y),
            (Date(x), Date(y)) => x.cmp(y),
            (Uuid(x), Uuid(y)) => uuid(x, y),
            (TimeUuid(x), TimeUuid(y)) => timeuuid(x, y),
            (Inet(x), Inet(y)) => inet_bytes(x).cmp(&inet_bytes(y)),
            (List(x), List(y)) | (Set(x), Set(y)) => x.cmp(y),
            (Map(x), Map(y)) => x.cmp(y),
            _ => Ordering::Equal,
        }
    }

    /// FloatType and DoubleType: Java's `Float.compare`/`Double.compare`: -0.0 before 0.0, and every
    /// NaN (whatever its sign and payload) equal to every other and after +Infinity. (`f64::total_cmp`
    /// would put negative NaNs first and tell NaN payloads apart.) Widening f32 to f64 keeps order.
    fn float(x: f64, y: f64) -> Ordering {
        match (x.is_nan(), y.is_nan()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => x.total_cmp(&y),
        }
    }

    /// InetAddressType: the address bytes, unsigned, lexicographically (so every IPv4 address, 4
    /// bytes, sorts before the IPv6 addresses that start with the same bytes).
    fn inet_bytes(a: &IpAddr) -> Vec<u8> {
        match a {
            IpAddr::V4(v) => v.octets().to_vec(),
            IpAddr::V6(v) => v.octets().to_vec(),
        }
    }

    /// Numeric order (1.0 equals 1.00 in order, as BigDecimal.compareTo).
    fn decimal(x: &Decimal, y: &Decimal) -> Ordering {
        if x.scale == y.scale {
            return x.unscaled.cmp(&y.unscaled);
        }
        let (sign_x, sign_y) = (x.unscaled.signum(), y.unscaled.signum());
        if sign_x != sign_y {
            return sign_x.cmp(&sign_y);
        }
        if sign_x == 0 {
            // Zero at any scale is zero (a shift too large for i128 must not make one zero larger).
            return Ordering::Equal;
        }
        // Same sign: bring both to the larger scale; on overflow the one that overflowed is larger in
        // magnitude.
        let (lo, hi, flipped) = if x.scale < y.scale { (x, y, false) } else { (y, x, true) };
        let shift = (hi.scale as i64 - lo.scale as i64) as u32;
        let ord = match 10i128.checked_pow(shift).and_then(|m| lo.unscaled.checked_mul(m)) {
            Some(scaled) => scaled.cmp(&hi.unscaled),
            None => {
                if sign_x >= 0 {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
        };
        if flipped { ord.reverse() } else { ord }
    }

    /// The 60-bit timestamp of a version 1 UUID.
    pub fn uuid_time(u: &Uuid) -> u64 {
        let b = u.0;
        let hi = (((b[6] & 0x0f) as u64) << 8) | b[7] as u64;
        let mid = ((b[4] as u64) << 8) | b[5] as u64;
        let low = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as u64;
        (hi << 48) | (mid << 32) | low
    }

    /// UUIDType: by version, then version 1 ones by time, then by all 16 bytes unsigned (unlike
    /// TimeUUIDType, whose tie-break is signed).
    fn uuid(x: &Uuid, y: &Uuid) -> Ordering {
        x.version().cmp(&y.version()).then_with(|| {
            let by_time = if x.version() == 1 {
                uuid_time(x).cmp(&uuid_time(y))
            } else {
                Ordering::Equal
            };
            by_time.then_with(|| x.0.cmp(&y.0))
        })
    }

    /// TimeUUIDType: by time, then by the remaining bytes (signed, as Cassandra compares them).
    fn timeuuid(x: &Uuid, y: &Uuid) -> Ordering {
        uuid_time(x).cmp(&uuid_time(y)).then_with(|| {
            let sx = x.0[8..].iter().map(|b| *b as i8);
            let sy = y.0[8..].iter().map(|b| *b as i8);
            sx.cmp(sy)
        })
    }
}

#[cfg(test)]
#[path = "value_tests.rs"]
mod tests;
