//! Coercion of a literal [`Term`] to a [`Value`] of a column's type, as Cassandra does it:
//!
//! - integers into every integer type (range-checked), `float`, `double`, `decimal`, `timestamp`
//!   (milliseconds), `date` (Cassandra's unsigned days with the epoch at 2^31) and `time` (nanoseconds);
//! - floats (`1.5`, `1e3`, `NaN`, `-Infinity`) into `float`, `double` and `decimal` (finite, at most
//!   [`Decimal::MAX_DIGITS`] digits);
//! - strings into `text`, `ascii` (checked), `timestamp` (`'2024-01-02'`, `'2024-01-02 03:04:05.123+0000'`,
//!   `T` or a space between date and time, `Z`, `+HHMM`, `+HH:MM` or no zone meaning UTC), `date`
//!   (`'2024-01-02'`), `time` (`'03:04:05.123456789'`) and `inet` (`'10.0.0.1'`, `'::1'`);
//! - UUID literals into `uuid` and `timeuuid` (version 1 checked), `0x..` into `blob`, `true`/`false` into
//!   `boolean`;
//! - `[..]`, `{..}` element by element (sets sorted without duplicates, maps sorted by key with the
//!   last of duplicate keys kept; `{}` is also an empty set);
//! - the functions `now()`, `currentTimeUUID()`, `uuid()`, `currentTimestamp()`, `currentDate()`,
//!   `currentTime()`, `toTimestamp(x)`, `toDate(x)`, `toUnixTimestamp(x)`, `textAsBlob('...')`; the clock and randomness come
//!   from the caller's [`Generators`].
//!
//! `null` gives `None`. The calendar maths (proleptic Gregorian, UTC) is done here by hand.

use super::ast::{Literal, Term};
use super::error::CqlError;
use super::lexer::parse_uuid;
use crate::types::{CqlType, NativeType};
use crate::value::{Decimal, Uuid, Value, compare::uuid_time};
use std::net::IpAddr;

/// Where the time-dependent and random functions get their values: no hidden global state.
pub trait Generators {
    /// A new version 1 UUID for the current time (`now()`).
    fn timeuuid(&mut self) -> Uuid;
    /// A new random version 4 UUID (`uuid()`).
    fn random_uuid(&mut self) -> Uuid;
    /// The current time in milliseconds since the epoch (`currentTimestamp()`).
    fn now_millis(&mut self) -> i64;
}

const MILLIS_PER_DAY: i64 = 86_400_000;
const NANOS_PER_DAY: i64 = 86_400_000_000_000;
/// 100 ns ticks between the UUID epoch (1582-10-15) and the Unix epoch.
const UUID_EPOCH_OFFSET: i64 = 0x01B2_1DD2_1381_4000;

/// `term` as a value of type `ty`; `None` for `null`.
pub fn coerce(term: &Term, ty: &CqlType, generators: &mut dyn Generators) -> Result<Option<Value>, CqlError> {
    let err = |reason: &str| invalid(&ty.to_string(), term, reason);
    let elem = |t: &Term, e: NativeType, g: &mut dyn Generators| -> Result<Value, CqlError> {
        coerce_native(t, e, g)?.ok_or_else(|| err("null is not supported inside collections"))
    };
    match (ty, term) {
        (CqlType::Native(t), _) => coerce_native(term, *t, generators),
        (_, Term::Null) => Ok(None),
        (_, Term::Bind(m)) => Err(CqlError::UnboundMarker { index: m.index }),
        (CqlType::List(e), Term::List(items)) => {
            let values = items
                .iter()
                .map(|t| elem(t, *e, generators))
                .collect::<Result<_, _>>()?;
            Ok(Some(Value::List(values)))
        }
        (CqlType::Set(e), Term::Set(items)) => {
            let mut values = items
                .iter()
                .map(|t| elem(t, *e, generators))
                .collect::<Result<Vec<_>, _>>()?;
            values.sort();
            values.dedup();
            Ok(Some(Value::Set(values)))
        }
        (CqlType::Set(_), Term::Map(entries)) if entries.is_empty() => Ok(Some(Value::Set(Vec::new()))),
        (CqlType::Map(k, v), Term::Map(entries)) => {
            let mut values = Vec::with_capacity(entries.len());
            for (kt, vt) in entries {
                values.push((elem(kt, *k, generators)?, elem(vt, *v, generators)?));
            }
            // Stable sort, then keep the last entry of each run of equal keys.
            values.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out: Vec<(Value, Value)> = Vec::with_capacity(values.len());
            for entry in values {
                match out.last_mut() {
                    Some(last) if last.0 == entry.0 => *last = entry,
                    _ => out.push(entry),
                }
            }
            Ok(Some(Value::Map(out)))
        }
        (CqlType::List(_), _) => Err(err("a list literal [...] is expected")),
        (CqlType::Set(_), _) => Err(err("a set literal {...} is expected")),
        (CqlType::Map(..), _) => Err(err("a map literal {k: v, ...} is expected")),
    }
}

fn invalid(expected: &str, term: &Term, reason: &str) -> CqlError {
    CqlError::InvalidLiteral {
        expected: expected.to_string(),
        literal: term.to_string(),
        reason: reason.to_string(),
    }
}

/// `term` as a value of the native type `ty`; `None` for `null`.
pub fn coerce_native(term: &Term, ty: NativeType, generators: &mut dyn Generators) -> Result<Option<Value>, CqlError> {
    let err = |reason: &str| invalid(ty.cql_name(), term, reason);
    let lit = match term {
        Term::Null => return Ok(None),
        Term::Bind(m) => return Err(CqlError::UnboundMarker { index: m.index }),
        Term::Function { name, args } => {
            let v = call(name, args, generators)?;
            return match (ty, v) {
                (_, v) if v.native_type() == Some(ty) => Ok(Some(v)),
                (NativeType::Uuid, Value::TimeUuid(u)) => Ok(Some(Value::Uuid(u))),
                (_, v) => Err(err(&format!(
                    "the function returns a {}",
                    v.native_type().map(|t| t.cql_name()).unwrap_or("collection")
                ))),
            };
        }
        Term::Literal(l) => l,
        Term::Negate(_) => return Err(err("only number literals can be negated")),
        Term::List(_) | Term::Set(_) | Term::Map(_) | Term::Tuple(_) => {
            return Err(err("a collection or tuple is not a value of this type"));
        }
    };
    use NativeType as N;
    let v = match (ty, lit) {
        (N::TinyInt | N::SmallInt | N::Int | N::BigInt, Literal::Integer(s)) => {
            let out_of_range = || err(&format!("out of range for {}", ty.cql_name()));
            let n: i128 = s.parse().map_err(|_| out_of_range())?;
            match ty {
                N::TinyInt => Value::TinyInt(i8::try_from(n).map_err(|_| out_of_range())?),
                N::SmallInt => Value::SmallInt(i16::try_from(n).map_err(|_| out_of_range())?),
                N::Int => Value::Int(i32::try_from(n).map_err(|_| out_of_range())?),
                _ => Value::BigInt(i64::try_from(n).map_err(|_| out_of_range())?),
            }
        }
        (N::Float, Literal::Integer(s) | Literal::Float(s)) => {
            Value::Float(parse_float(s).ok_or_else(|| err("not a number"))? as f32)
        }
        (N::Double, Literal::Integer(s) | Literal::Float(s)) => {
            Value::Double(parse_float(s).ok_or_else(|| err("not a number"))?)
        }
        (N::Decimal, Literal::Integer(s) | Literal::Float(s)) => Value::Decimal(parse_decimal(s).map_err(|r| err(&r))?),
        (N::Timestamp, Literal::Integer(s)) => {
            Value::Timestamp(s.parse().map_err(|_| err("out of range for timestamp"))?)
        }
        (N::Timestamp, Literal::String(s)) => Value::Timestamp(parse_timestamp(s).map_err(|r| err(&r))?),
        (N::Date, Literal::Integer(s)) => Value::Date(unsigned_days(s).map_err(|r| err(&r))?),
        (N::Date, Literal::String(s)) => Value::Date(parse_date(s).map_err(|r| err(&r))?),
        (N::Time, Literal::Integer(s)) => Value::Time(time_nanos(s).map_err(|r| err(&r))?),
        (N::Time, Literal::String(s)) => Value::Time(parse_time(s).map_err(|r| err(&r))?),
        (N::Text, Literal::String(s)) => Value::Text(s.clone()),
        (N::Ascii, Literal::String(s)) => {
            if !s.is_ascii() {
                return Err(err("non-ASCII characters in an ascii value"));
            }
            Value::Ascii(s.clone())
        }
        (N::Inet, Literal::String(s)) => {
            Value::Inet(s.parse::<IpAddr>().map_err(|_| err("not an IPv4 or IPv6 address"))?)
        }
        (N::Boolean, Literal::Boolean(b)) => Value::Boolean(*b),
        (N::Blob, Literal::Hex(h)) => Value::Blob(parse_hex(h).ok_or_else(|| err("an odd number of hex digits"))?),
        (N::Uuid, Literal::Uuid(u)) => Value::Uuid(*u),
        (N::TimeUuid, Literal::Uuid(u)) => {
            if u.version() != 1 {
                return Err(err(&format!(
                    "a timeuuid must be a version 1 UUID, this one is version {}",
                    u.version()
                )));
            }
            Value::TimeUuid(*u)
        }
        (N::Uuid | N::TimeUuid, Literal::String(s)) if parse_uuid(s).is_some() => {
            return Err(err("a UUID is written without quotes"));
        }
        (_, l) => {
            let kind = match l {
                Literal::String(_) => "a string",
                Literal::Integer(_) => "an integer",
                Literal::Float(_) => "a float",
                Literal::Boolean(_) => "a boolean",
                Literal::Hex(_) => "a blob",
                Literal::Uuid(_) => "a uuid",
            };
            return Err(err(&format!("{kind} is not a value of this type")));
        }
    };
    Ok(Some(v))
}

/// Evaluates one of the value functions.
fn call(name: &str, args: &[Term], g: &mut dyn Generators) -> Result<Value, CqlError> {
    let unknown = || CqlError::UnknownFunction {
        name: name.to_string(),
        arity: args.len(),
    };
    let bare = name.strip_prefix("system.").unwrap_or(name).to_ascii_lowercase();
    let arg = |g: &mut dyn Generators| -> Result<Value, CqlError> {
        match args {
            [Term::Function { name, args }] => call(name, args, g),
            _ => Err(unknown()),
        }
    };
    let millis = |v: &Value| -> Option<i64> {
        match v {
            Value::TimeUuid(u) => Some(timeuuid_millis(u)),
            Value::Timestamp(ms) => Some(*ms),
            Value::Date(d) => Some(*d as i64 * MILLIS_PER_DAY),
            _ => None,
        }
    };
    Ok(match (bare.as_str(), args.len()) {
        ("now" | "currenttimeuuid", 0) => Value::TimeUuid(g.timeuuid()),
        ("uuid", 0) => Value::Uuid(g.random_uuid()),
        ("currenttimestamp", 0) => Value::Timestamp(g.now_millis()),
        ("currentdate", 0) => Value::Date(g.now_millis().div_euclid(MILLIS_PER_DAY) as i32),
        ("currenttime", 0) => Value::Time(g.now_millis().rem_euclid(MILLIS_PER_DAY) * 1_000_000),
        ("totimestamp" | "dateof", 1) => Value::Timestamp(millis(&arg(g)?).ok_or_else(unknown)?),
        ("tounixtimestamp" | "unixtimestampof", 1) => Value::BigInt(millis(&arg(g)?).ok_or_else(unknown)?),
        ("textasblob", 1) => match args {
            [Term::Literal(Literal::String(s))] => Value::Blob(s.as_bytes().to_vec()),
            _ => return Err(unknown()),
        },
        ("todate", 1) => Value::Date(millis(&arg(g)?).ok_or_else(unknown)?.div_euclid(MILLIS_PER_DAY) as i32),
        _ => return Err(unknown()),
    })
}

/// The Unix time in milliseconds of a version 1 UUID.
pub fn timeuuid_millis(u: &Uuid) -> i64 {
    (uuid_time(u) as i64 - UUID_EPOCH_OFFSET).div_euclid(10_000)
}

fn parse_float(s: &str) -> Option<f64> {
    match s {
        "NaN" | "-NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

fn parse_hex(h: &str) -> Option<Vec<u8>> {
    if !h.len().is_multiple_of(2) {
        return None;
    }
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A decimal from an integer or float literal (`-12.5e3`), exactly.
pub fn parse_decimal(s: &str) -> Result<Decimal, String> {
    let (negative, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (
            &body[..i],
            body[i + 1..]
                .parse::<i32>()
                .map_err(|_| "exponent out of range".to_string())?,
        ),
        None => (body, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return Err("not a finite number".into());
    }
    let digits = format!("{int}{frac}");
    let significant = digits.trim_start_matches('0');
    if significant.len() > Decimal::MAX_DIGITS as usize {
        return Err(format!("more than {} digits", Decimal::MAX_DIGITS));
    }
    let unscaled: i128 = if significant.is_empty() {
        0
    } else {
        significant.parse().map_err(|_| "too many digits")?
    };
    let scale = (frac.len() as i64) - exponent as i64;
    let scale = i32::try_from(scale).map_err(|_| "exponent out of range".to_string())?;
    Ok(Decimal {
        unscaled: if negative { -unscaled } else { unscaled },
        scale,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (month as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A small cursor over the text of a date or time.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<(i64, usize)> {
        let n = self.s[self.i..]
            .iter()
            .take(max)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n < min {
            return None;
        }
        let v = std::str::from_utf8(&self.s[self.i..self.i + n]).ok()?.parse().ok()?;
        self.i += n;
        Some((v, n))
    }
    fn eat(&mut self, c: u8) -> bool {
        let yes = self.s.get(self.i) == Some(&c);
        if yes {
            self.i += 1;
        }
        yes
    }
    fn done(&self) -> bool {
        self.i == self.s.len()
    }
}

/// `yyyy-mm-dd` at the cursor: days since the epoch.
fn date_part(c: &mut Cursor<'_>) -> Result<i64, String> {
    let bad = || "expected a date yyyy-mm-dd".to_string();
    let negative = c.eat(b'-');
    let (year, _) = c.digits(1, 9).ok_or_else(bad)?;
    let year = if negative { -year } else { year };
    if !c.eat(b'-') {
        return Err(bad());
    }
    let (month, _) = c.digits(1, 2).ok_or_else(bad)?;
    if !c.eat(b'-') {
        return Err(bad());
    }
    let (day, _) = c.digits(1, 2).ok_or_else(bad)?;
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} out of range"));
    }
    if day < 1 || day > days_in_month(year, month as u32) as i64 {
        return Err(format!("day {day} out of range"));
    }
    Ok(days_from_civil(year, month as u32, day as u32))
}

/// `HH:MM[:SS[.fffffffff]]` at the cursor: nanoseconds since midnight (`seconds` required or not).
fn time_part(c: &mut Cursor<'_>, seconds_required: bool) -> Result<i64, String> {
    let bad = || "expected a time HH:MM:SS[.fffffffff]".to_string();
    let (h, _) = c.digits(1, 2).ok_or_else(bad)?;
    if !c.eat(b':') {
        return Err(bad());
    }
    let (m, _) = c.digits(1, 2).ok_or_else(bad)?;
    let mut s = 0;
    let mut nanos = 0;
    if c.eat(b':') {
        s = c.digits(1, 2).ok_or_else(bad)?.0;
        if c.eat(b'.') {
            let (f, n) = c.digits(1, 9).ok_or_else(bad)?;
            nanos = f * 10i64.pow(9 - n as u32);
        }
    } else if seconds_required {
        return Err(bad());
    }
    if h > 23 || m > 59 || s > 59 {
        return Err("hours, minutes or seconds out of range".into());
    }
    Ok(((h * 60 + m) * 60 + s) * 1_000_000_000 + nanos)
}

/// A timestamp string: milliseconds since the epoch (UTC unless a zone is given).
pub fn parse_timestamp(s: &str) -> Result<i64, String> {
    let t = s.trim();
    if !t.is_empty() && t.trim_start_matches('-').bytes().all(|c| c.is_ascii_digit()) && t != "-" {
        return t.parse().map_err(|_| "out of range for timestamp".to_string());
    }
    let mut c = Cursor { s: t.as_bytes(), i: 0 };
    let days = date_part(&mut c)?;
    let mut nanos = 0;
    if c.eat(b'T') || c.eat(b' ') {
        nanos = time_part(&mut c, false)?;
    }
    let _ = c.eat(b' ');
    let mut offset_minutes = 0i64;
    if c.eat(b'Z') {
    } else if c.s.get(c.i).is_some_and(|b| *b == b'+' || *b == b'-') {
        let sign = if c.s[c.i] == b'-' { -1 } else { 1 };
        c.i += 1;
        let bad = || "expected a zone offset +HHMM".to_string();
        let (hh, _) = c.digits(2, 2).ok_or_else(bad)?;
        let _ = c.eat(b':');
        let mm = if c.done() { 0 } else { c.digits(2, 2).ok_or_else(bad)?.0 };
        if hh > 23 || mm > 59 {
            return Err(bad());
        }
        offset_minutes = sign * (hh * 60 + mm);
    }
    if !c.done() {
        return Err(format!("unexpected text at character {}", c.i));
    }
    days.checked_mul(MILLIS_PER_DAY)
        .and_then(|ms| ms.checked_add(nanos / 1_000_000))
        .and_then(|ms| ms.checked_sub(offset_minutes * 60_000))
        .ok_or_else(|| "out of range for timestamp".to_string())
}

/// Cassandra's integer form of a date: unsigned days with the epoch at 2^31.
fn unsigned_days(s: &str) -> Result<i32, String> {
    let n: i64 = s.parse().map_err(|_| "out of range for date".to_string())?;
    if !(0..=u32::MAX as i64).contains(&n) {
        return Err("out of range for date".into());
    }
    Ok((n - (1i64 << 31)) as i32)
}

/// A date string: days since the epoch.
pub fn parse_date(s: &str) -> Result<i32, String> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()) {
        return unsigned_days(t);
    }
    let mut c = Cursor { s: t.as_bytes(), i: 0 };
    let days = date_part(&mut c)?;
    if !c.done() {
        return Err(format!("unexpected text at character {}", c.i));
    }
    i32::try_from(days).map_err(|_| "out of range for date".into())
}

fn time_nanos(s: &str) -> Result<i64, String> {
    let n: i64 = s.parse().map_err(|_| "out of range for time".to_string())?;
    if !(0..NANOS_PER_DAY).contains(&n) {
        return Err("out of range for time (0 to 86399999999999 nanoseconds)".into());
    }
    Ok(n)
}

/// A time string `HH:MM:SS[.fffffffff]`: nanoseconds since midnight.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()) {
        return time_nanos(t);
    }
    let mut c = Cursor { s: t.as_bytes(), i: 0 };
    let nanos = time_part(&mut c, true)?;
    if !c.done() {
        return Err(format!("unexpected text at character {}", c.i));
    }
    Ok(nanos)
}
