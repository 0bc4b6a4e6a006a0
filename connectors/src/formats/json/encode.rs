//! JSON encoding with arrow-json's vectorized encoders, plus an
//! [`EncoderFactory`] that renders the types where Flink's JSON differs from
//! arrow-json's defaults: timestamps (SQL or ISO-8601, trimmed fraction, `Z`
//! for TIMESTAMP_LTZ), TIME (whole seconds), BYTES (base64 instead of hex),
//! FLOAT/DOUBLE (Java's `toString`, non-finite values as strings) and DECIMAL
//! (Java's `BigDecimal.toString` unless `decimal-as-plain-number`).

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, StructArray};
use datafusion::arrow::datatypes::*;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::json::writer::{
    Encoder, EncoderFactory, EncoderOptions, NullableEncoder, make_encoder,
};
use sluice_engine::Result;

use super::JsonOptions;
use crate::formats::{RecordEncoder, base64, strip_insert_only, text};

/// Writes one JSON object per line, keyed by the table's column names.
pub struct JsonEncoder {
    schema: SchemaRef,
    options: EncoderOptions,
}

impl JsonEncoder {
    pub fn new(schema: SchemaRef, options: &JsonOptions) -> Self {
        let factory = FlinkJson {
            timestamp_separator: if options.timestamp_iso { b'T' } else { b' ' },
            decimal_plain: options.decimal_plain,
        };
        Self {
            schema,
            options: EncoderOptions::default()
                .with_explicit_nulls(!options.ignore_null_fields)
                .with_encoder_factory(Arc::new(factory)),
        }
    }

    /// The batch as a struct whose fields carry the table's column names.
    fn rows(&self, batch: &RecordBatch) -> Result<StructArray> {
        let batch = strip_insert_only(batch, "json")?;
        if batch.num_columns() != self.schema.fields().len() {
            return Err(crate::ConnectorError::Encode {
                format: "json",
                reason: format!(
                    "expected {} columns, got {}",
                    self.schema.fields().len(),
                    batch.num_columns()
                ),
            }
            .into());
        }
        let fields: Fields = self
            .schema
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(f, c)| Field::new(f.name(), c.data_type().clone(), true))
            .collect();
        Ok(StructArray::try_new_with_length(
            fields,
            batch.columns().to_vec(),
            None,
            batch.num_rows(),
        )?)
    }

    fn each_row(
        &self,
        batch: &RecordBatch,
        mut row: impl FnMut(&mut NullableEncoder<'_>, usize),
    ) -> Result<()> {
        let rows = self.rows(batch)?;
        let field = Arc::new(Field::new_struct("", rows.fields().clone(), false));
        let mut encoder = make_encoder(&field, &rows, &self.options)?;
        for i in 0..rows.len() {
            row(&mut encoder, i);
        }
        Ok(())
    }
}

impl RecordEncoder for JsonEncoder {
    fn encode(&mut self, batch: &RecordBatch, out: &mut Vec<u8>) -> Result<()> {
        self.each_row(batch, |encoder, i| {
            encoder.encode(i, out);
            out.push(b'\n');
        })
    }

    fn encode_rows(&mut self, batch: &RecordBatch) -> Result<Vec<Vec<u8>>> {
        let mut rows = Vec::with_capacity(batch.num_rows());
        self.each_row(batch, |encoder, i| {
            let mut row = Vec::new();
            encoder.encode(i, &mut row);
            rows.push(row);
        })?;
        Ok(rows)
    }
}

/// The overrides for Flink's renderings; every other type keeps arrow-json's.
#[derive(Debug)]
struct FlinkJson {
    timestamp_separator: u8,
    decimal_plain: bool,
}

/// A column rendered by a closure over the row index (the closure has already
/// downcast the array once).
struct Rendered<F>(F);

impl<F: FnMut(usize, &mut Vec<u8>)> Encoder for Rendered<F> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        (self.0)(idx, out)
    }
}

fn quoted(out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
    out.push(b'"');
    f(out);
    out.push(b'"');
}

/// A FLOAT/DOUBLE value: Java's rendering, `"NaN"` / `"Infinity"` as strings
/// (Jackson's default `WRITE_NAN_AS_STRINGS`).
fn floating(out: &mut Vec<u8>, v: f64, write: impl FnOnce(&mut Vec<u8>)) {
    match text::non_finite_name(v) {
        Some(name) => quoted(out, |o| o.extend_from_slice(name.as_bytes())),
        None => write(out),
    }
}

fn boxed<'a>(
    array: &'a dyn Array,
    f: impl FnMut(usize, &mut Vec<u8>) + 'a,
) -> Option<NullableEncoder<'a>> {
    Some(NullableEncoder::new(
        Box::new(Rendered(f)),
        array.logical_nulls(),
    ))
}

fn timestamps<'a, T: ArrowTimestampType>(
    array: &'a dyn Array,
    separator: u8,
    zulu: bool,
) -> Option<NullableEncoder<'a>> {
    let values = array.as_primitive::<T>().values();
    boxed(array, move |i, out| {
        quoted(out, |o| {
            if !text::write_timestamp(o, values[i], T::UNIT, separator, zulu) {
                o.extend_from_slice(values[i].to_string().as_bytes());
            }
        })
    })
}

fn decimals<'a, T: DecimalType>(
    array: &'a dyn Array,
    scale: i8,
    plain: bool,
) -> Option<NullableEncoder<'a>>
where
    T::Native: std::fmt::Display,
{
    let values = array.as_primitive::<T>().values();
    boxed(array, move |i, out| {
        text::write_decimal(out, &values[i].to_string(), scale, plain)
    })
}

impl EncoderFactory for FlinkJson {
    fn make_default_encoder<'a>(
        &self,
        _field: &'a FieldRef,
        array: &'a dyn Array,
        _options: &'a EncoderOptions,
    ) -> Result<Option<NullableEncoder<'a>>, ArrowError> {
        let sep = self.timestamp_separator;
        let plain = self.decimal_plain;
        Ok(match array.data_type() {
            DataType::Timestamp(unit, tz) => {
                let zulu = tz.is_some();
                match unit {
                    TimeUnit::Second => timestamps::<TimestampSecondType>(array, sep, zulu),
                    TimeUnit::Millisecond => {
                        timestamps::<TimestampMillisecondType>(array, sep, zulu)
                    }
                    TimeUnit::Microsecond => {
                        timestamps::<TimestampMicrosecondType>(array, sep, zulu)
                    }
                    TimeUnit::Nanosecond => timestamps::<TimestampNanosecondType>(array, sep, zulu),
                }
            }
            DataType::Time32(TimeUnit::Second) => {
                let v = array.as_primitive::<Time32SecondType>().values();
                boxed(array, move |i, out| {
                    quoted(out, |o| {
                        text::write_time(o, i64::from(v[i]) * 1_000_000_000, false)
                    })
                })
            }
            DataType::Time32(_) => {
                let v = array.as_primitive::<Time32MillisecondType>().values();
                boxed(array, move |i, out| {
                    quoted(out, |o| {
                        text::write_time(o, i64::from(v[i]) * 1_000_000, false)
                    })
                })
            }
            DataType::Time64(TimeUnit::Microsecond) => {
                let v = array.as_primitive::<Time64MicrosecondType>().values();
                boxed(array, move |i, out| {
                    quoted(out, |o| text::write_time(o, v[i] * 1_000, false))
                })
            }
            DataType::Time64(_) => {
                let v = array.as_primitive::<Time64NanosecondType>().values();
                boxed(array, move |i, out| {
                    quoted(out, |o| text::write_time(o, v[i], false))
                })
            }
            DataType::Date32 => {
                let v = array.as_primitive::<Date32Type>().values();
                boxed(array, move |i, out| {
                    quoted(out, |o| {
                        text::write_date(o, i64::from(v[i]));
                    })
                })
            }
            DataType::Date64 => {
                let v = array.as_primitive::<Date64Type>().values();
                boxed(array, move |i, out| {
                    quoted(out, |o| {
                        text::write_date(o, v[i].div_euclid(86_400_000));
                    })
                })
            }
            DataType::Float32 => {
                let v = array.as_primitive::<Float32Type>().values();
                boxed(array, move |i, out| {
                    floating(out, f64::from(v[i]), |o| text::write_java_float(o, v[i]))
                })
            }
            DataType::Float64 => {
                let v = array.as_primitive::<Float64Type>().values();
                boxed(array, move |i, out| {
                    floating(out, v[i], |o| text::write_java_double(o, v[i]))
                })
            }
            DataType::Decimal32(_, s) => decimals::<Decimal32Type>(array, *s, plain),
            DataType::Decimal64(_, s) => decimals::<Decimal64Type>(array, *s, plain),
            DataType::Decimal128(_, s) => decimals::<Decimal128Type>(array, *s, plain),
            DataType::Decimal256(_, s) => decimals::<Decimal256Type>(array, *s, plain),
            DataType::Binary => {
                let a = array.as_binary::<i32>();
                boxed(array, move |i, out| {
                    quoted(out, |o| base64::encode_into(a.value(i), o))
                })
            }
            DataType::LargeBinary => {
                let a = array.as_binary::<i64>();
                boxed(array, move |i, out| {
                    quoted(out, |o| base64::encode_into(a.value(i), o))
                })
            }
            DataType::BinaryView => {
                let a = array.as_binary_view();
                boxed(array, move |i, out| {
                    quoted(out, |o| base64::encode_into(a.value(i), o))
                })
            }
            DataType::FixedSizeBinary(_) => {
                let a = array.as_fixed_size_binary();
                boxed(array, move |i, out| {
                    quoted(out, |o| base64::encode_into(a.value(i), o))
                })
            }
            _ => None,
        })
    }
}
