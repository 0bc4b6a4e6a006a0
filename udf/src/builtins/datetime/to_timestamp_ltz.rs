//! `TO_TIMESTAMP_LTZ(numeric[, precision])`: epoch seconds (precision 0) or
//! milliseconds (precision 3, the default) as a TIMESTAMP_LTZ(3); and
//! `TO_TIMESTAMP_LTZ(string[, format[, time_zone]])`: a date-time string
//! read in a time zone (the session's by default).

use std::sync::Arc;

use chrono::NaiveDateTime;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::PatternCache;
use super::temporal::{from_units, parse_default_timestamp, timestamp_array};
use super::zone::Zone;
use crate::builtins::function::{Arg, Builtin, Ctx};

/// Epoch milliseconds Flink accepts: years 0000 to 9999.
const MIN_MILLIS: i64 = -62_167_219_200_000;
const MAX_MILLIS: i64 = 253_402_300_799_999;

pub fn udf() -> Arc<ScalarUDF> {
    Builtin::new(
        "to_timestamp_ltz",
        "TO_TIMESTAMP_LTZ(numeric[, precision]) / TO_TIMESTAMP_LTZ(string[, format[, time_zone]])",
        &[
            &[Arg::Numeric],
            &[Arg::Numeric, Arg::Int],
            &[Arg::Str],
            &[Arg::Str, Arg::Str],
            &[Arg::Str, Arg::Str, Arg::Str],
        ],
        |_| {
            Ok(DataType::Timestamp(
                TimeUnit::Millisecond,
                Some("UTC".into()),
            ))
        },
        eval,
    )
    .udf()
}

fn eval(ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let values = if args[0].data_type() == &DataType::Utf8 {
        from_strings(ctx, args)?
    } else {
        from_numbers(args)?
    };
    Ok(timestamp_array(
        values,
        TimeUnit::Millisecond,
        Some("UTC".into()),
    ))
}

fn from_numbers(args: &[ArrayRef]) -> Result<Vec<Option<NaiveDateTime>>> {
    let n = args[0].len();
    let precisions: Vec<Option<i64>> = match args.get(1) {
        Some(p) => p.as_primitive::<Int64Type>().iter().collect(),
        None => vec![Some(3); n],
    };
    let millis = |v: Option<f64>, p: Option<i64>| -> Result<Option<i64>> {
        let (Some(v), Some(p)) = (v, p) else {
            return Ok(None);
        };
        let ms = match p {
            0 => v * 1000.0,
            3 => v,
            _ => {
                return exec_err!(
                    "The precision value '{p}' for function TO_TIMESTAMP_LTZ(numeric, precision) \
                     is unsupported, the supported value is '0' for second or '3' for millisecond."
                );
            }
        };
        Ok(Some(ms.trunc() as i64))
    };
    let mut out = Vec::with_capacity(n);
    if args[0].data_type().is_integer() {
        let v = cast(&args[0], &DataType::Int64)?;
        for (v, p) in v.as_primitive::<Int64Type>().iter().zip(precisions) {
            // Integers stay exact: f64 would round large epoch values.
            let ms = match (v, p) {
                (Some(v), Some(0)) => v.checked_mul(1000),
                (Some(v), Some(3)) => Some(v),
                (v, p) => millis(v.map(|v| v as f64), p)?,
            };
            out.push(ms.filter(|m| (MIN_MILLIS..=MAX_MILLIS).contains(m)));
        }
    } else {
        let v = cast(&args[0], &DataType::Float64)?;
        for (v, p) in v.as_primitive::<Float64Type>().iter().zip(precisions) {
            let ms = millis(v, p)?;
            out.push(ms.filter(|m| (MIN_MILLIS..=MAX_MILLIS).contains(m)));
        }
    }
    Ok(out
        .into_iter()
        .map(|m| from_units(m?, TimeUnit::Millisecond))
        .collect())
}

fn from_strings(ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<Vec<Option<NaiveDateTime>>> {
    let session = Zone::session(ctx.config)?;
    let strings = args[0].as_string::<i32>();
    let formats = args.get(1).map(|a| a.as_string::<i32>());
    let zones = args.get(2).map(|a| a.as_string::<i32>());
    let mut cache = PatternCache::default();
    let mut out = Vec::with_capacity(strings.len());
    for i in 0..strings.len() {
        if strings.is_null(i)
            || formats.is_some_and(|f| f.is_null(i))
            || zones.is_some_and(|z| z.is_null(i))
        {
            out.push(None);
            continue;
        }
        let s = strings.value(i);
        let (local, explicit) = match formats {
            Some(f) => match cache.get("TO_TIMESTAMP_LTZ", f.value(i))?.parse(s) {
                Some(p) => (p.datetime(), p.explicit_zone()),
                None => (None, None),
            },
            None => (parse_default_timestamp(s), None),
        };
        let zone = match (explicit, zones) {
            (Some(z), _) => z,
            (None, Some(z)) => Zone::parse_or_err(z.value(i), "TO_TIMESTAMP_LTZ")?,
            (None, None) => session,
        };
        out.push(local.map(|dt| zone.to_utc(dt)));
    }
    Ok(out)
}
