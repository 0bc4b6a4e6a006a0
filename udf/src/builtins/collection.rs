//! Collection functions DataFusion lacks or gives other semantics:
//! `ELEMENT(array)`, the only element of a one-element array (NULL for an
//! empty array, an error for a longer one); and `ARRAY_CONTAINS(array,
//! value)`, which finds NULL elements too (DataFusion's answers NULL).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanBuilder, UInt32Array};
use datafusion::arrow::compute::kernels::cmp::not_distinct;
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::ScalarUDF;
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;

use crate::builtins::function::{Arg, Builtin, Ctx};

fn element_type(types: &[DataType]) -> Result<DataType> {
    match &types[0] {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            Ok(f.data_type().clone())
        }
        DataType::Null => Ok(DataType::Null),
        other => plan_err!("ELEMENT(array) expects an ARRAY, got {other}"),
    }
}

/// The element values of a list array and each row's `(start, end)` range.
fn ranges(arr: &ArrayRef, function: &str) -> Result<(ArrayRef, Vec<(usize, usize)>)> {
    Ok(match arr.data_type() {
        DataType::List(_) => {
            let l = arr.as_list::<i32>();
            let o = l.value_offsets();
            (
                l.values().clone(),
                o.windows(2)
                    .map(|w| (w[0] as usize, w[1] as usize))
                    .collect(),
            )
        }
        DataType::LargeList(_) => {
            let l = arr.as_list::<i64>();
            let o = l.value_offsets();
            (
                l.values().clone(),
                o.windows(2)
                    .map(|w| (w[0] as usize, w[1] as usize))
                    .collect(),
            )
        }
        DataType::FixedSizeList(_, n) => {
            let l = arr.as_fixed_size_list();
            let n = *n as usize;
            (
                l.values().clone(),
                (0..l.len()).map(|i| (i * n, i * n + n)).collect(),
            )
        }
        other => return exec_err!("{function} expects an ARRAY, got {other}"),
    })
}

fn element(_ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let arr = &args[0];
    if arr.data_type() == &DataType::Null {
        return Ok(arr.clone());
    }
    let (values, offsets) = ranges(arr, "ELEMENT(array)")?;
    let mut idx = Vec::with_capacity(offsets.len());
    for (row, (start, end)) in offsets.into_iter().enumerate() {
        if arr.is_null(row) || start == end {
            idx.push(None);
        } else if end - start > 1 {
            return exec_err!(
                "ELEMENT: the array has {} elements; it must have at most one",
                end - start
            );
        } else {
            idx.push(u32::try_from(start).ok());
        }
    }
    Ok(take(values.as_ref(), &UInt32Array::from(idx), None)?)
}

/// The `ELEMENT` function.
pub fn element_udf() -> Arc<ScalarUDF> {
    Builtin::new(
        "element",
        "ELEMENT(array)",
        &[&[Arg::Any]],
        element_type,
        element,
    )
    .udf()
}

/// The array's elements and the value get their common type.
fn contains_coercion(types: &[DataType]) -> Result<Vec<DataType>> {
    let (field, value) = match (&types[0], &types[1]) {
        (DataType::Null, v) => return Ok(vec![DataType::Null, v.clone()]),
        (DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _), v) => (f, v),
        (other, _) => {
            return plan_err!("ARRAY_CONTAINS(array, value) expects an ARRAY, got {other}");
        }
    };
    let Some(common) = type_union_resolution(&[field.data_type().clone(), value.clone()]) else {
        return plan_err!(
            "ARRAY_CONTAINS: cannot look for a {value} in an ARRAY<{}>",
            field.data_type()
        );
    };
    let item = Arc::new(
        field
            .as_ref()
            .clone()
            .with_data_type(common.clone())
            .with_nullable(true),
    );
    Ok(vec![DataType::List(item), common])
}

/// Every row: whether the row's array has an element equal to the row's
/// value, NULL matching NULL. Vectorized as one `IS NOT DISTINCT FROM` over
/// all elements against the value repeated per element.
fn array_contains(ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let (haystack, needle) = (&args[0], &args[1]);
    let mut out = BooleanBuilder::with_capacity(ctx.rows);
    if haystack.data_type() == &DataType::Null {
        out.append_nulls(ctx.rows);
        return Ok(std::sync::Arc::new(out.finish()));
    }
    let (values, ranges) = ranges(haystack, "ARRAY_CONTAINS(array, value)")?;
    let mut owner = Vec::with_capacity(values.len());
    for (row, (start, end)) in ranges.iter().enumerate() {
        owner.extend(std::iter::repeat_n(row as u32, end - start));
    }
    let first = ranges.first().map_or(0, |r| r.0);
    let last = ranges.last().map_or(0, |r| r.1);
    let values = values.slice(first, last - first);
    let repeated = take(needle.as_ref(), &UInt32Array::from(owner), None)?;
    let equal = not_distinct(&values, &repeated)?;
    for (row, (start, end)) in ranges.into_iter().enumerate() {
        if haystack.is_null(row) {
            out.append_null();
        } else {
            let found = (start..end).any(|i| equal.value(i - first));
            out.append_value(found);
        }
    }
    Ok(std::sync::Arc::new(out.finish()))
}

/// The `ARRAY_CONTAINS` function.
pub fn array_contains_udf() -> Arc<ScalarUDF> {
    Builtin::new(
        "array_contains",
        "ARRAY_CONTAINS(array, value)",
        &[&[Arg::Any, Arg::Any]],
        |_| Ok(DataType::Boolean),
        array_contains,
    )
    .coercion(contains_coercion)
    .udf()
}
