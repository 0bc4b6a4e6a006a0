//! `UNNEST(array_or_map)` as a table function, so `CROSS JOIN UNNEST(arr)
//! AS t(x)` runs through the same correlate operator as user table
//! functions. As in Flink, an array of rows becomes one column per row
//! field, a map becomes a key and a value column, and a NULL or empty
//! collection produces no rows.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StructArray, UInt32Builder, make_array};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, exec_err, plan_err};

use super::coerce::sql_type;
use super::table::{TableRows, TableUdf, TableUdfImpl};

/// The `UNNEST` table function.
#[derive(Debug, Default)]
pub struct Unnest;

impl Unnest {
    /// A handle to register or plan with.
    pub fn udtf() -> TableUdf {
        TableUdf::new_from_impl(Unnest)
    }
}

fn element_fields(element: &Field) -> Vec<Field> {
    match element.data_type() {
        DataType::Struct(fields) => fields
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect(),
        t => vec![Field::new("f0", t.clone(), true)],
    }
}

impl TableUdfImpl for Unnest {
    fn name(&self) -> &str {
        "UNNEST"
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [t] = arg_types else {
            return plan_err!(
                "UNNEST takes one ARRAY or MAP argument, got {}",
                arg_types.len()
            );
        };
        Ok(vec![match t {
            DataType::List(_) | DataType::Map(..) => t.clone(),
            DataType::LargeList(f) | DataType::FixedSizeList(f, _) => DataType::List(Arc::clone(f)),
            other => {
                return plan_err!(
                    "UNNEST takes an ARRAY or a MAP, but its argument is {}",
                    sql_type(other)
                );
            }
        }])
    }

    fn output_fields(&self, arg_types: &[DataType]) -> Result<Vec<Field>> {
        match arg_types.first() {
            Some(DataType::List(f)) => Ok(element_fields(f)),
            Some(DataType::Map(entries, _)) => match entries.data_type() {
                DataType::Struct(kv) if kv.len() == 2 => Ok(vec![
                    Field::new("f0", kv[0].data_type().clone(), true),
                    Field::new("f1", kv[1].data_type().clone(), true),
                ]),
                _ => plan_err!("UNNEST: malformed MAP type"),
            },
            _ => plan_err!("UNNEST takes an ARRAY or a MAP"),
        }
    }

    fn invoke(&self, args: &[ArrayRef], rows: usize) -> Result<TableRows> {
        let Some(arg) = args.first() else {
            return exec_err!("UNNEST without an argument");
        };
        let (offsets, values, is_map): (Vec<i32>, ArrayRef, bool) =
            if let Some(l) = arg.as_list_opt::<i32>() {
                (l.value_offsets().to_vec(), Arc::clone(l.values()), false)
            } else if let Some(m) = arg.as_map_opt() {
                let entries: ArrayRef = Arc::new(m.entries().clone());
                (m.value_offsets().to_vec(), entries, true)
            } else {
                return exec_err!("UNNEST of {}", arg.data_type());
            };
        let mut input_rows = UInt32Builder::new();
        let mut elements = UInt32Builder::new();
        for row in 0..rows.min(arg.len()) {
            if arg.is_null(row) {
                continue;
            }
            for e in offsets[row]..offsets[row + 1] {
                input_rows.append_value(row as u32);
                elements.append_value(e as u32);
            }
        }
        let taken = take(values.as_ref(), &elements.finish(), None)?;
        let columns = match taken.as_struct_opt() {
            Some(s) if is_map || matches!(values.data_type(), DataType::Struct(_)) => {
                struct_columns(s)?
            }
            _ => vec![taken],
        };
        Ok(TableRows {
            input_rows: input_rows.finish(),
            columns,
        })
    }
}

/// The fields of a struct array as columns, NULL where the struct is.
fn struct_columns(s: &StructArray) -> Result<Vec<ArrayRef>> {
    s.columns()
        .iter()
        .map(|c| match s.nulls() {
            None => Ok(Arc::clone(c)),
            Some(parent) => {
                let nulls = NullBuffer::union(Some(parent), c.nulls());
                Ok(make_array(c.to_data().into_builder().nulls(nulls).build()?))
            }
        })
        .collect()
}
