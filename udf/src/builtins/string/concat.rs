//! `CONCAT(string1, string2, ...)`: NULL as soon as any argument is NULL
//! (Flink's rule; DataFusion's `concat` skips NULLs instead).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::builtins::function::{Arg, Builtin, Ctx};

pub fn udf() -> Arc<ScalarUDF> {
    Builtin::variadic(
        "concat",
        "CONCAT(string1, string2, ...)",
        Arg::Str,
        1,
        |_| Ok(DataType::Utf8),
        eval,
    )
    .udf()
}

fn eval(ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let parts: Vec<&StringArray> = args.iter().map(|a| a.as_string::<i32>()).collect();
    let bytes: usize = parts.iter().map(|p| p.value_data().len()).sum();
    let mut out = StringBuilder::with_capacity(ctx.rows, bytes);
    let mut buf = String::new();
    for i in 0..ctx.rows {
        if parts.iter().any(|p| p.is_null(i)) {
            out.append_null();
            continue;
        }
        buf.clear();
        for p in &parts {
            buf.push_str(p.value(i));
        }
        out.append_value(&buf);
    }
    Ok(Arc::new(out.finish()))
}
