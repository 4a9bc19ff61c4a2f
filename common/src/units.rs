//! Human-readable sizes and durations, the way config files and flags write them: `64MiB`, `1.5G`,
//! `4096` (bytes); `500ms`, `30s`, `5m`, `1h`, `1d`.
//!
//! Parsing is exact integer arithmetic (no floating point): a decimal point is allowed (`1.5h`), what falls
//! below one byte or one nanosecond is dropped, and a negative, non-numeric (`nan`, `inf`) or overflowing
//! value is an error, never a panic. The `*_exact` / [`format_duration`] forms read back to the same value;
//! [`format_bytes`] rounds, for people. [`serde_size`] and [`serde_duration`] use the exact forms as
//! `#[serde(with = ...)]` helpers of the role configs.

mod date;
mod duration;
mod size;

pub use date::{civil_from_days, format_utc};
pub use duration::{format_duration, parse_duration};
pub use size::{format_bytes, format_bytes_exact, parse_bytes};

use std::fmt;

/// What was being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    Size,
    Duration,
}

/// Why a size or duration did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Negative,
    /// No digits, or more than one decimal point (`nan`, `inf`, `1.2.3`, `+5`).
    NotANumber,
    UnknownUnit,
    /// A bare number where a unit is required (durations).
    MissingUnit,
    TooLarge,
}

/// A size or duration that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct UnitError {
    pub quantity: Quantity,
    pub input: String,
    pub problem: Problem,
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, units) = match self.quantity {
            Quantity::Size => (
                "size",
                "a number of bytes or a unit: KiB, MiB, GiB, TiB, PiB (or K, M, G, T, P)",
            ),
            Quantity::Duration => (
                "duration",
                "a number and a unit: ns, us, ms, s, m, h, d (e.g. 500ms, 30s)",
            ),
        };
        write!(f, "invalid {what} {:?}: ", self.input)?;
        match self.problem {
            Problem::Negative => f.write_str("must not be negative"),
            Problem::TooLarge => f.write_str("too large"),
            Problem::NotANumber | Problem::UnknownUnit | Problem::MissingUnit => write!(f, "expected {units}"),
        }
    }
}

/// `s` (a decimal number and a unit) as a count of the smallest unit: `multiplier(unit)` of them per
/// unit, `None` for a unit it does not know. Digits below one smallest unit are dropped.
fn parse_scaled(s: &str, quantity: Quantity, multiplier: impl Fn(&str) -> Option<u128>) -> Result<u128, UnitError> {
    let err = |problem| UnitError {
        quantity,
        input: s.to_string(),
        problem,
    };
    let t = s.trim();
    if t.starts_with('-') {
        return Err(err(Problem::Negative));
    }
    let end = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(end);
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if (int.is_empty() && frac.is_empty()) || frac.contains('.') {
        return Err(err(Problem::NotANumber));
    }
    let unit = unit.trim();
    let mult = multiplier(&unit.to_ascii_lowercase()).ok_or_else(|| {
        err(if unit.is_empty() {
            Problem::MissingUnit
        } else {
            Problem::UnknownUnit
        })
    })?;
    // Only ASCII digits remain, so parsing fails on overflow alone.
    let int: u128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| err(Problem::TooLarge))?
    };
    let mut total = int.checked_mul(mult).ok_or_else(|| err(Problem::TooLarge))?;
    if !frac.is_empty() {
        // 18 digits are below a nanosecond of a day and a byte of a PiB; a multiplier is < 2^60, so the
        // product stays far inside u128.
        let digits = &frac[..frac.len().min(18)];
        let f: u128 = digits.parse().map_err(|_| err(Problem::NotANumber))?;
        total = total
            .checked_add(f * mult / 10u128.pow(digits.len() as u32))
            .ok_or_else(|| err(Problem::TooLarge))?;
    }
    Ok(total)
}

/// Serde helper for sizes: written as [`format_bytes_exact`] (`"64MiB"`), read from such a string or a
/// plain number of bytes. Works for any unsigned field (`u32`, `u64`).
pub mod serde_size {
    use super::{format_bytes_exact, parse_bytes};
    use serde::de::{self, Deserializer, Visitor};
    use serde::ser::Serializer;

    pub fn serialize<S: Serializer, T: Copy + Into<u64>>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_bytes_exact((*value).into()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<T, D::Error> {
        struct Size;
        impl Visitor<'_> for Size {
            type Value = u64;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a size such as \"64MiB\" or a number of bytes")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
                Ok(v)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
                u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
                parse_bytes(v).map_err(E::custom)
            }
        }
        let n = d.deserialize_any(Size)?;
        T::try_from(n).map_err(|_| de::Error::custom(format!("size {} is too large", format_bytes_exact(n))))
    }
}

/// Serde helper for durations: written as [`format_duration`] (`"30s"`), read from a string with a unit.
pub mod serde_duration {
    use super::{format_duration, parse_duration};
    use serde::de::{self, Deserializer, Visitor};
    use serde::ser::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(*value))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        struct Dur;
        impl Visitor<'_> for Dur {
            type Value = Duration;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a duration with a unit, such as \"30s\" or \"500ms\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                parse_duration(v).map_err(E::custom)
            }
        }
        d.deserialize_any(Dur)
    }
}
