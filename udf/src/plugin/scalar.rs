//! A plugin's scalar function as a DataFusion scalar function.

use std::sync::Arc;

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::{Result, exec_err};
use sluice_udf_plugin::columns::{export_columns, import_array};

use super::library::Descriptor;
use crate::api::ScalarFunction;
use crate::api::sql_type;

/// The function, callable from SQL as `handle.name`.
pub fn scalar_function(d: Descriptor) -> ScalarFunction {
    let arg_types = d.arguments.iter().map(|f| f.data_type().clone()).collect();
    let return_type = d.result[0].data_type().clone();
    let declared = return_type.clone();
    let deterministic = d.deterministic;
    let name = d.handle.name.clone();
    let d = Arc::new(d);
    ScalarFunction::vectorized(name, arg_types, return_type, move |args, rows| {
        call(&d, args, rows, &declared)
    })
    .deterministic(deterministic)
}

fn call(
    d: &Descriptor,
    args: &[ArrayRef],
    rows: usize,
    declared: &datafusion::arrow::datatypes::DataType,
) -> Result<ArrayRef> {
    let raw = d.raw();
    // SAFETY: the kind was checked on load, so the scalar calls are set.
    let vt = unsafe { &*raw.scalar };
    let (mut a, mut s) = export_columns(args, rows)?;
    let (mut out, mut out_schema) = (FFI_ArrowArray::empty(), FFI_ArrowSchema::empty());
    let status = unsafe { (vt.invoke)(raw.instance, &mut a, &mut s, &mut out, &mut out_schema) };
    d.handle.check(status)?;
    let result = unsafe { import_array(&mut out, &mut out_schema) }?;
    let name = &d.handle.name;
    if result.data_type() != declared {
        return exec_err!(
            "user-defined function '{name}' returned {} values but declares {}",
            sql_type(result.data_type()),
            sql_type(declared)
        );
    }
    if result.len() != rows {
        return exec_err!(
            "user-defined function '{name}' returned {} values for {rows} rows",
            result.len()
        );
    }
    Ok(result)
}
