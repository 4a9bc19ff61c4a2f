//! The CQL native protocol v4 serialization of a [`Value`] (the `[bytes]` body of a value, without the
//! 4-byte length the protocol puts in front of it), both ways. This is also the cell value format of
//! storage (see `partition`), so it is a persisted format: it is Cassandra's, fixed by the protocol
//! spec (section 6), and evolves only by new types.
//!
//! | type | bytes |
//! |---|---|
//! | tinyint, smallint, int, bigint | 1, 2, 4, 8 bytes, two's complement, big-endian |
//! | float, double | IEEE 754 binary32 / binary64, big-endian (NaN payloads and -0.0 kept) |
//! | boolean | 1 byte: 0 is false, anything else true (written as 1) |
//! | decimal | i32 scale, then the unscaled value as a varint: minimal two's complement big-endian |
//! | text / ascii | UTF-8 / US-ASCII bytes |
//! | blob | the bytes |
//! | timestamp | i64 milliseconds since the epoch |
//! | date | u32 days with 2^31 at the epoch (`Value::Date` is signed days since the epoch) |
//! | time | i64 nanoseconds since midnight, `0..=86_399_999_999_999` |
//! | uuid, timeuuid | 16 bytes (timeuuid: version 1) |
//! | inet | 4 (IPv4) or 16 (IPv6) bytes |
//! | list, set | i32 count, then per element an i32 length and the element's bytes |
//! | map | i32 count, then per entry the key and the value, each as an i32 length and bytes |
//!
//! [`deserialize`] checks exact lengths and every rule above and answers a typed [`ValueError`]; it
//! never panics (a property test feeds it arbitrary bytes). Sets and maps come out normalized (sorted,
//! unique; see `value`) whatever order the bytes held. [`serialize`] trusts its value; [`validate`]
//! (or [`serialize_checked`]) checks it against a column type first.

use crate::error::ValueError;
use crate::types::{CqlType, NativeType};
use crate::value::{Decimal, Uuid, Value};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Days between day 0 of the `date` wire form and the epoch.
const DATE_EPOCH: i64 = 1 << 31;
/// Nanoseconds in a day: `time` values are below this.
pub const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// Appends the serialization of `v` (no length prefix). Writes what the value holds without checking
/// it against a type; see [`serialize_checked`].
pub fn serialize(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::TinyInt(x) => out.extend_from_slice(&x.to_be_bytes()),
        Value::SmallInt(x) => out.extend_from_slice(&x.to_be_bytes()),
        Value::Int(x) => out.extend_from_slice(&x.to_be_bytes()),
        Value::BigInt(x) | Value::Timestamp(x) | Value::Time(x) => out.extend_from_slice(&x.to_be_bytes()),
        Value::Float(x) => out.extend_from_slice(&x.to_bits().to_be_bytes()),
        Value::Double(x) => out.extend_from_slice(&x.to_bits().to_be_bytes()),
        Value::Decimal(d) => {
            out.extend_from_slice(&d.scale.to_be_bytes());
            write_varint(d.unscaled, out);
        }
        Value::Boolean(b) => out.push(u8::from(*b)),
        Value::Text(s) | Value::Ascii(s) => out.extend_from_slice(s.as_bytes()),
        Value::Blob(b) => out.extend_from_slice(b),
        Value::Date(days) => {
            let wire = (*days as i64 + DATE_EPOCH) as u32;
            out.extend_from_slice(&wire.to_be_bytes());
        }
        Value::Uuid(u) | Value::TimeUuid(u) => out.extend_from_slice(&u.0),
        Value::Inet(IpAddr::V4(a)) => out.extend_from_slice(&a.octets()),
        Value::Inet(IpAddr::V6(a)) => out.extend_from_slice(&a.octets()),
        Value::List(items) | Value::Set(items) => {
            write_len(items.len(), out);
            for item in items {
                write_element(item, out);
            }
        }
        Value::Map(entries) => {
            write_len(entries.len(), out);
            for (k, v) in entries {
                write_element(k, out);
                write_element(v, out);
            }
        }
    }
}

/// The serialization of `v` (no length prefix).
pub fn to_bytes(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    serialize(v, &mut out);
    out
}

/// [`validate`]s `v` against `ty`, then [`serialize`]s it.
pub fn serialize_checked(v: &Value, ty: &CqlType, out: &mut Vec<u8>) -> Result<(), ValueError> {
    validate(v, ty)?;
    serialize(v, out);
    Ok(())
}

/// Counts and element lengths are i32; a collection or element past `i32::MAX` (which `validate`
/// refuses) is written with a saturated length rather than a wrapped one.
fn write_len(len: usize, out: &mut Vec<u8>) {
    let len = i32::try_from(len).unwrap_or(i32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
}

fn write_element(v: &Value, out: &mut Vec<u8>) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    serialize(v, out);
    let len = i32::try_from(out.len() - at - 4).unwrap_or(i32::MAX);
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
}

/// Minimal two's complement big-endian bytes of `x` (Java's `BigInteger.toByteArray`): at least one
/// byte, no leading byte that only repeats the sign of the next.
fn write_varint(x: i128, out: &mut Vec<u8>) {
    let bytes = x.to_be_bytes();
    let mut start = 0;
    while start < 15 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Reads a varint of up to 16 significant bytes (longer ones must only repeat the sign).
fn read_varint(bytes: &[u8]) -> Result<i128, ValueError> {
    let Some(&first) = bytes.first() else {
        return Err(ValueError::DecimalNoDigits);
    };
    let sign = if first & 0x80 != 0 { 0xff } else { 0x00 };
    // Drop redundant sign bytes, keeping the last one whose top bit carries the sign.
    let mut rest = bytes;
    while rest.len() > 16 && rest[0] == sign && rest[1] & 0x80 == sign & 0x80 {
        rest = &rest[1..];
    }
    if rest.len() > 16 {
        // At least 8 bits per byte past 128 bits: far more than 38 digits.
        let digits = ((rest.len() as u64 * 8 - 1) * 30103 / 100_000) as u32;
        return Err(ValueError::DecimalTooLarge { digits });
    }
    let mut buf = [sign; 16];
    buf[16 - rest.len()..].copy_from_slice(rest);
    Ok(i128::from_be_bytes(buf))
}

/// The number of decimal digits of `x` (1 for 0).
pub fn decimal_digits(x: i128) -> u32 {
    x.unsigned_abs().checked_ilog10().map_or(1, |d| d + 1)
}

/// Reads a value of type `ty` from exactly `bytes` (no length prefix).
pub fn deserialize(ty: &CqlType, bytes: &[u8]) -> Result<Value, ValueError> {
    match *ty {
        CqlType::Native(t) => deserialize_native(t, bytes),
        CqlType::List(t) => Ok(Value::List(read_elements(ty, t, bytes)?)),
        CqlType::Set(t) => Ok(Value::set(read_elements(ty, t, bytes)?)),
        CqlType::Map(k, v) => {
            let mut r = Reader { ty, bytes };
            let n = r.count()?;
            let mut entries = Vec::with_capacity(n.min(bytes.len() / 8));
            for _ in 0..n {
                let key = deserialize_native(k, r.element()?)?;
                let value = deserialize_native(v, r.element()?)?;
                entries.push((key, value));
            }
            r.finish()?;
            Ok(Value::map(entries))
        }
    }
}

fn read_elements(ty: &CqlType, elem: NativeType, bytes: &[u8]) -> Result<Vec<Value>, ValueError> {
    let mut r = Reader { ty, bytes };
    let n = r.count()?;
    // Each element takes at least its 4-byte length: never reserve more than the bytes can hold.
    let mut items = Vec::with_capacity(n.min(bytes.len() / 4));
    for _ in 0..n {
        items.push(deserialize_native(elem, r.element()?)?);
    }
    r.finish()?;
    Ok(items)
}

/// Walks a collection's bytes.
struct Reader<'a> {
    ty: &'a CqlType,
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ValueError> {
        if self.bytes.len() < n {
            return Err(ValueError::Truncated {
                ty: *self.ty,
                needed: n - self.bytes.len(),
                available: self.bytes.len(),
            });
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn int(&mut self) -> Result<usize, ValueError> {
        let b = self.take(4)?;
        let v = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        usize::try_from(v).map_err(|_| ValueError::NegativeLength { ty: *self.ty, value: v })
    }

    fn count(&mut self) -> Result<usize, ValueError> {
        self.int()
    }

    fn element(&mut self) -> Result<&'a [u8], ValueError> {
        let len = self.int()?;
        self.take(len)
    }

    fn finish(self) -> Result<(), ValueError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(ValueError::TrailingBytes {
                ty: *self.ty,
                extra: self.bytes.len(),
            })
        }
    }
}

fn fixed<const N: usize>(ty: NativeType, bytes: &[u8]) -> Result<[u8; N], ValueError> {
    bytes.try_into().map_err(|_| ValueError::WrongLength {
        ty,
        expected: N,
        actual: bytes.len(),
    })
}

fn deserialize_native(t: NativeType, bytes: &[u8]) -> Result<Value, ValueError> {
    Ok(match t {
        NativeType::TinyInt => Value::TinyInt(i8::from_be_bytes(fixed(t, bytes)?)),
        NativeType::SmallInt => Value::SmallInt(i16::from_be_bytes(fixed(t, bytes)?)),
        NativeType::Int => Value::Int(i32::from_be_bytes(fixed(t, bytes)?)),
        NativeType::BigInt => Value::BigInt(i64::from_be_bytes(fixed(t, bytes)?)),
        NativeType::Timestamp => Value::Timestamp(i64::from_be_bytes(fixed(t, bytes)?)),
        NativeType::Time => {
            let nanos = i64::from_be_bytes(fixed(t, bytes)?);
            check_time(nanos)?;
            Value::Time(nanos)
        }
        NativeType::Float => Value::Float(f32::from_bits(u32::from_be_bytes(fixed(t, bytes)?))),
        NativeType::Double => Value::Double(f64::from_bits(u64::from_be_bytes(fixed(t, bytes)?))),
        NativeType::Boolean => Value::Boolean(fixed::<1>(t, bytes)?[0] != 0),
        NativeType::Decimal => {
            if bytes.len() < 4 {
                return Err(ValueError::WrongLength {
                    ty: t,
                    expected: 5,
                    actual: bytes.len(),
                });
            }
            let scale = i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            let unscaled = read_varint(&bytes[4..])?;
            let d = Decimal { unscaled, scale };
            check_decimal(&d)?;
            Value::Decimal(d)
        }
        NativeType::Text => match std::str::from_utf8(bytes) {
            Ok(s) => Value::Text(s.to_owned()),
            Err(e) => {
                return Err(ValueError::InvalidUtf8 {
                    ty: t,
                    position: e.valid_up_to(),
                });
            }
        },
        NativeType::Ascii => {
            if let Some(position) = bytes.iter().position(|b| !b.is_ascii()) {
                return Err(ValueError::NotAscii { position });
            }
            // All ASCII, hence UTF-8.
            Value::Ascii(bytes.iter().map(|&b| b as char).collect())
        }
        NativeType::Blob => Value::Blob(bytes.to_vec()),
        NativeType::Date => {
            let wire = u32::from_be_bytes(fixed(t, bytes)?);
            Value::Date((wire as i64 - DATE_EPOCH) as i32)
        }
        NativeType::Uuid => Value::Uuid(Uuid(fixed(t, bytes)?)),
        NativeType::TimeUuid => {
            let u = Uuid(fixed(t, bytes)?);
            check_timeuuid(&u)?;
            Value::TimeUuid(u)
        }
        NativeType::Inet => match bytes.len() {
            4 => Value::Inet(IpAddr::V4(Ipv4Addr::from(fixed::<4>(t, bytes)?))),
            16 => Value::Inet(IpAddr::V6(Ipv6Addr::from(fixed::<16>(t, bytes)?))),
            actual => return Err(ValueError::InetLength { actual }),
        },
    })
}

fn check_time(nanos: i64) -> Result<(), ValueError> {
    if (0..NANOS_PER_DAY).contains(&nanos) {
        Ok(())
    } else {
        Err(ValueError::TimeOutOfRange { nanos })
    }
}

fn check_decimal(d: &Decimal) -> Result<(), ValueError> {
    let digits = decimal_digits(d.unscaled);
    if digits > Decimal::MAX_DIGITS {
        Err(ValueError::DecimalTooLarge { digits })
    } else {
        Ok(())
    }
}

fn check_timeuuid(u: &Uuid) -> Result<(), ValueError> {
    if u.version() == 1 {
        Ok(())
    } else {
        Err(ValueError::NotTimeUuid { version: u.version() })
    }
}

/// Checks that `v` is a value of type `ty` that [`serialize`] writes correctly: the type (elements
/// included), decimal digits, time range, timeuuid version, ASCII-only ascii, sets and maps
/// normalized, and every length within the protocol's i32.
pub fn validate(v: &Value, ty: &CqlType) -> Result<(), ValueError> {
    let wrong = || ValueError::WrongType {
        expected: *ty,
        actual: v.type_name(),
    };
    match (ty, v) {
        (CqlType::Native(t), v) => validate_native(v, *t, ty),
        (CqlType::List(t), Value::List(items)) => validate_items(items, *t, ty, false),
        (CqlType::Set(t), Value::Set(items)) => validate_items(items, *t, ty, true),
        (CqlType::Map(k, val), Value::Map(entries)) => {
            check_len(entries.len(), ty)?;
            for (i, (ek, ev)) in entries.iter().enumerate() {
                validate_native(ek, *k, ty)?;
                validate_native(ev, *val, ty)?;
                if i > 0 && entries[i - 1].0 >= *ek {
                    return Err(ValueError::NotNormalized { ty: *ty, index: i });
                }
            }
            Ok(())
        }
        _ => Err(wrong()),
    }
}

fn validate_items(items: &[Value], t: NativeType, ty: &CqlType, sorted: bool) -> Result<(), ValueError> {
    check_len(items.len(), ty)?;
    for (i, item) in items.iter().enumerate() {
        validate_native(item, t, ty)?;
        if sorted && i > 0 && items[i - 1] >= *item {
            return Err(ValueError::NotNormalized { ty: *ty, index: i });
        }
    }
    Ok(())
}

fn check_len(len: usize, ty: &CqlType) -> Result<(), ValueError> {
    if i32::try_from(len).is_ok() {
        Ok(())
    } else {
        Err(ValueError::TooLarge { ty: *ty, len })
    }
}

/// Checks a native value of type `t`; `within` is the column type named in a wrong-type error.
fn validate_native(v: &Value, t: NativeType, within: &CqlType) -> Result<(), ValueError> {
    if v.native_type() != Some(t) {
        return Err(ValueError::WrongType {
            expected: *within,
            actual: v.type_name(),
        });
    }
    match v {
        Value::Decimal(d) => check_decimal(d),
        Value::Time(nanos) => check_time(*nanos),
        Value::TimeUuid(u) => check_timeuuid(u),
        Value::Ascii(s) => match s.bytes().position(|b| !b.is_ascii()) {
            Some(position) => Err(ValueError::NotAscii { position }),
            None => check_len(s.len(), within),
        },
        Value::Text(s) => check_len(s.len(), within),
        Value::Blob(b) => check_len(b.len(), within),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[path = "serialize_tests.rs"]
mod tests;
