//! Columns of a data file (Parquet, as Arrow) as values of a table's CQL types: the mapping `basalt
//! table load` applies, checked on the file's schema before any row is sent.
//!
//! | file's Arrow type | CQL types |
//! | --- | --- |
//! | the column's own Arrow type (what `export` writes) | that type, collections included |
//! | Int8..Int64, UInt8..UInt64 | tinyint, smallint, int, bigint (each value range-checked), varint-free; float, double; timestamp (milliseconds) |
//! | Float16/32/64 | float, double |
//! | Boolean | boolean |
//! | Utf8, LargeUtf8, Utf8View | text, ascii, and every other native type as a cell of `load`'s CSV form |
//! | Binary, LargeBinary, BinaryView, FixedSizeBinary | blob; FixedSizeBinary(16) also uuid, timeuuid |
//! | Timestamp(any unit, any zone) | timestamp (floored to milliseconds) |
//! | Date32, Date64 | date |
//! | Time32, Time64 | time |
//! | Decimal128(p, s) | decimal |
//!
//! Anything else is refused with the column, the file's type and the table's type.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use basalt_table::{CqlType, Decimal, NativeType, Value};

/// Whether a file column of Arrow type `file` can fill a column of CQL type `ty` (`Err`: why not).
pub fn check(file: &DataType, ty: &CqlType) -> Result<(), String> {
    if conversion(file, ty).is_some() {
        Ok(())
    } else {
        Err(format!(
            "the file's Arrow type {file} does not map to the table's CQL type {ty}"
        ))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conversion {
    /// The table type's own Arrow type.
    Same,
    Int,
    Float,
    Bool,
    Str,
    Bin,
    Ts(TimeUnit),
    Date,
    Time,
    Dec,
}

fn conversion(file: &DataType, ty: &CqlType) -> Option<Conversion> {
    use DataType as D;
    use NativeType as N;
    if *file == ty.arrow_type() {
        return Some(Conversion::Same);
    }
    let CqlType::Native(t) = ty else {
        // Collections: their own Arrow type only, nullability of the parts aside.
        return same_shape(file, &ty.arrow_type()).then_some(Conversion::Same);
    };
    let ints = matches!(
        t,
        N::TinyInt | N::SmallInt | N::Int | N::BigInt | N::Float | N::Double | N::Timestamp
    );
    Some(match file {
        D::Int8 | D::Int16 | D::Int32 | D::Int64 | D::UInt8 | D::UInt16 | D::UInt32 | D::UInt64 if ints => {
            Conversion::Int
        }
        D::Float16 | D::Float32 | D::Float64 if matches!(t, N::Float | N::Double) => Conversion::Float,
        D::Boolean if *t == N::Boolean => Conversion::Bool,
        D::Utf8 | D::LargeUtf8 | D::Utf8View => Conversion::Str,
        D::Binary | D::LargeBinary | D::BinaryView if *t == N::Blob => Conversion::Bin,
        D::FixedSizeBinary(n) if *t == N::Blob || (*n == 16 && matches!(t, N::Uuid | N::TimeUuid)) => Conversion::Bin,
        D::Timestamp(unit, _) if *t == N::Timestamp => Conversion::Ts(*unit),
        D::Date32 | D::Date64 if *t == N::Date => Conversion::Date,
        D::Time32(_) | D::Time64(_) if *t == N::Time => Conversion::Time,
        D::Decimal128(..) if *t == N::Decimal => Conversion::Dec,
        _ => return None,
    })
}

/// Equal types but for the nullability and names of nested fields.
fn same_shape(a: &DataType, b: &DataType) -> bool {
    use DataType as D;
    match (a, b) {
        (D::List(x) | D::LargeList(x), D::List(y)) => same_shape(x.data_type(), y.data_type()),
        (D::Map(x, _), D::Map(y, _)) => same_shape(x.data_type(), y.data_type()),
        (D::Struct(x), D::Struct(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(f, g)| same_shape(f.data_type(), g.data_type()))
        }
        _ => a == b,
    }
}

/// The values of a file column for a column of type `ty` (checked with [`check`] first); `Err` names
/// the row (0-based within the array) and why.
pub fn values(array: &ArrayRef, ty: &CqlType) -> Result<Vec<Option<Value>>, (usize, String)> {
    let conv = conversion(array.data_type(), ty).ok_or_else(|| (0, check(array.data_type(), ty).unwrap_err()))?;
    let CqlType::Native(t) = *ty else {
        return basalt_table::arrow::array_values(array.as_ref(), ty, 0).map_err(|e| (0, e.to_string()));
    };
    if conv == Conversion::Same {
        return basalt_table::arrow::array_values(array.as_ref(), ty, 0).map_err(|e| (0, e.to_string()));
    }
    let n = array.len();
    let mut out = Vec::with_capacity(n);
    for row in 0..n {
        if array.is_null(row) {
            out.push(None);
            continue;
        }
        let v = match conv {
            Conversion::Same => unreachable!("handled above"),
            Conversion::Int => int_value(int_at(array, row), t),
            Conversion::Float => {
                let x = match array.data_type() {
                    DataType::Float16 => f64::from(array.as_primitive::<Float16Type>().value(row)),
                    DataType::Float32 => f64::from(array.as_primitive::<Float32Type>().value(row)),
                    _ => array.as_primitive::<Float64Type>().value(row),
                };
                Ok(if t == NativeType::Float {
                    Value::Float(x as f32)
                } else {
                    Value::Double(x)
                })
            }
            Conversion::Bool => Ok(Value::Boolean(array.as_boolean().value(row))),
            Conversion::Str => {
                let s = match array.data_type() {
                    DataType::Utf8 => array.as_string::<i32>().value(row),
                    DataType::LargeUtf8 => array.as_string::<i64>().value(row),
                    _ => array.as_string_view().value(row),
                };
                match t {
                    NativeType::Text => Ok(Value::Text(s.to_string())),
                    NativeType::Ascii if s.is_ascii() => Ok(Value::Ascii(s.to_string())),
                    // Other types read the string as `load`'s CSV cell; an empty one is null.
                    _ => match super::cells::parse_cell(s, ty) {
                        Ok(Some(v)) => Ok(v),
                        Ok(None) => {
                            out.push(None);
                            continue;
                        }
                        Err(e) => Err(e),
                    },
                }
            }
            Conversion::Bin => {
                let b: &[u8] = match array.data_type() {
                    DataType::Binary => array.as_binary::<i32>().value(row),
                    DataType::LargeBinary => array.as_binary::<i64>().value(row),
                    DataType::BinaryView => array.as_binary_view().value(row),
                    _ => array.as_fixed_size_binary().value(row),
                };
                Ok(match t {
                    NativeType::Blob => Value::Blob(b.to_vec()),
                    _ => {
                        let u = basalt_table::Uuid(b.try_into().expect("16 bytes"));
                        if t == NativeType::TimeUuid {
                            if u.version() != 1 {
                                return Err((row, format!("{u} is not a timeuuid (not a version 1 UUID)")));
                            }
                            Value::TimeUuid(u)
                        } else {
                            Value::Uuid(u)
                        }
                    }
                })
            }
            Conversion::Ts(unit) => match unit {
                TimeUnit::Second => array
                    .as_primitive::<TimestampSecondType>()
                    .value(row)
                    .checked_mul(1000)
                    .map(Value::Timestamp)
                    .ok_or_else(|| "out of range for timestamp".to_string()),
                TimeUnit::Millisecond => Ok(Value::Timestamp(
                    array.as_primitive::<TimestampMillisecondType>().value(row),
                )),
                TimeUnit::Microsecond => Ok(Value::Timestamp(
                    array
                        .as_primitive::<TimestampMicrosecondType>()
                        .value(row)
                        .div_euclid(1000),
                )),
                TimeUnit::Nanosecond => Ok(Value::Timestamp(
                    array
                        .as_primitive::<TimestampNanosecondType>()
                        .value(row)
                        .div_euclid(1_000_000),
                )),
            },
            Conversion::Date => Ok(Value::Date(match array.data_type() {
                DataType::Date32 => array.as_primitive::<Date32Type>().value(row),
                _ => array.as_primitive::<Date64Type>().value(row).div_euclid(86_400_000) as i32,
            })),
            Conversion::Time => Ok(Value::Time(match array.data_type() {
                DataType::Time32(TimeUnit::Second) => {
                    i64::from(array.as_primitive::<Time32SecondType>().value(row)) * 1_000_000_000
                }
                DataType::Time32(_) => i64::from(array.as_primitive::<Time32MillisecondType>().value(row)) * 1_000_000,
                DataType::Time64(TimeUnit::Microsecond) => {
                    array.as_primitive::<Time64MicrosecondType>().value(row) * 1000
                }
                _ => array.as_primitive::<Time64NanosecondType>().value(row),
            })),
            Conversion::Dec => {
                let DataType::Decimal128(_, scale) = array.data_type() else {
                    unreachable!("checked")
                };
                Ok(Value::Decimal(Decimal {
                    unscaled: array.as_primitive::<Decimal128Type>().value(row),
                    scale: i32::from(*scale),
                }))
            }
        };
        out.push(Some(v.map_err(|e| (row, e))?));
    }
    Ok(out)
}

/// An integer of a file column as i128 (every Arrow integer type fits).
fn int_at(array: &ArrayRef, row: usize) -> i128 {
    match array.data_type() {
        DataType::Int8 => i128::from(array.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => i128::from(array.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => i128::from(array.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => i128::from(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => i128::from(array.as_primitive::<UInt8Type>().value(row)),
        DataType::UInt16 => i128::from(array.as_primitive::<UInt16Type>().value(row)),
        DataType::UInt32 => i128::from(array.as_primitive::<UInt32Type>().value(row)),
        _ => i128::from(array.as_primitive::<UInt64Type>().value(row)),
    }
}

/// An integer as a value of `t`, range-checked.
fn int_value(x: i128, t: NativeType) -> Result<Value, String> {
    let out = || format!("{x} is out of range for {t}");
    Ok(match t {
        NativeType::TinyInt => Value::TinyInt(i8::try_from(x).map_err(|_| out())?),
        NativeType::SmallInt => Value::SmallInt(i16::try_from(x).map_err(|_| out())?),
        NativeType::Int => Value::Int(i32::try_from(x).map_err(|_| out())?),
        NativeType::BigInt => Value::BigInt(i64::try_from(x).map_err(|_| out())?),
        NativeType::Timestamp => Value::Timestamp(i64::try_from(x).map_err(|_| out())?),
        NativeType::Float => Value::Float(x as f32),
        _ => Value::Double(x as f64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray, TimestampMicrosecondArray};
    use std::sync::Arc;

    fn n(t: NativeType) -> CqlType {
        CqlType::Native(t)
    }

    #[test]
    fn file_types_map_to_table_types() {
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(300)]));
        assert_eq!(
            values(&ints, &n(NativeType::BigInt)).unwrap(),
            [Some(Value::BigInt(1)), None, Some(Value::BigInt(300))]
        );
        assert_eq!(
            values(&ints, &n(NativeType::Timestamp)).unwrap()[2],
            Some(Value::Timestamp(300))
        );
        assert_eq!(
            values(&ints, &n(NativeType::TinyInt)).unwrap_err(),
            (2, "300 is out of range for tinyint".to_string())
        );
        let ts: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![1_500_999]));
        assert_eq!(
            values(&ts, &n(NativeType::Timestamp)).unwrap(),
            [Some(Value::Timestamp(1500))]
        );
        let strs: ArrayRef = Arc::new(StringArray::from(vec!["US", "", "10.0.0.1"]));
        assert_eq!(
            values(&strs, &n(NativeType::Text)).unwrap()[1],
            Some(Value::Text(String::new()))
        );
        assert!(
            values(&strs, &n(NativeType::Inet))
                .unwrap_err()
                .1
                .contains("'US' is not an inet")
        );
    }

    #[test]
    fn mismatches_name_both_types() {
        assert_eq!(
            check(&DataType::Float64, &n(NativeType::Int)).unwrap_err(),
            "the file's Arrow type Float64 does not map to the table's CQL type int"
        );
        assert!(check(&DataType::Boolean, &CqlType::List(NativeType::Int)).is_err());
        assert!(
            check(
                &CqlType::List(NativeType::Int).arrow_type(),
                &CqlType::List(NativeType::Int)
            )
            .is_ok()
        );
        assert!(check(&DataType::Int32, &n(NativeType::Double)).is_ok());
    }
}
