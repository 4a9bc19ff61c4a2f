use super::*;
use crate::testgen;
use proptest::prelude::*;
use std::cmp::Ordering;

fn dec(unscaled: i128, scale: i32) -> Value {
    Value::Decimal(Decimal { unscaled, scale })
}

fn uuid(hex: &str) -> Uuid {
    let digits: Vec<u8> = hex.bytes().filter(|b| *b != b'-').collect();
    let mut out = [0u8; 16];
    for (i, pair) in digits.chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap();
    }
    Uuid(out)
}

#[test]
fn floats_order_as_java() {
    // Float.compare: -Infinity < -0.0 < 0.0 < Infinity < NaN, all NaNs equal.
    let order = [f64::NEG_INFINITY, -1.0, -0.0, 0.0, 1.0, f64::INFINITY, f64::NAN];
    for w in order.windows(2) {
        assert!(Value::Double(w[0]) < Value::Double(w[1]), "{} < {}", w[0], w[1]);
        assert!(Value::Float(w[0] as f32) < Value::Float(w[1] as f32));
    }
    let negative_nan = f64::from_bits(0xfff8_0000_0000_0001);
    assert_eq!(Value::Double(negative_nan), Value::Double(f64::NAN));
    assert!(Value::Double(negative_nan) > Value::Double(f64::INFINITY));
}

#[test]
fn decimals_order_numerically() {
    assert_eq!(dec(10, 1), dec(100, 2)); // 1.0 = 1.00
    assert!(dec(15, 1) > dec(149, 2));
    assert!(dec(-15, 1) < dec(-149, 2));
    assert!(dec(1, i32::MIN) > dec(i128::MAX, i32::MAX));
    // Zero at any scale is zero, even when the scales are too far apart to rescale.
    assert_eq!(dec(0, i32::MIN), dec(0, i32::MAX));
    assert!(dec(0, 5) < dec(1, i32::MAX));
    assert!(dec(-1, -3) < dec(0, 0));
}

#[test]
fn uuids_order_as_cassandra() {
    // UUIDType: version first.
    let v4 = uuid("00000000-0000-4000-8000-000000000000");
    let v1_late = uuid("00000000-0001-1000-8000-000000000000");
    assert!(Value::Uuid(v1_late) < Value::Uuid(v4));
    // Version 1: by time (time_hi, then time_mid, then time_low), not by bytes.
    let early = uuid("ffffffff-0000-1000-8000-000000000000");
    let later = uuid("00000000-0001-1000-8000-000000000000");
    assert!(Value::Uuid(early) < Value::Uuid(later));
    assert!(Value::TimeUuid(early) < Value::TimeUuid(later));
    // Same time: UUIDType breaks the tie on unsigned bytes, TimeUUIDType on signed ones.
    let low = uuid("00000000-0000-1000-0000-000000000000");
    let high_bit = uuid("00000000-0000-1000-8000-000000000000");
    assert!(Value::Uuid(low) < Value::Uuid(high_bit));
    assert!(Value::TimeUuid(low) > Value::TimeUuid(high_bit));
    // Other versions: unsigned bytes.
    let a = uuid("7fffffff-0000-4000-8000-000000000000");
    let b = uuid("80000000-0000-4000-8000-000000000000");
    assert!(Value::Uuid(a) < Value::Uuid(b));
}

#[test]
fn other_orders() {
    let ip = |s: &str| Value::Inet(s.parse().unwrap());
    assert!(ip("10.0.0.1") < ip("10.0.0.2"));
    // Bytes, not address families: an IPv4 address sorts before the IPv6 ones it is a prefix of.
    assert!(ip("255.255.255.255") > ip("::1"));
    assert!(ip("0.0.0.0") < ip("::"));
    assert!(ip("1.2.3.4") < ip("102:304::")); // a prefix sorts first
    assert!(Value::Text("Z".into()) < Value::Text("a".into()));
    assert!(Value::Text("é".into()) > Value::Text("z".into())); // UTF-8 bytes, unsigned
    assert!(Value::Blob(vec![0x7f]) < Value::Blob(vec![0x80]));
    assert!(Value::Blob(vec![1]) < Value::Blob(vec![1, 0]));
    assert!(Value::Boolean(false) < Value::Boolean(true));
    assert!(Value::Date(-1) < Value::Date(0));
    assert!(Value::List(vec![Value::Int(1)]) < Value::List(vec![Value::Int(1), Value::Int(0)]));
    assert!(Value::List(vec![Value::Int(2)]) > Value::List(vec![Value::Int(1), Value::Int(9)]));
}

#[test]
fn set_and_map_constructors_normalize() {
    let s = Value::set(vec![Value::Int(3), Value::Int(1), Value::Int(3), Value::Int(2)]);
    assert!(matches!(&s, Value::Set(v) if v == &[Value::Int(1), Value::Int(2), Value::Int(3)]));
    let m = Value::map(vec![
        (Value::Int(2), Value::Int(20)),
        (Value::Int(1), Value::Int(10)),
        (Value::Int(2), Value::Int(21)),
        (Value::Int(2), Value::Int(22)),
    ]);
    assert!(matches!(&m, Value::Map(e) if e == &[(Value::Int(1), Value::Int(10)), (Value::Int(2), Value::Int(22))]));
    assert_eq!(Value::set(vec![]).type_name(), "set");
    assert_eq!(Value::Ascii("".into()).type_name(), "ascii");
}

proptest! {
    /// `Ord` is a total order that agrees with `Eq`, for values of any one type.
    #[test]
    fn order_is_total_and_agrees_with_eq(
        (a, b, c) in testgen::cql_type().prop_flat_map(|t| (testgen::value_of(t), testgen::value_of(t), testgen::value_of(t)))
    ) {
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        prop_assert_eq!(a.cmp(&b) == Ordering::Equal, a == b);
        prop_assert_eq!(a.cmp(&a), Ordering::Equal);
        if a <= b && b <= c {
            prop_assert!(a <= c);
        }
        let mut sorted = [a.clone(), b.clone(), c.clone()];
        sorted.sort();
        prop_assert!(sorted.windows(2).all(|w| w[0] <= w[1]));
    }

    /// Decimals order as their exact values (compared here as fractions with a common scale).
    #[test]
    fn decimal_order_is_numeric(x in -10_000i128..10_000, xs in -6i32..6, y in -10_000i128..10_000, ys in -6i32..6) {
        let common = 12;
        let exact = |u: i128, s: i32| u * 10i128.pow((common - s) as u32);
        prop_assert_eq!(dec(x, xs).cmp(&dec(y, ys)), exact(x, xs).cmp(&exact(y, ys)));
    }
}
