//! Flink-style rendering of Arrow values as text, shared by the `print` sink
//! and the shell, so that output reads exactly as it would under Flink.
//!
//! Flink renders values in two ways, and users see both:
//!
//! * [`DisplayStyle::SqlClient`]: what the SQL client shows (its
//!   `RowDataToStringConverter`, i.e. `CAST(x AS STRING)` in printing mode):
//!   `TRUE`, `2024-01-02 03:04:05.123` (fraction to the type's precision),
//!   `x'0a0b'`, `[1, 2]`, `{k=v}`, `(1, abc)`, DECIMAL as a plain number.
//! * [`DisplayStyle::Print`]: what the `print` connector writes, Java's
//!   `Row.toString()` of the external types: `true`, `2024-01-02T03:04:05.123`
//!   (`LocalDateTime`), `2024-01-02T03:04:05.123Z` (`Instant`, for
//!   TIMESTAMP_LTZ), bytes as `[10, 11]`, nested rows as `+I[1, abc]`, DECIMAL
//!   as `BigDecimal.toString()`.
//!
//! Both render NULL as `null` inside rows and collections; the SQL client's
//! tables show a NULL cell as `<NULL>` ([`format_cell`]). Floating point
//! values follow Java's `Double.toString` (`1.0`, `1.0E10`) in both styles.
//! TIMESTAMP_LTZ values are shown in UTC until the session time zone
//! (`table.local-time-zone`) is wired through.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BinaryViewArray, BooleanArray, FixedSizeBinaryArray,
    FixedSizeListArray, LargeBinaryArray, LargeListArray, LargeStringArray, ListArray, MapArray,
    StringArray, StringViewArray,
};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type,
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// NULL inside a row, array, map or print line (Flink writes `null`).
pub const NULL_TEXT: &str = "null";
/// A NULL cell in the SQL client's tableau/table result view.
pub const TABLEAU_NULL_TEXT: &str = "<NULL>";

/// Which of Flink's two renderings to produce (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DisplayStyle {
    /// The SQL client's rendering (CAST to STRING in printing mode).
    #[default]
    SqlClient,
    /// The `print` connector's rendering (Java `Row.toString()`).
    Print,
}

/// Renders one value with the SQL client's style; NULL is `null`.
pub fn format_value(array: &dyn Array, row: usize) -> String {
    format_value_with(array, row, DisplayStyle::SqlClient)
}

/// Renders one value in the given style; NULL is `null`.
pub fn format_value_with(array: &dyn Array, row: usize, style: DisplayStyle) -> String {
    let mut out = String::new();
    ValueFormatter::new(array, style).write(&mut out, row);
    out
}

/// Renders one cell of the SQL client's result table: like [`format_value`]
/// but a NULL cell is `<NULL>`, as Flink's tableau view shows it.
pub fn format_cell(array: &dyn Array, row: usize) -> String {
    if array.is_null(row) || array.data_type() == &DataType::Null {
        return TABLEAU_NULL_TEXT.to_string();
    }
    format_value(array, row)
}

/// Renders row `row` of `columns` as `a, b, c` (no row kind, no brackets)
/// with the SQL client's style.
pub fn format_row(columns: &[ArrayRef], row: usize) -> String {
    format_row_with(columns, row, DisplayStyle::SqlClient)
}

/// Renders row `row` of `columns` as `a, b, c` in the given style.
pub fn format_row_with(columns: &[ArrayRef], row: usize, style: DisplayStyle) -> String {
    let mut out = String::new();
    RowFormatter::new(columns.iter().map(|c| c.as_ref()), style).write(&mut out, row);
    out
}

/// Formats the rows of several columns; build it once per batch so the type
/// dispatch happens per column, not per value.
pub struct RowFormatter<'a> {
    columns: Vec<ValueFormatter<'a>>,
}

impl<'a> RowFormatter<'a> {
    /// A formatter over `columns` (all of the same length).
    pub fn new(columns: impl IntoIterator<Item = &'a dyn Array>, style: DisplayStyle) -> Self {
        Self {
            columns: columns
                .into_iter()
                .map(|c| ValueFormatter::new(c, style))
                .collect(),
        }
    }

    /// Appends row `row` as `a, b, c` to `out`.
    pub fn write(&self, out: &mut String, row: usize) {
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            c.write(out, row);
        }
    }
}

/// Formats the values of one array; build it once per batch and call
/// [`ValueFormatter::write`] per row, which appends without allocating.
pub struct ValueFormatter<'a> {
    array: &'a dyn Array,
    style: DisplayStyle,
    kind: Kind<'a>,
}

/// The array, downcast once.
enum Kind<'a> {
    Null,
    Boolean(&'a BooleanArray),
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
    F16(&'a dyn Array),
    F32(&'a [f32]),
    F64(&'a [f64]),
    Decimal(&'a dyn Array, i8),
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
    Binary(&'a BinaryArray),
    LargeBinary(&'a LargeBinaryArray),
    BinaryView(&'a BinaryViewArray),
    FixedBinary(&'a FixedSizeBinaryArray),
    Date32(&'a [i32]),
    Date64(&'a [i64]),
    Time32(&'a [i32], TimeUnit),
    Time64(&'a [i64], TimeUnit),
    Timestamp(&'a [i64], TimeUnit, bool),
    List(&'a ListArray, Box<ValueFormatter<'a>>),
    LargeList(&'a LargeListArray, Box<ValueFormatter<'a>>),
    FixedList(&'a FixedSizeListArray, usize, Box<ValueFormatter<'a>>),
    Map(
        &'a MapArray,
        Box<ValueFormatter<'a>>,
        Box<ValueFormatter<'a>>,
    ),
    Struct(Vec<ValueFormatter<'a>>),
    Dictionary(Vec<usize>, Box<ValueFormatter<'a>>),
    Other(ArrayFormatter<'a>),
    Unsupported,
}

impl<'a> ValueFormatter<'a> {
    /// A formatter for `array` in `style`.
    pub fn new(array: &'a dyn Array, style: DisplayStyle) -> Self {
        let child = |a: &'a dyn Array| Box::new(ValueFormatter::new(a, style));
        let kind = match array.data_type() {
            DataType::Null => Kind::Null,
            DataType::Boolean => Kind::Boolean(array.as_boolean()),
            DataType::Int8 => Kind::I8(array.as_primitive::<Int8Type>().values()),
            DataType::Int16 => Kind::I16(array.as_primitive::<Int16Type>().values()),
            DataType::Int32 => Kind::I32(array.as_primitive::<Int32Type>().values()),
            DataType::Int64 => Kind::I64(array.as_primitive::<Int64Type>().values()),
            DataType::UInt8 => Kind::U8(array.as_primitive::<UInt8Type>().values()),
            DataType::UInt16 => Kind::U16(array.as_primitive::<UInt16Type>().values()),
            DataType::UInt32 => Kind::U32(array.as_primitive::<UInt32Type>().values()),
            DataType::UInt64 => Kind::U64(array.as_primitive::<UInt64Type>().values()),
            DataType::Float16 => Kind::F16(array),
            DataType::Float32 => Kind::F32(array.as_primitive::<Float32Type>().values()),
            DataType::Float64 => Kind::F64(array.as_primitive::<Float64Type>().values()),
            DataType::Decimal32(_, s)
            | DataType::Decimal64(_, s)
            | DataType::Decimal128(_, s)
            | DataType::Decimal256(_, s) => Kind::Decimal(array, *s),
            DataType::Utf8 => Kind::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => Kind::LargeUtf8(array.as_string::<i64>()),
            DataType::Utf8View => Kind::Utf8View(array.as_string_view()),
            DataType::Binary => Kind::Binary(array.as_binary::<i32>()),
            DataType::LargeBinary => Kind::LargeBinary(array.as_binary::<i64>()),
            DataType::BinaryView => Kind::BinaryView(array.as_binary_view()),
            DataType::FixedSizeBinary(_) => Kind::FixedBinary(array.as_fixed_size_binary()),
            DataType::Date32 => Kind::Date32(array.as_primitive::<Date32Type>().values()),
            DataType::Date64 => Kind::Date64(array.as_primitive::<Date64Type>().values()),
            DataType::Time32(TimeUnit::Second) => Kind::Time32(
                array.as_primitive::<Time32SecondType>().values(),
                TimeUnit::Second,
            ),
            DataType::Time32(_) => Kind::Time32(
                array.as_primitive::<Time32MillisecondType>().values(),
                TimeUnit::Millisecond,
            ),
            DataType::Time64(TimeUnit::Microsecond) => Kind::Time64(
                array.as_primitive::<Time64MicrosecondType>().values(),
                TimeUnit::Microsecond,
            ),
            DataType::Time64(_) => Kind::Time64(
                array.as_primitive::<Time64NanosecondType>().values(),
                TimeUnit::Nanosecond,
            ),
            DataType::Timestamp(unit, tz) => {
                let values = match unit {
                    TimeUnit::Second => array.as_primitive::<TimestampSecondType>().values(),
                    TimeUnit::Millisecond => {
                        array.as_primitive::<TimestampMillisecondType>().values()
                    }
                    TimeUnit::Microsecond => {
                        array.as_primitive::<TimestampMicrosecondType>().values()
                    }
                    TimeUnit::Nanosecond => {
                        array.as_primitive::<TimestampNanosecondType>().values()
                    }
                };
                Kind::Timestamp(values, *unit, tz.is_some())
            }
            DataType::List(_) => {
                let l = array.as_list::<i32>();
                Kind::List(l, child(l.values().as_ref()))
            }
            DataType::LargeList(_) => {
                let l = array.as_list::<i64>();
                Kind::LargeList(l, child(l.values().as_ref()))
            }
            DataType::FixedSizeList(_, n) => {
                let l = array.as_fixed_size_list();
                Kind::FixedList(l, (*n).max(0) as usize, child(l.values().as_ref()))
            }
            DataType::Map(_, _) => {
                let m = array.as_map();
                Kind::Map(m, child(m.keys().as_ref()), child(m.values().as_ref()))
            }
            DataType::Struct(_) => Kind::Struct(
                array
                    .as_struct()
                    .columns()
                    .iter()
                    .map(|c| ValueFormatter::new(c.as_ref(), style))
                    .collect(),
            ),
            DataType::Dictionary(_, _) => match array.as_any_dictionary_opt() {
                // normalized_keys() needs at least one value; an empty
                // dictionary can only have null keys.
                Some(d) if !d.values().is_empty() => {
                    Kind::Dictionary(d.normalized_keys(), child(d.values().as_ref()))
                }
                _ => Kind::Null,
            },
            _ => {
                let options = FormatOptions::new().with_null(NULL_TEXT);
                match ArrayFormatter::try_new(array, &options) {
                    Ok(f) => Kind::Other(f),
                    Err(_) => Kind::Unsupported,
                }
            }
        };
        Self { array, style, kind }
    }

    /// Appends the value at `row` to `out` (`null` when NULL).
    pub fn write(&self, out: &mut String, row: usize) {
        if self.array.is_null(row) {
            out.push_str(NULL_TEXT);
            return;
        }
        let print = self.style == DisplayStyle::Print;
        match &self.kind {
            Kind::Null => out.push_str(NULL_TEXT),
            Kind::Boolean(a) => out.push_str(match (a.value(row), print) {
                (true, true) => "true",
                (false, true) => "false",
                (true, false) => "TRUE",
                (false, false) => "FALSE",
            }),
            Kind::I8(v) => push(out, v[row]),
            Kind::I16(v) => push(out, v[row]),
            Kind::I32(v) => push(out, v[row]),
            Kind::I64(v) => push(out, v[row]),
            Kind::U8(v) => push(out, v[row]),
            Kind::U16(v) => push(out, v[row]),
            Kind::U32(v) => push(out, v[row]),
            Kind::U64(v) => push(out, v[row]),
            Kind::F16(a) => {
                let v = f32::from(a.as_primitive::<Float16Type>().value(row));
                write_java_float(out, v, f64::from(v));
            }
            Kind::F32(v) => write_java_float(out, v[row], f64::from(v[row])),
            Kind::F64(v) => write_java_float(out, v[row], v[row]),
            Kind::Decimal(a, scale) => {
                let unscaled = match a.data_type() {
                    DataType::Decimal32(..) => {
                        a.as_primitive::<Decimal32Type>().value(row).to_string()
                    }
                    DataType::Decimal64(..) => {
                        a.as_primitive::<Decimal64Type>().value(row).to_string()
                    }
                    DataType::Decimal128(..) => {
                        a.as_primitive::<Decimal128Type>().value(row).to_string()
                    }
                    _ => a.as_primitive::<Decimal256Type>().value(row).to_string(),
                };
                write_decimal(out, &unscaled, *scale, print);
            }
            Kind::Utf8(a) => out.push_str(a.value(row)),
            Kind::LargeUtf8(a) => out.push_str(a.value(row)),
            Kind::Utf8View(a) => out.push_str(a.value(row)),
            Kind::Binary(a) => write_bytes(out, a.value(row), print),
            Kind::LargeBinary(a) => write_bytes(out, a.value(row), print),
            Kind::BinaryView(a) => write_bytes(out, a.value(row), print),
            Kind::FixedBinary(a) => write_bytes(out, a.value(row), print),
            Kind::Date32(v) => write_date_days(out, i64::from(v[row]), print),
            Kind::Date64(v) => write_date_days(out, v[row].div_euclid(86_400_000), print),
            Kind::Time32(v, unit) => write_time(out, i64::from(v[row]), *unit, print),
            Kind::Time64(v, unit) => write_time(out, v[row], *unit, print),
            Kind::Timestamp(v, unit, ltz) => write_timestamp(out, v[row], *unit, *ltz, print),
            Kind::List(l, values) => {
                let o = l.value_offsets();
                write_seq(out, values, o[row] as usize..o[row + 1] as usize);
            }
            Kind::LargeList(l, values) => {
                let o = l.value_offsets();
                write_seq(out, values, o[row] as usize..o[row + 1] as usize);
            }
            Kind::FixedList(l, n, values) => {
                let start = l.value_offset(row).max(0) as usize;
                write_seq(out, values, start..start + n);
            }
            Kind::Map(m, keys, values) => {
                let o = m.value_offsets();
                out.push('{');
                for (n, i) in (o[row] as usize..o[row + 1] as usize).enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    keys.write(out, i);
                    out.push('=');
                    values.write(out, i);
                }
                out.push('}');
            }
            Kind::Struct(fields) => {
                out.push_str(if print { "+I[" } else { "(" });
                for (n, f) in fields.iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    f.write(out, row);
                }
                out.push(if print { ']' } else { ')' });
            }
            Kind::Dictionary(keys, values) => values.write(out, keys[row]),
            Kind::Other(f) => {
                let _ = write!(out, "{}", f.value(row));
            }
            Kind::Unsupported => {
                let _ = write!(out, "<{}>", self.array.data_type());
            }
        }
    }

    /// The value at `row` as a new string.
    pub fn format(&self, row: usize) -> String {
        let mut out = String::new();
        self.write(&mut out, row);
        out
    }
}

fn push(out: &mut String, v: impl std::fmt::Display) {
    let _ = write!(out, "{v}");
}

/// `[a, b, c]` over `range` of a list's child values.
fn write_seq(out: &mut String, values: &ValueFormatter<'_>, range: std::ops::Range<usize>) {
    out.push('[');
    for (n, i) in range.enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        values.write(out, i);
    }
    out.push(']');
}

/// Java's `Double.toString` / `Float.toString`: plain between 10^-3 and
/// 10^7 with at least one fraction digit, otherwise `d.dddE±n`; shortest
/// digits that round-trip (`v` is the value in its own width).
fn write_java_float<T: std::fmt::Display + std::fmt::LowerExp>(out: &mut String, v: T, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
    } else if (1e-3..1e7).contains(&f.abs()) {
        let start = out.len();
        let _ = write!(out, "{v}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    } else {
        let s = format!("{v:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
        out.push_str(mantissa);
        if !mantissa.contains('.') {
            out.push_str(".0");
        }
        out.push('E');
        out.push_str(exp);
    }
}

/// A decimal from its unscaled digits: `BigDecimal.toString()` for `print`
/// (scientific when the adjusted exponent is below -6), `toPlainString()`
/// for the SQL client.
fn write_decimal(out: &mut String, unscaled: &str, scale: i8, print: bool) {
    let (negative, digits) = match unscaled.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, unscaled),
    };
    if negative {
        out.push('-');
    }
    let scale = i64::from(scale);
    let len = digits.len() as i64;
    let adjusted = len - 1 - scale;
    if print && (scale < 0 || adjusted < -6) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('E');
        if adjusted > 0 {
            out.push('+');
        }
        push(out, adjusted);
    } else if scale <= 0 {
        out.push_str(digits);
        if digits != "0" {
            out.extend(std::iter::repeat_n('0', (-scale) as usize));
        }
    } else if len > scale {
        let point = (len - scale) as usize;
        out.push_str(&digits[..point]);
        out.push('.');
        out.push_str(&digits[point..]);
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (scale - len) as usize));
        out.push_str(digits);
    }
}

/// BYTES: `x'0a0b'` in the SQL client, Java's `Arrays.toString(byte[])`
/// (signed) in `print`.
fn write_bytes(out: &mut String, bytes: &[u8], print: bool) {
    if print {
        out.push('[');
        for (n, b) in bytes.iter().enumerate() {
            if n > 0 {
                out.push_str(", ");
            }
            push(out, *b as i8);
        }
        out.push(']');
    } else {
        out.push_str("x'");
        for b in bytes {
            let _ = write!(out, "{b:02x}");
        }
        out.push('\'');
    }
}

/// `yyyy-MM-dd`; Java's `LocalDate.toString` prefixes years above 9999
/// with `+`.
fn write_date(out: &mut String, d: NaiveDate, print: bool) {
    let y = d.year();
    if y < 0 {
        let _ = write!(out, "-{:04}", -i64::from(y));
    } else if print && y > 9999 {
        let _ = write!(out, "+{y}");
    } else {
        let _ = write!(out, "{y:04}");
    }
    let _ = write!(out, "-{:02}-{:02}", d.month(), d.day());
}

fn write_date_days(out: &mut String, days: i64, print: bool) {
    let date = i32::try_from(days + 719_163)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt);
    match date {
        Some(d) => write_date(out, d, print),
        None => push(out, days),
    }
}

fn unit_nanos(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

fn unit_precision(unit: TimeUnit) -> usize {
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    }
}

/// Java's `LocalTime.toString`: `HH:mm`, then `:ss` unless seconds and
/// fraction are zero, then the fraction in groups of 3 digits.
fn write_java_time(out: &mut String, h: u32, m: u32, s: u32, nanos: u32) {
    let _ = write!(out, "{h:02}:{m:02}");
    if s > 0 || nanos > 0 {
        let _ = write!(out, ":{s:02}");
        write_java_fraction(out, nanos);
    }
}

/// `.SSS`, `.SSSSSS` or `.SSSSSSSSS`: as many groups of 3 as needed.
fn write_java_fraction(out: &mut String, nanos: u32) {
    let _ = match nanos {
        0 => Ok(()),
        n if n % 1_000_000 == 0 => write!(out, ".{:03}", n / 1_000_000),
        n if n % 1_000 == 0 => write!(out, ".{:06}", n / 1_000),
        n => write!(out, ".{n:09}"),
    };
}

/// Flink's fraction for a value of precision `precision`: the 9 nano digits,
/// trailing zeros dropped but never below `precision` digits.
fn write_sql_fraction(out: &mut String, nanos: u32, precision: usize) {
    let digits = format!("{nanos:09}");
    let mut keep = digits.len();
    while keep > precision && digits.as_bytes()[keep - 1] == b'0' {
        keep -= 1;
    }
    if keep > 0 {
        out.push('.');
        out.push_str(&digits[..keep]);
    }
}

/// TIME: `HH:mm:ss` and, when non-zero, the fraction without trailing
/// zeros (SQL client); `LocalTime.toString` (print).
fn write_time(out: &mut String, value: i64, unit: TimeUnit, print: bool) {
    let total = value
        .saturating_mul(unit_nanos(unit))
        .rem_euclid(86_400_000_000_000);
    let secs = (total / 1_000_000_000) as u32;
    let nanos = (total % 1_000_000_000) as u32;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if print {
        write_java_time(out, h, m, s, nanos);
    } else {
        let _ = write!(out, "{h:02}:{m:02}:{s:02}");
        if nanos > 0 {
            write_sql_fraction(out, nanos, 0);
        }
    }
}

fn to_datetime(value: i64, unit: TimeUnit) -> Option<NaiveDateTime> {
    let per_sec = 1_000_000_000 / unit_nanos(unit);
    let secs = value.div_euclid(per_sec);
    let nanos = value.rem_euclid(per_sec) * unit_nanos(unit);
    DateTime::from_timestamp(secs, nanos as u32).map(|d| d.naive_utc())
}

/// TIMESTAMP / TIMESTAMP_LTZ (the latter in UTC for now).
fn write_timestamp(out: &mut String, value: i64, unit: TimeUnit, ltz: bool, print: bool) {
    let Some(dt) = to_datetime(value, unit) else {
        push(out, value);
        return;
    };
    write_date(out, dt.date(), print);
    let (h, m, s, nanos) = (dt.hour(), dt.minute(), dt.second(), dt.nanosecond());
    if !print {
        let _ = write!(out, " {h:02}:{m:02}:{s:02}");
        write_sql_fraction(out, nanos, unit_precision(unit));
    } else if ltz {
        // Instant.toString: seconds are always shown.
        let _ = write!(out, "T{h:02}:{m:02}:{s:02}");
        write_java_fraction(out, nanos);
        out.push('Z');
    } else {
        out.push('T');
        write_java_time(out, h, m, s, nanos);
    }
}
