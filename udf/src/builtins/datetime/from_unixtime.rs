//! `FROM_UNIXTIME(seconds[, format])`: epoch seconds as a string in the
//! session time zone (`yyyy-MM-dd HH:mm:ss` by default).

use std::sync::Arc;

use chrono::DateTime;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, exec_datafusion_err};
use datafusion::logical_expr::ScalarUDF;

use super::PatternCache;
use super::pattern::FormatZone;
use super::zone::Zone;
use crate::builtins::function::{Arg, Builtin, Ctx};

const DEFAULT_FORMAT: &str = "yyyy-MM-dd HH:mm:ss";

pub fn udf() -> Arc<ScalarUDF> {
    Builtin::new(
        "from_unixtime",
        "FROM_UNIXTIME(numeric[, format])",
        &[&[Arg::Int], &[Arg::Int, Arg::Str]],
        |_| Ok(DataType::Utf8),
        eval,
    )
    .udf()
}

fn eval(ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let zone = Zone::session(ctx.config)?;
    let secs = args[0].as_primitive::<Int64Type>();
    let formats = args.get(1).map(|f| f.as_string::<i32>());
    let mut cache = PatternCache::default();
    let mut out = StringBuilder::with_capacity(ctx.rows, ctx.rows * 19);
    let mut buf = String::new();
    for (i, s) in secs.iter().enumerate() {
        let format = match formats {
            Some(f) => f.is_valid(i).then(|| f.value(i)),
            None => Some(DEFAULT_FORMAT),
        };
        let instant = s.and_then(|s| DateTime::from_timestamp(s, 0));
        let (Some(instant), Some(format)) = (instant, format) else {
            out.append_null();
            continue;
        };
        let instant = instant.naive_utc();
        let offset_secs = zone.offset_secs_at(instant);
        buf.clear();
        cache
            .get("FROM_UNIXTIME", format)?
            .format(
                &zone.local(instant),
                Some(FormatZone { offset_secs, zone }),
                &mut buf,
            )
            .map_err(|e| exec_datafusion_err!("FROM_UNIXTIME with pattern '{format}': {e}"))?;
        out.append_value(&buf);
    }
    Ok(Arc::new(out.finish()))
}
