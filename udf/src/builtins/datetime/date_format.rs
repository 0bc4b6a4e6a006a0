//! `DATE_FORMAT(timestamp, format)`: a TIMESTAMP, TIMESTAMP_LTZ, DATE or
//! date-time string (`yyyy-MM-dd HH:mm:ss`) formatted with a Java pattern.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_datafusion_err};
use datafusion::logical_expr::ScalarUDF;

use super::PatternCache;
use super::temporal::local_datetimes;
use super::zone::Zone;
use crate::builtins::function::{Arg, Builtin, Ctx};

pub fn udf() -> Arc<ScalarUDF> {
    Builtin::new(
        "date_format",
        "DATE_FORMAT(timestamp, format)",
        &[&[Arg::Temporal, Arg::Str]],
        |_| Ok(DataType::Utf8),
        eval,
    )
    .udf()
}

fn eval(ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let values = local_datetimes(&args[0], Zone::session(ctx.config)?)?;
    let formats = args[1].as_string::<i32>();
    let mut cache = PatternCache::default();
    let mut out = StringBuilder::with_capacity(ctx.rows, ctx.rows * 20);
    let mut buf = String::new();
    for (v, f) in values.iter().zip(formats.iter()) {
        match (v, f) {
            (Some(dt), Some(f)) => {
                buf.clear();
                cache
                    .get("DATE_FORMAT", f)?
                    .format(dt, None, &mut buf)
                    .map_err(|e| exec_datafusion_err!("DATE_FORMAT with pattern '{f}': {e}"))?;
                out.append_value(&buf);
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}
