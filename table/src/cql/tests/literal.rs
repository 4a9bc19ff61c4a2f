use super::super::ast::{Literal, Term};
use super::super::literal::*;
use super::super::{CqlError, parse};
use crate::types::{CqlType, NativeType as N};
use crate::value::{Decimal, Uuid, Value};

/// A fixed clock and counter: no hidden state.
struct Fixed {
    millis: i64,
    n: u8,
}

/// A version 1 UUID at `millis`.
fn timeuuid_at(millis: i64, seq: u8) -> Uuid {
    let t = (millis * 10_000 + 0x01B2_1DD2_1381_4000) as u64;
    let mut b = [0u8; 16];
    b[0..4].copy_from_slice(&(t as u32).to_be_bytes());
    b[4..6].copy_from_slice(&((t >> 32) as u16).to_be_bytes());
    b[6..8].copy_from_slice(&((((t >> 48) as u16) & 0x0fff) | 0x1000).to_be_bytes());
    b[8] = 0x80;
    b[15] = seq;
    Uuid(b)
}

impl Generators for Fixed {
    fn timeuuid(&mut self) -> Uuid {
        self.n += 1;
        timeuuid_at(self.millis, self.n)
    }
    fn random_uuid(&mut self) -> Uuid {
        self.n += 1;
        let mut b = [self.n; 16];
        b[6] = 0x40;
        Uuid(b)
    }
    fn now_millis(&mut self) -> i64 {
        self.millis
    }
}

/// The value of the term `text` (the first value of an INSERT) as type `ty`.
fn value(text: &str, ty: CqlType) -> Result<Option<Value>, CqlError> {
    let stmt = parse(&format!("INSERT INTO t (a) VALUES ({text})")).unwrap();
    let crate::cql::Statement::Insert(i) = stmt else {
        panic!()
    };
    coerce(
        &i.values[0],
        &ty,
        &mut Fixed {
            millis: 1_700_000_000_123,
            n: 0,
        },
    )
}

fn v(text: &str, ty: N) -> Value {
    value(text, CqlType::Native(ty))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .unwrap()
}

fn reason(text: &str, ty: CqlType) -> String {
    match value(text, ty) {
        Err(CqlError::InvalidLiteral { reason, expected, .. }) => {
            // A bad element is reported with the element's type.
            if !ty.is_collection() {
                assert_eq!(expected, ty.to_string());
            }
            reason
        }
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn integers_with_range_checks() {
    assert_eq!(v("-128", N::TinyInt), Value::TinyInt(-128));
    assert_eq!(reason("128", N::TinyInt.into()), "out of range for tinyint");
    assert_eq!(v("32767", N::SmallInt), Value::SmallInt(32767));
    assert_eq!(reason("-32769", N::SmallInt.into()), "out of range for smallint");
    assert_eq!(v("2147483647", N::Int), Value::Int(i32::MAX));
    assert_eq!(reason("2147483648", N::Int.into()), "out of range for int");
    assert_eq!(v("-9223372036854775808", N::BigInt), Value::BigInt(i64::MIN));
    assert_eq!(
        reason("9223372036854775808", N::BigInt.into()),
        "out of range for bigint"
    );
    assert_eq!(
        reason("99999999999999999999999999999999999999999", N::BigInt.into()),
        "out of range for bigint"
    );
    assert_eq!(v("3", N::Double), Value::Double(3.0));
    assert_eq!(v("3", N::Float), Value::Float(3.0));
    assert!(reason("1.5", N::Int.into()).contains("float"));
    assert!(reason("'1'", N::Int.into()).contains("string"));
}

#[test]
fn floats_and_decimals() {
    assert_eq!(v("1.5", N::Double), Value::Double(1.5));
    assert_eq!(v("-2e3", N::Float), Value::Float(-2000.0));
    assert!(matches!(v("NaN", N::Double), Value::Double(x) if x.is_nan()));
    assert_eq!(v("-Infinity", N::Float), Value::Float(f32::NEG_INFINITY));
    assert_eq!(
        v("12.345", N::Decimal),
        Value::Decimal(Decimal {
            unscaled: 12345,
            scale: 3
        })
    );
    assert_eq!(
        v("-1e5", N::Decimal),
        Value::Decimal(Decimal {
            unscaled: -1,
            scale: -5
        })
    );
    assert_eq!(
        v("1.5E-2", N::Decimal),
        Value::Decimal(Decimal { unscaled: 15, scale: 3 })
    );
    assert_eq!(v("42", N::Decimal), Value::Decimal(Decimal { unscaled: 42, scale: 0 }));
    let big = "12345678901234567890123456789012345678";
    assert_eq!(
        v(big, N::Decimal),
        Value::Decimal(Decimal {
            unscaled: big.parse().unwrap(),
            scale: 0
        })
    );
    assert_eq!(reason(&format!("{big}9"), N::Decimal.into()), "more than 38 digits");
    assert!(value("NaN", N::Decimal.into()).is_err());
}

#[test]
fn strings_dates_and_times() {
    assert_eq!(v("'héllo'", N::Text), Value::Text("héllo".into()));
    assert_eq!(v("'abc'", N::Ascii), Value::Ascii("abc".into()));
    assert!(reason("'é'", N::Ascii.into()).contains("non-ASCII"));
    assert_eq!(v("'1970-01-01'", N::Timestamp), Value::Timestamp(0));
    assert_eq!(v("'2024-01-02'", N::Timestamp), Value::Timestamp(1_704_153_600_000));
    assert_eq!(
        v("'2024-01-02 03:04:05'", N::Timestamp),
        Value::Timestamp(1_704_164_645_000)
    );
    assert_eq!(
        v("'2024-01-02T03:04:05.678Z'", N::Timestamp),
        Value::Timestamp(1_704_164_645_678)
    );
    assert_eq!(
        v("'2024-01-02 03:04:05.678000+0000'", N::Timestamp),
        Value::Timestamp(1_704_164_645_678)
    );
    assert_eq!(
        v("'2024-01-02 05:04:05+02:00'", N::Timestamp),
        Value::Timestamp(1_704_164_645_000)
    );
    assert_eq!(
        v("'2024-01-02 03:04-0130'", N::Timestamp),
        Value::Timestamp(1_704_164_640_000 + 5_400_000)
    );
    assert_eq!(v("'1969-12-31 23:59:59'", N::Timestamp), Value::Timestamp(-1000));
    assert_eq!(v("1704153600000", N::Timestamp), Value::Timestamp(1_704_153_600_000));
    assert!(reason("'2024-02-30'", N::Timestamp.into()).contains("day 30"));
    assert!(reason("'2024-13-01'", N::Timestamp.into()).contains("month 13"));
    assert!(value("'2024-01-02 25:00:00'", N::Timestamp.into()).is_err());
    assert!(value("'yesterday'", N::Timestamp.into()).is_err());
    assert_eq!(v("'2024-02-29'", N::Date), Value::Date(19_782));
    assert_eq!(v("'1970-01-01'", N::Date), Value::Date(0));
    assert_eq!(v("2147483648", N::Date), Value::Date(0));
    assert_eq!(v("0", N::Date), Value::Date(i32::MIN));
    assert!(value("'2023-02-29'", N::Date.into()).is_err());
    assert!(value("4294967296", N::Date.into()).is_err());
    assert_eq!(v("'03:04:05.123456789'", N::Time), Value::Time(11_045_123_456_789));
    assert_eq!(v("'00:00:01'", N::Time), Value::Time(1_000_000_000));
    assert_eq!(v("'00:00:00.5'", N::Time), Value::Time(500_000_000));
    assert_eq!(v("1000", N::Time), Value::Time(1000));
    assert!(value("86400000000000", N::Time.into()).is_err());
    assert!(value("'03:04'", N::Time.into()).is_err());
    assert_eq!(v("'10.0.0.1'", N::Inet), Value::Inet("10.0.0.1".parse().unwrap()));
    assert_eq!(v("'::1'", N::Inet), Value::Inet("::1".parse().unwrap()));
    assert!(value("'10.0.0.256'", N::Inet.into()).is_err());
}

#[test]
fn calendar_round_trips() {
    for days in (-800_000..800_000).step_by(997) {
        let (y, m, d) = civil_from_days(days);
        assert_eq!(days_from_civil(y, m, d), days);
    }
    assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    assert_eq!(civil_from_days(-1), (1969, 12, 31));
}

#[test]
fn blobs_uuids_booleans() {
    assert_eq!(v("0xCAFE00", N::Blob), Value::Blob(vec![0xca, 0xfe, 0]));
    assert_eq!(v("0x", N::Blob), Value::Blob(vec![]));
    assert_eq!(v("textAsBlob('hi')", N::Blob), Value::Blob(b"hi".to_vec()));
    assert!(reason("0xabc", N::Blob.into()).contains("odd"));
    assert!(value("'cafe'", N::Blob.into()).is_err());
    let u = "123e4567-e89b-12d3-a456-426614174000";
    assert!(matches!(v(u, N::Uuid), Value::Uuid(x) if x.to_string() == u));
    assert!(matches!(v(u, N::TimeUuid), Value::TimeUuid(_)));
    assert!(reason("123e4567-e89b-42d3-a456-426614174000", N::TimeUuid.into()).contains("version 4"));
    assert!(reason(&format!("'{u}'"), N::Uuid.into()).contains("without quotes"));
    assert_eq!(v("true", N::Boolean), Value::Boolean(true));
    assert!(value("1", N::Boolean.into()).is_err());
    assert_eq!(value("null", N::Int.into()).unwrap(), None);
    assert!(matches!(
        value("?", N::Int.into()),
        Err(CqlError::UnboundMarker { index: 0 })
    ));
}

#[test]
fn functions_use_the_callers_generators() {
    let now = 1_700_000_000_123;
    assert_eq!(v("now()", N::TimeUuid), Value::TimeUuid(timeuuid_at(now, 1)));
    assert_eq!(v("now()", N::Uuid), Value::Uuid(timeuuid_at(now, 1)));
    assert_eq!(timeuuid_millis(&timeuuid_at(now, 1)), now);
    assert!(matches!(v("uuid()", N::Uuid), Value::Uuid(u) if u.version() == 4));
    assert!(value("uuid()", N::TimeUuid.into()).is_err());
    assert_eq!(v("toTimestamp(now())", N::Timestamp), Value::Timestamp(now));
    assert_eq!(v("currentTimestamp()", N::Timestamp), Value::Timestamp(now));
    assert_eq!(v("toUnixTimestamp(now())", N::BigInt), Value::BigInt(now));
    assert_eq!(v("currentDate()", N::Date), Value::Date(19_675));
    assert_eq!(v("toDate(now())", N::Date), Value::Date(19_675));
    assert!(matches!(v("currentTime()", N::Time), Value::Time(_)));
    assert!(matches!(
        value("nosuch()", N::Int.into()),
        Err(CqlError::UnknownFunction { .. })
    ));
    assert!(value("now()", N::Timestamp.into()).is_err());
}

#[test]
fn collections_element_wise() {
    let list = CqlType::List(N::Int);
    assert_eq!(
        value("[3, 1, 3]", list).unwrap(),
        Some(Value::List(vec![Value::Int(3), Value::Int(1), Value::Int(3)]))
    );
    let set = CqlType::Set(N::Text);
    assert_eq!(
        value("{'b', 'a', 'b'}", set).unwrap(),
        Some(Value::Set(vec![Value::Text("a".into()), Value::Text("b".into())]))
    );
    assert_eq!(value("{}", set).unwrap(), Some(Value::Set(vec![])));
    let map = CqlType::Map(N::Text, N::Int);
    assert_eq!(
        value("{'z': 1, 'a': 2, 'z': 3}", map).unwrap(),
        Some(Value::Map(vec![
            (Value::Text("a".into()), Value::Int(2)),
            (Value::Text("z".into()), Value::Int(3))
        ]))
    );
    assert!(reason("[1, null]", list).contains("null"));
    assert!(reason("[1, 'x']", list).contains("string"));
    assert!(value("{1: 2}", set).is_err());
    assert!(value("[1]", map).is_err());
    assert_eq!(value("null", list).unwrap(), None);
    assert!(value("(1, 2)", N::Int.into()).is_err());
    assert_eq!(Term::Literal(Literal::String("it's".into())).to_string(), "'it''s'");
}
