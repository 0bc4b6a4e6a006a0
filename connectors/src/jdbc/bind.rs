//! Binding Arrow values as statement parameters. Each column is downcast
//! once per batch ([`BoundColumn`]); each value is then encoded straight into
//! the driver's argument buffer, typed after the column even when NULL (so
//! PostgreSQL sees an `int4` NULL for an INT column).

use bigdecimal::BigDecimal;
use bigdecimal::num_bigint::BigInt;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Date32Array, Decimal128Array,
    Float32Array, Float64Array, GenericListArray, Int8Array, Int16Array, Int32Array, Int64Array,
    StringArray,
};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, Time32MillisecondType, Time64MicrosecondType, Time64NanosecondType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use sqlx::Arguments;
use sqlx::error::BoxDynError;
use sqlx::mysql::MySqlArguments;
use sqlx::postgres::PgArguments;

type BindResult = Result<(), BoxDynError>;

/// A driver's argument buffer, with one method per value type Sluice binds.
pub trait BindArgs: Arguments {
    fn bool(&mut self, v: Option<bool>) -> BindResult;
    fn i8(&mut self, v: Option<i8>) -> BindResult;
    fn i16(&mut self, v: Option<i16>) -> BindResult;
    fn i32(&mut self, v: Option<i32>) -> BindResult;
    fn i64(&mut self, v: Option<i64>) -> BindResult;
    fn f32(&mut self, v: Option<f32>) -> BindResult;
    fn f64(&mut self, v: Option<f64>) -> BindResult;
    fn decimal(&mut self, v: Option<BigDecimal>) -> BindResult;
    fn str(&mut self, v: Option<&str>) -> BindResult;
    fn bytes(&mut self, v: Option<&[u8]>) -> BindResult;
    fn date(&mut self, v: Option<NaiveDate>) -> BindResult;
    fn time(&mut self, v: Option<NaiveTime>) -> BindResult;
    fn timestamp(&mut self, v: Option<NaiveDateTime>) -> BindResult;
    fn timestamp_utc(&mut self, v: Option<DateTime<Utc>>) -> BindResult;
    /// An ARRAY value (PostgreSQL only; rejected for MySQL at CREATE TABLE).
    fn array(&mut self, element: &DataType, values: Option<&ArrayRef>) -> BindResult;
}

/// The binds both drivers take as they are: each passes its value through.
macro_rules! bind_simple {
    () => {
        bind_simple!(
            bool: bool, i16: i16, i32: i32, i64: i64, f32: f32, f64: f64,
            decimal: BigDecimal, str: &str, bytes: &[u8], date: NaiveDate,
            time: NaiveTime, timestamp: NaiveDateTime, timestamp_utc: DateTime<Utc>
        );
    };
    ($($name:ident: $t:ty),*) => {
        $(
            fn $name(&mut self, v: Option<$t>) -> BindResult {
                self.add(v)
            }
        )*
    };
}

impl BindArgs for MySqlArguments {
    bind_simple!();
    fn i8(&mut self, v: Option<i8>) -> BindResult {
        self.add(v)
    }
    fn array(&mut self, _element: &DataType, _values: Option<&ArrayRef>) -> BindResult {
        Err("MySQL has no ARRAY type".into())
    }
}

impl BindArgs for PgArguments {
    bind_simple!();
    /// PostgreSQL has no one-byte integer (sqlx's `i8` is the internal
    /// `"char"` type); TINYINT goes to SMALLINT.
    fn i8(&mut self, v: Option<i8>) -> BindResult {
        self.add(v.map(i16::from))
    }
    fn array(&mut self, element: &DataType, values: Option<&ArrayRef>) -> BindResult {
        pg_array(self, element, values)
    }
}

/// One column of a batch, downcast once.
pub enum BoundColumn<'a> {
    Bool(&'a BooleanArray),
    I8(&'a Int8Array),
    I16(&'a Int16Array),
    I32(&'a Int32Array),
    I64(&'a Int64Array),
    F32(&'a Float32Array),
    F64(&'a Float64Array),
    Decimal(&'a Decimal128Array, i8),
    Str(&'a StringArray),
    Bytes(&'a BinaryArray),
    Date(&'a Date32Array),
    /// TIME as nanoseconds since midnight.
    Time(&'a dyn Array, TimeUnit),
    Timestamp(&'a dyn Array, TimeUnit),
    TimestampUtc(&'a dyn Array, TimeUnit),
    List(&'a GenericListArray<i32>),
}

impl<'a> BoundColumn<'a> {
    /// Downcasts `array`; `None` for a type the connector does not bind
    /// (rejected earlier, at CREATE TABLE).
    pub fn new(array: &'a ArrayRef) -> Option<Self> {
        Some(match array.data_type() {
            DataType::Boolean => Self::Bool(array.as_boolean()),
            DataType::Int8 => Self::I8(array.as_primitive::<Int8Type>()),
            DataType::Int16 => Self::I16(array.as_primitive::<Int16Type>()),
            DataType::Int32 => Self::I32(array.as_primitive::<Int32Type>()),
            DataType::Int64 => Self::I64(array.as_primitive::<Int64Type>()),
            DataType::Float32 => Self::F32(array.as_primitive::<Float32Type>()),
            DataType::Float64 => Self::F64(array.as_primitive::<Float64Type>()),
            DataType::Decimal128(_, s) => Self::Decimal(array.as_primitive::<Decimal128Type>(), *s),
            DataType::Utf8 => Self::Str(array.as_string::<i32>()),
            DataType::Binary => Self::Bytes(array.as_binary::<i32>()),
            DataType::Date32 => Self::Date(array.as_primitive::<Date32Type>()),
            DataType::Time32(u) | DataType::Time64(u) => Self::Time(array.as_ref(), *u),
            DataType::Timestamp(u, None) => Self::Timestamp(array.as_ref(), *u),
            DataType::Timestamp(u, Some(_)) => Self::TimestampUtc(array.as_ref(), *u),
            DataType::List(_) => Self::List(array.as_list::<i32>()),
            _ => return None,
        })
    }

    /// Binds the value of row `row`.
    pub fn bind<A: BindArgs>(&self, args: &mut A, row: usize) -> BindResult {
        match self {
            Self::Bool(a) => args.bool(a.is_valid(row).then(|| a.value(row))),
            Self::I8(a) => args.i8(a.is_valid(row).then(|| a.value(row))),
            Self::I16(a) => args.i16(a.is_valid(row).then(|| a.value(row))),
            Self::I32(a) => args.i32(a.is_valid(row).then(|| a.value(row))),
            Self::I64(a) => args.i64(a.is_valid(row).then(|| a.value(row))),
            Self::F32(a) => args.f32(a.is_valid(row).then(|| a.value(row))),
            Self::F64(a) => args.f64(a.is_valid(row).then(|| a.value(row))),
            Self::Decimal(a, s) => args.decimal(
                a.is_valid(row)
                    .then(|| BigDecimal::new(BigInt::from(a.value(row)), i64::from(*s))),
            ),
            Self::Str(a) => args.str(a.is_valid(row).then(|| a.value(row))),
            Self::Bytes(a) => args.bytes(a.is_valid(row).then(|| a.value(row))),
            Self::Date(a) => args.date(match a.is_valid(row) {
                true => Some(date(a.value(row))?),
                false => None,
            }),
            Self::Time(a, u) => args.time(match a.is_valid(row) {
                true => Some(time(*a, *u, row)?),
                false => None,
            }),
            Self::Timestamp(a, u) => args.timestamp(match a.is_valid(row) {
                true => Some(timestamp(*a, *u, row)?.naive_utc()),
                false => None,
            }),
            Self::TimestampUtc(a, u) => args.timestamp_utc(match a.is_valid(row) {
                true => Some(timestamp(*a, *u, row)?),
                false => None,
            }),
            Self::List(a) => {
                let v = a.is_valid(row).then(|| a.value(row));
                args.array(&a.value_type(), v.as_ref())
            }
        }
    }
}

/// Days since 1970-01-01 as a date.
pub fn date(days: i32) -> Result<NaiveDate, BoxDynError> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(719_163).ok_or("date out of range")?)
        .ok_or_else(|| format!("date {days} days from 1970-01-01 is out of range").into())
}

fn time(a: &dyn Array, unit: TimeUnit, row: usize) -> Result<NaiveTime, BoxDynError> {
    let nanos: i64 = match unit {
        TimeUnit::Second => {
            i64::from(
                a.as_primitive::<datafusion::arrow::datatypes::Time32SecondType>()
                    .value(row),
            ) * 1_000_000_000
        }
        TimeUnit::Millisecond => {
            i64::from(a.as_primitive::<Time32MillisecondType>().value(row)) * 1_000_000
        }
        TimeUnit::Microsecond => a.as_primitive::<Time64MicrosecondType>().value(row) * 1_000,
        TimeUnit::Nanosecond => a.as_primitive::<Time64NanosecondType>().value(row),
    };
    let secs = u32::try_from(nanos.div_euclid(1_000_000_000)).map_err(|_| "time out of range")?;
    NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos.rem_euclid(1_000_000_000) as u32)
        .ok_or_else(|| "time out of range".into())
}

fn timestamp(a: &dyn Array, unit: TimeUnit, row: usize) -> Result<DateTime<Utc>, BoxDynError> {
    let t = match unit {
        TimeUnit::Second => {
            DateTime::from_timestamp(a.as_primitive::<TimestampSecondType>().value(row), 0)
        }
        TimeUnit::Millisecond => {
            DateTime::from_timestamp_millis(a.as_primitive::<TimestampMillisecondType>().value(row))
        }
        TimeUnit::Microsecond => {
            DateTime::from_timestamp_micros(a.as_primitive::<TimestampMicrosecondType>().value(row))
        }
        TimeUnit::Nanosecond => Some(DateTime::from_timestamp_nanos(
            a.as_primitive::<TimestampNanosecondType>().value(row),
        )),
    };
    t.ok_or_else(|| "timestamp out of range".into())
}

/// Binds a PostgreSQL array from the elements of one list value.
fn pg_array(args: &mut PgArguments, element: &DataType, values: Option<&ArrayRef>) -> BindResult {
    macro_rules! prim {
        ($arrow:ty, $t:ty, $conv:expr) => {{
            let v: Option<Vec<Option<$t>>> = values.map(|a| {
                let a = a.as_primitive::<$arrow>();
                (0..a.len())
                    .map(|i| a.is_valid(i).then(|| $conv(a.value(i))))
                    .collect()
            });
            args.add(v)
        }};
    }
    let Some(elements) = values else {
        // A NULL array is still typed after its elements: PostgreSQL does
        // not assign a text[] NULL to an integer[] column.
        return match element {
            DataType::Boolean => args.add(None::<Vec<Option<bool>>>),
            DataType::Int8 | DataType::Int16 => args.add(None::<Vec<Option<i16>>>),
            DataType::Int32 => args.add(None::<Vec<Option<i32>>>),
            DataType::Int64 => args.add(None::<Vec<Option<i64>>>),
            DataType::Float32 => args.add(None::<Vec<Option<f32>>>),
            DataType::Float64 => args.add(None::<Vec<Option<f64>>>),
            DataType::Date32 => args.add(None::<Vec<Option<NaiveDate>>>),
            DataType::Decimal128(..) => args.add(None::<Vec<Option<BigDecimal>>>),
            DataType::Timestamp(_, Some(_)) => args.add(None::<Vec<Option<DateTime<Utc>>>>),
            DataType::Timestamp(_, None) => args.add(None::<Vec<Option<NaiveDateTime>>>),
            _ => args.add(None::<Vec<Option<String>>>),
        };
    };
    match elements.data_type() {
        DataType::Boolean => {
            let a = elements.as_boolean();
            let v: Vec<Option<bool>> = a.iter().collect();
            args.add(v)
        }
        DataType::Int8 => prim!(Int8Type, i16, |v: i8| i16::from(v)),
        DataType::Int16 => prim!(Int16Type, i16, |v: i16| v),
        DataType::Int32 => prim!(Int32Type, i32, |v: i32| v),
        DataType::Int64 => prim!(Int64Type, i64, |v: i64| v),
        DataType::Float32 => prim!(Float32Type, f32, |v: f32| v),
        DataType::Float64 => prim!(Float64Type, f64, |v: f64| v),
        DataType::Utf8 => {
            let a = elements.as_string::<i32>();
            let v: Vec<Option<&str>> = a.iter().collect();
            args.add(v)
        }
        DataType::Date32 => {
            let a = elements.as_primitive::<Date32Type>();
            let v = a
                .iter()
                .map(|d| d.map(date).transpose())
                .collect::<Result<Vec<Option<NaiveDate>>, _>>()?;
            args.add(v)
        }
        DataType::Decimal128(_, s) => {
            let a = elements.as_primitive::<Decimal128Type>();
            let v: Vec<Option<BigDecimal>> = a
                .iter()
                .map(|d| d.map(|d| BigDecimal::new(BigInt::from(d), i64::from(*s))))
                .collect();
            args.add(v)
        }
        DataType::Timestamp(u, tz) => {
            let v = (0..elements.len())
                .map(|i| {
                    elements
                        .is_valid(i)
                        .then(|| timestamp(elements.as_ref(), *u, i))
                        .transpose()
                })
                .collect::<Result<Vec<Option<DateTime<Utc>>>, _>>()?;
            if tz.is_some() {
                args.add(v)
            } else {
                let naive: Vec<Option<NaiveDateTime>> =
                    v.into_iter().map(|t| t.map(|t| t.naive_utc())).collect();
                args.add(naive)
            }
        }
        other => Err(format!("ARRAY of {other} is not supported").into()),
    }
}

/// True when the JDBC sink can bind an Arrow type for `dialect`.
pub fn bindable(data_type: &DataType, postgres: bool) -> bool {
    match data_type {
        DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(..)
        | DataType::Utf8
        | DataType::Binary
        | DataType::Date32
        | DataType::Time32(_)
        | DataType::Time64(_)
        | DataType::Timestamp(..) => true,
        DataType::List(f) => {
            postgres
                && matches!(
                    f.data_type(),
                    DataType::Boolean
                        | DataType::Int8
                        | DataType::Int16
                        | DataType::Int32
                        | DataType::Int64
                        | DataType::Float32
                        | DataType::Float64
                        | DataType::Utf8
                        | DataType::Date32
                        | DataType::Decimal128(..)
                        | DataType::Timestamp(..)
                )
        }
        _ => false,
    }
}
