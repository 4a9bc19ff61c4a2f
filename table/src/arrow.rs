//! Values as Arrow columns, both ways: the schema of a scan's answer ([`arrow_schema`]), record
//! batches built a row at a time ([`BatchBuilder`]), and the values back out of a batch's column
//! ([`column_values`]) for clients and the CQL wire layer.
//!
//! Each CQL type has one Arrow type ([`CqlType::arrow_type`]): integers, floats, boolean, date and
//! time as the matching primitive arrays; text and ascii Utf8; blob Binary; timestamp
//! Timestamp(ms, "UTC"); uuid and timeuuid FixedSizeBinary(16); inet Binary of 4 or 16 bytes; decimal
//! a struct of its unscaled value (Decimal128(38, 0)) and its own scale (Int32), so that no value is
//! rounded; list and set List (a set's elements in their sorted order), map Map (entries sorted by
//! key). Every column is nullable (a null is an absent cell); collection elements and decimal parts
//! are not.
//!
//! Each field carries the CQL type in its metadata under [`CQL_TYPE_KEY`] (`text` and `ascii` share
//! Utf8, `uuid` and `timeuuid` FixedSizeBinary), which [`cql_type_of`] reads back.
//!
//! Reading a column checks what the Arrow type cannot: a timeuuid's version, a time's range, an
//! inet's length, an ascii column's bytes, a decimal's digits, no null elements; sets and maps come
//! out normalized.

use crate::error::ValueError;
use crate::serialize::validate;
use crate::types::{CqlType, NativeType, decimal_arrow_fields};
use crate::value::{Decimal, Uuid, Value};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    Time64NanosecondType, TimestampMillisecondType,
};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, FixedSizeBinaryArray, Float32Array,
    Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, ListArray, MapArray, RecordBatch, RecordBatchOptions,
    StringArray, StructArray, Time64NanosecondArray, TimestampMillisecondArray,
};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// The field metadata key that holds a column's CQL type (as `CqlType`'s `Display` writes it).
pub const CQL_TYPE_KEY: &str = "cql_type";

/// The most bytes (and collection elements) one column of a batch may hold: Arrow's i32 offsets.
const MAX_COLUMN_BYTES: u64 = i32::MAX as u64;

/// The Arrow field of a column: nullable, with its CQL type in the metadata.
pub fn arrow_field(name: &str, ty: &CqlType) -> Field {
    Field::new(name, ty.arrow_type(), true).with_metadata(HashMap::from([(CQL_TYPE_KEY.to_string(), ty.to_string())]))
}

/// The Arrow schema of rows with these columns.
pub fn arrow_schema(columns: &[(String, CqlType)]) -> Schema {
    Schema::new(
        columns
            .iter()
            .map(|(name, ty)| arrow_field(name, ty))
            .collect::<Vec<_>>(),
    )
}

/// The CQL type a field's metadata names, if it names one.
pub fn cql_type_of(field: &Field) -> Option<CqlType> {
    field
        .metadata()
        .get(CQL_TYPE_KEY)
        .and_then(|name| CqlType::from_cql_name(name))
}

/// Builds a [`RecordBatch`] a row at a time. Rows are checked as they are pushed, so that
/// [`BatchBuilder::finish`] cannot fail.
#[derive(Debug)]
pub struct BatchBuilder {
    schema: SchemaRef,
    types: Vec<CqlType>,
    columns: Vec<Vec<Option<Value>>>,
    /// Variable-length bytes and collection elements per column, held below Arrow's i32 offsets.
    sizes: Vec<u64>,
    rows: usize,
}

impl BatchBuilder {
    pub fn new(columns: &[(String, CqlType)]) -> BatchBuilder {
        BatchBuilder {
            schema: Arc::new(arrow_schema(columns)),
            types: columns.iter().map(|(_, ty)| *ty).collect(),
            columns: vec![Vec::new(); columns.len()],
            sizes: vec![0; columns.len()],
            rows: 0,
        }
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Appends a row: one value (or null) per column, each [`validate`]d against its column's type.
    /// A row that would take a column past Arrow's 2 GiB of offsets is refused
    /// ([`ValueError::TooLarge`]): finish this batch and start another. Nothing is appended on error.
    pub fn push_row(&mut self, row: &[Option<Value>]) -> Result<(), ValueError> {
        let added = self.check(row)?;
        self.append(row.iter().cloned(), added);
        Ok(())
    }

    /// [`BatchBuilder::push_row`] without copying the values.
    pub fn push_row_owned(&mut self, row: Vec<Option<Value>>) -> Result<(), ValueError> {
        let added = self.check(&row)?;
        self.append(row.into_iter(), added);
        Ok(())
    }

    /// Validates a row; answers the sizes it adds to each column.
    fn check(&self, row: &[Option<Value>]) -> Result<Vec<u64>, ValueError> {
        if row.len() != self.types.len() {
            return Err(ValueError::RowWidth {
                expected: self.types.len(),
                actual: row.len(),
            });
        }
        let mut added = Vec::with_capacity(row.len());
        for ((v, ty), size) in row.iter().zip(&self.types).zip(&self.sizes) {
            let mut n = 0;
            if let Some(v) = v {
                validate(v, ty)?;
                n = variable_size(v);
                if size + n > MAX_COLUMN_BYTES {
                    return Err(ValueError::TooLarge {
                        ty: *ty,
                        len: (size + n) as usize,
                    });
                }
            }
            added.push(n);
        }
        Ok(added)
    }

    fn append(&mut self, row: impl Iterator<Item = Option<Value>>, added: Vec<u64>) {
        for ((column, v), (size, n)) in self.columns.iter_mut().zip(row).zip(self.sizes.iter_mut().zip(added)) {
            column.push(v);
            *size += n;
        }
        self.rows += 1;
    }

    /// The rows pushed so far.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The batch of the rows pushed.
    pub fn finish(self) -> RecordBatch {
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter()
            .zip(&self.types)
            .map(|(values, ty)| build_array(ty, &values.iter().map(Option::as_ref).collect::<Vec<_>>()))
            .collect();
        let options = RecordBatchOptions::new().with_row_count(Some(self.rows));
        // Every array was built to its field's type from validated values within Arrow's sizes.
        RecordBatch::try_new_with_options(self.schema, arrays, &options)
            .expect("arrays built from validated rows match their schema")
    }
}

/// Bytes in variable-length buffers plus collection elements: what counts against i32 offsets.
fn variable_size(v: &Value) -> u64 {
    match v {
        Value::Text(s) | Value::Ascii(s) => s.len() as u64,
        Value::Blob(b) => b.len() as u64,
        Value::Inet(IpAddr::V4(_)) => 4,
        Value::Inet(IpAddr::V6(_)) => 16,
        Value::List(items) | Value::Set(items) => items.len() as u64 + items.iter().map(variable_size).sum::<u64>(),
        Value::Map(entries) => {
            entries.len() as u64
                + entries
                    .iter()
                    .map(|(k, v)| variable_size(k) + variable_size(v))
                    .sum::<u64>()
        }
        _ => 0,
    }
}

fn nulls(values: &[Option<&Value>]) -> Option<NullBuffer> {
    values
        .iter()
        .any(Option::is_none)
        .then(|| NullBuffer::from(values.iter().map(Option::is_some).collect::<Vec<_>>()))
}

fn build_array(ty: &CqlType, values: &[Option<&Value>]) -> ArrayRef {
    match *ty {
        CqlType::Native(t) => build_native(t, values),
        CqlType::List(t) | CqlType::Set(t) => {
            let items = |v: &Value| match v {
                Value::List(items) | Value::Set(items) => items.len(),
                _ => 0,
            };
            let offsets = OffsetBuffer::from_lengths(values.iter().map(|v| v.map_or(0, items)));
            let children: Vec<Option<&Value>> = values
                .iter()
                .flatten()
                .flat_map(|v| match v {
                    Value::List(items) | Value::Set(items) => items.as_slice(),
                    _ => &[],
                })
                .map(Some)
                .collect();
            let DataType::List(field) = ty.arrow_type() else {
                unreachable!("a list's Arrow type is List")
            };
            Arc::new(ListArray::new(
                field,
                offsets,
                build_native(t, &children),
                nulls(values),
            ))
        }
        CqlType::Map(k, v) => {
            fn entries(value: &Value) -> &[(Value, Value)] {
                match value {
                    Value::Map(entries) => entries.as_slice(),
                    _ => &[],
                }
            }
            let offsets = OffsetBuffer::from_lengths(values.iter().map(|v| v.map_or(0, |v| entries(v).len())));
            let (keys, vals): (Vec<_>, Vec<_>) = values
                .iter()
                .flatten()
                .flat_map(|v| entries(v))
                .map(|(k, v)| (Some(k), Some(v)))
                .unzip();
            let DataType::Map(field, _) = ty.arrow_type() else {
                unreachable!("a map's Arrow type is Map")
            };
            let DataType::Struct(fields) = field.data_type().clone() else {
                unreachable!("a map's entries are a struct")
            };
            let entries = StructArray::new(fields, vec![build_native(k, &keys), build_native(v, &vals)], None);
            Arc::new(MapArray::new(field, offsets, entries, nulls(values), false))
        }
    }
}

fn build_native(t: NativeType, values: &[Option<&Value>]) -> ArrayRef {
    macro_rules! primitive {
        ($array:ty, $pattern:pat => $x:expr) => {
            Arc::new(
                values
                    .iter()
                    .map(|v| match v {
                        Some($pattern) => Some($x),
                        _ => None,
                    })
                    .collect::<$array>(),
            )
        };
    }
    match t {
        NativeType::TinyInt => primitive!(Int8Array, Value::TinyInt(x) => *x),
        NativeType::SmallInt => primitive!(Int16Array, Value::SmallInt(x) => *x),
        NativeType::Int => primitive!(Int32Array, Value::Int(x) => *x),
        NativeType::BigInt => primitive!(Int64Array, Value::BigInt(x) => *x),
        NativeType::Float => primitive!(Float32Array, Value::Float(x) => *x),
        NativeType::Double => primitive!(Float64Array, Value::Double(x) => *x),
        NativeType::Boolean => primitive!(BooleanArray, Value::Boolean(x) => *x),
        NativeType::Date => primitive!(Date32Array, Value::Date(x) => *x),
        NativeType::Time => primitive!(Time64NanosecondArray, Value::Time(x) => *x),
        NativeType::Timestamp => {
            let array: TimestampMillisecondArray = values
                .iter()
                .map(|v| match v {
                    Some(Value::Timestamp(x)) => Some(*x),
                    _ => None,
                })
                .collect();
            Arc::new(array.with_timezone("UTC"))
        }
        NativeType::Text | NativeType::Ascii => primitive!(StringArray, Value::Text(s) | Value::Ascii(s) => s.as_str()),
        NativeType::Blob => primitive!(BinaryArray, Value::Blob(b) => b.as_slice()),
        NativeType::Inet => primitive!(BinaryArray, Value::Inet(a) => match a {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        }),
        NativeType::Uuid | NativeType::TimeUuid => {
            let mut bytes = Vec::with_capacity(values.len() * 16);
            for v in values {
                match v {
                    Some(Value::Uuid(u) | Value::TimeUuid(u)) => bytes.extend_from_slice(&u.0),
                    _ => bytes.extend_from_slice(&[0; 16]),
                }
            }
            Arc::new(FixedSizeBinaryArray::new(16, Buffer::from(bytes), nulls(values)))
        }
        NativeType::Decimal => {
            let parts = |v: &Option<&Value>| match v {
                Some(Value::Decimal(d)) => (d.unscaled, d.scale),
                _ => (0, 0),
            };
            let unscaled = Decimal128Array::from_iter_values(values.iter().map(|v| parts(v).0));
            let scale = Int32Array::from_iter_values(values.iter().map(|v| parts(v).1));
            let unscaled = unscaled.with_data_type(DataType::Decimal128(38, 0));
            Arc::new(StructArray::new(
                decimal_arrow_fields(),
                vec![Arc::new(unscaled), Arc::new(scale)],
                nulls(values),
            ))
        }
    }
}

/// Why an Arrow array could not be read: not of the CQL type's Arrow type, or a value that breaks a
/// rule of the type.
enum Bad {
    Type,
    Value(ValueError),
}

impl From<ValueError> for Bad {
    fn from(e: ValueError) -> Self {
        Bad::Value(e)
    }
}

/// The values of column `col` of `batch`, read as CQL type `ty` (`None` for a null).
pub fn column_values(batch: &RecordBatch, col: usize, ty: &CqlType) -> Result<Vec<Option<Value>>, ValueError> {
    if col >= batch.num_columns() {
        return Err(ValueError::NoSuchColumn {
            column: col,
            columns: batch.num_columns(),
        });
    }
    array_values(batch.column(col).as_ref(), ty, col)
}

/// The values of an Arrow array read as CQL type `ty`; `col` names the column in errors.
pub fn array_values(array: &dyn Array, ty: &CqlType, col: usize) -> Result<Vec<Option<Value>>, ValueError> {
    let mismatch = || ValueError::ArrowType {
        column: col,
        ty: *ty,
        arrow: array.data_type().to_string(),
    };
    let values = read(array, ty).map_err(|bad| match bad {
        Bad::Type => mismatch(),
        Bad::Value(e) => e,
    })?;
    // What Arrow's types cannot say: ranges, versions, lengths, digits.
    for v in values.iter().flatten() {
        validate(v, ty)?;
    }
    Ok(values)
}

fn read(array: &dyn Array, ty: &CqlType) -> Result<Vec<Option<Value>>, Bad> {
    Ok(match *ty {
        CqlType::Native(t) => native_values(array, t)?,
        CqlType::List(t) | CqlType::Set(t) => {
            let list = array.as_list_opt::<i32>().ok_or(Bad::Type)?;
            let items = elements(list.values().as_ref(), t, ty)?;
            let mut out = Vec::with_capacity(list.len());
            for (i, w) in list.offsets().windows(2).enumerate() {
                if list.is_null(i) {
                    out.push(None);
                    continue;
                }
                let slice = items.get(w[0] as usize..w[1] as usize).ok_or(Bad::Type)?.to_vec();
                out.push(Some(if matches!(ty, CqlType::Set(_)) {
                    Value::set(slice)
                } else {
                    Value::List(slice)
                }));
            }
            out
        }
        CqlType::Map(k, v) => {
            let map = array.as_map_opt().ok_or(Bad::Type)?;
            let keys = elements(map.keys().as_ref(), k, ty)?;
            let vals = elements(map.values().as_ref(), v, ty)?;
            let mut out = Vec::with_capacity(map.len());
            for (i, w) in map.offsets().windows(2).enumerate() {
                if map.is_null(i) {
                    out.push(None);
                    continue;
                }
                let range = w[0] as usize..w[1] as usize;
                let (ks, vs) = (
                    keys.get(range.clone()).ok_or(Bad::Type)?,
                    vals.get(range).ok_or(Bad::Type)?,
                );
                out.push(Some(Value::map(ks.iter().cloned().zip(vs.iter().cloned()).collect())));
            }
            out
        }
    })
}

/// A collection's elements (none of which may be null).
fn elements(array: &dyn Array, t: NativeType, ty: &CqlType) -> Result<Vec<Value>, Bad> {
    let values = native_values(array, t)?;
    Ok(values
        .into_iter()
        .map(|v| v.ok_or(ValueError::NullElement { ty: *ty }))
        .collect::<Result<_, _>>()?)
}

/// The values of a native-typed array.
fn native_values(array: &dyn Array, t: NativeType) -> Result<Vec<Option<Value>>, Bad> {
    fn collect<T>(array: &dyn Array, get: impl Fn(usize) -> T, wrap: impl Fn(T) -> Value) -> Vec<Option<Value>> {
        (0..array.len())
            .map(|i| (!array.is_null(i)).then(|| wrap(get(i))))
            .collect()
    }
    Ok(match t {
        NativeType::TinyInt => {
            let a = array.as_primitive_opt::<Int8Type>().ok_or(Bad::Type)?;
            collect(array, |i| a.value(i), Value::TinyInt)
        }
        NativeType::SmallInt => {
            let a = array.as_primitive_opt::<Int16Type>().ok_or(Bad::Type)?;
            collect(array, |i| a.value(i), Value::SmallInt)
        }
        NativeType::Int => {
            let a = array.as_primitive_opt::<Int32Type>().ok_or(Bad::Type)?;
            collect(array, |i| a.value(i), Value::Int)
        }
        NativeType::BigInt => {
            let a = array.as_primitive_opt::<Int64Type>().ok_or(Bad::Type)?;
            collect(array, |i| a.value(i), Value::BigInt)
        }
        NativeType::Float => {
            let a = array.as_primitive_opt::<Float32Type>().ok_or(Bad::Type)?;
            collect(array, |i| a.value(i), Value::Float)
        }
        NativeType::Double => {
            let a = array.as_primitive_opt::<Float64Type>().ok_or(Bad::Type)?;
            collect(array, |i| a.value(i), Value::Double)
        }
        NativeType::Boolean => {
            let a = array.as_boolean_opt().ok_or(Bad::Type)?;
            collect(array, |i| a.value(i), Value::Boolean)
        }
        NativeType::Date => {
            let a = array.as_primitive_opt::<Date32Type>().ok_or(Bad::Type)?;
            collect(array, |i| a.value(i), Value::Date)
        }
        NativeType::Time => {
            let a = array.as_primitive_opt::<Time64NanosecondType>().ok_or(Bad::Type)?;
            collect(array, |i| a.value(i), Value::Time)
        }
        NativeType::Timestamp => {
            let a = array.as_primitive_opt::<TimestampMillisecondType>().ok_or(Bad::Type)?;
            collect(array, |i| a.value(i), Value::Timestamp)
        }
        NativeType::Text | NativeType::Ascii => {
            let a = array.as_string_opt::<i32>().ok_or(Bad::Type)?;
            let wrap = if t == NativeType::Text {
                Value::Text
            } else {
                Value::Ascii
            };
            collect(array, |i| a.value(i).to_owned(), wrap)
        }
        NativeType::Blob => {
            let a = array.as_binary_opt::<i32>().ok_or(Bad::Type)?;
            collect(array, |i| a.value(i).to_vec(), Value::Blob)
        }
        NativeType::Inet => {
            let a = array.as_binary_opt::<i32>().ok_or(Bad::Type)?;
            let mut out = Vec::with_capacity(a.len());
            for i in 0..a.len() {
                out.push(match (a.is_null(i), a.value(i)) {
                    (true, _) => None,
                    (false, b) => Some(Value::Inet(match <[u8; 4]>::try_from(b) {
                        Ok(v4) => IpAddr::from(v4),
                        Err(_) => IpAddr::from(
                            <[u8; 16]>::try_from(b).map_err(|_| ValueError::InetLength { actual: b.len() })?,
                        ),
                    })),
                });
            }
            out
        }
        NativeType::Uuid | NativeType::TimeUuid => {
            let a = array.as_fixed_size_binary_opt().ok_or(Bad::Type)?;
            if a.value_length() != 16 {
                return Err(Bad::Type);
            }
            let uuid = |i: usize| Uuid(<[u8; 16]>::try_from(a.value(i)).unwrap_or_default());
            let wrap = if t == NativeType::Uuid {
                Value::Uuid
            } else {
                Value::TimeUuid
            };
            collect(array, uuid, wrap)
        }
        NativeType::Decimal => {
            let s = array.as_struct_opt().ok_or(Bad::Type)?;
            let part = |name| s.column_by_name(name).ok_or(Bad::Type);
            let unscaled = part("unscaled")?
                .as_primitive_opt::<Decimal128Type>()
                .ok_or(Bad::Type)?;
            let scale = part("scale")?.as_primitive_opt::<Int32Type>().ok_or(Bad::Type)?;
            if (0..s.len()).any(|i| s.is_valid(i) && (unscaled.is_null(i) || scale.is_null(i))) {
                return Err(ValueError::NullElement { ty: CqlType::Native(t) }.into());
            }
            collect(
                array,
                |i| Decimal {
                    unscaled: unscaled.value(i),
                    scale: scale.value(i),
                },
                Value::Decimal,
            )
        }
    })
}

#[cfg(test)]
#[path = "arrow_tests.rs"]
mod tests;
