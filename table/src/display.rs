//! Values as text, two ways:
//! - [`display`] (and `Display` for [`Value`]): as cqlsh prints a result cell, with its default
//!   settings: text unquoted, blobs `0x..`, timestamps `2024-01-02 03:04:05.678000+0000` (UTC),
//!   dates `2024-01-02`, times `03:04:05.123456789`, booleans `True`/`False`, floats to 5 and doubles to
//!   12 significant digits as cqlsh's `%g` rule does, decimals as Python's (and Java's) decimal string
//!   (`1.50`, `1.5E+3`), collections `[1, 2]`, `{1, 2}`, `{'a': 1}` with text, inet and timestamps
//!   quoted inside them. Timestamps and dates outside years 1 to 9999 print as their number, as cqlsh
//!   does.
//! - [`cql_literal`]: a CQL literal that parses back to the same value of the column's type, for
//!   DESCRIBE and generated statements: `'it''s'`, `0xcafe`, `'2024-01-02 03:04:05.678+0000'`,
//!   `NaN`, `-0.0`, `1.5E+3`, uuids bare, collections with literals inside. A timestamp outside years
//!   1 to 9999 is its milliseconds, a date outside them its wire number (2^31 at the epoch), both of
//!   which CQL reads as such.
//!
//! The calendar maths (proleptic Gregorian, UTC) is here too: [`civil_from_days`] and
//! [`days_from_civil`].

use crate::serialize::NANOS_PER_DAY;
use crate::value::{Decimal, Value};
use std::fmt::{self, Write};

/// The (year, month 1-12, day 1-31) of a day count since 1970-01-01 (proleptic Gregorian).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so that leap days end a year, then split into 400-year eras.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, 0..399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year from March 1st, 0..365
    let mp = (5 * doy + 2) / 153; // month from March, 0..11
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day count since 1970-01-01 of a (year, month 1-12, day 1-31) date; the inverse of
/// [`civil_from_days`] (it does not check that the day exists in its month).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// How cqlsh prints `v` as a result cell.
pub fn display(v: &Value) -> String {
    let mut s = String::new();
    write_display(v, false, &mut s);
    s
}

/// As [`display`].
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&display(self))
    }
}

fn write_display(v: &Value, quoted: bool, out: &mut String) {
    match v {
        Value::TinyInt(x) => push(out, x),
        Value::SmallInt(x) => push(out, x),
        Value::Int(x) => push(out, x),
        Value::BigInt(x) => push(out, x),
        Value::Float(x) => out.push_str(&format_float(f64::from(*x), 5)),
        Value::Double(x) => out.push_str(&format_float(*x, 12)),
        Value::Decimal(d) => out.push_str(&decimal_string(d)),
        Value::Boolean(b) => out.push_str(if *b { "True" } else { "False" }),
        Value::Text(s) | Value::Ascii(s) => display_text(s, quoted, out),
        Value::Blob(b) => hex(b, out),
        Value::Timestamp(ms) => {
            let text = timestamp_string(*ms, 6).unwrap_or_else(|| ms.to_string());
            quote_if(&text, quoted, out);
        }
        Value::Date(days) => match date_string(*days) {
            Some(s) => out.push_str(&s),
            None => push(out, days),
        },
        Value::Time(nanos) => out.push_str(&time_string(*nanos)),
        Value::Uuid(u) | Value::TimeUuid(u) => push(out, u),
        Value::Inet(a) => quote_if(&a.to_string(), quoted, out),
        Value::List(items) => display_items('[', items, ']', out),
        Value::Set(items) => display_items('{', items, '}', out),
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_display(k, true, out);
                out.push_str(": ");
                write_display(v, true, out);
            }
            out.push('}');
        }
    }
}

fn push(out: &mut String, x: impl fmt::Display) {
    let _ = write!(out, "{x}");
}

fn quote_if(s: &str, quoted: bool, out: &mut String) {
    if quoted {
        out.push('\'');
        out.push_str(s);
        out.push('\'');
    } else {
        out.push_str(s);
    }
}

fn display_items(open: char, items: &[Value], close: char, out: &mut String) {
    out.push(open);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_display(item, true, out);
    }
    out.push(close);
}

/// cqlsh escapes backslashes and shows control characters (and U+007F to U+00A0) escaped; inside a
/// collection it quotes the text and doubles its quotes.
fn display_text(s: &str, quoted: bool, out: &mut String) {
    if quoted {
        out.push('\'');
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' if quoted => out.push_str("''"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // cqlsh's `[\x00-\x1f\x7f-\xa0]`, shown as Python's repr shows them.
            c if matches!(c as u32, 0..=0x1f | 0x7f..=0xa0) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    if quoted {
        out.push('\'');
    }
}

fn hex(bytes: &[u8], out: &mut String) {
    out.push_str("0x");
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
}

/// cqlsh's `format_floating_point_type`: NaN, Infinity, -Infinity; otherwise C's `%.*g` with
/// `precision` significant digits, widened by the integer digits when `%g` would not use an exponent
/// (so 123456.0 as a double prints whole).
pub fn format_float(x: f64, precision: usize) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let mut p = precision as i64;
    if x.abs() > f64::EPSILON {
        // Python's int() truncates towards zero.
        let exponent = x.abs().log10().trunc() as i64;
        if (-4..p).contains(&exponent) {
            p += exponent + 1;
        }
    }
    format_g(x, p.max(1) as usize)
}

/// C's `%.*g`: `p` significant digits, fixed notation when the exponent is in `-4..p`, trailing
/// zeros removed.
fn format_g(x: f64, p: usize) -> String {
    let sci = format!("{:.*e}", p - 1, x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    if exp >= -4 && exp < p as i64 {
        let decimals = (p as i64 - 1 - exp).max(0) as usize;
        strip_zeros(format!("{x:.decimals$}"))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", strip_zeros(mantissa.to_string()), exp.abs())
    }
}

fn strip_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A decimal as Java's `BigDecimal.toString` and Python's `str(Decimal)` write it: plain when the
/// scale is not negative and the adjusted exponent is at least -6 (`1.50`, `0.000123`), otherwise
/// one digit, a point, the rest and `E±n` (`1.5E+3`, `1.23E-7`).
pub fn decimal_string(d: &Decimal) -> String {
    let digits = d.unscaled.unsigned_abs().to_string();
    let sign = if d.unscaled < 0 { "-" } else { "" };
    let n = digits.len() as i64;
    let scale = i64::from(d.scale);
    let adjusted = n - 1 - scale;
    if scale >= 0 && adjusted >= -6 {
        if scale == 0 {
            format!("{sign}{digits}")
        } else if n > scale {
            let (int, frac) = digits.split_at((n - scale) as usize);
            format!("{sign}{int}.{frac}")
        } else {
            format!("{sign}0.{}{digits}", "0".repeat((scale - n) as usize))
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { "" } else { "." };
        let esign = if adjusted < 0 { '-' } else { '+' };
        format!("{sign}{first}{point}{rest}E{esign}{}", adjusted.abs())
    }
}

/// `YYYY-MM-DD`, or `None` outside years 1 to 9999.
pub fn date_string(days: i32) -> Option<String> {
    let (y, m, d) = civil_from_days(i64::from(days));
    (1..=9999).contains(&y).then(|| format!("{y:04}-{m:02}-{d:02}"))
}

/// `YYYY-MM-DD HH:MM:SS.ffffff+0000` with `frac_digits` (3 or 6) fraction digits, or `None` outside
/// years 1 to 9999.
pub fn timestamp_string(ms: i64, frac_digits: usize) -> Option<String> {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, mo, d) = civil_from_days(days);
    if !(1..=9999).contains(&y) {
        return None;
    }
    let (h, mi, s, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    let frac = if frac_digits == 6 {
        format!("{milli:03}000")
    } else {
        format!("{milli:03}")
    };
    Some(format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{frac}+0000"))
}

/// `HH:MM:SS.nnnnnnnnn` (a time outside a day, which validation refuses, prints its hours past 23).
pub fn time_string(nanos: i64) -> String {
    let n = nanos.clamp(0, NANOS_PER_DAY * 2);
    let secs = n / 1_000_000_000;
    format!(
        "{:02}:{:02}:{:02}.{:09}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        n % 1_000_000_000
    )
}

/// A CQL literal of `v` (see the module doc).
pub fn cql_literal(v: &Value) -> String {
    let mut s = String::new();
    write_literal(v, &mut s);
    s
}

fn write_literal(v: &Value, out: &mut String) {
    match v {
        Value::TinyInt(x) => push(out, x),
        Value::SmallInt(x) => push(out, x),
        Value::Int(x) => push(out, x),
        Value::BigInt(x) => push(out, x),
        Value::Float(x) => float_literal(f64::from(*x), &format!("{x:?}"), out),
        Value::Double(x) => float_literal(*x, &format!("{x:?}"), out),
        Value::Decimal(d) => out.push_str(&decimal_string(d)),
        Value::Boolean(b) => push(out, b),
        Value::Text(s) | Value::Ascii(s) => {
            out.push('\'');
            out.push_str(&s.replace('\'', "''"));
            out.push('\'');
        }
        Value::Blob(b) => hex(b, out),
        Value::Timestamp(ms) => match timestamp_string(*ms, 3) {
            Some(s) => quote_if(&s, true, out),
            None => push(out, ms),
        },
        Value::Date(days) => match date_string(*days) {
            Some(s) => quote_if(&s, true, out),
            None => push(out, i64::from(*days) + (1 << 31)),
        },
        Value::Time(nanos) => quote_if(&time_string(*nanos), true, out),
        Value::Uuid(u) | Value::TimeUuid(u) => push(out, u),
        Value::Inet(a) => quote_if(&a.to_string(), true, out),
        Value::List(items) => literal_items('[', items, ']', out),
        Value::Set(items) => literal_items('{', items, '}', out),
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_literal(k, out);
                out.push_str(": ");
                write_literal(v, out);
            }
            out.push('}');
        }
    }
}

/// `NaN`, `Infinity`, `-Infinity`, or the shortest digits that read back to the same float (Rust's
/// `Debug`: `1.0`, `-0.0`, `1e20`, `1.5e-7`, all CQL float literals).
fn float_literal(x: f64, shortest: &str, out: &mut String) {
    if x.is_nan() {
        out.push_str("NaN");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        out.push_str(shortest);
    }
}

fn literal_items(open: char, items: &[Value], close: char, out: &mut String) {
    out.push(open);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_literal(item, out);
    }
    out.push(close);
}

#[cfg(test)]
#[path = "display_tests.rs"]
mod tests;
