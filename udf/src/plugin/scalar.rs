//! A plugin's scalar function as a DataFusion scalar function.

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::common::{Result, exec_err};

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
    // SAFETY: the kind was checked on load, so the scalar calls are set.
    let vt = unsafe { &*d.raw().scalar };
    let result = d.invoke(vt.invoke, args, rows)?;
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
