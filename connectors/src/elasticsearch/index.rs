//! The `index` option, static or dynamic, as Flink's `IndexGeneratorFactory`
//! reads it:
//!
//! * `'users'` — every document goes to `users`;
//! * `'idx-{field}'` — the field's value as text (VARCHAR, CHAR, TINYINT,
//!   INT, BIGINT and the time types); NULL becomes `null`;
//! * `'log-{ts|yyyy-MM-dd}'` — a DATE, TIME, TIMESTAMP or TIMESTAMP_LTZ
//!   field formatted with a Java date pattern (TIMESTAMP_LTZ in UTC, as
//!   Flink does); an empty pattern (`{ts|}`) takes Flink's default for the
//!   type (`yyyy_MM_dd`, `HH_mm_ss`, `yyyy_MM_dd_HH_mm_ss`,
//!   `yyyy_MM_dd_HH_mm_ssX`);
//! * `'log-{now()|yyyy-MM-dd}'` (also `NOW()`, `current_timestamp`) — the
//!   wall clock in the machine's time zone when the row is written.
//!
//! Only one `{..}` is allowed, as in Flink.

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, NaiveTime, Offset};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Schema, Time32MillisecondType, Time32SecondType, Time64MicrosecondType,
    Time64NanosecondType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use sluice_engine::display::{DisplayStyle, ValueFormatter};
use sluice_udf::builtins::datetime::pattern::{FormatZone, JavaPattern};
use sluice_udf::builtins::datetime::zone::Zone;

/// Where each row's document goes.
#[derive(Debug, Clone)]
pub struct IndexGenerator {
    prefix: String,
    suffix: String,
    part: Part,
}

#[derive(Debug, Clone)]
enum Part {
    /// A static index: `prefix` is the whole name.
    Static,
    /// A field's value as text.
    Field(usize),
    /// A time field formatted with a pattern.
    Time(usize, JavaPattern),
    /// The wall clock formatted with a pattern.
    Now(JavaPattern),
}

const NOW_NAMES: &[&str] = &["now()", "current_timestamp"];

impl IndexGenerator {
    /// Parses `index` for a table with `schema`, or explains what is wrong.
    pub fn new(index: &str, schema: &Schema) -> Result<Self, String> {
        let opens = index.matches('{').count();
        if opens == 0 {
            if index.contains('}') {
                return Err(format!("unbalanced '}}' in index pattern '{index}'"));
            }
            return Ok(Self {
                prefix: index.to_string(),
                suffix: String::new(),
                part: Part::Static,
            });
        }
        if opens > 1 {
            return Err(format!(
                "chaining dynamic index pattern '{index}' is not supported, \
                 only a single dynamic index pattern is"
            ));
        }
        let start = index.find('{').unwrap_or(0);
        let end = index[start..]
            .find('}')
            .map(|e| start + e)
            .ok_or_else(|| format!("missing '}}' in index pattern '{index}'"))?;
        let inner = &index[start + 1..end];
        let prefix = index[..start].to_string();
        let suffix = index[end + 1..].to_string();
        let (name, format) = match inner.split_once('|') {
            Some((n, f)) => (n.trim(), Some(f)),
            None => (inner.trim(), None),
        };
        let compile = |pattern: &str| {
            JavaPattern::compile(pattern)
                .map_err(|e| format!("bad date format '{pattern}' in index '{index}': {e}"))
        };
        if NOW_NAMES.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            let Some(format) = format else {
                return Err(format!(
                    "index '{index}': '{{{name}}}' needs a date format, e.g. '{{{name}|yyyy-MM-dd}}'"
                ));
            };
            let pattern = if format.is_empty() {
                "yyyy_MM_dd_HH_mm_ssX"
            } else {
                format
            };
            return Ok(Self {
                prefix,
                suffix,
                part: Part::Now(compile(pattern)?),
            });
        }
        let column = schema.index_of(name).map_err(|_| {
            format!(
                "unknown field '{name}' in index pattern '{index}', please check the field name"
            )
        })?;
        let dt = schema.field(column).data_type();
        let is_time = matches!(
            dt,
            DataType::Date32 | DataType::Time32(_) | DataType::Time64(_) | DataType::Timestamp(..)
        );
        let part = match format {
            Some(format) => {
                if !is_time {
                    return Err(format!(
                        "unsupported type {dt} of field '{name}' in index pattern '{index}': \
                         a date format needs DATE, TIME, TIMESTAMP or TIMESTAMP_LTZ"
                    ));
                }
                let pattern = if format.is_empty() {
                    default_format(dt)
                } else {
                    format
                };
                Part::Time(column, compile(pattern)?)
            }
            None => {
                let general = matches!(
                    dt,
                    DataType::Utf8 | DataType::Int8 | DataType::Int32 | DataType::Int64
                );
                if !(general || is_time) {
                    return Err(format!(
                        "unsupported type {dt} of index field '{name}'; supported types are \
                         DATE, TIME, TIMESTAMP, TIMESTAMP_LTZ, VARCHAR, CHAR, TINYINT, INT, BIGINT"
                    ));
                }
                Part::Field(column)
            }
        };
        Ok(Self {
            prefix,
            suffix,
            part,
        })
    }

    /// The static index name, when the index does not depend on the row.
    pub fn static_name(&self) -> Option<&str> {
        matches!(self.part, Part::Static).then_some(self.prefix.as_str())
    }

    /// A per-batch view that names each row's index.
    pub fn for_batch<'a>(&'a self, rows: &'a RecordBatch) -> BatchIndex<'a> {
        let column = match &self.part {
            Part::Static => Column::None,
            Part::Now(pattern) => {
                let now: DateTime<Local> = Local::now();
                let zone = FormatZone {
                    offset_secs: now.offset().fix().local_minus_utc(),
                    zone: Zone::Fixed(now.offset().fix()),
                };
                let mut text = String::new();
                let _ = pattern.format(&now.naive_local(), Some(zone), &mut text);
                Column::Fixed(text)
            }
            Part::Field(c) => Column::Text(ValueFormatter::new(
                rows.column(*c).as_ref(),
                DisplayStyle::Print,
            )),
            Part::Time(c, pattern) => Column::Time(rows.column(*c).as_ref(), pattern),
        };
        BatchIndex {
            generator: self,
            column,
        }
    }
}

/// Flink's default format for `{field|}`.
fn default_format(dt: &DataType) -> &'static str {
    match dt {
        DataType::Date32 => "yyyy_MM_dd",
        DataType::Time32(_) | DataType::Time64(_) => "HH_mm_ss",
        DataType::Timestamp(_, Some(_)) => "yyyy_MM_dd_HH_mm_ssX",
        _ => "yyyy_MM_dd_HH_mm_ss",
    }
}

enum Column<'a> {
    None,
    Fixed(String),
    Text(ValueFormatter<'a>),
    Time(&'a dyn Array, &'a JavaPattern),
}

/// Names the index of each row of one batch.
pub struct BatchIndex<'a> {
    generator: &'a IndexGenerator,
    column: Column<'a>,
}

impl BatchIndex<'_> {
    /// Appends row `row`'s index name to `out`. A date format that cannot
    /// render a value (e.g. a zone letter) is an error naming the pattern.
    pub fn write(&self, row: usize, out: &mut String) -> Result<(), String> {
        out.push_str(&self.generator.prefix);
        match &self.column {
            Column::None => return Ok(()),
            Column::Fixed(text) => out.push_str(text),
            Column::Text(f) => f.write(out, row),
            Column::Time(array, pattern) => {
                if array.is_null(row) {
                    out.push_str("null");
                } else {
                    let (value, utc) = time_value(*array, row).ok_or_else(|| {
                        format!("value of type {} has no time", array.data_type())
                    })?;
                    let zone = utc.then_some(FormatZone {
                        offset_secs: 0,
                        zone: Zone::UTC,
                    });
                    pattern.format(&value, zone, out)?;
                }
            }
        }
        out.push_str(&self.generator.suffix);
        Ok(())
    }
}

/// The value at `row` as a local date-time (DATE at midnight, TIME on
/// 1970-01-01) and whether it is an instant shown in UTC.
fn time_value(array: &dyn Array, row: usize) -> Option<(NaiveDateTime, bool)> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    let time_of_day = |nanos: i64| {
        let secs = u32::try_from(nanos.div_euclid(1_000_000_000)).ok()?;
        let frac = u32::try_from(nanos.rem_euclid(1_000_000_000)).ok()?;
        NaiveTime::from_num_seconds_from_midnight_opt(secs, frac).map(|t| epoch.and_time(t))
    };
    let value = match array.data_type() {
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>().value(row);
            epoch
                .checked_add_signed(chrono::Duration::days(i64::from(days)))?
                .and_hms_opt(0, 0, 0)?
        }
        DataType::Time32(TimeUnit::Second) => time_of_day(
            i64::from(array.as_primitive::<Time32SecondType>().value(row)) * 1_000_000_000,
        )?,
        DataType::Time32(_) => time_of_day(
            i64::from(array.as_primitive::<Time32MillisecondType>().value(row)) * 1_000_000,
        )?,
        DataType::Time64(TimeUnit::Microsecond) => {
            time_of_day(array.as_primitive::<Time64MicrosecondType>().value(row) * 1_000)?
        }
        DataType::Time64(_) => {
            time_of_day(array.as_primitive::<Time64NanosecondType>().value(row))?
        }
        DataType::Timestamp(unit, tz) => {
            let v = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row),
                TimeUnit::Millisecond => {
                    array.as_primitive::<TimestampMillisecondType>().value(row)
                }
                TimeUnit::Microsecond => {
                    array.as_primitive::<TimestampMicrosecondType>().value(row)
                }
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row),
            };
            let dt = match unit {
                TimeUnit::Second => DateTime::from_timestamp(v, 0),
                TimeUnit::Millisecond => DateTime::from_timestamp_millis(v),
                TimeUnit::Microsecond => DateTime::from_timestamp_micros(v),
                TimeUnit::Nanosecond => Some(DateTime::from_timestamp_nanos(v)),
            }?;
            return Some((dt.naive_utc(), tz.is_some()));
        }
        _ => return None,
    };
    Some((value, false))
}
