//! A plugin's table function as a Sluice table function.

use std::sync::Arc;

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use datafusion::arrow::array::{Array, ArrayRef, UInt32Array};
use datafusion::arrow::datatypes::Field;
use datafusion::common::{Result, exec_err};
use sluice_udf_plugin::columns::{export_columns, import_columns};

use super::library::Descriptor;
use crate::api::{TableFunction, TableRows, sql_type};

/// The function, callable as `LATERAL TABLE(name(..))`.
pub fn table_function(d: Descriptor) -> TableFunction {
    let arg_types = d.arguments.iter().map(|f| f.data_type().clone()).collect();
    let fields = d.result.clone();
    let declared = fields.clone();
    let name = d.handle.name.clone();
    let d = Arc::new(d);
    TableFunction::vectorized(name, arg_types, fields, move |args, rows| {
        call(&d, args, rows, &declared)
    })
}

fn call(d: &Descriptor, args: &[ArrayRef], rows: usize, declared: &[Field]) -> Result<TableRows> {
    let raw = d.raw();
    // SAFETY: the kind was checked on load, so the table calls are set.
    let vt = unsafe { &*raw.table };
    let (mut a, mut s) = export_columns(args, rows)?;
    let (mut out, mut out_schema) = (FFI_ArrowArray::empty(), FFI_ArrowSchema::empty());
    let status = unsafe { (vt.invoke)(raw.instance, &mut a, &mut s, &mut out, &mut out_schema) };
    d.handle.check(status)?;
    let (mut columns, _) = unsafe { import_columns(&mut out, &mut out_schema) }?;
    let name = &d.handle.name;
    if columns.len() != declared.len() + 1 {
        return exec_err!(
            "user-defined function '{name}' produced {} columns but declares {}",
            columns.len().saturating_sub(1),
            declared.len()
        );
    }
    let input_rows = columns.remove(0);
    let Some(input_rows) = input_rows.as_any().downcast_ref::<UInt32Array>() else {
        return exec_err!("user-defined function '{name}' returned no input row numbers");
    };
    let in_order = input_rows.null_count() == 0
        && input_rows.values().windows(2).all(|w| w[0] <= w[1])
        && input_rows
            .values()
            .last()
            .is_none_or(|&r| (r as usize) < rows);
    if !in_order {
        return exec_err!(
            "user-defined function '{name}' returned input row numbers that are not ascending \
             row numbers of its input"
        );
    }
    for (c, f) in columns.iter().zip(declared) {
        if c.data_type() != f.data_type() {
            return exec_err!(
                "user-defined function '{name}' returned {} values for column '{}', which it \
                 declares {}",
                sql_type(c.data_type()),
                f.name(),
                sql_type(f.data_type())
            );
        }
    }
    Ok(TableRows {
        input_rows: input_rows.clone(),
        columns,
    })
}
