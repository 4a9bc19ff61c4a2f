//! Proptest strategies for values of every type, shared by the value layer's tests.

use crate::types::{CqlType, NativeType};
use crate::value::{Decimal, Uuid, Value};
use proptest::prelude::*;
use std::net::IpAddr;

pub fn native_type() -> impl Strategy<Value = NativeType> {
    prop::sample::select(NativeType::ALL.to_vec())
}

pub fn cql_type() -> impl Strategy<Value = CqlType> {
    prop_oneof![
        4 => native_type().prop_map(CqlType::Native),
        1 => native_type().prop_map(CqlType::List),
        1 => native_type().prop_map(CqlType::Set),
        1 => (native_type(), native_type()).prop_map(|(k, v)| CqlType::Map(k, v)),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..12).prop_map(|c| c.into_iter().collect())
}

/// Any valid value of native type `t`.
pub fn native_value(t: NativeType) -> BoxedStrategy<Value> {
    match t {
        NativeType::TinyInt => any::<i8>().prop_map(Value::TinyInt).boxed(),
        NativeType::SmallInt => any::<i16>().prop_map(Value::SmallInt).boxed(),
        NativeType::Int => any::<i32>().prop_map(Value::Int).boxed(),
        NativeType::BigInt => any::<i64>().prop_map(Value::BigInt).boxed(),
        NativeType::Float => prop_oneof![any::<f32>(), Just(f32::NAN), Just(-0.0f32), Just(f32::INFINITY)]
            .prop_map(Value::Float)
            .boxed(),
        NativeType::Double => prop_oneof![any::<f64>(), Just(f64::NAN), Just(-0.0), Just(f64::NEG_INFINITY)]
            .prop_map(Value::Double)
            .boxed(),
        NativeType::Decimal => {
            let max = 10i128.pow(Decimal::MAX_DIGITS) - 1;
            (
                prop_oneof![-max..=max, -1000i128..1000, Just(max), Just(-max)],
                any::<i32>(),
            )
                .prop_map(|(unscaled, scale)| Value::Decimal(Decimal { unscaled, scale }))
                .boxed()
        }
        NativeType::Boolean => any::<bool>().prop_map(Value::Boolean).boxed(),
        NativeType::Text => text().prop_map(Value::Text).boxed(),
        NativeType::Ascii => prop::collection::vec(0u8..128, 0..12)
            .prop_map(|b| Value::Ascii(b.into_iter().map(char::from).collect()))
            .boxed(),
        NativeType::Blob => prop::collection::vec(any::<u8>(), 0..24).prop_map(Value::Blob).boxed(),
        NativeType::Timestamp => any::<i64>().prop_map(Value::Timestamp).boxed(),
        NativeType::Date => any::<i32>().prop_map(Value::Date).boxed(),
        NativeType::Time => (0..crate::serialize::NANOS_PER_DAY).prop_map(Value::Time).boxed(),
        NativeType::Uuid => any::<[u8; 16]>().prop_map(|b| Value::Uuid(Uuid(b))).boxed(),
        NativeType::TimeUuid => any::<[u8; 16]>()
            .prop_map(|mut b| {
                b[6] = 0x10 | (b[6] & 0x0f);
                Value::TimeUuid(Uuid(b))
            })
            .boxed(),
        NativeType::Inet => prop_oneof![
            any::<[u8; 4]>().prop_map(|b| Value::Inet(IpAddr::from(b))),
            any::<[u8; 16]>().prop_map(|b| Value::Inet(IpAddr::from(b))),
        ]
        .boxed(),
    }
}

/// Any valid (normalized) value of type `ty`.
pub fn value_of(ty: CqlType) -> BoxedStrategy<Value> {
    match ty {
        CqlType::Native(t) => native_value(t),
        CqlType::List(t) => prop::collection::vec(native_value(t), 0..5)
            .prop_map(Value::List)
            .boxed(),
        CqlType::Set(t) => prop::collection::vec(native_value(t), 0..5)
            .prop_map(Value::set)
            .boxed(),
        CqlType::Map(k, v) => prop::collection::vec((native_value(k), native_value(v)), 0..5)
            .prop_map(Value::map)
            .boxed(),
    }
}

/// A type and a value of it.
pub fn typed_value() -> impl Strategy<Value = (CqlType, Value)> {
    cql_type().prop_flat_map(|ty| value_of(ty).prop_map(move |v| (ty, v)))
}
