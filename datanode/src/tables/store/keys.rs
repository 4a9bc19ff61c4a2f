//! The key layout of a table's column family, the one place that knows it.
//!
//! ```text
//! key = token | partition key | kind | clustering
//!   token          8 bytes: the Murmur3 token (i64) with its sign bit flipped, big-endian, so that
//!                  byte order is token order
//!   partition key  each component in the ASC encoding below (self-delimiting)
//!   kind           0x00 partition header (partition deletion and range tombstones),
//!                  0x01 static row, 0x02 a row; 0x03 is never stored: `prefix | 0x03` is the end of
//!                  the partition
//!   clustering     rows only: each component in its column's direction
//! ```
//!
//! So a partition's entries are contiguous, in token order then partition key order, its partition
//! level entries before its rows, and its rows in clustering order.
//!
//! Component encoding (ASC), order-preserving (byte order == [`Value`]'s `Ord`) and prefix-free:
//! - tinyint, smallint, int, bigint, timestamp, date, time: big-endian with the sign bit flipped;
//!   boolean: one byte 0/1.
//! - float, double: the IEEE bits, all inverted for negatives, sign bit set for positives; every NaN
//!   as the canonical positive NaN, so all NaNs are one key after +inf (Java's `Float.compare`, which
//!   is Cassandra's order and `Value`'s). A NaN's payload is not kept in a key.
//! - text, ascii, blob, inet (its 4 or 16 octets): the bytes with `0x00` escaped as `0x00 0xFF`, then
//!   the terminator `0x00 0x01`.
//! - uuid: the version byte, then for version 1 the 60-bit time (8 bytes) and bytes 8..16 with their
//!   sign bit flipped (Cassandra compares them signed), else the 16 bytes.
//! - timeuuid: the 60-bit time, bytes 8..16 sign-flipped, then the version byte.
//! - decimal: a sign byte (0 negative, 1 zero, 2 positive), then for non-zero the decimal exponent
//!   (i64, flipped) and the digits in ASCII with trailing zeros removed, then a `0x00` terminator (all
//!   of it inverted for negatives). Values equal in order (1.0 and 1.00) have one key, as in Cassandra
//!   (one row); a key decodes to the value with the smallest non-negative scale that holds it (1.00 →
//!   1, 1.50 → 1.5, 1E+2 → 100).
//! - frozen list/set: each element `0x01 | element`, then `0x00`; map: `0x01 | key | value`, then `0x00`.
//!
//! DESC: every byte of the ASC encoding inverted. As the ASC encodings are prefix-free, inverting
//! reverses the order, and a composite key (concatenated components) orders as its tuple.

use basalt_table::schema::{ClusteringOrder, ColumnKind, TableDef};
use basalt_table::types::{CqlType, NativeType};
use basalt_table::value::{Decimal, Uuid, Value, compare::uuid_time};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Bound;

/// Entry kinds, after the partition key.
pub const KIND_HEADER: u8 = 0x00;
pub const KIND_STATIC: u8 = 0x01;
pub const KIND_ROW: u8 = 0x02;
const KIND_END: u8 = 0x03;

/// Why a key does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key truncated")]
    Truncated,
    #[error("bad {what} in key at byte {at}")]
    Bad { what: &'static str, at: usize },
    #[error("value {value} does not fit a {ty} key column")]
    WrongType { value: String, ty: String },
}

/// One decoded entry key.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryKey {
    pub token: i64,
    pub key: Vec<Value>,
    /// The bytes of `token | partition key` (what paging resumes after).
    pub partition_prefix: Vec<u8>,
    pub kind: u8,
    pub clustering: Vec<Value>,
}

/// The key layout of one table: its key columns' types and directions.
#[derive(Debug, Clone)]
pub struct KeyLayout {
    partition: Vec<CqlType>,
    clustering: Vec<(CqlType, ClusteringOrder)>,
}

impl KeyLayout {
    pub fn for_table(t: &TableDef) -> KeyLayout {
        KeyLayout {
            partition: t.partition_key().iter().map(|c| c.ty).collect(),
            clustering: t
                .clustering()
                .iter()
                .map(|c| match c.kind {
                    ColumnKind::Clustering { order, .. } => (c.ty, order),
                    _ => (c.ty, ClusteringOrder::Asc),
                })
                .collect(),
        }
    }

    pub fn new(partition: Vec<CqlType>, clustering: Vec<(CqlType, ClusteringOrder)>) -> KeyLayout {
        KeyLayout { partition, clustering }
    }

    /// `token | partition key`.
    pub fn partition_prefix(&self, token: i64, key: &[Value]) -> Result<Vec<u8>, KeyError> {
        let mut out = token_bytes(token).to_vec();
        for (v, ty) in key.iter().zip(&self.partition) {
            check(v, ty)?;
            encode_value(v, &mut out);
        }
        Ok(out)
    }

    /// The key of an entry of `kind` in the partition whose prefix is `prefix`.
    pub fn entry(&self, prefix: &[u8], kind: u8, clustering: &[Value]) -> Result<Vec<u8>, KeyError> {
        let mut out = Vec::with_capacity(prefix.len() + 1 + 16 * clustering.len());
        out.extend_from_slice(prefix);
        out.push(kind);
        self.push_clustering(clustering, &mut out)?;
        Ok(out)
    }

    fn push_clustering(&self, clustering: &[Value], out: &mut Vec<u8>) -> Result<(), KeyError> {
        for (v, (ty, order)) in clustering.iter().zip(&self.clustering) {
            check(v, ty)?;
            let start = out.len();
            encode_value(v, out);
            if *order == ClusteringOrder::Desc {
                out[start..].iter_mut().for_each(|b| *b = !*b);
            }
        }
        Ok(())
    }

    /// The exclusive end of the partition's entries.
    pub fn partition_end(prefix: &[u8]) -> Vec<u8> {
        let mut v = prefix.to_vec();
        v.push(KIND_END);
        v
    }

    /// The byte range `[lower, upper)` of the rows within the clustering slice `(start, end)` (prefix
    /// bounds in clustering order).
    pub fn row_range(
        &self,
        prefix: &[u8],
        start: &Bound<Vec<Value>>,
        end: &Bound<Vec<Value>>,
    ) -> Result<(Vec<u8>, Vec<u8>), KeyError> {
        let rows = self.entry(prefix, KIND_ROW, &[])?;
        let at = |p: &[Value]| self.entry(prefix, KIND_ROW, p);
        let lower = match start {
            Bound::Unbounded => rows.clone(),
            Bound::Included(p) => at(p)?,
            Bound::Excluded(p) => successor(at(p)?),
        };
        let upper = match end {
            Bound::Unbounded => successor(rows),
            Bound::Included(p) => successor(at(p)?),
            Bound::Excluded(p) => at(p)?,
        };
        Ok((lower, upper))
    }

    /// Decodes an entry key.
    pub fn decode(&self, bytes: &[u8]) -> Result<EntryKey, KeyError> {
        let mut r = Reader { b: bytes, at: 0 };
        let token = i64::from_be_bytes(r.take(8)?.try_into().expect("8 bytes")) ^ i64::MIN;
        let key = self
            .partition
            .iter()
            .map(|ty| decode_value(&mut r, ty))
            .collect::<Result<Vec<_>, _>>()?;
        let partition_prefix = bytes[..r.at].to_vec();
        let kind = r.take(1)?[0];
        let mut clustering = Vec::new();
        match kind {
            KIND_HEADER | KIND_STATIC => {}
            KIND_ROW => {
                for (ty, order) in &self.clustering {
                    let v = if *order == ClusteringOrder::Desc {
                        // Decode the inverted bytes from an inverted copy of the rest.
                        let rest: Vec<u8> = r.b[r.at..].iter().map(|b| !*b).collect();
                        let mut inv = Reader { b: &rest, at: 0 };
                        let v = decode_value(&mut inv, ty).map_err(|e| shift(e, r.at))?;
                        r.at += inv.at;
                        v
                    } else {
                        decode_value(&mut r, ty)?
                    };
                    clustering.push(v);
                }
            }
            _ => {
                return Err(KeyError::Bad {
                    what: "entry kind",
                    at: r.at - 1,
                });
            }
        }
        if r.at != bytes.len() {
            return Err(KeyError::Bad {
                what: "trailing bytes",
                at: r.at,
            });
        }
        Ok(EntryKey {
            token,
            key,
            partition_prefix,
            kind,
            clustering,
        })
    }
}

fn shift(e: KeyError, by: usize) -> KeyError {
    match e {
        KeyError::Bad { what, at } => KeyError::Bad { what, at: at + by },
        e => e,
    }
}

/// The token's 8 key bytes.
pub fn token_bytes(token: i64) -> [u8; 8] {
    ((token ^ i64::MIN) as u64).to_be_bytes()
}

/// The smallest byte string greater than every string that starts with `key`.
pub fn successor(mut key: Vec<u8>) -> Vec<u8> {
    while let Some(last) = key.last_mut() {
        if *last < 0xFF {
            *last += 1;
            return key;
        }
        key.pop();
    }
    // Only 0xFF bytes: no finite successor; an empty key stands for "the end".
    key
}

fn check(v: &Value, ty: &CqlType) -> Result<(), KeyError> {
    if v.is_of(ty) {
        Ok(())
    } else {
        Err(KeyError::WrongType {
            value: format!("{v:?}"),
            ty: format!("{ty:?}"),
        })
    }
}

fn escaped(bytes: &[u8], out: &mut Vec<u8>) {
    for b in bytes {
        out.push(*b);
        if *b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0x00, 0x01]);
}

fn decimal_parts(d: &Decimal) -> (i128, i64) {
    let (mut u, mut s) = (d.unscaled, d.scale as i64);
    while u != 0 && u % 10 == 0 {
        u /= 10;
        s -= 1;
    }
    (u, s)
}

/// Appends the ASC encoding of `v`.
pub fn encode_value(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::TinyInt(x) => out.push((*x as u8) ^ 0x80),
        Value::SmallInt(x) => out.extend_from_slice(&((*x as u16) ^ 0x8000).to_be_bytes()),
        Value::Int(x) | Value::Date(x) => out.extend_from_slice(&((*x as u32) ^ 0x8000_0000).to_be_bytes()),
        Value::BigInt(x) | Value::Timestamp(x) | Value::Time(x) => out.extend_from_slice(&token_bytes(*x)),
        Value::Float(f) => {
            // Every NaN is one key, after +inf (Cassandra orders floats as Java's Float.compare).
            let b = if f.is_nan() { f32::NAN.to_bits() } else { f.to_bits() };
            let b = if b >> 31 == 1 { !b } else { b | 0x8000_0000 };
            out.extend_from_slice(&b.to_be_bytes());
        }
        Value::Double(f) => {
            let b = if f.is_nan() { f64::NAN.to_bits() } else { f.to_bits() };
            let b = if b >> 63 == 1 { !b } else { b | (1 << 63) };
            out.extend_from_slice(&b.to_be_bytes());
        }
        Value::Boolean(b) => out.push(*b as u8),
        Value::Text(s) | Value::Ascii(s) => escaped(s.as_bytes(), out),
        Value::Blob(b) => escaped(b, out),
        Value::Inet(IpAddr::V4(a)) => escaped(&a.octets(), out),
        Value::Inet(IpAddr::V6(a)) => escaped(&a.octets(), out),
        Value::Uuid(u) => {
            out.push(u.version());
            if u.version() == 1 {
                out.extend_from_slice(&uuid_time(u).to_be_bytes());
                out.extend(u.0[8..].iter().map(|b| b ^ 0x80));
            } else {
                out.extend_from_slice(&u.0);
            }
        }
        Value::TimeUuid(u) => {
            out.extend_from_slice(&uuid_time(u).to_be_bytes());
            out.extend(u.0[8..].iter().map(|b| b ^ 0x80));
            out.push(u.version());
        }
        Value::Decimal(d) => {
            let (u, s) = decimal_parts(d);
            if u == 0 {
                out.push(1);
            } else {
                let digits = u.unsigned_abs().to_string();
                let exp = digits.len() as i64 - s;
                let start = out.len();
                out.push(2);
                out.extend_from_slice(&token_bytes(exp));
                out.extend_from_slice(digits.as_bytes());
                out.push(0);
                if u < 0 {
                    out[start..].iter_mut().for_each(|b| *b = !*b);
                    // The sign byte: 0 for negatives (inverting 2 gave 0xFD).
                    out[start] = 0;
                }
            }
        }
        Value::List(items) | Value::Set(items) => {
            for i in items {
                out.push(1);
                encode_value(i, out);
            }
            out.push(0);
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                out.push(1);
                encode_value(k, out);
                encode_value(v, out);
            }
            out.push(0);
        }
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], KeyError> {
        let s = self.b.get(self.at..self.at + n).ok_or(KeyError::Truncated)?;
        self.at += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], KeyError> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }

    fn bad(&self, what: &'static str) -> KeyError {
        KeyError::Bad { what, at: self.at }
    }

    fn unescape(&mut self) -> Result<Vec<u8>, KeyError> {
        let mut out = Vec::new();
        loop {
            let b = self.take(1)?[0];
            if b != 0 {
                out.push(b);
                continue;
            }
            match self.take(1)?[0] {
                0xFF => out.push(0),
                0x01 => return Ok(out),
                _ => return Err(self.bad("escape")),
            }
        }
    }

    fn i32_flipped(&mut self) -> Result<i32, KeyError> {
        Ok((u32::from_be_bytes(self.array()?) ^ 0x8000_0000) as i32)
    }
}

fn uuid_from(time: u64, version: u8, tail: &[u8]) -> Uuid {
    let mut b = [0u8; 16];
    b[0..4].copy_from_slice(&(time as u32).to_be_bytes());
    b[4..6].copy_from_slice(&((time >> 32) as u16).to_be_bytes());
    b[6..8].copy_from_slice(&((((time >> 48) as u16) & 0x0fff) | ((version as u16) << 12)).to_be_bytes());
    for (d, s) in b[8..].iter_mut().zip(tail) {
        *d = s ^ 0x80;
    }
    Uuid(b)
}

fn decode_native(r: &mut Reader<'_>, ty: NativeType) -> Result<Value, KeyError> {
    use NativeType as T;
    Ok(match ty {
        T::TinyInt => Value::TinyInt((r.take(1)?[0] ^ 0x80) as i8),
        T::SmallInt => Value::SmallInt((u16::from_be_bytes(r.array()?) ^ 0x8000) as i16),
        T::Int => Value::Int(r.i32_flipped()?),
        T::Date => Value::Date(r.i32_flipped()?),
        T::BigInt | T::Timestamp | T::Time => {
            let x = (u64::from_be_bytes(r.array()?) ^ (1 << 63)) as i64;
            match ty {
                T::BigInt => Value::BigInt(x),
                T::Timestamp => Value::Timestamp(x),
                _ => Value::Time(x),
            }
        }
        T::Float => {
            let b = u32::from_be_bytes(r.array()?);
            Value::Float(f32::from_bits(if b >> 31 == 1 { b & 0x7fff_ffff } else { !b }))
        }
        T::Double => {
            let b = u64::from_be_bytes(r.array()?);
            Value::Double(f64::from_bits(if b >> 63 == 1 { b & !(1 << 63) } else { !b }))
        }
        T::Boolean => match r.take(1)?[0] {
            0 => Value::Boolean(false),
            1 => Value::Boolean(true),
            _ => return Err(r.bad("boolean")),
        },
        T::Text | T::Ascii => {
            let s = String::from_utf8(r.unescape()?).map_err(|_| r.bad("utf-8"))?;
            if ty == T::Text { Value::Text(s) } else { Value::Ascii(s) }
        }
        T::Blob => Value::Blob(r.unescape()?),
        T::Inet => {
            let b = r.unescape()?;
            match b.len() {
                4 => Value::Inet(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(&b[..]).expect("4")))),
                16 => Value::Inet(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&b[..]).expect("16")))),
                _ => return Err(r.bad("inet length")),
            }
        }
        T::Uuid => {
            let version = r.take(1)?[0];
            if version == 1 {
                let time = u64::from_be_bytes(r.array()?);
                Value::Uuid(uuid_from(time, 1, r.take(8)?))
            } else {
                let u = Uuid(r.array()?);
                if u.version() != version {
                    return Err(r.bad("uuid version"));
                }
                Value::Uuid(u)
            }
        }
        T::TimeUuid => {
            let time = u64::from_be_bytes(r.array()?);
            if time >> 60 != 0 {
                return Err(r.bad("timeuuid time"));
            }
            let tail: [u8; 8] = r.array()?;
            let version = r.take(1)?[0];
            if version > 0x0f {
                return Err(r.bad("timeuuid version"));
            }
            Value::TimeUuid(uuid_from(time, version, &tail))
        }
        T::Decimal => {
            let sign = r.take(1)?[0];
            let u = match sign {
                1 => 0i128,
                0 | 2 => {
                    let neg = sign == 0;
                    let inv = |b: u8| if neg { !b } else { b };
                    let e: [u8; 8] = r.array()?;
                    let exp = (u64::from_be_bytes(e.map(inv)) ^ (1 << 63)) as i64;
                    let mut digits = String::new();
                    loop {
                        let b = inv(r.take(1)?[0]);
                        match b {
                            0 => break,
                            b'0'..=b'9' if digits.len() < 40 => digits.push(b as char),
                            _ => return Err(r.bad("decimal digit")),
                        }
                    }
                    let mag: i128 = digits.parse().map_err(|_| r.bad("decimal digits"))?;
                    let scale_norm = (digits.len() as i64)
                        .checked_sub(exp)
                        .ok_or_else(|| r.bad("decimal exponent"))?;
                    let times = |up: i64| {
                        u32::try_from(up)
                            .ok()
                            .and_then(|up| 10i128.checked_pow(up))
                            .and_then(|m| mag.checked_mul(m))
                    };
                    let (m, scale) = match scale_norm.checked_neg().and_then(times) {
                        Some(m) if scale_norm < 0 => (m, 0),
                        _ => {
                            let scale = scale_norm.max(i32::MIN as i64);
                            let m = times(scale - scale_norm).ok_or_else(|| r.bad("decimal scale"))?;
                            (m, i32::try_from(scale).map_err(|_| r.bad("decimal scale"))?)
                        }
                    };
                    return Ok(Value::Decimal(Decimal {
                        unscaled: if neg { -m } else { m },
                        scale,
                    }));
                }
                _ => return Err(r.bad("decimal sign")),
            };
            Value::Decimal(Decimal { unscaled: u, scale: 0 })
        }
    })
}

fn decode_value(r: &mut Reader<'_>, ty: &CqlType) -> Result<Value, KeyError> {
    let items = |r: &mut Reader<'_>, f: &mut dyn FnMut(&mut Reader<'_>) -> Result<(), KeyError>| loop {
        match r.take(1)?[0] {
            0 => return Ok(()),
            1 => f(r)?,
            _ => return Err(r.bad("collection marker")),
        }
    };
    match ty {
        CqlType::Native(t) => decode_native(r, *t),
        CqlType::List(t) | CqlType::Set(t) => {
            let mut out = Vec::new();
            items(r, &mut |r| {
                out.push(decode_native(r, *t)?);
                Ok(())
            })?;
            Ok(if matches!(ty, CqlType::List(_)) {
                Value::List(out)
            } else {
                Value::Set(out)
            })
        }
        CqlType::Map(k, v) => {
            let mut out = Vec::new();
            items(r, &mut |r| {
                let key = decode_native(r, *k)?;
                out.push((key, decode_native(r, *v)?));
                Ok(())
            })?;
            Ok(Value::Map(out))
        }
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
