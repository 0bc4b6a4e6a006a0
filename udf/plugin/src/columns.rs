//! Moving columns across the boundary through the Arrow C Data Interface,
//! used by both sides (the SDK inside a plugin, the loader inside Sluice) so
//! they agree on the encoding by construction.
//!
//! Exporting shares the buffers (no copy): the receiver holds them alive
//! through the array's `release` callback until it drops its import.

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi, to_ffi};
use arrow_array::{Array, ArrayRef, StructArray, make_array};
use arrow_schema::{ArrowError, DataType, Field, Fields};

/// `columns` (each `rows` long) as one struct array, one child per column.
pub fn export_columns(
    columns: &[ArrayRef],
    rows: usize,
) -> Result<(FFI_ArrowArray, FFI_ArrowSchema), ArrowError> {
    let fields: Fields = columns
        .iter()
        .enumerate()
        .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
        .collect();
    let array = StructArray::try_new_with_length(fields, columns.to_vec(), None, rows)?;
    to_ffi(&array.to_data())
}

/// Takes the struct array at `array`/`schema` (leaving empty structs
/// behind, so the caller's copies release nothing) and returns its children
/// and its length.
///
/// # Safety
/// Both pointers must be valid and hold a struct array exported through the
/// C Data Interface (or be empty).
pub unsafe fn import_columns(
    array: *mut FFI_ArrowArray,
    schema: *mut FFI_ArrowSchema,
) -> Result<(Vec<ArrayRef>, usize), ArrowError> {
    let imported = unsafe { import_array(array, schema) }?;
    let rows = imported.len();
    match imported.as_any().downcast_ref::<StructArray>() {
        Some(s) => Ok((s.columns().to_vec(), rows)),
        None => Err(ArrowError::InvalidArgumentError(format!(
            "expected a struct of columns, got {}",
            imported.data_type()
        ))),
    }
}

/// Writes `array` (with its schema) to the out-pointers.
///
/// # Safety
/// Both pointers must be valid for writes; whatever they held is not dropped.
pub unsafe fn write_array(
    array: &dyn Array,
    out: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
) -> Result<(), ArrowError> {
    let (a, s) = to_ffi(&array.to_data())?;
    unsafe {
        std::ptr::write(out, a);
        std::ptr::write(out_schema, s);
    }
    Ok(())
}

/// Takes the array at `array`/`schema` (see [`import_columns`]).
///
/// # Safety
/// As for [`import_columns`], for any array type.
pub unsafe fn import_array(
    array: *mut FFI_ArrowArray,
    schema: *mut FFI_ArrowSchema,
) -> Result<ArrayRef, ArrowError> {
    if array.is_null() || schema.is_null() {
        return Err(ArrowError::InvalidArgumentError(
            "null array pointer".into(),
        ));
    }
    let (array, schema) = unsafe {
        (
            std::ptr::replace(array, FFI_ArrowArray::empty()),
            std::ptr::replace(schema, FFI_ArrowSchema::empty()),
        )
    };
    let data = unsafe { from_ffi(array, &schema) }?;
    Ok(make_array(data))
}

/// Writes `fields` as a struct schema to `out`.
///
/// # Safety
/// `out` must be valid for writes; whatever it held is not dropped.
pub unsafe fn write_fields(
    fields: Vec<Field>,
    out: *mut FFI_ArrowSchema,
) -> Result<(), ArrowError> {
    let schema = FFI_ArrowSchema::try_from(&DataType::Struct(Fields::from(fields)))?;
    unsafe { std::ptr::write(out, schema) };
    Ok(())
}

/// Reads the fields of the struct schema `schema` describes.
pub fn read_fields(schema: &FFI_ArrowSchema) -> Result<Vec<Field>, ArrowError> {
    match DataType::try_from(schema)? {
        DataType::Struct(fields) => Ok(fields.iter().map(|f| f.as_ref().clone()).collect()),
        other => Err(ArrowError::InvalidArgumentError(format!(
            "expected a struct schema, got {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray};
    use std::sync::Arc;

    #[test]
    fn columns_survive_the_round_trip_without_copying() {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(3)]));
        let b: ArrayRef = Arc::new(StringArray::from(vec!["x", "y", "z"]));
        let (mut array, mut schema) = export_columns(&[a.clone(), b.clone()], 3).expect("export");
        let (cols, rows) = unsafe { import_columns(&mut array, &mut schema) }.expect("import");
        assert_eq!(rows, 3);
        assert_eq!(cols[0].as_ref(), a.as_ref());
        assert_eq!(cols[1].as_ref(), b.as_ref());
        assert_eq!(
            cols[0].to_data().buffers()[0].as_ptr(),
            a.to_data().buffers()[0].as_ptr()
        );
    }

    #[test]
    fn zero_argument_calls_keep_their_row_count() {
        let (mut array, mut schema) = export_columns(&[], 7).expect("export");
        let (cols, rows) = unsafe { import_columns(&mut array, &mut schema) }.expect("import");
        assert!(cols.is_empty());
        assert_eq!(rows, 7);
    }
}
