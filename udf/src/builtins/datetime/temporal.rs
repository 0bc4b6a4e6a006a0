//! Reading TIMESTAMP, TIMESTAMP_LTZ, DATE and date-time strings out of Arrow
//! arrays as wall-clock date-times, and writing them back.
//!
//! A TIMESTAMP is a wall-clock time already; a TIMESTAMP_LTZ (an Arrow
//! timestamp with a zone) is an instant, seen in the session time zone, as
//! Flink does; a string is read with Flink's default timestamp format.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Date32Array, PrimitiveArray};
use datafusion::arrow::datatypes::{
    ArrowTimestampType, DataType, Date32Type, Date64Type, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use datafusion::common::{Result, exec_err};

use super::zone::Zone;

/// The Unix epoch as a wall-clock date-time.
pub fn epoch() -> NaiveDateTime {
    DateTime::UNIX_EPOCH.naive_utc()
}

/// A timestamp value in `unit` as a date-time (UTC or wall clock).
pub fn from_units(v: i64, unit: TimeUnit) -> Option<NaiveDateTime> {
    let dt = match unit {
        TimeUnit::Second => DateTime::from_timestamp(v, 0)?,
        TimeUnit::Millisecond => DateTime::from_timestamp_millis(v)?,
        TimeUnit::Microsecond => DateTime::from_timestamp_micros(v)?,
        TimeUnit::Nanosecond => DateTime::from_timestamp_nanos(v),
    };
    Some(dt.naive_utc())
}

/// A date-time as a timestamp value in `unit` (fractions below the unit
/// are truncated).
pub fn to_units(dt: NaiveDateTime, unit: TimeUnit) -> Option<i64> {
    let utc = dt.and_utc();
    match unit {
        TimeUnit::Second => Some(utc.timestamp()),
        TimeUnit::Millisecond => Some(utc.timestamp_millis()),
        TimeUnit::Microsecond => Some(utc.timestamp_micros()),
        TimeUnit::Nanosecond => utc.timestamp_nanos_opt(),
    }
}

/// Days since the epoch of a date.
pub fn to_days(d: NaiveDate) -> i32 {
    (d - epoch().date()).num_days() as i32
}

/// Reads every value of `arr` (TIMESTAMP, TIMESTAMP_LTZ, DATE or STRING)
/// as a wall-clock date-time; LTZ values are seen in `session`. NULLs and
/// unparsable strings are `None`.
pub fn local_datetimes(arr: &ArrayRef, session: Zone) -> Result<Vec<Option<NaiveDateTime>>> {
    fn ts<T: ArrowTimestampType>(
        arr: &ArrayRef,
        unit: TimeUnit,
        zone: Option<Zone>,
    ) -> Vec<Option<NaiveDateTime>> {
        arr.as_primitive::<T>()
            .iter()
            .map(|v| {
                let dt = from_units(v?, unit)?;
                Some(zone.map_or(dt, |z| z.local(dt)))
            })
            .collect()
    }
    Ok(match arr.data_type() {
        DataType::Timestamp(unit, tz) => {
            let zone = tz.as_ref().map(|_| session);
            match unit {
                TimeUnit::Second => ts::<TimestampSecondType>(arr, *unit, zone),
                TimeUnit::Millisecond => ts::<TimestampMillisecondType>(arr, *unit, zone),
                TimeUnit::Microsecond => ts::<TimestampMicrosecondType>(arr, *unit, zone),
                TimeUnit::Nanosecond => ts::<TimestampNanosecondType>(arr, *unit, zone),
            }
        }
        DataType::Date32 => arr
            .as_primitive::<Date32Type>()
            .iter()
            .map(|d| Some(epoch() + chrono::Duration::days(i64::from(d?))))
            .collect(),
        DataType::Date64 => arr
            .as_primitive::<Date64Type>()
            .iter()
            .map(|d| from_units(d?, TimeUnit::Millisecond))
            .collect(),
        DataType::Utf8 => arr
            .as_string::<i32>()
            .iter()
            .map(|s| parse_default_timestamp(s?))
            .collect(),
        DataType::Null => vec![None; arr.len()],
        other => return exec_err!("expected a TIMESTAMP, DATE or STRING, got {other}"),
    })
}

/// Builds a timestamp array in `unit` (with `tz` for TIMESTAMP_LTZ).
pub fn timestamp_array(
    values: impl IntoIterator<Item = Option<NaiveDateTime>>,
    unit: TimeUnit,
    tz: Option<Arc<str>>,
) -> ArrayRef {
    fn build<T: ArrowTimestampType>(
        values: impl IntoIterator<Item = Option<NaiveDateTime>>,
        unit: TimeUnit,
        tz: Option<Arc<str>>,
    ) -> ArrayRef {
        let arr: PrimitiveArray<T> = values
            .into_iter()
            .map(|v| v.and_then(|dt| to_units(dt, unit)))
            .collect();
        Arc::new(arr.with_timezone_opt(tz))
    }
    match unit {
        TimeUnit::Second => build::<TimestampSecondType>(values, unit, tz),
        TimeUnit::Millisecond => build::<TimestampMillisecondType>(values, unit, tz),
        TimeUnit::Microsecond => build::<TimestampMicrosecondType>(values, unit, tz),
        TimeUnit::Nanosecond => build::<TimestampNanosecondType>(values, unit, tz),
    }
}

/// Builds a DATE array.
pub fn date_array(values: impl IntoIterator<Item = Option<NaiveDate>>) -> ArrayRef {
    let arr: Date32Array = values.into_iter().map(|d| d.map(to_days)).collect();
    Arc::new(arr)
}

/// Flink's default timestamp text: `yyyy-M[M]-d[d]`, optionally followed by
/// ` H[H]:m[m]:s[s]` and a fraction of up to nine digits.
pub fn parse_default_timestamp(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    let mut pos = 0;
    let num = |pos: &mut usize, min: usize, max: usize| -> Option<u32> {
        let n = b[*pos..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
            .min(max);
        if n < min {
            return None;
        }
        let v = s[*pos..*pos + n].parse().ok()?;
        *pos += n;
        Some(v)
    };
    let expect =
        |pos: &mut usize, c: u8| -> Option<()> { (b.get(*pos) == Some(&c)).then(|| *pos += 1) };
    let year = num(&mut pos, 4, 9)?;
    expect(&mut pos, b'-')?;
    let month = num(&mut pos, 1, 2)?;
    expect(&mut pos, b'-')?;
    let day = num(&mut pos, 1, 2)?;
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    if pos == b.len() {
        return date.and_hms_opt(0, 0, 0);
    }
    expect(&mut pos, b' ')?;
    let h = num(&mut pos, 1, 2)?;
    expect(&mut pos, b':')?;
    let m = num(&mut pos, 1, 2)?;
    expect(&mut pos, b':')?;
    let sec = num(&mut pos, 1, 2)?;
    let mut nanos = 0u32;
    if pos < b.len() {
        expect(&mut pos, b'.')?;
        let start = pos;
        let frac = num(&mut pos, 0, 9)?;
        nanos = frac * 10u32.pow(9 - (pos - start) as u32);
    }
    if pos != b.len() {
        return None;
    }
    date.and_hms_nano_opt(h, m, sec, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_format_is_lenient_about_widths() {
        let p = parse_default_timestamp;
        assert_eq!(
            p("2024-1-2 3:4:5.5").map(|d| d.to_string()),
            Some("2024-01-02 03:04:05.500".to_string())
        );
        assert_eq!(
            p("2024-01-02").map(|d| d.to_string()),
            Some("2024-01-02 00:00:00".to_string())
        );
        assert_eq!(p("2024-01-02T03:04:05"), None);
        assert_eq!(p("2024-02-30"), None);
        assert_eq!(p("24-01-02"), None);
    }
}
