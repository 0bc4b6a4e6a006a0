//! `FLOOR(timepoint TO unit)` and `CEIL(timepoint TO unit)`, planned as the
//! functions `floor_to(timepoint, 'unit')` and `ceil_to(timepoint, 'unit')`.
//! A TIMESTAMP_LTZ is rounded in the session time zone.

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::temporal::{date_array, local_datetimes, timestamp_array};
use super::unit::{self, Unit};
use super::zone::Zone;
use crate::builtins::function::{Arg, Builtin, Ctx};

/// The function `FLOOR(t TO unit)` is planned as.
pub const FLOOR_TO: &str = "floor_to";
/// The function `CEIL(t TO unit)` is planned as.
pub const CEIL_TO: &str = "ceil_to";

fn return_type(types: &[DataType]) -> Result<DataType> {
    Ok(match &types[0] {
        DataType::Timestamp(u, tz) => DataType::Timestamp(*u, tz.clone()),
        DataType::Date32 | DataType::Date64 => DataType::Date32,
        _ => DataType::Timestamp(TimeUnit::Millisecond, None),
    })
}

pub fn floor_to() -> Arc<ScalarUDF> {
    Builtin::new(
        FLOOR_TO,
        "FLOOR(timepoint TO unit)",
        &[&[Arg::Temporal, Arg::Str]],
        return_type,
        |ctx, args| eval(ctx, args, false),
    )
    .udf()
}

pub fn ceil_to() -> Arc<ScalarUDF> {
    Builtin::new(
        CEIL_TO,
        "CEIL(timepoint TO unit)",
        &[&[Arg::Temporal, Arg::Str]],
        return_type,
        |ctx, args| eval(ctx, args, true),
    )
    .udf()
}

fn eval(ctx: &Ctx<'_>, args: &[ArrayRef], up: bool) -> Result<ArrayRef> {
    let name = if up { "CEIL" } else { "FLOOR" };
    let session = Zone::session(ctx.config)?;
    let ltz = matches!(args[0].data_type(), DataType::Timestamp(_, Some(_)));
    let times = local_datetimes(&args[0], session)?;
    let units = args[1].as_string::<i32>();
    let mut last: Option<(&str, Unit)> = None;
    let mut values = Vec::with_capacity(times.len());
    for (t, u) in times.into_iter().zip(units.iter()) {
        let (Some(t), Some(u)) = (t, u) else {
            values.push(None);
            continue;
        };
        let unit = match last {
            Some((l, unit)) if l == u => unit,
            _ => {
                let unit = Unit::parse(u, name)?;
                last = Some((u, unit));
                unit
            }
        };
        let r = if up {
            unit::ceil(t, unit)
        } else {
            unit::floor(t, unit)
        };
        match r {
            Some(r) => values.push(Some(if ltz { session.to_utc(r) } else { r })),
            None => return exec_err!("{name}({t} TO {u}) is out of range"),
        }
    }
    Ok(match ctx.return_field.data_type() {
        DataType::Date32 => date_array(values.into_iter().map(|v| v.map(|d| d.date()))),
        DataType::Timestamp(unit, tz) => timestamp_array(values, *unit, tz.clone()),
        other => return exec_err!("{name}: unexpected return type {other}"),
    })
}
