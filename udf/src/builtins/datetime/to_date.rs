//! `TO_DATE(string[, format])`: a date string parsed into a DATE; NULL when
//! it does not parse.

use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::PatternCache;
use super::temporal::date_array;
use crate::builtins::function::{Arg, Builtin, Ctx};

pub fn udf() -> Arc<ScalarUDF> {
    Builtin::new(
        "to_date",
        "TO_DATE(string[, format])",
        &[&[Arg::Str], &[Arg::Str, Arg::Str]],
        |_| Ok(DataType::Date32),
        eval,
    )
    .udf()
}

fn eval(_ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let strings = args[0].as_string::<i32>();
    if let Some(formats) = args.get(1) {
        let mut cache = PatternCache::default();
        let mut out = Vec::with_capacity(strings.len());
        for (s, f) in strings.iter().zip(formats.as_string::<i32>().iter()) {
            out.push(match (s, f) {
                (Some(s), Some(f)) => cache
                    .get("TO_DATE", f)?
                    .parse(s)
                    .and_then(|p| p.datetime())
                    .map(|dt| dt.date()),
                _ => None,
            });
        }
        return Ok(date_array(out));
    }
    Ok(date_array(strings.iter().map(|s| parse_date(s?))))
}

/// Flink's lenient date text: `y[-m[-d]]` with optional spaces around the
/// numbers, and anything after the first space ignored
/// (`'2017-12-12 09:30:00'` is a date too).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = match s.find(' ') {
        Some(i) if i > 0 => &s[..i],
        _ => s,
    };
    let int = |t: &str| -> Option<i32> {
        let t = t.trim();
        let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let mut parts = s.splitn(3, '-');
    let y = int(parts.next()?)?;
    let m = parts.next().map(int).unwrap_or(Some(1))?;
    let d = parts.next().map(int).unwrap_or(Some(1))?;
    NaiveDate::from_ymd_opt(y, u32::try_from(m).ok()?, u32::try_from(d).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_dates() {
        let d = |s| parse_date(s).map(|d| d.to_string());
        assert_eq!(d("2024-1-2"), Some("2024-01-02".into()));
        assert_eq!(d("2017-12-12 09:30:00.0"), Some("2017-12-12".into()));
        assert_eq!(d("2024"), Some("2024-01-01".into()));
        assert_eq!(d("2024-02-30"), None);
        assert_eq!(d("abc"), None);
    }
}
