//! The CQL types a column can have, with their CQL names and Arrow types.
//!
//! Collections hold native types only (no nested collections, no frozen types yet). `counter` comes
//! with a later issue.

use arrow_schema::{DataType, Field, Fields, TimeUnit};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A non-collection CQL type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NativeType {
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Float,
    Double,
    /// Arbitrary scale, at most [`crate::value::Decimal::MAX_DIGITS`] digits (in Arrow a struct of the
    /// unscaled Decimal128 and the scale: [`decimal_arrow_fields`]).
    Decimal,
    Boolean,
    /// `text` and its alias `varchar`: UTF-8.
    Text,
    /// US-ASCII only.
    Ascii,
    Blob,
    /// Milliseconds since the Unix epoch, UTC.
    Timestamp,
    /// Days since the Unix epoch.
    Date,
    /// Nanoseconds since midnight.
    Time,
    Uuid,
    /// A version 1 UUID (time-based).
    TimeUuid,
    Inet,
}

impl NativeType {
    pub const ALL: [NativeType; 17] = [
        NativeType::TinyInt,
        NativeType::SmallInt,
        NativeType::Int,
        NativeType::BigInt,
        NativeType::Float,
        NativeType::Double,
        NativeType::Decimal,
        NativeType::Boolean,
        NativeType::Text,
        NativeType::Ascii,
        NativeType::Blob,
        NativeType::Timestamp,
        NativeType::Date,
        NativeType::Time,
        NativeType::Uuid,
        NativeType::TimeUuid,
        NativeType::Inet,
    ];

    /// The CQL name (lowercase; `text` for text/varchar).
    pub fn cql_name(self) -> &'static str {
        match self {
            NativeType::TinyInt => "tinyint",
            NativeType::SmallInt => "smallint",
            NativeType::Int => "int",
            NativeType::BigInt => "bigint",
            NativeType::Float => "float",
            NativeType::Double => "double",
            NativeType::Decimal => "decimal",
            NativeType::Boolean => "boolean",
            NativeType::Text => "text",
            NativeType::Ascii => "ascii",
            NativeType::Blob => "blob",
            NativeType::Timestamp => "timestamp",
            NativeType::Date => "date",
            NativeType::Time => "time",
            NativeType::Uuid => "uuid",
            NativeType::TimeUuid => "timeuuid",
            NativeType::Inet => "inet",
        }
    }

    /// Parses a CQL type name, case-insensitively (`varchar` is `text`).
    pub fn from_cql_name(name: &str) -> Option<NativeType> {
        let lower = name.to_ascii_lowercase();
        if lower == "varchar" {
            return Some(NativeType::Text);
        }
        NativeType::ALL.into_iter().find(|t| t.cql_name() == lower)
    }

    /// The Arrow type of a column of this type.
    pub fn arrow_type(self) -> DataType {
        match self {
            NativeType::TinyInt => DataType::Int8,
            NativeType::SmallInt => DataType::Int16,
            NativeType::Int => DataType::Int32,
            NativeType::BigInt => DataType::Int64,
            NativeType::Float => DataType::Float32,
            NativeType::Double => DataType::Float64,
            // Cassandra decimals carry their scale per value and a column has none, so a column of
            // Decimal128(38, s) would round 0.123456789012 or overflow on 10^30 and print 1.5 as
            // 1.5000000000. A decimal column is instead a struct of the value's own parts, lossless:
            // see `decimal_arrow_fields`.
            NativeType::Decimal => DataType::Struct(decimal_arrow_fields()),
            NativeType::Boolean => DataType::Boolean,
            NativeType::Text | NativeType::Ascii => DataType::Utf8,
            NativeType::Blob => DataType::Binary,
            NativeType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            NativeType::Date => DataType::Date32,
            NativeType::Time => DataType::Time64(TimeUnit::Nanosecond),
            NativeType::Uuid | NativeType::TimeUuid => DataType::FixedSizeBinary(16),
            // IPv4 or IPv6: 4 or 16 bytes.
            NativeType::Inet => DataType::Binary,
        }
    }

    /// Whether values of this type have a total order usable in keys (all native types do).
    pub fn orderable(self) -> bool {
        true
    }
}

/// The scale to which a SQL layer may cast a `decimal` column (`unscaled * 10^-scale` as
/// Decimal128(38, DECIMAL_ARROW_SCALE)); the Arrow column itself keeps every value's own scale (see
/// [`decimal_arrow_fields`]).
pub const DECIMAL_ARROW_SCALE: i8 = 10;

/// The fields of the Arrow struct that holds a `decimal` value: `unscaled`, Decimal128(38, 0), and
/// `scale`, Int32 (the value is `unscaled * 10^-scale`, as on the CQL wire), both non-null (a null
/// decimal is a null struct).
pub fn decimal_arrow_fields() -> Fields {
    Fields::from(vec![
        Field::new("unscaled", DataType::Decimal128(38, 0), false),
        Field::new("scale", DataType::Int32, false),
    ])
}

/// The type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CqlType {
    Native(NativeType),
    List(NativeType),
    Set(NativeType),
    Map(NativeType, NativeType),
}

impl CqlType {
    pub fn is_collection(&self) -> bool {
        !matches!(self, CqlType::Native(_))
    }

    /// The Arrow type of a column of this type: List for list and set, Map for map.
    pub fn arrow_type(&self) -> DataType {
        match *self {
            CqlType::Native(t) => t.arrow_type(),
            CqlType::List(t) | CqlType::Set(t) => DataType::List(Arc::new(Field::new("item", t.arrow_type(), false))),
            CqlType::Map(k, v) => DataType::Map(
                Arc::new(Field::new(
                    "entries",
                    DataType::Struct(Fields::from(vec![
                        Field::new("key", k.arrow_type(), false),
                        Field::new("value", v.arrow_type(), true),
                    ])),
                    false,
                )),
                false,
            ),
        }
    }
}

impl CqlType {
    /// Parses a type as [`fmt::Display`] writes it (`int`, `list<text>`, `map<text, int>`; names
    /// case-insensitive, spaces around the parts allowed).
    pub fn from_cql_name(name: &str) -> Option<CqlType> {
        name.parse().ok()
    }
}

impl From<NativeType> for CqlType {
    fn from(t: NativeType) -> Self {
        CqlType::Native(t)
    }
}

impl fmt::Display for NativeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cql_name())
    }
}

/// As CQL writes it: `int`, `list<text>`, `map<text, int>`.
impl fmt::Display for CqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CqlType::Native(t) => write!(f, "{t}"),
            CqlType::List(t) => write!(f, "list<{t}>"),
            CqlType::Set(t) => write!(f, "set<{t}>"),
            CqlType::Map(k, v) => write!(f, "map<{k}, {v}>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in NativeType::ALL {
            assert_eq!(NativeType::from_cql_name(t.cql_name()), Some(t));
            assert_eq!(NativeType::from_cql_name(&t.cql_name().to_uppercase()), Some(t));
        }
        assert_eq!(NativeType::from_cql_name("VarChar"), Some(NativeType::Text));
        assert_eq!(NativeType::from_cql_name("counter"), None);
        assert_eq!(
            CqlType::Map(NativeType::Text, NativeType::Int).to_string(),
            "map<text, int>"
        );
        for t in NativeType::ALL {
            for ty in [
                CqlType::Native(t),
                CqlType::List(t),
                CqlType::Set(t),
                CqlType::Map(t, NativeType::Blob),
            ] {
                assert_eq!(CqlType::from_cql_name(&ty.to_string()), Some(ty));
            }
        }
        assert_eq!(
            CqlType::from_cql_name(" MAP< varchar ,int >"),
            Some(CqlType::Map(NativeType::Text, NativeType::Int))
        );
        assert_eq!(CqlType::from_cql_name("list<list<int>>"), None);
        assert_eq!(CqlType::from_cql_name("tuple<int>"), None);
    }
}

/// Parses a type as CQL writes it: `int`, `varchar`, `list<text>`, `set<uuid>`, `map<text, int>`
/// (any case, any spacing). Frozen and nested types are not supported yet.
impl std::str::FromStr for CqlType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let native = |n: &str| {
            NativeType::from_cql_name(n.trim()).ok_or_else(|| {
                if n.trim().eq_ignore_ascii_case("counter") {
                    "counter columns are not supported yet".to_string()
                } else {
                    format!("unknown type '{}'", n.trim())
                }
            })
        };
        let Some(open) = s.find('<') else {
            return native(s).map(CqlType::Native);
        };
        if !s.ends_with('>') {
            return Err(format!("malformed type '{s}'"));
        }
        let outer = s[..open].trim().to_ascii_lowercase();
        let inner = &s[open + 1..s.len() - 1];
        if inner.contains('<') {
            return Err(format!("nested collections are not supported: '{s}'"));
        }
        match outer.as_str() {
            "list" => native(inner).map(CqlType::List),
            "set" => native(inner).map(CqlType::Set),
            "map" => {
                let (k, v) = inner
                    .split_once(',')
                    .ok_or_else(|| format!("a map needs a key and a value type: '{s}'"))?;
                Ok(CqlType::Map(native(k)?, native(v)?))
            }
            "frozen" => Err(format!("frozen types are not supported yet: '{s}'")),
            _ => Err(format!("unknown type '{s}'")),
        }
    }
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn types_parse_back_from_their_names() {
        let all = NativeType::ALL.into_iter().flat_map(|t| {
            [
                CqlType::Native(t),
                CqlType::List(t),
                CqlType::Set(t),
                CqlType::Map(NativeType::Text, t),
            ]
        });
        for t in all {
            assert_eq!(t.to_string().parse::<CqlType>(), Ok(t));
        }
        assert_eq!(
            " MAP < Text ,INT> ".parse::<CqlType>(),
            Ok(CqlType::Map(NativeType::Text, NativeType::Int))
        );
        assert!("list<list<int>>".parse::<CqlType>().is_err());
        assert!("counter".parse::<CqlType>().unwrap_err().contains("counter"));
        assert!("map<int>".parse::<CqlType>().is_err());
    }
}
