use super::*;
use crate::testgen;
use proptest::prelude::*;

fn round_trip(ty: CqlType, v: &Value) {
    let bytes = to_bytes(v);
    validate(v, &ty).unwrap();
    let back = deserialize(&ty, &bytes).unwrap();
    assert_eq!(&back, v, "{ty}");
    // Bit-exact too (NaN payloads, -0.0, decimal scales, which equality does not tell apart).
    assert_eq!(to_bytes(&back), bytes, "{ty}");
}

fn n(t: NativeType) -> CqlType {
    CqlType::Native(t)
}

#[test]
fn every_type_round_trips_at_its_edges() {
    use NativeType as T;
    let cases: Vec<(NativeType, Value)> = vec![
        (T::TinyInt, Value::TinyInt(i8::MIN)),
        (T::TinyInt, Value::TinyInt(i8::MAX)),
        (T::SmallInt, Value::SmallInt(i16::MIN)),
        (T::Int, Value::Int(i32::MIN)),
        (T::Int, Value::Int(i32::MAX)),
        (T::BigInt, Value::BigInt(i64::MIN)),
        (T::BigInt, Value::BigInt(i64::MAX)),
        (T::Float, Value::Float(f32::NAN)),
        (T::Float, Value::Float(-0.0)),
        (T::Float, Value::Float(f32::MIN_POSITIVE)),
        (T::Double, Value::Double(f64::NAN)),
        (T::Double, Value::Double(-0.0)),
        (T::Double, Value::Double(f64::MAX)),
        (
            T::Decimal,
            Value::Decimal(Decimal {
                unscaled: 10i128.pow(38) - 1,
                scale: i32::MIN,
            }),
        ),
        (
            T::Decimal,
            Value::Decimal(Decimal {
                unscaled: -(10i128.pow(38) - 1),
                scale: i32::MAX,
            }),
        ),
        (T::Decimal, Value::Decimal(Decimal { unscaled: 0, scale: 0 })),
        (T::Boolean, Value::Boolean(true)),
        (T::Boolean, Value::Boolean(false)),
        (T::Text, Value::Text(String::new())),
        (T::Text, Value::Text("zażółć 🦀".into())),
        (T::Ascii, Value::Ascii("\u{0}\u{7f}".into())),
        (T::Blob, Value::Blob(Vec::new())),
        (T::Blob, Value::Blob((0..1 << 20).map(|i| i as u8).collect())),
        (T::Timestamp, Value::Timestamp(i64::MIN)),
        (T::Date, Value::Date(i32::MIN)),
        (T::Date, Value::Date(i32::MAX)),
        (T::Time, Value::Time(0)),
        (T::Time, Value::Time(NANOS_PER_DAY - 1)),
        (T::Uuid, Value::Uuid(Uuid([0xff; 16]))),
        (T::TimeUuid, Value::TimeUuid(Uuid([0x10; 16]))),
        (T::Inet, Value::Inet("255.255.255.255".parse().unwrap())),
        (T::Inet, Value::Inet("::ffff:1.2.3.4".parse().unwrap())),
    ];
    for (t, v) in cases {
        round_trip(n(t), &v);
    }
    round_trip(
        CqlType::List(T::Int),
        &Value::List(vec![Value::Int(2), Value::Int(1), Value::Int(2)]),
    );
    round_trip(CqlType::List(T::Text), &Value::List(vec![]));
    round_trip(
        CqlType::Set(T::Text),
        &Value::set(vec![Value::Text("b".into()), Value::Text("a".into())]),
    );
    round_trip(
        CqlType::Map(T::Text, T::Blob),
        &Value::map(vec![
            (Value::Text("k".into()), Value::Blob(vec![1])),
            (Value::Text("".into()), Value::Blob(vec![])),
        ]),
    );
}

#[test]
fn known_encodings() {
    assert_eq!(to_bytes(&Value::Int(1)), [0, 0, 0, 1]);
    // The epoch is 2^31 on the wire.
    assert_eq!(to_bytes(&Value::Date(0)), [0x80, 0, 0, 0]);
    assert_eq!(to_bytes(&Value::Date(-1)), [0x7f, 0xff, 0xff, 0xff]);
    // 1.50: scale 2, unscaled 150 (0x00 0x96: a leading zero byte keeps it positive).
    assert_eq!(
        to_bytes(&Value::Decimal(Decimal {
            unscaled: 150,
            scale: 2
        })),
        [0, 0, 0, 2, 0x00, 0x96]
    );
    assert_eq!(
        to_bytes(&Value::Decimal(Decimal { unscaled: -1, scale: 0 })),
        [0, 0, 0, 0, 0xff]
    );
    assert_eq!(
        to_bytes(&Value::Decimal(Decimal {
            unscaled: -128,
            scale: 0
        })),
        [0, 0, 0, 0, 0x80]
    );
    assert_eq!(
        to_bytes(&Value::Decimal(Decimal { unscaled: 0, scale: 0 })),
        [0, 0, 0, 0, 0]
    );
    assert_eq!(
        to_bytes(&Value::List(vec![Value::SmallInt(7)])),
        [0, 0, 0, 1, 0, 0, 0, 2, 0, 7]
    );
    // A non-minimal varint is still read.
    assert_eq!(
        deserialize(&n(NativeType::Decimal), &[0, 0, 0, 0, 0xff, 0xff, 0xff]).unwrap(),
        Value::Decimal(Decimal { unscaled: -1, scale: 0 })
    );
    let mut long = vec![0, 0, 0, 0];
    long.extend([0u8; 30]);
    long.push(5);
    assert_eq!(
        deserialize(&n(NativeType::Decimal), &long).unwrap(),
        Value::Decimal(Decimal { unscaled: 5, scale: 0 })
    );
}

#[test]
fn bad_bytes_are_typed_errors() {
    use NativeType as T;
    let de = |t: CqlType, b: &[u8]| deserialize(&t, b).unwrap_err();
    assert_eq!(
        de(n(T::Int), &[0, 0, 1]),
        ValueError::WrongLength {
            ty: T::Int,
            expected: 4,
            actual: 3
        }
    );
    assert_eq!(
        de(n(T::BigInt), &[]),
        ValueError::WrongLength {
            ty: T::BigInt,
            expected: 8,
            actual: 0
        }
    );
    assert_eq!(
        de(n(T::Uuid), &[0; 17]),
        ValueError::WrongLength {
            ty: T::Uuid,
            expected: 16,
            actual: 17
        }
    );
    assert_eq!(
        de(n(T::Text), b"a\xffb"),
        ValueError::InvalidUtf8 {
            ty: T::Text,
            position: 1
        }
    );
    assert_eq!(de(n(T::Ascii), "aé".as_bytes()), ValueError::NotAscii { position: 1 });
    assert_eq!(de(n(T::Inet), &[1, 2, 3]), ValueError::InetLength { actual: 3 });
    assert_eq!(
        de(n(T::Time), &NANOS_PER_DAY.to_be_bytes()),
        ValueError::TimeOutOfRange { nanos: NANOS_PER_DAY }
    );
    assert_eq!(
        de(n(T::Time), &(-1i64).to_be_bytes()),
        ValueError::TimeOutOfRange { nanos: -1 }
    );
    assert_eq!(de(n(T::TimeUuid), &[0; 16]), ValueError::NotTimeUuid { version: 0 });
    assert_eq!(de(n(T::Decimal), &[0, 0, 0, 1]), ValueError::DecimalNoDigits);
    assert_eq!(
        de(n(T::Decimal), &[0, 0]),
        ValueError::WrongLength {
            ty: T::Decimal,
            expected: 5,
            actual: 2
        }
    );
    // 10^38 has 39 digits.
    let mut big = vec![0, 0, 0, 0];
    write_varint(10i128.pow(38), &mut big);
    assert_eq!(de(n(T::Decimal), &big), ValueError::DecimalTooLarge { digits: 39 });
    let mut huge = vec![0, 0, 0, 0, 0x7f];
    huge.extend([0xff; 20]);
    assert!(matches!(de(n(T::Decimal), &huge), ValueError::DecimalTooLarge { digits } if digits > 38));
    let list = CqlType::List(T::Int);
    assert_eq!(
        de(list, &[0, 0, 0]),
        ValueError::Truncated {
            ty: list,
            needed: 1,
            available: 3
        }
    );
    assert_eq!(
        de(list, &[0xff, 0xff, 0xff, 0xff]),
        ValueError::NegativeLength { ty: list, value: -1 }
    );
    assert_eq!(
        de(list, &[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]),
        ValueError::NegativeLength { ty: list, value: -1 }
    );
    assert_eq!(
        de(list, &[0, 0, 0, 0, 9]),
        ValueError::TrailingBytes { ty: list, extra: 1 }
    );
    // A huge count with no elements is refused without reserving memory for it.
    assert!(matches!(
        de(list, &[0x7f, 0xff, 0xff, 0xff]),
        ValueError::Truncated { .. }
    ));
    // An element of the wrong length inside a collection names the element type.
    assert_eq!(
        de(list, &[0, 0, 0, 1, 0, 0, 0, 1, 7]),
        ValueError::WrongLength {
            ty: T::Int,
            expected: 4,
            actual: 1
        }
    );
    for e in [de(n(T::Int), &[]), de(list, &[1])] {
        assert_eq!(e.kind(), basalt_common::ErrorKind::Invalid);
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn sets_and_maps_come_out_normalized() {
    let ty = CqlType::Set(NativeType::Int);
    let unsorted = Value::Set(vec![Value::Int(3), Value::Int(1), Value::Int(3)]);
    let back = deserialize(&ty, &to_bytes(&unsorted)).unwrap();
    assert!(matches!(&back, Value::Set(items) if items == &[Value::Int(1), Value::Int(3)]));
    assert_eq!(
        validate(&unsorted, &ty),
        Err(ValueError::NotNormalized { ty, index: 1 })
    );
    let mty = CqlType::Map(NativeType::Int, NativeType::Text);
    let m = Value::map(vec![
        (Value::Int(2), Value::Text("x".into())),
        (Value::Int(1), Value::Text("y".into())),
        (Value::Int(2), Value::Text("last".into())),
    ]);
    assert!(matches!(&m, Value::Map(e) if e.len() == 2 && e[1].1 == Value::Text("last".into())));
    validate(&m, &mty).unwrap();
}

#[test]
fn validate_checks_types_and_ranges() {
    use NativeType as T;
    let e = validate(&Value::Text("x".into()), &n(T::Int)).unwrap_err();
    assert_eq!(
        e,
        ValueError::WrongType {
            expected: n(T::Int),
            actual: "text"
        }
    );
    assert!(e.to_string().contains("expected a int value, got a text"));
    let lt = CqlType::List(T::Text);
    assert_eq!(
        validate(&Value::List(vec![Value::Int(1)]), &lt),
        Err(ValueError::WrongType {
            expected: lt,
            actual: "int"
        })
    );
    assert_eq!(
        validate(&Value::Set(vec![]), &lt),
        Err(ValueError::WrongType {
            expected: lt,
            actual: "set"
        })
    );
    assert_eq!(
        validate(&Value::Ascii("é".into()), &n(T::Ascii)),
        Err(ValueError::NotAscii { position: 0 })
    );
    assert_eq!(
        validate(&Value::Time(-5), &n(T::Time)),
        Err(ValueError::TimeOutOfRange { nanos: -5 })
    );
    let d = Value::Decimal(Decimal {
        unscaled: i128::MIN,
        scale: 0,
    });
    assert_eq!(
        validate(&d, &n(T::Decimal)),
        Err(ValueError::DecimalTooLarge { digits: 39 })
    );
    assert_eq!(
        validate(&Value::TimeUuid(Uuid([0; 16])), &n(T::TimeUuid)),
        Err(ValueError::NotTimeUuid { version: 0 })
    );
    let mut out = Vec::new();
    assert!(serialize_checked(&Value::Int(1), &n(T::BigInt), &mut out).is_err());
    assert!(out.is_empty());
}

proptest! {
    #[test]
    fn any_value_round_trips((ty, v) in testgen::typed_value()) {
        round_trip(ty, &v);
    }

    #[test]
    fn deserialize_never_panics(ty in testgen::cql_type(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(v) = deserialize(&ty, &bytes) {
            // What it accepts is a valid value of the type.
            prop_assert!(validate(&v, &ty).is_ok());
        }
    }

    /// Damaged serializations of real values (a byte changed, the end cut) reach deeper into the
    /// collection decoder than random bytes do.
    #[test]
    fn damaged_bytes_never_panic(
        (ty, v) in testgen::typed_value(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = to_bytes(&v);
        if !bytes.is_empty() {
            let i = at.index(bytes.len());
            bytes[i] = byte;
            let mut shorter = bytes.clone();
            shorter.truncate(cut.index(bytes.len()));
            for b in [&bytes, &shorter] {
                if let Ok(back) = deserialize(&ty, b) {
                    prop_assert!(validate(&back, &ty).is_ok());
                }
            }
        }
    }

    #[test]
    fn varints_are_minimal(x in any::<i128>()) {
        let mut b = Vec::new();
        write_varint(x, &mut b);
        prop_assert_eq!(read_varint(&b).unwrap(), x);
        if b.len() > 1 {
            let redundant = (b[0] == 0 && b[1] & 0x80 == 0) || (b[0] == 0xff && b[1] & 0x80 != 0);
            prop_assert!(!redundant);
        }
    }
}
