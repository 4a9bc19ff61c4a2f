//! Round trips and order: encoded byte order is `Value`'s order, per type and direction, and for
//! composite keys.

use super::*;
use proptest::prelude::*;
use std::cmp::Ordering;

fn native(t: NativeType) -> BoxedStrategy<Value> {
    use NativeType as T;
    let uuid = (any::<[u8; 16]>(), 0u8..16).prop_map(|(mut b, v)| {
        b[6] = (b[6] & 0x0f) | (v << 4);
        Uuid(b)
    });
    match t {
        T::TinyInt => any::<i8>().prop_map(Value::TinyInt).boxed(),
        T::SmallInt => any::<i16>().prop_map(Value::SmallInt).boxed(),
        T::Int => any::<i32>().prop_map(Value::Int).boxed(),
        T::BigInt => any::<i64>().prop_map(Value::BigInt).boxed(),
        T::Float => prop_oneof![
            any::<f32>(),
            Just(-0.0f32),
            Just(f32::NAN),
            Just(-f32::NAN),
            Just(f32::INFINITY)
        ]
        .prop_map(Value::Float)
        .boxed(),
        T::Double => prop_oneof![any::<f64>(), Just(-0.0), Just(f64::NAN), Just(f64::NEG_INFINITY)]
            .prop_map(Value::Double)
            .boxed(),
        T::Decimal => (
            prop_oneof![any::<i128>(), -1000i128..1000],
            prop_oneof![-5i32..5, any::<i32>()],
        )
            .prop_map(|(unscaled, scale)| Value::Decimal(Decimal { unscaled, scale }))
            .boxed(),
        T::Boolean => any::<bool>().prop_map(Value::Boolean).boxed(),
        T::Text => "[a\\x00b\u{e9}\u{1F600}]{0,6}".prop_map(Value::Text).boxed(),
        T::Ascii => "[a-c\\x00]{0,5}".prop_map(Value::Ascii).boxed(),
        T::Blob => proptest::collection::vec(prop_oneof![Just(0u8), Just(1), Just(0xFF), any::<u8>()], 0..6)
            .prop_map(Value::Blob)
            .boxed(),
        T::Timestamp => any::<i64>().prop_map(Value::Timestamp).boxed(),
        T::Date => any::<i32>().prop_map(Value::Date).boxed(),
        T::Time => (0i64..86_400_000_000_000).prop_map(Value::Time).boxed(),
        T::Uuid => uuid.prop_map(Value::Uuid).boxed(),
        T::TimeUuid => uuid.prop_map(Value::TimeUuid).boxed(),
        T::Inet => prop_oneof![
            any::<[u8; 4]>().prop_map(|b| IpAddr::V4(b.into())),
            any::<[u8; 16]>().prop_map(|b| IpAddr::V6(b.into())),
        ]
        .prop_map(Value::Inet)
        .boxed(),
    }
}

fn cql(t: NativeType) -> BoxedStrategy<(CqlType, Value)> {
    prop_oneof![
        4 => native(t).prop_map(move |v| (CqlType::Native(t), v)),
        1 => proptest::collection::vec(native(t), 0..3).prop_map(move |v| (CqlType::List(t), Value::List(v))),
    ]
    .boxed()
}

fn any_type() -> impl Strategy<Value = NativeType> {
    proptest::sample::select(NativeType::ALL.to_vec())
}

fn order() -> impl Strategy<Value = ClusteringOrder> {
    prop_oneof![Just(ClusteringOrder::Asc), Just(ClusteringOrder::Desc)]
}

/// Values with one key: equal in order and, but for decimals (1.0 and 1.00 are one clustering, as in
/// Cassandra), in representation (-0.0 is not 0.0, NaN bits count).
fn same(a: &Value, b: &Value) -> bool {
    fn decimal(v: &Value) -> bool {
        match v {
            Value::Decimal(_) => true,
            Value::List(items) | Value::Set(items) => items.iter().any(decimal),
            _ => false,
        }
    }
    a.cmp(b) == Ordering::Equal && (decimal(a) || format!("{a:?}") == format!("{b:?}"))
}

/// Two values of one type (often close to each other), to compare.
fn pair() -> impl Strategy<Value = (CqlType, Value, Value)> {
    any_type()
        .prop_flat_map(|t| (cql(t), native(t)))
        .prop_flat_map(|((ty, a), b)| {
            let b = match (&ty, &a) {
                (CqlType::List(_), _) => proptest::collection::vec(native(t_of(&ty)), 0..3)
                    .prop_map(Value::List)
                    .boxed(),
                _ => prop_oneof![Just(b), Just(a.clone())].boxed(),
            };
            (Just(ty), Just(a), b)
        })
}

fn t_of(ty: &CqlType) -> NativeType {
    match ty {
        CqlType::Native(t) | CqlType::List(t) | CqlType::Set(t) | CqlType::Map(t, _) => *t,
    }
}

fn layout(ty: &CqlType, order: ClusteringOrder, n: usize) -> KeyLayout {
    KeyLayout::new(vec![*ty], vec![(*ty, order); n])
}

proptest! {
    #[test]
    fn values_round_trip_in_both_directions((ty, v, _) in pair(), order in order(), token in any::<i64>()) {
        let l = layout(&ty, order, 1);
        let prefix = l.partition_prefix(token, std::slice::from_ref(&v)).unwrap();
        let key = l.entry(&prefix, KIND_ROW, std::slice::from_ref(&v)).unwrap();
        let e = l.decode(&key).unwrap();
        prop_assert_eq!(e.token, token);
        prop_assert!(same(&e.key[0], &v));
        prop_assert!(same(&e.clustering[0], &v));
        prop_assert_eq!(e.partition_prefix, prefix);
        prop_assert_eq!(e.kind, KIND_ROW);
    }

    #[test]
    fn byte_order_is_value_order((ty, a, b) in pair(), order in order()) {
        let l = layout(&ty, order, 1);
        let key = |v: &Value| l.entry(&[], KIND_ROW, std::slice::from_ref(v)).unwrap();
        let want = match order {
            ClusteringOrder::Asc => a.cmp(&b),
            ClusteringOrder::Desc => b.cmp(&a),
        };
        let got = key(&a).cmp(&key(&b));
        if want == Ordering::Equal {
            // Equal in order: one key, but for representations that order tells apart (-0.0, NaNs).
            prop_assert_eq!(got == Ordering::Equal, same(&a, &b));
        } else {
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn composite_keys_order_as_tuples(
        (o1, o2, t1, t2, keys) in (order(), order(), any_type(), any_type()).prop_flat_map(|(o1, o2, t1, t2)| {
            (Just(o1), Just(o2), Just(t1), Just(t2), proptest::collection::vec((native(t1), native(t2)), 1..8))
        }),
    ) {
        let l = KeyLayout::new(vec![], vec![(CqlType::Native(t1), o1), (CqlType::Native(t2), o2)]);
        let cmp = basalt_table::partition::ClusteringComparator::new(vec![o1, o2]);
        let keys: Vec<Vec<Value>> = keys.into_iter().map(|(a, b)| vec![a, b]).collect();
        for x in &keys {
            let (lo, hi) = l
                .row_range(&[], &Bound::Included(vec![x[0].clone()]), &Bound::Included(vec![x[0].clone()]))
                .unwrap();
            for y in &keys {
                let bx = l.entry(&[], KIND_ROW, x).unwrap();
                let by = l.entry(&[], KIND_ROW, y).unwrap();
                let want = cmp.cmp(x, y);
                if want != Ordering::Equal {
                    prop_assert_eq!(bx.cmp(&by), want);
                }
                // A prefix's row range holds exactly the keys that extend it.
                prop_assert_eq!(by >= lo && by < hi, same(&y[0], &x[0]));
            }
        }
    }

    #[test]
    fn garbage_keys_are_errors_not_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40), t in any_type(), o in order()) {
        let l = layout(&CqlType::Native(t), o, 2);
        let _ = l.decode(&bytes);
    }
}

#[test]
fn decimals_equal_in_order_share_a_key_and_decode_to_the_smallest_scale() {
    let l = layout(&CqlType::Native(NativeType::Decimal), ClusteringOrder::Asc, 1);
    let round = |unscaled, scale| {
        let k = l
            .entry(&[], KIND_ROW, &[Value::Decimal(Decimal { unscaled, scale })])
            .unwrap();
        let mut full = token_bytes(0).to_vec();
        encode_value(&Value::Decimal(Decimal { unscaled: 0, scale: 0 }), &mut full);
        full.extend_from_slice(&k);
        match &l.decode(&full).unwrap().clustering[0] {
            Value::Decimal(d) => (d.unscaled, d.scale),
            v => panic!("{v:?}"),
        }
    };
    assert_eq!(round(100, 2), (1, 0));
    assert_eq!(round(150, 2), (15, 1));
    assert_eq!(round(1, -2), (100, 0));
    assert_eq!(round(-2500, 3), (-25, 1));
    assert_eq!(round(0, 7), (0, 0));
    assert_eq!(round(10, i32::MIN), (10, i32::MIN));
    assert_eq!(round(10, i32::MIN + 1), (1, i32::MIN));
}

#[test]
fn extreme_decimal_exponents_are_errors_not_panics() {
    let l = KeyLayout::new(vec![CqlType::Native(NativeType::Decimal)], vec![]);
    for exp in [i64::MIN, i64::MIN + 1, -1, i64::MAX] {
        let mut k = token_bytes(0).to_vec();
        k.push(2);
        k.extend_from_slice(&token_bytes(exp));
        k.extend_from_slice(b"12\0");
        k.push(KIND_HEADER);
        let _ = l.decode(&k);
    }
}

#[test]
fn partition_entries_sort_before_rows_and_partitions_by_token() {
    let l = KeyLayout::new(
        vec![CqlType::Native(NativeType::Text)],
        vec![(CqlType::Native(NativeType::Int), ClusteringOrder::Desc)],
    );
    let p = l.partition_prefix(-5, &[Value::Text("k".into())]).unwrap();
    let header = l.entry(&p, KIND_HEADER, &[]).unwrap();
    let stat = l.entry(&p, KIND_STATIC, &[]).unwrap();
    let row_max = l.entry(&p, KIND_ROW, &[Value::Int(i32::MAX)]).unwrap();
    let row_min = l.entry(&p, KIND_ROW, &[Value::Int(i32::MIN)]).unwrap();
    let end = KeyLayout::partition_end(&p);
    assert!(header < stat && stat < row_max && row_max < row_min && row_min < end);
    let next = l.partition_prefix(-4, &[Value::Text("a".into())]).unwrap();
    assert!(end <= next);
    let before = l.partition_prefix(i64::MIN, &[Value::Text("zzz".into())]).unwrap();
    assert!(before < p);
    assert_eq!(
        l.entry(&p, KIND_ROW, &[Value::Text("x".into())]),
        Err(KeyError::WrongType {
            value: "Text(\"x\")".into(),
            ty: "Native(Int)".into()
        })
    );
}
