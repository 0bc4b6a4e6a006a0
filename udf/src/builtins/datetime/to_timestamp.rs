//! `TO_TIMESTAMP(string[, format])`: a date-time string parsed into a
//! TIMESTAMP(3); NULL when it does not parse.

use std::sync::Arc;

use chrono::{NaiveDateTime, Timelike};
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::PatternCache;
use super::temporal::{parse_default_timestamp, timestamp_array};
use crate::builtins::function::{Arg, Builtin, Ctx};

pub fn udf() -> Arc<ScalarUDF> {
    Builtin::new(
        "to_timestamp",
        "TO_TIMESTAMP(string[, format])",
        &[&[Arg::Str], &[Arg::Str, Arg::Str]],
        |_| Ok(DataType::Timestamp(TimeUnit::Millisecond, None)),
        eval,
    )
    .udf()
}

/// Flink's TO_TIMESTAMP keeps milliseconds.
fn to_millis(dt: NaiveDateTime) -> Option<NaiveDateTime> {
    dt.with_nanosecond(dt.nanosecond() / 1_000_000 * 1_000_000)
}

fn eval(_ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let strings = args[0].as_string::<i32>();
    let values: Vec<Option<NaiveDateTime>> = if let Some(formats) = args.get(1) {
        let mut cache = PatternCache::default();
        let mut out = Vec::with_capacity(strings.len());
        for (s, f) in strings.iter().zip(formats.as_string::<i32>().iter()) {
            out.push(match (s, f) {
                (Some(s), Some(f)) => parse_with(cache.get("TO_TIMESTAMP", f)?, s),
                _ => None,
            });
        }
        out
    } else {
        strings
            .iter()
            .map(|s| parse_default_timestamp(s?))
            .collect()
    };
    Ok(timestamp_array(
        values.into_iter().map(|v| v.and_then(to_millis)),
        TimeUnit::Millisecond,
        None,
    ))
}

/// Parses with the pattern; like Flink, a string the pattern rejects is
/// tried once more as `yyyy-M-d[ H:m:s[.f]]` (`'1999-9-10'` still parses).
pub fn parse_with(pattern: &super::pattern::JavaPattern, s: &str) -> Option<NaiveDateTime> {
    match pattern.parse(s) {
        Some(p) => p.datetime(),
        None => parse_default_timestamp(s.trim()),
    }
}
