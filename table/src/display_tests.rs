use super::*;
use crate::value::Uuid;
use proptest::prelude::*;

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

#[test]
fn calendar() {
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(-1), (1969, 12, 31));
    assert_eq!(civil_from_days(19_724), (2024, 1, 2));
    assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    assert_eq!(civil_from_days(-719_162), (1, 1, 1));
    assert_eq!(days_from_civil(2024, 1, 2), 19_724);
    assert_eq!(days_from_civil(1600, 3, 1), civil_days_slow(1600, 3, 1));
}

/// Counting days one year at a time, to check the closed form against.
fn civil_days_slow(year: i64, month: u32, day: u32) -> i64 {
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut days = 0i64;
    if year >= 1970 {
        for y in 1970..year {
            days += if leap(y) { 366 } else { 365 };
        }
    } else {
        for y in year..1970 {
            days -= if leap(y) { 366 } else { 365 };
        }
    }
    let month_days = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    days + month_days[..month as usize - 1].iter().sum::<i64>() + i64::from(day) - 1
}

#[test]
fn cqlsh_display() {
    let ts = days_from_civil(2024, 1, 2) * 86_400_000 + ((3 * 60 + 4) * 60 + 5) * 1000 + 678;
    let cases: Vec<(Value, &str)> = vec![
        (Value::Int(-42), "-42"),
        (text("it's"), "it's"),
        (text(""), ""),
        (Value::Blob(vec![0xca, 0xfe]), "0xcafe"),
        (Value::Blob(vec![]), "0x"),
        (Value::Timestamp(ts), "2024-01-02 03:04:05.678000+0000"),
        (Value::Timestamp(-1), "1969-12-31 23:59:59.999000+0000"),
        (Value::Timestamp(i64::MAX), "9223372036854775807"),
        (Value::Date(19_724), "2024-01-02"),
        (Value::Date(i32::MIN), "-2147483648"),
        (
            Value::Time(((3 * 60 + 4) * 60 + 5) * 1_000_000_000 + 123_456_789),
            "03:04:05.123456789",
        ),
        (Value::Boolean(true), "True"),
        (Value::Boolean(false), "False"),
        (Value::Uuid(Uuid([0xab; 16])), "abababab-abab-abab-abab-abababababab"),
        (Value::Inet("10.0.0.1".parse().unwrap()), "10.0.0.1"),
        (Value::Inet("2001:db8::1".parse().unwrap()), "2001:db8::1"),
        (Value::Float(1.5), "1.5"),
        (Value::Float(0.1), "0.1"),
        (Value::Float(123456.0), "1.2346e+05"),
        (Value::Float(f32::NAN), "NaN"),
        (Value::Float(f32::NEG_INFINITY), "-Infinity"),
        (Value::Double(0.0), "0"),
        (Value::Double(-0.0), "-0"),
        (Value::Double(123456.0), "123456"),
        // cqlsh widens the precision by int(log10(x)) + 1 = 1 here: 13 digits.
        (Value::Double(1.0 / 3.0), "0.3333333333333"),
        (Value::Double(1e20), "1e+20"),
        (Value::Double(0.0001), "0.0001"),
        (Value::Double(f64::INFINITY), "Infinity"),
        (
            Value::Decimal(Decimal {
                unscaled: 150,
                scale: 2,
            }),
            "1.50",
        ),
        (
            Value::Decimal(Decimal {
                unscaled: -123,
                scale: 6,
            }),
            "-0.000123",
        ),
        (
            Value::Decimal(Decimal {
                unscaled: 123,
                scale: 10,
            }),
            "1.23E-8",
        ),
        (
            Value::Decimal(Decimal {
                unscaled: 15,
                scale: -2,
            }),
            "1.5E+3",
        ),
        (Value::Decimal(Decimal { unscaled: 0, scale: -2 }), "0E+2"),
        (Value::List(vec![Value::Int(1), Value::Int(2)]), "[1, 2]"),
        (Value::set(vec![text("b"), text("it's")]), "{'b', 'it''s'}"),
        (Value::map(vec![(text("a"), Value::Int(1))]), "{'a': 1}"),
        (
            Value::List(vec![Value::Inet("1.2.3.4".parse().unwrap())]),
            "['1.2.3.4']",
        ),
        (
            Value::List(vec![Value::Timestamp(0)]),
            "['1970-01-01 00:00:00.000000+0000']",
        ),
        (Value::List(vec![]), "[]"),
        (text("a\\b\nc"), "a\\\\b\\nc"),
        (text("\u{1}\u{a0}é"), "\\x01\\xa0é"),
    ];
    for (v, want) in cases {
        assert_eq!(display(&v), want, "{v:?}");
        assert_eq!(v.to_string(), want);
    }
}

#[test]
fn literals() {
    let cases: Vec<(Value, &str)> = vec![
        (text("it's"), "'it''s'"),
        (Value::Ascii("".into()), "''"),
        (Value::Blob(vec![0xca, 0xfe]), "0xcafe"),
        (Value::Timestamp(1_704_164_645_678), "'2024-01-02 03:04:05.678+0000'"),
        (Value::Timestamp(i64::MIN), "-9223372036854775808"),
        (Value::Date(19_724), "'2024-01-02'"),
        (Value::Date(i32::MAX), "4294967295"),
        (Value::Time(1), "'00:00:00.000000001'"),
        (Value::Float(f32::NAN), "NaN"),
        (Value::Double(-0.0), "-0.0"),
        (Value::Double(f64::NEG_INFINITY), "-Infinity"),
        (Value::Double(1e20), "1e20"),
        (Value::Float(0.1), "0.1"),
        (
            Value::Decimal(Decimal {
                unscaled: 15,
                scale: -2,
            }),
            "1.5E+3",
        ),
        (Value::Boolean(false), "false"),
        (Value::Inet("::1".parse().unwrap()), "'::1'"),
        (Value::Uuid(Uuid([0; 16])), "00000000-0000-0000-0000-000000000000"),
        (Value::map(vec![(text("k"), Value::List(vec![]))]), "{'k': []}"),
        (Value::set(vec![Value::Int(2), Value::Int(1)]), "{1, 2}"),
    ];
    for (v, want) in cases {
        assert_eq!(cql_literal(&v), want, "{v:?}");
    }
}

proptest! {
    #[test]
    fn days_round_trip(days in -10_000_000i64..10_000_000) {
        let (y, m, d) = civil_from_days(days);
        prop_assert!((1..=12).contains(&m) && (1..=31).contains(&d));
        prop_assert_eq!(days_from_civil(y, m, d), days);
    }

    #[test]
    fn float_literals_read_back(x in any::<f64>(), y in any::<f32>()) {
        let lx = cql_literal(&Value::Double(x));
        if !x.is_nan() && !x.is_infinite() {
            prop_assert_eq!(lx.parse::<f64>().unwrap().to_bits(), x.to_bits());
        }
        let ly = cql_literal(&Value::Float(y));
        if !y.is_nan() && !y.is_infinite() {
            prop_assert_eq!(ly.parse::<f32>().unwrap().to_bits(), y.to_bits());
        }
    }

    #[test]
    fn display_never_panics((_ty, v) in crate::testgen::typed_value()) {
        let _ = display(&v);
        let _ = cql_literal(&v);
    }
}
