//! CSV cells as `basalt table load` reads them and `basalt table export` writes them: the text that
//! cqlsh's `COPY` writes, one column's value per cell.
//!
//! Reading (`parse_cell`): an empty cell is null; numbers as CQL writes them (`NaN`, `Infinity`);
//! booleans `true`/`false` in any case (and cqlsh's `True`/`False`); text and ascii as they are (the CSV
//! layer has already undone its quoting); blobs `0x..`; timestamps as `2024-01-02 03:04:05.123+0000`
//! (any form CQL accepts) or milliseconds; dates `2024-01-02`; times `03:04:05.123456789`; UUIDs bare;
//! inet addresses; collections as CQL literals (`[1, 2]`, `{'a': 1}`), which is how cqlsh writes them.
//!
//! Writing (`format_cell`) is the same forms, every number in the shortest digits that read back to
//! the same value, so an export loads back equal.

use basalt_table::cql::ast::{Statement, Term};
use basalt_table::cql::literal::{self, Generators};
use basalt_table::display::{cql_literal, date_string, decimal_string, time_string, timestamp_string};
use basalt_table::{CqlType, NativeType, Uuid, Value};

/// A literal has no clock or randomness in a data file: `now()` and friends are refused.
struct NoGenerators;

impl Generators for NoGenerators {
    fn timeuuid(&mut self) -> Uuid {
        Uuid([0; 16])
    }
    fn random_uuid(&mut self) -> Uuid {
        Uuid([0; 16])
    }
    fn now_millis(&mut self) -> i64 {
        0
    }
}

/// The value of a cell for a column of type `ty` (`None`: null), or why it is not one: the reason
/// reads after the cell, as in `'abc' is not a double`.
pub fn parse_cell(text: &str, ty: &CqlType) -> Result<Option<Value>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let not = |what: &str| format!("'{}' is not {what}", shorten(text));
    let t = match ty {
        CqlType::Native(t) => *t,
        _ => return parse_collection(text, ty).map_err(|reason| format!("{}: {reason}", not(&format!("a {ty}")))),
    };
    use NativeType as N;
    let a = |t: NativeType| format!("{} {}", article(t.cql_name()), t.cql_name());
    let trimmed = text.trim();
    Ok(Some(match t {
        N::TinyInt => Value::TinyInt(trimmed.parse().map_err(|_| not(&a(t)))?),
        N::SmallInt => Value::SmallInt(trimmed.parse().map_err(|_| not(&a(t)))?),
        N::Int => Value::Int(trimmed.parse().map_err(|_| not(&a(t)))?),
        N::BigInt => Value::BigInt(trimmed.parse().map_err(|_| not(&a(t)))?),
        N::Float => Value::Float(parse_float(trimmed).ok_or_else(|| not(&a(t)))? as f32),
        N::Double => Value::Double(parse_float(trimmed).ok_or_else(|| not(&a(t)))?),
        N::Decimal => Value::Decimal(literal::parse_decimal(trimmed).map_err(|r| format!("{}: {r}", not(&a(t))))?),
        N::Boolean => match trimmed.to_ascii_lowercase().as_str() {
            "true" => Value::Boolean(true),
            "false" => Value::Boolean(false),
            _ => return Err(not(&a(t))),
        },
        N::Text => Value::Text(text.to_string()),
        N::Ascii => {
            if !text.is_ascii() {
                return Err(not("ascii (it has non-ASCII characters)"));
            }
            Value::Ascii(text.to_string())
        }
        N::Blob => {
            let hex = trimmed
                .strip_prefix("0x")
                .or_else(|| trimmed.strip_prefix("0X"))
                .ok_or_else(|| not("a blob (0x followed by hex digits)"))?;
            Value::Blob(parse_hex(hex).ok_or_else(|| not("a blob (0x followed by hex digits)"))?)
        }
        N::Timestamp => {
            Value::Timestamp(literal::parse_timestamp(trimmed).map_err(|r| format!("{}: {r}", not(&a(t))))?)
        }
        N::Date => Value::Date(literal::parse_date(trimmed).map_err(|r| format!("{}: {r}", not(&a(t))))?),
        N::Time => Value::Time(literal::parse_time(trimmed).map_err(|r| format!("{}: {r}", not(&a(t))))?),
        N::Uuid => Value::Uuid(basalt_table::cql::lexer::parse_uuid(trimmed).ok_or_else(|| not(&a(t)))?),
        N::TimeUuid => {
            let u = basalt_table::cql::lexer::parse_uuid(trimmed).ok_or_else(|| not(&a(t)))?;
            if u.version() != 1 {
                return Err(not("a timeuuid (not a version 1 UUID)"));
            }
            Value::TimeUuid(u)
        }
        N::Inet => Value::Inet(trimmed.parse().map_err(|_| not("an inet (IPv4 or IPv6 address)"))?),
    }))
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// At most 40 characters of a cell, for messages.
fn shorten(text: &str) -> String {
    if text.chars().count() <= 40 {
        text.to_string()
    } else {
        format!("{}...", text.chars().take(40).collect::<String>())
    }
}

fn parse_float(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" => Some(f64::NAN),
        "Infinity" | "inf" => Some(f64::INFINITY),
        "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
        _ if s.bytes().any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E') => None,
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

/// A collection cell: a CQL literal, read by the CQL parser and coerced as an INSERT would.
fn parse_collection(text: &str, ty: &CqlType) -> Result<Option<Value>, String> {
    let stmt = format!("INSERT INTO t (c) VALUES ({text})");
    let term = match basalt_table::cql::parser::parse(&stmt) {
        Ok(Statement::Insert(mut i)) if i.values.len() == 1 => i.values.pop().expect("one value"),
        _ => return Err("not a CQL collection literal".into()),
    };
    if matches!(term, Term::Function { .. }) {
        return Err("functions are not values of a data file".into());
    }
    literal::coerce(&term, ty, &mut NoGenerators).map_err(|e| e.to_string())
}

/// The cell text of a value (null is the empty cell, written by the caller).
pub fn format_cell(v: &Value) -> String {
    match v {
        Value::Text(s) | Value::Ascii(s) => s.clone(),
        Value::Float(x) => float_text(f64::from(*x), format!("{x:?}")),
        Value::Double(x) => float_text(*x, format!("{x:?}")),
        Value::Decimal(d) => decimal_string(d),
        Value::Timestamp(ms) => timestamp_string(*ms, 3).unwrap_or_else(|| ms.to_string()),
        Value::Date(d) => date_string(*d).unwrap_or_else(|| (i64::from(*d) + (1 << 31)).to_string()),
        Value::Time(n) => time_string(*n),
        Value::Inet(a) => a.to_string(),
        // Numbers, booleans, blobs, UUIDs and collections: their CQL literal.
        other => cql_literal(other),
    }
}

fn float_text(x: f64, shortest: String) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity".into() } else { "-Infinity".into() }
    } else {
        shortest
    }
}

#[cfg(test)]
#[path = "cells_tests.rs"]
mod tests;
