use super::*;
use basalt_table::Decimal;

fn n(t: NativeType) -> CqlType {
    CqlType::Native(t)
}

#[test]
fn cells_parse_as_cqlsh_copy_writes_them() {
    use NativeType as N;
    let cases: Vec<(&str, CqlType, Value)> = vec![
        ("17", n(N::Int), Value::Int(17)),
        (" -3 ", n(N::BigInt), Value::BigInt(-3)),
        ("1.5", n(N::Double), Value::Double(1.5)),
        ("NaN", n(N::Float), Value::Float(f32::NAN)),
        ("-Infinity", n(N::Double), Value::Double(f64::NEG_INFINITY)),
        (
            "12.50",
            n(N::Decimal),
            Value::Decimal(Decimal {
                unscaled: 1250,
                scale: 2,
            }),
        ),
        ("True", n(N::Boolean), Value::Boolean(true)),
        ("false", n(N::Boolean), Value::Boolean(false)),
        ("a, \"b\"", n(N::Text), Value::Text("a, \"b\"".into())),
        ("0xcafe", n(N::Blob), Value::Blob(vec![0xca, 0xfe])),
        (
            "2024-01-02 03:04:05.123000+0000",
            n(N::Timestamp),
            Value::Timestamp(1_704_164_645_123),
        ),
        ("1704164645123", n(N::Timestamp), Value::Timestamp(1_704_164_645_123)),
        ("1970-01-02", n(N::Date), Value::Date(1)),
        ("00:00:01.5", n(N::Time), Value::Time(1_500_000_000)),
        ("10.0.0.1", n(N::Inet), Value::Inet("10.0.0.1".parse().unwrap())),
        (
            "[1, 2, 2]",
            CqlType::List(N::Int),
            Value::List(vec![Value::Int(1), Value::Int(2), Value::Int(2)]),
        ),
        (
            "{2, 1, 2}",
            CqlType::Set(N::Int),
            Value::Set(vec![Value::Int(1), Value::Int(2)]),
        ),
        (
            "{'b': 2, 'a': 1}",
            CqlType::Map(N::Text, N::Int),
            Value::Map(vec![
                (Value::Text("a".into()), Value::Int(1)),
                (Value::Text("b".into()), Value::Int(2)),
            ]),
        ),
    ];
    for (text, ty, want) in cases {
        let got = parse_cell(text, &ty).unwrap_or_else(|e| panic!("{text:?} as {ty}: {e}"));
        assert_eq!(got, Some(want), "{text:?} as {ty}");
    }
    assert_eq!(parse_cell("", &n(N::Int)).unwrap(), None, "an empty cell is null");
    let u = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d";
    assert!(matches!(parse_cell(u, &n(N::Uuid)), Ok(Some(Value::Uuid(_)))));
}

#[test]
fn bad_cells_say_what_they_are_not() {
    use NativeType as N;
    assert_eq!(parse_cell("abc", &n(N::Double)).unwrap_err(), "'abc' is not a double");
    assert_eq!(
        parse_cell("3000000000", &n(N::Int)).unwrap_err(),
        "'3000000000' is not an int"
    );
    assert_eq!(parse_cell("yes", &n(N::Boolean)).unwrap_err(), "'yes' is not a boolean");
    assert_eq!(
        parse_cell("cafe", &n(N::Blob)).unwrap_err(),
        "'cafe' is not a blob (0x followed by hex digits)"
    );
    assert!(
        parse_cell("2024-13-01", &n(N::Timestamp))
            .unwrap_err()
            .starts_with("'2024-13-01' is not a timestamp")
    );
    assert!(
        parse_cell("[1, 'x']", &CqlType::List(N::Int))
            .unwrap_err()
            .starts_with("'[1, 'x']' is not a list<int>")
    );
    assert!(parse_cell("now()", &CqlType::List(N::Int)).is_err());
    let uuid4 = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d";
    assert!(
        parse_cell(uuid4, &n(N::TimeUuid))
            .unwrap_err()
            .contains("not a version 1")
    );
    assert_eq!(
        parse_cell("ü", &n(N::Ascii)).unwrap_err(),
        "'ü' is not ascii (it has non-ASCII characters)"
    );
}

#[test]
fn formatted_cells_parse_back_equal() {
    use NativeType as N;
    let values: Vec<(Value, CqlType)> = vec![
        (Value::Int(-7), n(N::Int)),
        (Value::Double(0.1 + 0.2), n(N::Double)),
        (Value::Float(1e-7), n(N::Float)),
        (Value::Double(f64::INFINITY), n(N::Double)),
        (
            Value::Decimal(Decimal {
                unscaled: -123_456,
                scale: 3,
            }),
            n(N::Decimal),
        ),
        (Value::Boolean(true), n(N::Boolean)),
        (Value::Text("x,y\n\"z\"".into()), n(N::Text)),
        (Value::Blob(vec![0, 255]), n(N::Blob)),
        (Value::Timestamp(1_704_164_645_123), n(N::Timestamp)),
        (Value::Timestamp(-1), n(N::Timestamp)),
        (Value::Date(19_000), n(N::Date)),
        (Value::Time(3_723_000_000_001), n(N::Time)),
        (Value::Inet("::1".parse().unwrap()), n(N::Inet)),
        (Value::List(vec![Value::Text("it's".into())]), CqlType::List(N::Text)),
        (
            Value::Map(vec![(Value::Int(1), Value::Double(2.5))]),
            CqlType::Map(N::Int, N::Double),
        ),
    ];
    for (v, ty) in values {
        let text = format_cell(&v);
        assert_eq!(parse_cell(&text, &ty).unwrap(), Some(v.clone()), "{text:?}");
    }
}
