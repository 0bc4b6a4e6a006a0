//! Reading result rows into Arrow builders. The scan's SELECT casts every
//! column to one canonical database type per Flink type ([`select_expr`]),
//! so each column decodes with exactly one Rust type, whatever the table
//! declares (`INT UNSIGNED`, `MEDIUMINT`, `uuid`, `json`, ...).

use std::sync::Arc;

use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use datafusion::arrow::array::{
    Array, ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder,
    Float32Builder, Float64Builder, Int8Builder, Int16Builder, Int32Builder, Int64Array,
    Int64Builder, ListArray, PrimitiveArray, StringBuilder, new_empty_array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{
    DataType, Field, FieldRef, Time32MillisecondType, Time32SecondType, Time64MicrosecondType,
    Time64NanosecondType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use datafusion::arrow::record_batch::RecordBatch;
use sqlx::Row;
use sqlx::mysql::MySqlRow;
use sqlx::postgres::PgRow;

use super::dialect::Dialect;

/// The SELECT-list expression for column `name` read as `data_type`.
pub fn select_expr(dialect: Dialect, name: &str, data_type: &DataType) -> String {
    let col = dialect.quote(name);
    let target = match dialect {
        Dialect::MySql => mysql_cast(data_type),
        Dialect::Postgres => pg_cast(data_type),
    };
    match target {
        Some(t) => format!("CAST({col} AS {t})"),
        None => col,
    }
}

fn mysql_cast(dt: &DataType) -> Option<String> {
    Some(match dt {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => "SIGNED".into(),
        DataType::Float32 | DataType::Float64 => "DOUBLE".into(),
        DataType::Decimal128(p, s) => format!("DECIMAL({p}, {s})"),
        DataType::Utf8 => "CHAR".into(),
        DataType::Binary => "BINARY".into(),
        DataType::Date32 => "DATE".into(),
        DataType::Time32(u) | DataType::Time64(u) => format!("TIME({})", fraction_digits(*u)),
        DataType::Timestamp(u, _) => format!("DATETIME({})", fraction_digits(*u)),
        // BOOLEAN is TINYINT(1) or BIT(1): read as it is.
        _ => return None,
    })
}

fn pg_cast(dt: &DataType) -> Option<String> {
    Some(match dt {
        DataType::Boolean => "boolean".into(),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => "int8".into(),
        DataType::Float32 | DataType::Float64 => "float8".into(),
        DataType::Decimal128(..) => "numeric".into(),
        DataType::Utf8 => "text".into(),
        DataType::Binary => "bytea".into(),
        DataType::Date32 => "date".into(),
        DataType::Time32(_) | DataType::Time64(_) => "time".into(),
        DataType::Timestamp(_, None) => "timestamp".into(),
        DataType::Timestamp(_, Some(_)) => "timestamptz".into(),
        DataType::List(f) => format!("{}[]", pg_cast(f.data_type())?),
        _ => return None,
    })
}

fn fraction_digits(u: TimeUnit) -> u8 {
    match u {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        _ => 6,
    }
}

/// One output column being built.
enum Column {
    Bool(BooleanBuilder),
    I8(Int8Builder),
    I16(Int16Builder),
    I32(Int32Builder),
    I64(Int64Builder),
    F32(Float32Builder),
    F64(Float64Builder),
    Decimal(Decimal128Builder, i8),
    Str(StringBuilder),
    Bytes(BinaryBuilder),
    Date(Date32Builder),
    /// TIME and TIMESTAMP values in the column's unit, typed at `finish`.
    Time(Vec<Option<i64>>, TimeUnit),
    Timestamp(Vec<Option<i64>>, TimeUnit, DataType),
    /// ARRAY values, one small array per row, joined at `finish`.
    List(Vec<Option<ArrayRef>>, FieldRef),
}

/// Decodes cell `$i` of `$row` into `$col`. A macro rather than a generic
/// function: sqlx's per-database trait bounds would otherwise be listed for
/// every Rust type.
macro_rules! append {
    ($row:expr, $i:expr, $col:expr, $db:ident) => {{
        let row = $row;
        let i = $i;
        let r: Result<(), String> = match $col {
            Column::Bool(b) => get::<bool>(row.try_get(i)).map(|v| b.append_option(v)),
            Column::I8(b) => int(row.try_get(i)).map(|v| b.append_option(v)),
            Column::I16(b) => int(row.try_get(i)).map(|v| b.append_option(v)),
            Column::I32(b) => int(row.try_get(i)).map(|v| b.append_option(v)),
            Column::I64(b) => get::<i64>(row.try_get(i)).map(|v| b.append_option(v)),
            Column::F32(b) => {
                get::<f64>(row.try_get(i)).map(|v| b.append_option(v.map(|f| f as f32)))
            }
            Column::F64(b) => get::<f64>(row.try_get(i)).map(|v| b.append_option(v)),
            Column::Decimal(b, s) => get::<BigDecimal>(row.try_get(i))
                .and_then(|v| v.map(|d| decimal_to_i128(&d, *s)).transpose())
                .map(|v| b.append_option(v)),
            Column::Str(b) => get::<&str>(row.try_get(i)).map(|v| b.append_option(v)),
            Column::Bytes(b) => get::<&[u8]>(row.try_get(i)).map(|v| b.append_option(v)),
            Column::Date(b) => {
                get::<NaiveDate>(row.try_get(i)).map(|v| b.append_option(v.map(days)))
            }
            Column::Time(v, u) => {
                get::<NaiveTime>(row.try_get(i)).map(|t| v.push(t.map(|t| time_in(t, *u))))
            }
            Column::Timestamp(v, u, dt) => {
                timestamp!(row, i, dt, $db).map(|t| v.push(t.and_then(|t| timestamp_in(t, *u))))
            }
            Column::List(v, f) => list!(row, i, f, $db).map(|a| v.push(a)),
        };
        r
    }};
}

/// A TIMESTAMP(_LTZ) cell as a UTC instant. PostgreSQL reads `timestamptz`
/// as an instant; MySQL's session runs in UTC, so its DATETIME is UTC.
macro_rules! timestamp {
    ($row:expr, $i:expr, $dt:expr, pg) => {
        match $dt {
            DataType::Timestamp(_, Some(_)) => get::<DateTime<Utc>>($row.try_get($i)),
            _ => get::<NaiveDateTime>($row.try_get($i)).map(|t| t.map(|t| t.and_utc())),
        }
    };
    ($row:expr, $i:expr, $dt:expr, mysql) => {{
        let _ = $dt;
        get::<NaiveDateTime>($row.try_get($i)).map(|t| t.map(|t| t.and_utc()))
    }};
}

macro_rules! list {
    ($row:expr, $i:expr, $f:expr, mysql) => {{
        let _ = ($row, $i, $f);
        Err::<Option<ArrayRef>, String>("MySQL has no ARRAY type".to_string())
    }};
    ($row:expr, $i:expr, $f:expr, pg) => {{
        let (row, i, f): (&PgRow, usize, &FieldRef) = ($row, $i, $f);
        pg_list(row, i, f.data_type())
    }};
}

/// Builds record batches of the scan's output schema from database rows.
pub struct BatchBuilder {
    schema: datafusion::arrow::datatypes::SchemaRef,
    columns: Vec<Column>,
    rows: usize,
}

impl BatchBuilder {
    /// A builder for `schema`; `Err` names a column type the source cannot
    /// read (rejected at CREATE TABLE already).
    pub fn new(schema: datafusion::arrow::datatypes::SchemaRef) -> Result<Self, String> {
        let columns = schema
            .fields()
            .iter()
            .map(|f| {
                column_for(f.data_type()).ok_or_else(|| {
                    format!(
                        "column '{}': type {} cannot be read",
                        f.name(),
                        f.data_type()
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            schema,
            columns,
            rows: 0,
        })
    }

    /// Rows appended since the last [`BatchBuilder::finish`].
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True when no row is pending.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends one MySQL/MariaDB row.
    pub fn push_mysql(&mut self, row: &MySqlRow) -> Result<(), String> {
        for (i, col) in self.columns.iter_mut().enumerate() {
            append!(row, i, col, mysql).map_err(|e| cell_error(&self.schema, i, e))?;
        }
        self.rows += 1;
        Ok(())
    }

    /// Appends one PostgreSQL row.
    pub fn push_pg(&mut self, row: &PgRow) -> Result<(), String> {
        for (i, col) in self.columns.iter_mut().enumerate() {
            append!(row, i, col, pg).map_err(|e| cell_error(&self.schema, i, e))?;
        }
        self.rows += 1;
        Ok(())
    }

    /// The pending rows as a batch; the builder starts over.
    pub fn finish(&mut self) -> Result<RecordBatch, String> {
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(finish_column)
            .collect::<Result<_, _>>()?;
        let rows = std::mem::take(&mut self.rows);
        let options =
            datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options)
            .map_err(|e| e.to_string())
    }
}

fn cell_error(schema: &datafusion::arrow::datatypes::SchemaRef, i: usize, e: String) -> String {
    format!("column '{}': {e}", schema.field(i).name())
}

fn column_for(dt: &DataType) -> Option<Column> {
    Some(match dt {
        DataType::Boolean => Column::Bool(BooleanBuilder::new()),
        DataType::Int8 => Column::I8(Int8Builder::new()),
        DataType::Int16 => Column::I16(Int16Builder::new()),
        DataType::Int32 => Column::I32(Int32Builder::new()),
        DataType::Int64 => Column::I64(Int64Builder::new()),
        DataType::Float32 => Column::F32(Float32Builder::new()),
        DataType::Float64 => Column::F64(Float64Builder::new()),
        DataType::Decimal128(p, s) => Column::Decimal(
            Decimal128Builder::new()
                .with_precision_and_scale(*p, *s)
                .ok()?,
            *s,
        ),
        DataType::Utf8 => Column::Str(StringBuilder::new()),
        DataType::Binary => Column::Bytes(BinaryBuilder::new()),
        DataType::Date32 => Column::Date(Date32Builder::new()),
        DataType::Time32(u) | DataType::Time64(u) => Column::Time(Vec::new(), *u),
        DataType::Timestamp(u, _) => Column::Timestamp(Vec::new(), *u, dt.clone()),
        DataType::List(f) if column_for(f.data_type()).is_some() => {
            Column::List(Vec::new(), f.clone())
        }
        _ => return None,
    })
}

fn pg_list(row: &PgRow, i: usize, element: &DataType) -> Result<Option<ArrayRef>, String> {
    let mut builder =
        BatchBuilder::new(Arc::new(datafusion::arrow::datatypes::Schema::new(vec![
            Field::new("element", element.clone(), true),
        ])))?;
    let column = &mut builder.columns[0];
    let mut n = 0;
    macro_rules! fill {
        ($t:ty, $make:expr) => {{
            let Some(values) = get::<Vec<Option<$t>>>(row.try_get(i))? else {
                return Ok(None);
            };
            for v in values {
                push_scalar(&mut *column, v.map($make))?;
                n += 1;
            }
        }};
    }
    match element {
        DataType::Boolean => fill!(bool, Scalar::Bool),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            fill!(i64, Scalar::Int)
        }
        DataType::Float32 | DataType::Float64 => fill!(f64, Scalar::Float),
        DataType::Utf8 => fill!(String, Scalar::Str),
        DataType::Date32 => fill!(NaiveDate, Scalar::Date),
        DataType::Decimal128(..) => fill!(BigDecimal, Scalar::Decimal),
        DataType::Timestamp(_, Some(_)) => fill!(DateTime<Utc>, Scalar::Ts),
        DataType::Timestamp(_, None) => {
            fill!(NaiveDateTime, |t: NaiveDateTime| Scalar::Ts(t.and_utc()))
        }
        other => return Err(format!("ARRAY of {other} cannot be read")),
    }
    builder.rows = n;
    let batch = builder.finish()?;
    Ok(Some(batch.column(0).clone()))
}

/// One array element, for [`pg_list`].
enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Date(NaiveDate),
    Decimal(BigDecimal),
    Ts(DateTime<Utc>),
}

fn push_scalar(c: &mut Column, v: Option<Scalar>) -> Result<(), String> {
    match (c, v) {
        (Column::Bool(b), v) => b.append_option(v.and_then(|s| match s {
            Scalar::Bool(x) => Some(x),
            _ => None,
        })),
        (Column::I8(b), v) => b.append_option(v.map(narrow).transpose()?),
        (Column::I16(b), v) => b.append_option(v.map(narrow).transpose()?),
        (Column::I32(b), v) => b.append_option(v.map(narrow).transpose()?),
        (Column::I64(b), v) => b.append_option(v.map(narrow).transpose()?),
        (Column::F32(b), v) => b.append_option(v.and_then(|s| match s {
            Scalar::Float(x) => Some(x as f32),
            _ => None,
        })),
        (Column::F64(b), v) => b.append_option(v.and_then(|s| match s {
            Scalar::Float(x) => Some(x),
            _ => None,
        })),
        (Column::Str(b), v) => b.append_option(v.and_then(|s| match s {
            Scalar::Str(x) => Some(x),
            _ => None,
        })),
        (Column::Date(b), v) => b.append_option(v.and_then(|s| match s {
            Scalar::Date(x) => Some(days(x)),
            _ => None,
        })),
        (Column::Decimal(b, scale), v) => {
            let d = match v {
                Some(Scalar::Decimal(d)) => Some(decimal_to_i128(&d, *scale)?),
                _ => None,
            };
            b.append_option(d)
        }
        (Column::Timestamp(vals, u, _), v) => vals.push(match v {
            Some(Scalar::Ts(t)) => timestamp_in(t, *u),
            _ => None,
        }),
        _ => return Err("unsupported ARRAY element".into()),
    }
    Ok(())
}

fn narrow<T: TryFrom<i64>>(s: Scalar) -> Result<T, String> {
    match s {
        Scalar::Int(v) => T::try_from(v).map_err(|_| format!("value {v} out of range")),
        _ => Err("expected an integer".into()),
    }
}

/// A nullable cell, with sqlx's error as text.
fn get<T>(r: Result<Option<T>, sqlx::Error>) -> Result<Option<T>, String> {
    r.map_err(|e| e.to_string())
}

/// An integer cell (read as BIGINT) narrowed to the column's type.
fn int<T: TryFrom<i64>>(r: Result<Option<i64>, sqlx::Error>) -> Result<Option<T>, String> {
    match get(r)? {
        None => Ok(None),
        Some(v) => T::try_from(v)
            .map(Some)
            .map_err(|_| format!("value {v} is out of range for the column's type")),
    }
}

/// A decimal rescaled to `scale` (rounding half up) as Arrow's i128.
fn decimal_to_i128(d: &BigDecimal, scale: i8) -> Result<i128, String> {
    let scaled = d.with_scale_round(i64::from(scale), bigdecimal::RoundingMode::HalfUp);
    let (digits, _) = scaled.into_bigint_and_exponent();
    i128::try_from(digits).map_err(|_| format!("decimal {d} does not fit DECIMAL(38, {scale})"))
}

fn days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

fn time_in(t: NaiveTime, unit: TimeUnit) -> i64 {
    let nanos =
        i64::from(t.num_seconds_from_midnight()) * 1_000_000_000 + i64::from(t.nanosecond());
    match unit {
        TimeUnit::Second => nanos / 1_000_000_000,
        TimeUnit::Millisecond => nanos / 1_000_000,
        TimeUnit::Microsecond => nanos / 1_000,
        TimeUnit::Nanosecond => nanos,
    }
}

fn timestamp_in(t: DateTime<Utc>, unit: TimeUnit) -> Option<i64> {
    match unit {
        TimeUnit::Second => Some(t.timestamp()),
        TimeUnit::Millisecond => Some(t.timestamp_millis()),
        TimeUnit::Microsecond => Some(t.timestamp_micros()),
        TimeUnit::Nanosecond => t.timestamp_nanos_opt(),
    }
}

fn finish_column(c: &mut Column) -> Result<ArrayRef, String> {
    Ok(match c {
        Column::Bool(b) => Arc::new(b.finish()),
        Column::I8(b) => Arc::new(b.finish()),
        Column::I16(b) => Arc::new(b.finish()),
        Column::I32(b) => Arc::new(b.finish()),
        Column::I64(b) => Arc::new(b.finish()),
        Column::F32(b) => Arc::new(b.finish()),
        Column::F64(b) => Arc::new(b.finish()),
        Column::Decimal(b, _) => Arc::new(b.finish()),
        Column::Str(b) => Arc::new(b.finish()),
        Column::Bytes(b) => Arc::new(b.finish()),
        Column::Date(b) => Arc::new(b.finish()),
        Column::Time(v, u) => {
            let values = std::mem::take(v);
            match u {
                TimeUnit::Second => Arc::new(
                    values
                        .into_iter()
                        .map(|x| x.map(|x| x as i32))
                        .collect::<PrimitiveArray<Time32SecondType>>(),
                ),
                TimeUnit::Millisecond => Arc::new(
                    values
                        .into_iter()
                        .map(|x| x.map(|x| x as i32))
                        .collect::<PrimitiveArray<Time32MillisecondType>>(),
                ),
                TimeUnit::Microsecond => Arc::new(
                    values
                        .into_iter()
                        .collect::<PrimitiveArray<Time64MicrosecondType>>(),
                ),
                TimeUnit::Nanosecond => Arc::new(
                    values
                        .into_iter()
                        .collect::<PrimitiveArray<Time64NanosecondType>>(),
                ),
            }
        }
        Column::Timestamp(v, u, dt) => {
            let tz = match dt {
                DataType::Timestamp(_, tz) => tz.clone(),
                _ => None,
            };
            let values = Int64Array::from(std::mem::take(v));
            match u {
                TimeUnit::Second => Arc::new(
                    values
                        .reinterpret_cast::<TimestampSecondType>()
                        .with_timezone_opt(tz),
                ),
                TimeUnit::Millisecond => Arc::new(
                    values
                        .reinterpret_cast::<TimestampMillisecondType>()
                        .with_timezone_opt(tz),
                ),
                TimeUnit::Microsecond => Arc::new(
                    values
                        .reinterpret_cast::<TimestampMicrosecondType>()
                        .with_timezone_opt(tz),
                ),
                TimeUnit::Nanosecond => Arc::new(
                    values
                        .reinterpret_cast::<TimestampNanosecondType>()
                        .with_timezone_opt(tz),
                ),
            }
        }
        Column::List(v, f) => {
            let values = std::mem::take(v);
            let lengths = values.iter().map(|a| a.as_ref().map_or(0, |a| a.len()));
            let offsets = OffsetBuffer::from_lengths(lengths);
            let parts: Vec<&dyn Array> = values.iter().flatten().map(|a| a.as_ref()).collect();
            let child = if parts.is_empty() {
                new_empty_array(f.data_type())
            } else {
                datafusion::arrow::compute::concat(&parts).map_err(|e| e.to_string())?
            };
            let nulls = values.iter().map(Option::is_some).collect::<Vec<bool>>();
            Arc::new(
                ListArray::try_new(f.clone(), offsets, child, Some(nulls.into()))
                    .map_err(|e| e.to_string())?,
            )
        }
    })
}
