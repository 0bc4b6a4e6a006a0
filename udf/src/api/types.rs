//! How Rust values map to SQL values, so a UDF can be written with plain Rust
//! types: the traits here read function arguments out of Arrow arrays and
//! write results into Arrow builders, one implementation per supported type.
//!
//! | Rust (argument)            | Rust (result)   | SQL                      | Arrow                      |
//! |----------------------------|-----------------|--------------------------|----------------------------|
//! | `bool`                     | `bool`          | `BOOLEAN`                | `Boolean`                  |
//! | `i8` `i16` `i32` `i64`     | same            | `TINYINT`..`BIGINT`      | `Int8`..`Int64`            |
//! | `f32` `f64`                | same            | `FLOAT` `DOUBLE`         | `Float32` `Float64`        |
//! | `&str`, `String`           | `String`        | `STRING`                 | `Utf8`                     |
//! | `&[u8]`, `Vec<u8>`         | `Vec<u8>`       | `BYTES`                  | `Binary`                   |
//! | `NaiveDate`                | same            | `DATE`                   | `Date32`                   |
//! | `NaiveDateTime`            | same            | `TIMESTAMP(3)`           | `Timestamp(ms)`            |
//!
//! A parameter or result of type `Option<T>` is nullable. A parameter of a
//! plain type `T` is strict, as in SQL: when its argument is NULL the
//! function is not called and the result is NULL (an aggregate skips the row;
//! a table function produces no rows for it).

use std::fmt::Display;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{
    Array, ArrayBuilder, ArrayRef, BinaryArray, BinaryBuilder, BooleanArray, BooleanBuilder,
    Date32Array, Date32Builder, Float32Array, Float32Builder, Float64Array, Float64Builder,
    Int8Array, Int8Builder, Int16Array, Int16Builder, Int32Array, Int32Builder, Int64Array,
    Int64Builder, StringArray, StringBuilder, TimestampMillisecondArray,
    TimestampMillisecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01 (Arrow's day 0).
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// A SQL type a function argument can have, read straight out of its Arrow
/// array (borrowed where it can be: `&str` and `&[u8]` do not copy).
pub trait ArgType: 'static {
    /// The Arrow array the argument arrives in.
    type Array: Array + 'static;
    /// The value handed to the function.
    type Ref<'a>;
    /// The Arrow type arguments are cast to before the call.
    fn data_type() -> DataType;
    /// The non-NULL value at row `i`.
    fn value(array: &Self::Array, i: usize) -> Self::Ref<'_>;
}

/// A SQL type a function can return (and an accumulator can store).
pub trait OutType: Sized + 'static {
    /// The builder results are collected in.
    type Builder: ArrayBuilder;
    /// The Arrow type of results.
    fn data_type() -> DataType;
    /// A builder for `capacity` values.
    fn builder(capacity: usize) -> Self::Builder;
    /// Appends one value.
    fn append(builder: &mut Self::Builder, value: Self);
    /// Appends a NULL.
    fn append_null(builder: &mut Self::Builder);
    /// The value as a scalar (accumulator snapshots).
    fn into_scalar(value: Option<Self>) -> ScalarValue;
}

fn date_from_days(days: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(days.saturating_add(UNIX_EPOCH_DAYS_FROM_CE))
        .unwrap_or_default()
}

fn days_from_date(d: NaiveDate) -> i32 {
    chrono::Datelike::num_days_from_ce(&d) - UNIX_EPOCH_DAYS_FROM_CE
}

fn timestamp_from_millis(ms: i64) -> NaiveDateTime {
    DateTime::from_timestamp_millis(ms)
        .map(|d| d.naive_utc())
        .unwrap_or_default()
}

/// Implements [`ArgType`] and [`OutType`] for types stored as they are.
macro_rules! plain_type {
    ($($t:ty => $arr:ty, $bld:ty, $dt:expr, $scalar:ident;)*) => {$(
        impl ArgType for $t {
            type Array = $arr;
            type Ref<'a> = $t;
            fn data_type() -> DataType {
                $dt
            }
            fn value(array: &Self::Array, i: usize) -> $t {
                array.value(i)
            }
        }
        impl OutType for $t {
            type Builder = $bld;
            fn data_type() -> DataType {
                $dt
            }
            fn builder(capacity: usize) -> Self::Builder {
                <$bld>::with_capacity(capacity)
            }
            fn append(builder: &mut Self::Builder, value: Self) {
                builder.append_value(value);
            }
            fn append_null(builder: &mut Self::Builder) {
                builder.append_null();
            }
            fn into_scalar(value: Option<Self>) -> ScalarValue {
                ScalarValue::$scalar(value)
            }
        }
    )*};
}

plain_type! {
    bool => BooleanArray, BooleanBuilder, DataType::Boolean, Boolean;
    i8 => Int8Array, Int8Builder, DataType::Int8, Int8;
    i16 => Int16Array, Int16Builder, DataType::Int16, Int16;
    i32 => Int32Array, Int32Builder, DataType::Int32, Int32;
    i64 => Int64Array, Int64Builder, DataType::Int64, Int64;
    f32 => Float32Array, Float32Builder, DataType::Float32, Float32;
    f64 => Float64Array, Float64Builder, DataType::Float64, Float64;
}

impl ArgType for &'static str {
    type Array = StringArray;
    type Ref<'a> = &'a str;
    fn data_type() -> DataType {
        DataType::Utf8
    }
    fn value(array: &StringArray, i: usize) -> &str {
        array.value(i)
    }
}

impl ArgType for String {
    type Array = StringArray;
    type Ref<'a> = String;
    fn data_type() -> DataType {
        DataType::Utf8
    }
    fn value(array: &StringArray, i: usize) -> String {
        array.value(i).to_string()
    }
}

impl OutType for String {
    type Builder = StringBuilder;
    fn data_type() -> DataType {
        DataType::Utf8
    }
    fn builder(capacity: usize) -> StringBuilder {
        StringBuilder::with_capacity(capacity, capacity * 8)
    }
    fn append(builder: &mut StringBuilder, value: String) {
        builder.append_value(value);
    }
    fn append_null(builder: &mut StringBuilder) {
        builder.append_null();
    }
    fn into_scalar(value: Option<String>) -> ScalarValue {
        ScalarValue::Utf8(value)
    }
}

impl ArgType for &'static [u8] {
    type Array = BinaryArray;
    type Ref<'a> = &'a [u8];
    fn data_type() -> DataType {
        DataType::Binary
    }
    fn value(array: &BinaryArray, i: usize) -> &[u8] {
        array.value(i)
    }
}

impl ArgType for Vec<u8> {
    type Array = BinaryArray;
    type Ref<'a> = Vec<u8>;
    fn data_type() -> DataType {
        DataType::Binary
    }
    fn value(array: &BinaryArray, i: usize) -> Vec<u8> {
        array.value(i).to_vec()
    }
}

impl OutType for Vec<u8> {
    type Builder = BinaryBuilder;
    fn data_type() -> DataType {
        DataType::Binary
    }
    fn builder(capacity: usize) -> BinaryBuilder {
        BinaryBuilder::with_capacity(capacity, capacity * 8)
    }
    fn append(builder: &mut BinaryBuilder, value: Vec<u8>) {
        builder.append_value(value);
    }
    fn append_null(builder: &mut BinaryBuilder) {
        builder.append_null();
    }
    fn into_scalar(value: Option<Vec<u8>>) -> ScalarValue {
        ScalarValue::Binary(value)
    }
}

impl ArgType for NaiveDate {
    type Array = Date32Array;
    type Ref<'a> = NaiveDate;
    fn data_type() -> DataType {
        DataType::Date32
    }
    fn value(array: &Date32Array, i: usize) -> NaiveDate {
        date_from_days(array.value(i))
    }
}

impl OutType for NaiveDate {
    type Builder = Date32Builder;
    fn data_type() -> DataType {
        DataType::Date32
    }
    fn builder(capacity: usize) -> Date32Builder {
        Date32Builder::with_capacity(capacity)
    }
    fn append(builder: &mut Date32Builder, value: NaiveDate) {
        builder.append_value(days_from_date(value));
    }
    fn append_null(builder: &mut Date32Builder) {
        builder.append_null();
    }
    fn into_scalar(value: Option<NaiveDate>) -> ScalarValue {
        ScalarValue::Date32(value.map(days_from_date))
    }
}

impl ArgType for NaiveDateTime {
    type Array = TimestampMillisecondArray;
    type Ref<'a> = NaiveDateTime;
    fn data_type() -> DataType {
        DataType::Timestamp(TimeUnit::Millisecond, None)
    }
    fn value(array: &TimestampMillisecondArray, i: usize) -> NaiveDateTime {
        timestamp_from_millis(array.value(i))
    }
}

impl OutType for NaiveDateTime {
    type Builder = TimestampMillisecondBuilder;
    fn data_type() -> DataType {
        DataType::Timestamp(TimeUnit::Millisecond, None)
    }
    fn builder(capacity: usize) -> TimestampMillisecondBuilder {
        TimestampMillisecondBuilder::with_capacity(capacity)
    }
    fn append(builder: &mut TimestampMillisecondBuilder, value: NaiveDateTime) {
        builder.append_value(value.and_utc().timestamp_millis());
    }
    fn append_null(builder: &mut TimestampMillisecondBuilder) {
        builder.append_null();
    }
    fn into_scalar(value: Option<NaiveDateTime>) -> ScalarValue {
        ScalarValue::TimestampMillisecond(value.map(|v| v.and_utc().timestamp_millis()), None)
    }
}

/// The type of one function parameter: a plain type (strict: NULL in, NULL
/// out) or an `Option` of one (the function sees NULLs).
pub trait Arg: 'static {
    /// The SQL type underneath.
    type Type: ArgType;
    /// What the function receives.
    type Ref<'a>;
    /// `None` when the function must not be called for this row.
    fn get<'a>(array: &'a <Self::Type as ArgType>::Array, i: usize) -> Option<Self::Ref<'a>>;
}

/// A function result: a value of an [`OutType`], or an `Option` of one.
pub trait Value: Sized + 'static {
    /// The SQL type underneath.
    type Type: OutType;
    /// Whether the result may be NULL.
    const NULLABLE: bool;
    /// Appends the value to a result column.
    fn append(self, builder: &mut <Self::Type as OutType>::Builder);
    /// The value as a scalar.
    fn into_scalar(self) -> ScalarValue;
}

/// Implements [`Arg`] and [`Value`] for `T` and `Option<T>`.
macro_rules! arg_and_value {
    ($($t:ty),*) => {$(
        impl Arg for $t {
            type Type = $t;
            type Ref<'a> = <$t as ArgType>::Ref<'a>;
            fn get<'a>(array: &'a <$t as ArgType>::Array, i: usize) -> Option<Self::Ref<'a>> {
                (!array.is_null(i)).then(|| <$t as ArgType>::value(array, i))
            }
        }
        impl Arg for Option<$t> {
            type Type = $t;
            type Ref<'a> = Option<<$t as ArgType>::Ref<'a>>;
            fn get<'a>(array: &'a <$t as ArgType>::Array, i: usize) -> Option<Self::Ref<'a>> {
                Some((!array.is_null(i)).then(|| <$t as ArgType>::value(array, i)))
            }
        }
    )*};
}

macro_rules! value {
    ($($t:ty),*) => {$(
        impl Value for $t {
            type Type = $t;
            const NULLABLE: bool = false;
            fn append(self, builder: &mut <$t as OutType>::Builder) {
                <$t as OutType>::append(builder, self);
            }
            fn into_scalar(self) -> ScalarValue {
                <$t as OutType>::into_scalar(Some(self))
            }
        }
        impl Value for Option<$t> {
            type Type = $t;
            const NULLABLE: bool = true;
            fn append(self, builder: &mut <$t as OutType>::Builder) {
                match self {
                    Some(v) => <$t as OutType>::append(builder, v),
                    None => <$t as OutType>::append_null(builder),
                }
            }
            fn into_scalar(self) -> ScalarValue {
                <$t as OutType>::into_scalar(self)
            }
        }
        impl Ret for $t {
            type Value = $t;
            fn into_value(self) -> Result<$t, String> {
                Ok(self)
            }
        }
        impl Ret for Option<$t> {
            type Value = Option<$t>;
            fn into_value(self) -> Result<Option<$t>, String> {
                Ok(self)
            }
        }
    )*};
}

arg_and_value!(
    bool,
    i8,
    i16,
    i32,
    i64,
    f32,
    f64,
    &'static str,
    String,
    &'static [u8],
    Vec<u8>,
    NaiveDate,
    NaiveDateTime
);
value!(
    bool,
    i8,
    i16,
    i32,
    i64,
    f32,
    f64,
    String,
    Vec<u8>,
    NaiveDate,
    NaiveDateTime
);

/// What a scalar function or an aggregate's `get_value` returns: a
/// [`Value`], or a `Result` of one (an `Err` fails the job with the
/// function's name and the error's message).
pub trait Ret: 'static {
    /// The value inside.
    type Value: Value;
    /// The value, or the error's message.
    fn into_value(self) -> Result<Self::Value, String>;
}

impl<V: Value, E: Display + 'static> Ret for Result<V, E> {
    type Value = V;
    fn into_value(self) -> Result<V, String> {
        self.map_err(|e| e.to_string())
    }
}

/// What `accumulate`, `retract` and `merge` return: nothing, or a `Result`
/// whose `Err` fails the job.
pub trait Done: 'static {
    /// `Err` with the message when the call failed.
    fn into_result(self) -> Result<(), String>;
}

impl Done for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Display + 'static> Done for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// The argument array `array` as `A`'s Arrow array (after the planner cast
/// it to `A`'s type, so a mismatch is an internal error).
pub fn downcast<'a, A: Arg>(
    array: &'a ArrayRef,
    function: &str,
) -> datafusion::common::Result<&'a <A::Type as ArgType>::Array> {
    array
        .as_any()
        .downcast_ref::<<A::Type as ArgType>::Array>()
        .ok_or_else(|| {
            datafusion::common::DataFusionError::Internal(format!(
                "function '{function}': argument of type {} where {} was expected",
                array.data_type(),
                <A::Type as ArgType>::data_type()
            ))
        })
}

/// Finishes a result builder into an array.
pub fn finish<B: ArrayBuilder>(mut builder: B) -> ArrayRef {
    Arc::new(builder.finish()) as ArrayRef
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_timestamps_round_trip() {
        let d = NaiveDate::from_ymd_opt(2024, 1, 2).expect("date");
        assert_eq!(days_from_date(d), 19724);
        assert_eq!(date_from_days(19724), d);
        let t = timestamp_from_millis(1_704_164_645_123);
        assert_eq!(t.to_string(), "2024-01-02 03:04:05.123");
    }
}
