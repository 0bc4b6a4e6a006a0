//! `CONVERT_TZ(string, from_zone, to_zone)`: a `yyyy-MM-dd HH:mm:ss` string
//! read as wall-clock time in one zone and written in another.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::temporal::parse_default_timestamp;
use super::zone::Zone;
use crate::builtins::function::{Arg, Builtin, Ctx};

pub fn udf() -> Arc<ScalarUDF> {
    Builtin::new(
        "convert_tz",
        "CONVERT_TZ(string, from_zone, to_zone)",
        &[&[Arg::Str, Arg::Str, Arg::Str]],
        |_| Ok(DataType::Utf8),
        eval,
    )
    .udf()
}

fn eval(ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let (s, from, to) = (
        args[0].as_string::<i32>(),
        args[1].as_string::<i32>(),
        args[2].as_string::<i32>(),
    );
    let mut out = StringBuilder::with_capacity(ctx.rows, ctx.rows * 19);
    // The zones are constants in practice: parse each distinct one once.
    let mut zones: Option<(String, Zone, String, Zone)> = None;
    for i in 0..s.len() {
        if s.is_null(i) || from.is_null(i) || to.is_null(i) {
            out.append_null();
            continue;
        }
        let (f, t) = (from.value(i), to.value(i));
        let (fz, tz) = match &zones {
            Some((a, fz, b, tz)) if a == f && b == t => (*fz, *tz),
            _ => {
                let fz = Zone::parse_or_err(f, "CONVERT_TZ")?;
                let tz = Zone::parse_or_err(t, "CONVERT_TZ")?;
                zones = Some((f.to_string(), fz, t.to_string(), tz));
                (fz, tz)
            }
        };
        match parse_default_timestamp(s.value(i).trim()) {
            Some(dt) => {
                let local = tz.local(fz.to_utc(dt));
                out.append_value(local.format("%Y-%m-%d %H:%M:%S").to_string());
            }
            None => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}
