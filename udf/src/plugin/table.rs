//! A plugin's table function as a Sluice table function.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StructArray, UInt32Array};
use datafusion::arrow::datatypes::Field;
use datafusion::common::{Result, exec_err};

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
    // SAFETY: the kind was checked on load, so the table calls are set.
    let vt = unsafe { &*d.raw().table };
    let produced = d.invoke(vt.invoke, args, rows)?;
    let name = &d.handle.name;
    let Some(produced) = produced.as_any().downcast_ref::<StructArray>() else {
        return exec_err!("user-defined function '{name}' returned no rows struct");
    };
    let mut columns = produced.columns().to_vec();
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
