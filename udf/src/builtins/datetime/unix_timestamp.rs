//! `UNIX_TIMESTAMP()`: the current epoch second; `UNIX_TIMESTAMP(string[,
//! format])`: a date-time string (`yyyy-MM-dd HH:mm:ss` by default) read in
//! the session time zone, or in the offset the string itself carries, as
//! epoch seconds. A string that does not parse gives Flink's
//! `-9223372036854775808` (Long.MIN_VALUE).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::PatternCache;
use super::zone::Zone;
use crate::builtins::function::{Arg, Builtin, Ctx};

const DEFAULT_FORMAT: &str = "yyyy-MM-dd HH:mm:ss";

pub fn udf() -> Arc<ScalarUDF> {
    Builtin::new(
        "unix_timestamp",
        "UNIX_TIMESTAMP([string[, format]])",
        &[&[], &[Arg::Str], &[Arg::Str, Arg::Str]],
        |_| Ok(DataType::Int64),
        eval,
    )
    .volatile()
    .udf()
}

fn eval(ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let Some(strings) = args.first() else {
        let now = chrono::Utc::now().timestamp();
        return Ok(Arc::new(Int64Array::from_value(now, ctx.rows)));
    };
    let session = Zone::session(ctx.config)?;
    let strings = strings.as_string::<i32>();
    let formats = args.get(1).map(|f| f.as_string::<i32>());
    let mut cache = PatternCache::default();
    let mut out = Int64Array::builder(strings.len());
    for (i, s) in strings.iter().enumerate() {
        let format = match formats {
            Some(f) => f.is_valid(i).then(|| f.value(i)),
            None => Some(DEFAULT_FORMAT),
        };
        let (Some(s), Some(format)) = (s, format) else {
            out.append_null();
            continue;
        };
        let secs = cache
            .get("UNIX_TIMESTAMP", format)?
            .parse(s)
            .and_then(|p| {
                let zone = p.explicit_zone().unwrap_or(session);
                Some(zone.to_utc(p.datetime()?).and_utc().timestamp())
            })
            .unwrap_or(i64::MIN);
        out.append_value(secs);
    }
    Ok(Arc::new(out.finish()))
}
