//! BYTES columns in JSON. Flink writes them as base64 strings, but arrow-json
//! reads binary as hex; so the decoder reads binary columns (at any nesting
//! depth) as strings and converts them afterwards, still column at a time.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, GenericListArray, MapArray, OffsetSizeTrait, StructArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, FieldRef, Fields};
use datafusion::arrow::error::ArrowError;

use crate::formats::base64;

fn is_binary(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView
    )
}

/// True when `dt` has a binary type anywhere inside.
pub fn contains_binary(dt: &DataType) -> bool {
    match dt {
        d if is_binary(d) => true,
        DataType::List(f) | DataType::LargeList(f) | DataType::Map(f, _) => {
            contains_binary(f.data_type())
        }
        DataType::Struct(fields) => fields.iter().any(|f| contains_binary(f.data_type())),
        _ => false,
    }
}

fn read_field(f: &FieldRef) -> FieldRef {
    Arc::new(f.as_ref().clone().with_data_type(read_type(f.data_type())))
}

/// `dt` with every binary type replaced by Utf8: the type arrow-json reads.
pub fn read_type(dt: &DataType) -> DataType {
    match dt {
        d if is_binary(d) => DataType::Utf8,
        DataType::List(f) => DataType::List(read_field(f)),
        DataType::LargeList(f) => DataType::LargeList(read_field(f)),
        DataType::Map(f, sorted) => DataType::Map(read_field(f), *sorted),
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(read_field).collect()),
        other => other.clone(),
    }
}

fn list<O: OffsetSizeTrait>(
    array: &GenericListArray<O>,
    field: &FieldRef,
) -> Result<ArrayRef, ArrowError> {
    let values = to_binary(array.values(), field.data_type())?;
    Ok(Arc::new(GenericListArray::<O>::try_new(
        field.clone(),
        array.offsets().clone(),
        values,
        array.nulls().cloned(),
    )?))
}

fn structs(array: &StructArray, fields: &Fields) -> Result<StructArray, ArrowError> {
    let columns = array
        .columns()
        .iter()
        .zip(fields.iter())
        .map(|(c, f)| to_binary(c, f.data_type()))
        .collect::<Result<Vec<_>, _>>()?;
    StructArray::try_new(fields.clone(), columns, array.nulls().cloned())
}

/// Converts `array`, read with [`read_type`]`(target)`, to `target`, decoding
/// base64 strings. Text that is not base64 is an error (the caller's slow
/// path then finds the line).
pub fn to_binary(array: &ArrayRef, target: &DataType) -> Result<ArrayRef, ArrowError> {
    if !contains_binary(target) {
        return Ok(array.clone());
    }
    match target {
        d if is_binary(d) => {
            let text = array.as_string_opt::<i32>().ok_or_else(|| {
                ArrowError::CastError(format!("expected text for {d}, got {}", array.data_type()))
            })?;
            let (bytes, invalid) = base64::decode_array(text);
            if invalid.true_count() > 0 {
                return Err(ArrowError::ParseError(
                    "BYTES value is not valid base64".to_string(),
                ));
            }
            cast(&bytes, d)
        }
        DataType::List(f) => list(array.as_list::<i32>(), f),
        DataType::LargeList(f) => list(array.as_list::<i64>(), f),
        DataType::Struct(fields) => Ok(Arc::new(structs(array.as_struct(), fields)?)),
        DataType::Map(f, sorted) => {
            let map = array.as_map();
            let DataType::Struct(kv) = f.data_type() else {
                return Err(ArrowError::SchemaError(format!(
                    "map entries must be a struct, got {}",
                    f.data_type()
                )));
            };
            let entries = structs(map.entries(), kv)?;
            Ok(Arc::new(MapArray::try_new(
                f.clone(),
                map.offsets().clone(),
                entries,
                map.nulls().cloned(),
                *sorted,
            )?))
        }
        _ => Ok(array.clone()),
    }
}

/// The read-side field list for `fields`.
pub fn read_fields(fields: &Fields) -> Fields {
    fields.iter().map(read_field).collect()
}
