use super::*;
use crate::serialize::to_bytes;
use crate::testgen;
use proptest::prelude::*;

fn round_trip(columns: &[(String, CqlType)], rows: &[Vec<Option<Value>>]) {
    let mut b = BatchBuilder::new(columns);
    for row in rows {
        b.push_row(row).unwrap();
    }
    assert_eq!(b.len(), rows.len());
    let batch = b.finish();
    assert_eq!(batch.num_rows(), rows.len());
    for (c, (name, ty)) in columns.iter().enumerate() {
        let field = batch.schema().field(c).clone();
        assert_eq!(field.name(), name);
        assert!(field.is_nullable());
        assert_eq!(cql_type_of(&field), Some(*ty));
        let back = column_values(&batch, c, ty).unwrap();
        let want: Vec<Option<Value>> = rows.iter().map(|r| r[c].clone()).collect();
        // Bit-exact: NaN payloads, -0.0 and decimal scales survive.
        let bytes = |vs: &[Option<Value>]| vs.iter().map(|v| v.as_ref().map(to_bytes)).collect::<Vec<_>>();
        assert_eq!(bytes(&back), bytes(&want), "column {name} {ty}");
    }
}

fn cols(types: &[CqlType]) -> Vec<(String, CqlType)> {
    types.iter().enumerate().map(|(i, t)| (format!("c{i}"), *t)).collect()
}

#[test]
fn every_type_round_trips_with_nulls() {
    use NativeType as T;
    let rows_of = |v: Vec<Value>| -> Vec<Vec<Option<Value>>> {
        let mut rows: Vec<Vec<Option<Value>>> = v.into_iter().map(|v| vec![Some(v)]).collect();
        rows.insert(1.min(rows.len()), vec![None]);
        rows
    };
    let cases: Vec<(CqlType, Vec<Value>)> = vec![
        (
            T::TinyInt.into(),
            vec![Value::TinyInt(i8::MIN), Value::TinyInt(i8::MAX)],
        ),
        (T::BigInt.into(), vec![Value::BigInt(i64::MIN), Value::BigInt(i64::MAX)]),
        (T::Float.into(), vec![Value::Float(f32::NAN), Value::Float(-0.0)]),
        (
            T::Double.into(),
            vec![
                Value::Double(f64::from_bits(0x7ff8_0000_0000_0001)),
                Value::Double(-0.0),
            ],
        ),
        (
            T::Decimal.into(),
            vec![
                Value::Decimal(Decimal {
                    unscaled: 150,
                    scale: 2,
                }),
                Value::Decimal(Decimal {
                    unscaled: -(10i128.pow(38) - 1),
                    scale: i32::MIN,
                }),
            ],
        ),
        (
            T::Text.into(),
            vec![Value::Text(String::new()), Value::Text("żółw 🐢".into())],
        ),
        (T::Ascii.into(), vec![Value::Ascii("plain".into())]),
        (T::Blob.into(), vec![Value::Blob(vec![]), Value::Blob(vec![7; 1 << 20])]),
        (
            T::Timestamp.into(),
            vec![Value::Timestamp(i64::MIN), Value::Timestamp(0)],
        ),
        (T::Date.into(), vec![Value::Date(i32::MIN), Value::Date(i32::MAX)]),
        (T::Time.into(), vec![Value::Time(crate::serialize::NANOS_PER_DAY - 1)]),
        (T::Uuid.into(), vec![Value::Uuid(Uuid([1; 16]))]),
        (T::TimeUuid.into(), vec![Value::TimeUuid(Uuid([0x10; 16]))]),
        (
            T::Inet.into(),
            vec![
                Value::Inet("1.2.3.4".parse().unwrap()),
                Value::Inet("::1".parse().unwrap()),
            ],
        ),
        (T::Boolean.into(), vec![Value::Boolean(true)]),
        (
            CqlType::List(T::Int),
            vec![Value::List(vec![Value::Int(3), Value::Int(3)]), Value::List(vec![])],
        ),
        (
            CqlType::Set(T::Decimal),
            vec![Value::set(vec![Value::Decimal(Decimal { unscaled: 1, scale: 0 })])],
        ),
        (
            CqlType::Map(T::Text, T::Inet),
            vec![Value::map(vec![(
                Value::Text("a".into()),
                Value::Inet("::".parse().unwrap()),
            )])],
        ),
    ];
    for (ty, values) in cases {
        round_trip(&cols(&[ty]), &rows_of(values));
    }
    // No columns, several rows.
    round_trip(&[], &[vec![], vec![]]);
}

#[test]
fn schema_names_cql_types() {
    let s = arrow_schema(&[("m".into(), CqlType::Map(NativeType::Text, NativeType::Int))]);
    assert_eq!(
        s.field(0).metadata().get(CQL_TYPE_KEY).map(String::as_str),
        Some("map<text, int>")
    );
    assert_eq!(
        s.field(0).data_type(),
        &CqlType::Map(NativeType::Text, NativeType::Int).arrow_type()
    );
}

#[test]
fn bad_rows_and_columns_are_typed_errors() {
    let columns = cols(&[NativeType::Int.into(), NativeType::TimeUuid.into()]);
    let mut b = BatchBuilder::new(&columns);
    assert_eq!(
        b.push_row(&[None]),
        Err(ValueError::RowWidth { expected: 2, actual: 1 })
    );
    assert_eq!(
        b.push_row(&[Some(Value::BigInt(1)), None]),
        Err(ValueError::WrongType {
            expected: NativeType::Int.into(),
            actual: "bigint"
        })
    );
    assert_eq!(
        b.push_row(&[None, Some(Value::TimeUuid(Uuid([0; 16])))]),
        Err(ValueError::NotTimeUuid { version: 0 })
    );
    assert!(b.is_empty());
    b.push_row(&[Some(Value::Int(1)), None]).unwrap();
    b.push_row_owned(vec![None, Some(Value::TimeUuid(Uuid([0x11; 16])))])
        .unwrap();
    assert_eq!(
        b.push_row_owned(vec![]),
        Err(ValueError::RowWidth { expected: 2, actual: 0 })
    );
    assert_eq!(b.len(), 2);
    let batch = b.finish();
    assert_eq!(
        column_values(&batch, 0, &NativeType::Int.into()).unwrap(),
        vec![Some(Value::Int(1)), None]
    );
    assert_eq!(
        column_values(&batch, 2, &NativeType::Int.into()),
        Err(ValueError::NoSuchColumn { column: 2, columns: 2 })
    );
    assert!(matches!(
        column_values(&batch, 0, &NativeType::Date.into()),
        Err(ValueError::ArrowType { column: 0, .. })
    ));
    assert!(matches!(
        column_values(&batch, 0, &CqlType::List(NativeType::Int)),
        Err(ValueError::ArrowType { .. })
    ));
}

#[test]
fn arrow_values_are_checked() {
    // A binary column read as inet, a time past midnight, a uuid read as timeuuid.
    let bin: ArrayRef = Arc::new(BinaryArray::from_iter_values([&[1u8, 2, 3][..]]));
    assert_eq!(
        array_values(bin.as_ref(), &NativeType::Inet.into(), 0),
        Err(ValueError::InetLength { actual: 3 })
    );
    let time: ArrayRef = Arc::new(Time64NanosecondArray::from(vec![-1]));
    assert_eq!(
        array_values(time.as_ref(), &NativeType::Time.into(), 0),
        Err(ValueError::TimeOutOfRange { nanos: -1 })
    );
    let ascii: ArrayRef = Arc::new(StringArray::from(vec!["é"]));
    assert_eq!(
        array_values(ascii.as_ref(), &NativeType::Ascii.into(), 0),
        Err(ValueError::NotAscii { position: 0 })
    );
    // A list with a null element.
    let ty = CqlType::List(NativeType::Int);
    let DataType::List(_) = ty.arrow_type() else {
        unreachable!()
    };
    let nullable_item = Arc::new(Field::new("item", DataType::Int32, true));
    let list = ListArray::new(
        nullable_item,
        OffsetBuffer::from_lengths([2]),
        Arc::new(Int32Array::from(vec![Some(1), None])),
        None,
    );
    assert_eq!(array_values(&list, &ty, 0), Err(ValueError::NullElement { ty }));
    // Sets read from Arrow come out normalized.
    let sty = CqlType::Set(NativeType::Int);
    let unsorted = ListArray::new(
        Arc::new(Field::new("item", DataType::Int32, false)),
        OffsetBuffer::from_lengths([3]),
        Arc::new(Int32Array::from(vec![3, 1, 3])),
        None,
    );
    let got = array_values(&unsorted, &sty, 0).unwrap();
    assert!(matches!(&got[0], Some(Value::Set(items)) if items == &[Value::Int(1), Value::Int(3)]));
}

#[test]
fn sliced_batches_read_their_rows() {
    let columns = cols(&[CqlType::List(NativeType::Text)]);
    let mut b = BatchBuilder::new(&columns);
    for i in 0..4 {
        b.push_row(&[Some(Value::List(vec![Value::Text(i.to_string())]))])
            .unwrap();
    }
    let batch = b.finish().slice(2, 2);
    let got = column_values(&batch, 0, &columns[0].1).unwrap();
    assert_eq!(
        got,
        vec![
            Some(Value::List(vec![Value::Text("2".into())])),
            Some(Value::List(vec![Value::Text("3".into())]))
        ]
    );
}

fn rows() -> impl Strategy<Value = (Vec<CqlType>, Vec<Vec<Option<Value>>>)> {
    prop::collection::vec(testgen::cql_type(), 1..4).prop_flat_map(|types| {
        let row: Vec<_> = types
            .iter()
            .map(|ty| prop::option::weighted(0.8, testgen::value_of(*ty)))
            .collect();
        (Just(types), prop::collection::vec(row, 0..6))
    })
}

proptest! {
    #[test]
    fn any_rows_round_trip((types, rows) in rows()) {
        round_trip(&cols(&types), &rows);
    }
}
