//! `EXTRACT(unit FROM timepoint)` and the field functions `YEAR`,
//! `QUARTER`, `MONTH`, `WEEK`, `DAYOFYEAR`, `DAYOFMONTH`, `DAYOFWEEK`,
//! `HOUR`, `MINUTE`, `SECOND`; all BIGINT, with Flink's numbering (DOW 1 =
//! Sunday, ISO weeks).

use std::sync::Arc;

use chrono::{Datelike, NaiveDateTime, Timelike};
use datafusion::arrow::array::{ArrayRef, AsArray, Int64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::temporal::local_datetimes;
use super::zone::Zone;
use crate::builtins::function::{Arg, Builtin, Ctx};

/// A field `EXTRACT` can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Millennium,
    Century,
    Decade,
    Year,
    IsoYear,
    Quarter,
    Month,
    Week,
    Day,
    Dow,
    IsoDow,
    Doy,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
    Nanosecond,
    Epoch,
}

impl Part {
    fn parse(s: &str) -> Result<Part> {
        Ok(match s.trim().to_ascii_uppercase().as_str() {
            "MILLENNIUM" => Part::Millennium,
            "CENTURY" => Part::Century,
            "DECADE" => Part::Decade,
            "YEAR" => Part::Year,
            "ISOYEAR" => Part::IsoYear,
            "QUARTER" => Part::Quarter,
            "MONTH" => Part::Month,
            "WEEK" => Part::Week,
            "DAY" => Part::Day,
            "DOW" | "DAYOFWEEK" => Part::Dow,
            "ISODOW" => Part::IsoDow,
            "DOY" | "DAYOFYEAR" => Part::Doy,
            "HOUR" => Part::Hour,
            "MINUTE" => Part::Minute,
            "SECOND" => Part::Second,
            "MILLISECOND" => Part::Millisecond,
            "MICROSECOND" => Part::Microsecond,
            "NANOSECOND" => Part::Nanosecond,
            "EPOCH" => Part::Epoch,
            other => return exec_err!("EXTRACT: unknown time unit '{other}'"),
        })
    }

    fn of(self, t: &NaiveDateTime) -> i64 {
        let y = i64::from(t.year());
        let nanos = i64::from(t.nanosecond() % 1_000_000_000);
        match self {
            Part::Millennium => {
                if y > 0 {
                    (y + 999) / 1000
                } else {
                    (y - 999) / 1000
                }
            }
            Part::Century => {
                if y > 0 {
                    (y + 99) / 100
                } else {
                    (y - 99) / 100
                }
            }
            Part::Decade => y.div_euclid(10),
            Part::Year => y,
            Part::IsoYear => i64::from(t.iso_week().year()),
            Part::Quarter => i64::from(t.month0() / 3 + 1),
            Part::Month => i64::from(t.month()),
            Part::Week => i64::from(t.iso_week().week()),
            Part::Day => i64::from(t.day()),
            Part::Dow => i64::from(t.weekday().num_days_from_sunday() + 1),
            Part::IsoDow => i64::from(t.weekday().number_from_monday()),
            Part::Doy => i64::from(t.ordinal()),
            Part::Hour => i64::from(t.hour()),
            Part::Minute => i64::from(t.minute()),
            Part::Second => i64::from(t.second()),
            Part::Millisecond => nanos / 1_000_000,
            Part::Microsecond => nanos / 1000,
            Part::Nanosecond => nanos,
            Part::Epoch => t.and_utc().timestamp(),
        }
    }
}

fn extract(ctx: &Ctx<'_>, part: Part, arr: &ArrayRef) -> Result<ArrayRef> {
    let values = local_datetimes(arr, Zone::session(ctx.config)?)?;
    let out: Int64Array = values
        .iter()
        .map(|v| v.as_ref().map(|t| part.of(t)))
        .collect();
    Ok(Arc::new(out))
}

/// `EXTRACT(unit FROM t)` as planned: `extract('unit', t)`.
pub fn extract_udf() -> Arc<ScalarUDF> {
    Builtin::new(
        "extract",
        "EXTRACT(unit FROM timepoint)",
        &[&[Arg::Str, Arg::Temporal]],
        |_| Ok(DataType::Int64),
        |ctx, args| {
            let units = args[0].as_string::<i32>();
            // The unit is a keyword in SQL, so it is the same on every row.
            let unit = units.iter().flatten().next();
            match unit {
                Some(u) => extract(ctx, Part::parse(u)?, &args[1]),
                None => Ok(Arc::new(Int64Array::new_null(args[1].len()))),
            }
        },
    )
    .udf()
}

macro_rules! field_functions {
    ($($name:literal, $syntax:literal => $part:expr;)*) => {
        /// `EXTRACT` and every field function.
        pub fn functions() -> Vec<Arc<ScalarUDF>> {
            vec![
                extract_udf(),
                $(Builtin::new(
                    $name,
                    $syntax,
                    &[&[Arg::Temporal]],
                    |_| Ok(DataType::Int64),
                    |ctx, args| extract(ctx, $part, &args[0]),
                )
                .udf(),)*
            ]
        }
    };
}

field_functions! {
    "year", "YEAR(date)" => Part::Year;
    "quarter", "QUARTER(date)" => Part::Quarter;
    "month", "MONTH(date)" => Part::Month;
    "week", "WEEK(date)" => Part::Week;
    "dayofyear", "DAYOFYEAR(date)" => Part::Doy;
    "dayofmonth", "DAYOFMONTH(date)" => Part::Day;
    "dayofweek", "DAYOFWEEK(date)" => Part::Dow;
    "hour", "HOUR(timestamp)" => Part::Hour;
    "minute", "MINUTE(timestamp)" => Part::Minute;
    "second", "SECOND(timestamp)" => Part::Second;
}
