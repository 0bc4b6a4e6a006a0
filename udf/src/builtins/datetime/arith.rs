//! `TIMESTAMPADD(unit, n, timepoint)` and `TIMESTAMPDIFF(unit, timepoint1,
//! timepoint2)`. The SQL forms take the unit as a keyword
//! (`TIMESTAMPADD(HOUR, 1, ts)`); the planner passes it on as a string.

use std::sync::Arc;

use chrono::NaiveDateTime;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Builder};
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::temporal::{date_array, local_datetimes, timestamp_array};
use super::unit::{self, Unit};
use super::zone::Zone;
use crate::builtins::function::{Arg, Builtin, Ctx};

pub fn timestampadd() -> Arc<ScalarUDF> {
    Builtin::new(
        "timestampadd",
        "TIMESTAMPADD(unit, interval, timepoint)",
        &[&[Arg::Str, Arg::Int, Arg::Temporal]],
        add_return_type,
        add_eval,
    )
    .udf()
}

pub fn timestampdiff() -> Arc<ScalarUDF> {
    Builtin::new(
        "timestampdiff",
        "TIMESTAMPDIFF(unit, timepoint1, timepoint2)",
        &[&[Arg::Str, Arg::Temporal, Arg::Temporal]],
        |_| Ok(DataType::Int32),
        diff_eval,
    )
    .udf()
}

/// A DATE stays a DATE (whole days are added to it; smaller units make it
/// a TIMESTAMP(3)); a string is read as a TIMESTAMP(3).
fn add_return_type(types: &[DataType]) -> Result<DataType> {
    Ok(match &types[2] {
        DataType::Timestamp(u, tz) => DataType::Timestamp(*u, tz.clone()),
        DataType::Date32 | DataType::Date64 => DataType::Date32,
        _ => DataType::Timestamp(TimeUnit::Millisecond, None),
    })
}

/// The single unit of a batch (constant in practice).
fn units(arr: &ArrayRef, function: &str) -> Result<Vec<Option<Unit>>> {
    let s = arr.as_string::<i32>();
    let mut last: Option<(&str, Unit)> = None;
    let mut out = Vec::with_capacity(s.len());
    for v in s.iter() {
        out.push(match v {
            None => None,
            Some(v) => match last {
                Some((l, u)) if l == v => Some(u),
                _ => {
                    let u = Unit::parse(v, function)?;
                    last = Some((v, u));
                    Some(u)
                }
            },
        });
    }
    Ok(out)
}

fn add_eval(ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let session = Zone::session(ctx.config)?;
    let units = units(&args[0], "TIMESTAMPADD")?;
    let amounts = args[1].as_primitive::<Int64Type>();
    let ltz = matches!(args[2].data_type(), DataType::Timestamp(_, Some(_)));
    let times = local_datetimes(&args[2], session)?;
    let ret = ctx.return_field.data_type();
    let mut values = Vec::with_capacity(times.len());
    for ((u, n), t) in units.into_iter().zip(amounts.iter()).zip(times) {
        let (Some(u), Some(n), Some(t)) = (u, n, t) else {
            values.push(None);
            continue;
        };
        if ret == &DataType::Date32 && !u.is_date_unit() {
            return exec_err!(
                "TIMESTAMPADD: cannot add {u:?} to a DATE; cast it to TIMESTAMP first"
            );
        }
        // Sub-day units move an instant; calendar units move the wall clock.
        let v = if ltz && !u.is_date_unit() {
            unit::add(session.to_utc(t), u, n).map(|x| session.local(x))
        } else {
            unit::add(t, u, n)
        };
        match v {
            Some(v) => values.push(Some(v)),
            None => return exec_err!("TIMESTAMPADD: {n} {u:?} added to {t} overflows"),
        }
    }
    Ok(match ret {
        DataType::Date32 => date_array(values.into_iter().map(|v| v.map(|d| d.date()))),
        DataType::Timestamp(unit, tz) => {
            let values = values
                .into_iter()
                .map(|v| v.map(|d| to_storage(d, ltz, session)));
            timestamp_array(values, *unit, tz.clone())
        }
        other => return exec_err!("TIMESTAMPADD: unexpected return type {other}"),
    })
}

/// LTZ values are stored as UTC instants.
fn to_storage(local: NaiveDateTime, ltz: bool, session: Zone) -> NaiveDateTime {
    if ltz { session.to_utc(local) } else { local }
}

fn diff_eval(ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let session = Zone::session(ctx.config)?;
    let units = units(&args[0], "TIMESTAMPDIFF")?;
    let a = local_datetimes(&args[1], session)?;
    let b = local_datetimes(&args[2], session)?;
    let mut out = Int32Builder::with_capacity(a.len());
    for ((u, a), b) in units.into_iter().zip(a).zip(b) {
        match (u, a, b) {
            (Some(u), Some(a), Some(b)) => match unit::diff(a, b, u) {
                Some(d) => match i32::try_from(d) {
                    Ok(d) => out.append_value(d),
                    Err(_) => {
                        return exec_err!(
                            "TIMESTAMPDIFF: {d} {u:?}s between {a} and {b} does not fit an INT"
                        );
                    }
                },
                None => out.append_null(),
            },
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}
