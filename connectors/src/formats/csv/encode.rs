//! CSV encoding, column-wise: each column is downcast once per batch into a
//! renderer, then rows are assembled. Arrow's CSV writer is not used because
//! Flink's output differs from it in ways that show in every file: Jackson's
//! quoting rule (see [`needs_quotes`]), trimmed timestamp fractions, Java
//! number formats, base64 BYTES, ARRAY/ROW joined by
//! `csv.array-element-delimiter`, and no header.

use std::io::Write;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::*;
use sluice_engine::Result;

use super::CsvOptions;
use crate::ConnectorError;
use crate::formats::{RecordEncoder, base64, strip_insert_only, text};

/// Writes one CSV line per row.
pub struct CsvEncoder {
    schema: SchemaRef,
    options: CsvOptions,
    /// Jackson's "lowest safe character": text with any character below it
    /// is quoted (its loose, default quoting check).
    min_safe: u32,
}

/// Renders the value at a row (non-null) into a buffer.
type Render<'a> = Box<dyn Fn(usize, &mut Vec<u8>) + 'a>;

/// A column ready to render: whether its values are text (subject to
/// quoting, like Jackson's string values) or numbers/booleans (never quoted).
struct Column<'a> {
    array: &'a dyn Array,
    render: Render<'a>,
    is_text: bool,
}

impl CsvEncoder {
    pub fn new(schema: SchemaRef, options: CsvOptions) -> Self {
        let quote = options.quote.map_or(0, u32::from);
        let min_safe = u32::from(options.delimiter)
            .max(quote)
            .max(u32::from(b'\n'))
            + 1;
        Self {
            schema,
            options,
            min_safe,
        }
    }

    /// Jackson's `_mayNeedQuotes` in its default (non-strict) mode: quote
    /// when quoting is on and the text is longer than 24 characters, or has a
    /// character below the lowest safe one, or contains the escape character.
    fn needs_quotes(&self, value: &[u8]) -> bool {
        if self.options.quote.is_none() {
            return false;
        }
        let long = value.len() > 24
            && std::str::from_utf8(value).map_or(true, |s| s.encode_utf16().count() > 24);
        long || value
            .iter()
            .any(|b| u32::from(*b) < self.min_safe || Some(*b) == self.options.escape)
    }

    fn write_field(&self, value: &[u8], out: &mut Vec<u8>) {
        let Some(q) = self.options.quote.filter(|_| self.needs_quotes(value)) else {
            out.extend_from_slice(value);
            return;
        };
        out.push(q);
        for &b in value {
            // Jackson doubles the quote (and the escape character, if any).
            if b == q || Some(b) == self.options.escape {
                out.push(b);
            }
            out.push(b);
        }
        out.push(q);
    }

    fn null_text(&self) -> &[u8] {
        self.options
            .null_literal
            .as_deref()
            .unwrap_or("")
            .as_bytes()
    }

    /// A renderer for the non-null values of `array`.
    fn render<'a>(&'a self, array: &'a dyn Array) -> std::result::Result<Render<'a>, String> {
        let plain = self.options.decimal_plain;
        macro_rules! display {
            ($t:ty) => {{
                let v = array.as_primitive::<$t>().values();
                Box::new(move |i, out: &mut Vec<u8>| {
                    // Writing to a Vec cannot fail.
                    let _ = write!(out, "{}", v[i]);
                })
            }};
        }
        macro_rules! decimal {
            ($t:ty, $s:expr) => {{
                let v = array.as_primitive::<$t>().values();
                let s = *$s;
                Box::new(move |i, out: &mut Vec<u8>| {
                    text::write_decimal(out, &v[i].to_string(), s, plain)
                })
            }};
        }
        macro_rules! timestamp {
            ($t:ty, $zulu:expr) => {{
                let v = array.as_primitive::<$t>().values();
                let zulu = $zulu;
                Box::new(move |i, out: &mut Vec<u8>| {
                    if !text::write_timestamp(out, v[i], <$t>::UNIT, b' ', zulu) {
                        out.extend_from_slice(v[i].to_string().as_bytes());
                    }
                })
            }};
        }
        macro_rules! time {
            ($t:ty, $nanos:expr) => {{
                let v = array.as_primitive::<$t>().values();
                Box::new(move |i, out: &mut Vec<u8>| {
                    text::write_time(out, i64::from(v[i]) * $nanos, true)
                })
            }};
        }
        macro_rules! floating {
            ($t:ty, $write:path) => {{
                let v = array.as_primitive::<$t>().values();
                Box::new(
                    move |i, out: &mut Vec<u8>| match text::non_finite_name(f64::from(v[i])) {
                        Some(name) => out.extend_from_slice(name.as_bytes()),
                        None => $write(out, v[i]),
                    },
                )
            }};
        }
        Ok(match array.data_type() {
            DataType::Boolean => {
                let a = array.as_boolean();
                Box::new(move |i, out| {
                    out.extend_from_slice(if a.value(i) { b"true" } else { b"false" })
                })
            }
            DataType::Int8 => display!(Int8Type),
            DataType::Int16 => display!(Int16Type),
            DataType::Int32 => display!(Int32Type),
            DataType::Int64 => display!(Int64Type),
            DataType::UInt8 => display!(UInt8Type),
            DataType::UInt16 => display!(UInt16Type),
            DataType::UInt32 => display!(UInt32Type),
            DataType::UInt64 => display!(UInt64Type),
            DataType::Float32 => floating!(Float32Type, text::write_java_float),
            DataType::Float64 => floating!(Float64Type, text::write_java_double),
            DataType::Decimal32(_, s) => decimal!(Decimal32Type, s),
            DataType::Decimal64(_, s) => decimal!(Decimal64Type, s),
            DataType::Decimal128(_, s) => decimal!(Decimal128Type, s),
            DataType::Decimal256(_, s) => decimal!(Decimal256Type, s),
            DataType::Utf8 => {
                let a = array.as_string::<i32>();
                Box::new(move |i, out| out.extend_from_slice(a.value(i).as_bytes()))
            }
            DataType::LargeUtf8 => {
                let a = array.as_string::<i64>();
                Box::new(move |i, out| out.extend_from_slice(a.value(i).as_bytes()))
            }
            DataType::Utf8View => {
                let a = array.as_string_view();
                Box::new(move |i, out| out.extend_from_slice(a.value(i).as_bytes()))
            }
            DataType::Binary => {
                let a = array.as_binary::<i32>();
                Box::new(move |i, out| base64::encode_into(a.value(i), out))
            }
            DataType::LargeBinary => {
                let a = array.as_binary::<i64>();
                Box::new(move |i, out| base64::encode_into(a.value(i), out))
            }
            DataType::BinaryView => {
                let a = array.as_binary_view();
                Box::new(move |i, out| base64::encode_into(a.value(i), out))
            }
            DataType::Date32 => {
                let v = array.as_primitive::<Date32Type>().values();
                Box::new(move |i, out| {
                    text::write_date(out, i64::from(v[i]));
                })
            }
            DataType::Date64 => {
                let v = array.as_primitive::<Date64Type>().values();
                Box::new(move |i, out| {
                    text::write_date(out, v[i].div_euclid(86_400_000));
                })
            }
            DataType::Time32(TimeUnit::Second) => time!(Time32SecondType, 1_000_000_000),
            DataType::Time32(_) => time!(Time32MillisecondType, 1_000_000),
            DataType::Time64(TimeUnit::Microsecond) => time!(Time64MicrosecondType, 1_000),
            DataType::Time64(_) => time!(Time64NanosecondType, 1),
            DataType::Timestamp(unit, tz) => match unit {
                TimeUnit::Second => timestamp!(TimestampSecondType, tz.is_some()),
                TimeUnit::Millisecond => timestamp!(TimestampMillisecondType, tz.is_some()),
                TimeUnit::Microsecond => timestamp!(TimestampMicrosecondType, tz.is_some()),
                TimeUnit::Nanosecond => timestamp!(TimestampNanosecondType, tz.is_some()),
            },
            DataType::Null => Box::new(|_, _| {}),
            DataType::List(_) | DataType::LargeList(_) => {
                let (values, offsets): (&dyn Array, Vec<usize>) = match array.data_type() {
                    DataType::List(_) => {
                        let l = array.as_list::<i32>();
                        (
                            l.values().as_ref(),
                            l.offsets().iter().map(|o| *o as usize).collect(),
                        )
                    }
                    _ => {
                        let l = array.as_list::<i64>();
                        (
                            l.values().as_ref(),
                            l.offsets().iter().map(|o| *o as usize).collect(),
                        )
                    }
                };
                let element = self.render(values)?;
                Box::new(move |i, out| {
                    for (n, e) in (offsets[i]..offsets[i + 1]).enumerate() {
                        if n > 0 {
                            out.extend_from_slice(self.options.array_delimiter.as_bytes());
                        }
                        if values.is_null(e) {
                            out.extend_from_slice(self.null_text());
                        } else {
                            element(e, out);
                        }
                    }
                })
            }
            DataType::Struct(_) => {
                let s = array.as_struct();
                let fields = s
                    .columns()
                    .iter()
                    .map(|c| Ok((c.as_ref(), self.render(c.as_ref())?)))
                    .collect::<std::result::Result<Vec<_>, String>>()?;
                Box::new(move |i, out| {
                    for (n, (column, render)) in fields.iter().enumerate() {
                        if n > 0 {
                            out.extend_from_slice(self.options.array_delimiter.as_bytes());
                        }
                        if column.is_null(i) {
                            out.extend_from_slice(self.null_text());
                        } else {
                            render(i, out);
                        }
                    }
                })
            }
            other => return Err(format!("CSV format does not support type {other}")),
        })
    }

    fn columns<'a>(&'a self, batch: &'a RecordBatch) -> Result<Vec<Column<'a>>> {
        if batch.num_columns() != self.schema.fields().len() {
            return Err(ConnectorError::Encode {
                format: "csv",
                reason: format!(
                    "expected {} columns, got {}",
                    self.schema.fields().len(),
                    batch.num_columns()
                ),
            }
            .into());
        }
        batch
            .columns()
            .iter()
            .map(|c| {
                let array = c.as_ref();
                let render = self
                    .render(array)
                    .map_err(|reason| ConnectorError::Encode {
                        format: "csv",
                        reason,
                    })?;
                let is_text = !(array.data_type().is_numeric()
                    || matches!(array.data_type(), DataType::Boolean | DataType::Null));
                Ok(Column {
                    array,
                    render,
                    is_text,
                })
            })
            .collect()
    }

    /// Appends row `row` (without a terminator).
    fn write_row(
        &self,
        columns: &[Column<'_>],
        row: usize,
        scratch: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) {
        for (n, column) in columns.iter().enumerate() {
            if n > 0 {
                out.push(self.options.delimiter);
            }
            if column.array.is_null(row) {
                out.extend_from_slice(self.null_text());
            } else if column.is_text {
                scratch.clear();
                (column.render)(row, scratch);
                self.write_field(scratch, out);
            } else {
                (column.render)(row, out);
            }
        }
    }
}

impl RecordEncoder for CsvEncoder {
    fn encode(&mut self, batch: &RecordBatch, out: &mut Vec<u8>) -> Result<()> {
        let batch = strip_insert_only(batch, "csv")?;
        let columns = self.columns(&batch)?;
        let mut scratch = Vec::new();
        for row in 0..batch.num_rows() {
            self.write_row(&columns, row, &mut scratch, out);
            out.push(b'\n');
        }
        Ok(())
    }

    fn encode_rows(&mut self, batch: &RecordBatch) -> Result<Vec<Vec<u8>>> {
        let batch = strip_insert_only(batch, "csv")?;
        let columns = self.columns(&batch)?;
        let mut scratch = Vec::new();
        Ok((0..batch.num_rows())
            .map(|row| {
                let mut line = Vec::new();
                self.write_row(&columns, row, &mut scratch, &mut line);
                line
            })
            .collect())
    }
}
