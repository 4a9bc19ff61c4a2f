//! Terms to values: literals through `cql::literal`, bind markers from the request's values (CQL
//! serialized bytes, decoded with the type the marker stands for), and the clock and randomness that
//! `now()`, `uuid()` and list element ids need.

use super::error::ExecError;
use basalt_table::cql::ast::{BindMarker, Term};
use basalt_table::cql::literal::{Generators, coerce};
use basalt_table::{CqlType, Uuid, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// A value bound to a marker.
#[derive(Clone, Debug, PartialEq)]
pub enum Bound {
    Bytes(Vec<u8>),
    Null,
    /// Leave the column as it is (CQL v4 `unset`).
    Unset,
}

/// What a term evaluates to.
#[derive(Clone, Debug, PartialEq)]
pub enum Evaluated {
    Value(Value),
    Null,
    Unset,
}

impl Evaluated {
    pub fn into_option(self) -> Option<Value> {
        match self {
            Evaluated::Value(v) => Some(v),
            Evaluated::Null | Evaluated::Unset => None,
        }
    }
}

/// The bound values of one execution, and the generators.
pub struct Eval {
    pub values: Vec<Bound>,
    pub names: Vec<String>,
    pub clock: Clock,
}

impl Eval {
    pub fn new(values: Vec<Bound>, names: Vec<String>) -> Self {
        Eval {
            values,
            names,
            clock: Clock::default(),
        }
    }

    fn bound(&self, m: &BindMarker) -> Result<&Bound, ExecError> {
        let v = match (&m.name, self.names.is_empty()) {
            (Some(name), false) => self
                .names
                .iter()
                .position(|n| n == name)
                .and_then(|i| self.values.get(i)),
            _ => self.values.get(m.index),
        };
        v.ok_or_else(|| ExecError::invalid(format!("no value bound to marker {}", m.index)))
    }

    /// `term` as a value of `ty`.
    pub fn eval(&mut self, term: &Term, ty: &CqlType) -> Result<Evaluated, ExecError> {
        match term {
            Term::Bind(m) => match self.bound(m)? {
                Bound::Null => Ok(Evaluated::Null),
                Bound::Unset => Ok(Evaluated::Unset),
                Bound::Bytes(b) => Ok(Evaluated::Value(basalt_table::serialize::deserialize(ty, b)?)),
            },
            other => Ok(match coerce(other, ty, &mut self.clock)? {
                Some(v) => Evaluated::Value(v),
                None => Evaluated::Null,
            }),
        }
    }

    /// A non-null, set value (keys, limits, timestamps).
    pub fn required(&mut self, term: &Term, ty: &CqlType, what: &str) -> Result<Value, ExecError> {
        match self.eval(term, ty)? {
            Evaluated::Value(v) => Ok(v),
            Evaluated::Null => Err(ExecError::NullKey {
                column: what.to_string(),
            }),
            Evaluated::Unset => Err(ExecError::UnsetKey {
                column: what.to_string(),
            }),
        }
    }
}

/// The coordinator's clock and randomness: wall time, v1 UUIDs that increase within this process.
#[derive(Debug, Default)]
pub struct Clock {
    last_ticks: i64,
}

/// 100 ns ticks between the UUID epoch (1582-10-15) and the Unix epoch.
const UUID_EPOCH_OFFSET: i64 = 0x01B2_1DD2_1381_4000;

pub fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

impl Clock {
    /// A version 1 UUID at the current time, later than every earlier one of this clock.
    pub fn next_timeuuid(&mut self) -> Uuid {
        let now = now_micros() * 10 + UUID_EPOCH_OFFSET;
        let ticks = now.max(self.last_ticks + 1);
        self.last_ticks = ticks;
        let t = ticks as u64;
        let mut b = [0u8; 16];
        b[0..4].copy_from_slice(&((t & 0xffff_ffff) as u32).to_be_bytes());
        b[4..6].copy_from_slice(&(((t >> 32) & 0xffff) as u16).to_be_bytes());
        b[6..8].copy_from_slice(&((((t >> 48) & 0x0fff) as u16) | 0x1000).to_be_bytes());
        let rand = fastrand::u64(..).to_be_bytes();
        b[8..16].copy_from_slice(&rand);
        b[8] = (b[8] & 0x3f) | 0x80;
        Uuid(b)
    }
}

impl Generators for Clock {
    fn timeuuid(&mut self) -> Uuid {
        self.next_timeuuid()
    }

    fn random_uuid(&mut self) -> Uuid {
        let mut b = fastrand::u128(..).to_be_bytes();
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        Uuid(b)
    }

    fn now_millis(&mut self) -> i64 {
        now_micros() / 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeuuids_are_version_1_and_increase() {
        let mut c = Clock::default();
        let a = c.next_timeuuid();
        let b = c.next_timeuuid();
        assert_eq!(a.version(), 1);
        assert!(Value::TimeUuid(a) < Value::TimeUuid(b));
        assert_eq!(c.random_uuid().version(), 4);
    }
}
