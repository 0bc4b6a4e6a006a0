//! Raw values to and from Arrow arrays, a whole batch at a time.

use std::sync::Arc;

use datafusion::arrow::array::*;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use sluice_engine::Result;
use sluice_engine::runtime::OperatorMetrics;

use super::RawOptions;
use crate::ConnectorError;
use crate::formats::lines::{lines, through_last_newline};
use crate::formats::messages::{Decoded, Locate, MessageDecoder, MessageEncoder, Messages};
use crate::formats::{RecordDecoder, RecordEncoder, RecordLocation, strip_insert_only};

/// The bytes of a fixed-width value, or why they are not one.
fn fixed<const N: usize>(bytes: &[u8], type_name: &str) -> Result<[u8; N], String> {
    bytes
        .try_into()
        .map_err(|_| format!("expected {N} bytes for {type_name}, got {}", bytes.len()))
}

macro_rules! numbers {
    ($values:expr, $opts:expr, $array:ty, $native:ty, $n:literal, $name:literal) => {{
        let mut b = <$array>::builder(0);
        for (i, v) in $values {
            match v {
                None => b.append_null(),
                Some(bytes) => {
                    let raw = fixed::<$n>(bytes, $name).map_err(|e| (i, e))?;
                    b.append_value(if $opts.big_endian {
                        <$native>::from_be_bytes(raw)
                    } else {
                        <$native>::from_le_bytes(raw)
                    });
                }
            }
        }
        Arc::new(b.finish()) as ArrayRef
    }};
}

/// Decodes raw values into an array of `dt`; a bad value is reported as its
/// position in `values` with the reason.
fn decode_values<'a>(
    dt: &DataType,
    opts: RawOptions,
    values: impl Iterator<Item = (usize, Option<&'a [u8]>)>,
) -> Result<ArrayRef, (usize, String)> {
    Ok(match dt {
        DataType::Utf8 => {
            let mut b = StringBuilder::new();
            let mut text = String::new();
            for (_, v) in values {
                match v {
                    None => b.append_null(),
                    Some(bytes) => {
                        text.clear();
                        opts.charset.decode_into(bytes, &mut text);
                        b.append_value(&text);
                    }
                }
            }
            Arc::new(b.finish())
        }
        DataType::Binary => {
            let mut b = BinaryBuilder::new();
            for (_, v) in values {
                b.append_option(v);
            }
            Arc::new(b.finish())
        }
        DataType::Boolean => {
            let mut b = BooleanBuilder::new();
            for (i, v) in values {
                match v {
                    None => b.append_null(),
                    Some(bytes) => {
                        let [x] = fixed::<1>(bytes, "BOOLEAN").map_err(|e| (i, e))?;
                        b.append_value(x != 0);
                    }
                }
            }
            Arc::new(b.finish())
        }
        DataType::Int8 => numbers!(values, opts, Int8Array, i8, 1, "TINYINT"),
        DataType::Int16 => numbers!(values, opts, Int16Array, i16, 2, "SMALLINT"),
        DataType::Int32 => numbers!(values, opts, Int32Array, i32, 4, "INT"),
        DataType::Int64 => numbers!(values, opts, Int64Array, i64, 8, "BIGINT"),
        DataType::Float32 => numbers!(values, opts, Float32Array, f32, 4, "FLOAT"),
        DataType::Float64 => numbers!(values, opts, Float64Array, f64, 8, "DOUBLE"),
        other => return Err((0, format!("the 'raw' format does not support type {other}"))),
    })
}

/// A batch of `rows` rows holding the decoded values (or no column at all
/// when the projection is empty).
fn batch_of<'a>(
    schema: &SchemaRef,
    opts: RawOptions,
    rows: usize,
    values: impl Iterator<Item = (usize, Option<&'a [u8]>)>,
) -> Result<RecordBatch, (usize, String)> {
    let columns = match schema.fields().first() {
        None => Vec::new(),
        Some(f) => vec![decode_values(f.data_type(), opts, values)?],
    };
    RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(rows)),
    )
    .map_err(|e| (0, e.to_string()))
}

/// Raw in line-oriented input (files): each line is one value.
pub struct RawLineDecoder {
    schema: SchemaRef,
    options: RawOptions,
    batch_size: usize,
}

impl RawLineDecoder {
    pub fn new(schema: SchemaRef, options: RawOptions, batch_size: usize) -> Self {
        Self {
            schema,
            options,
            batch_size: batch_size.max(1),
        }
    }
}

impl RecordDecoder for RawLineDecoder {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn complete_prefix(&self, buf: &[u8], at_eof: bool) -> usize {
        if at_eof {
            buf.len()
        } else {
            through_last_newline(buf)
        }
    }

    fn decode(
        &mut self,
        chunk: &[u8],
        location: &RecordLocation,
        _metrics: &OperatorMetrics,
    ) -> Result<Vec<RecordBatch>> {
        let all: Vec<(u64, &[u8])> = lines(chunk).collect();
        let mut out = Vec::new();
        for group in all.chunks(self.batch_size) {
            let values = group.iter().enumerate().map(|(i, (_, l))| (i, Some(*l)));
            let batch = batch_of(&self.schema, self.options, group.len(), values).map_err(
                |(i, reason)| ConnectorError::Malformed {
                    location: location.describe(group.get(i).map_or(0, |(o, _)| *o)),
                    reason,
                },
            )?;
            out.push(batch);
        }
        Ok(out)
    }
}

/// Raw in messages: each message (null included) is one row.
pub struct RawMessageDecoder {
    schema: SchemaRef,
    options: RawOptions,
}

impl RawMessageDecoder {
    pub fn new(schema: SchemaRef, options: RawOptions) -> Self {
        Self { schema, options }
    }
}

impl MessageDecoder for RawMessageDecoder {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn decode(
        &mut self,
        messages: &Messages,
        locate: Locate<'_>,
        _metrics: &OperatorMetrics,
    ) -> Result<Decoded> {
        let n = messages.len();
        let values = (0..n).map(|i| (i, messages.get(i)));
        let batch = batch_of(&self.schema, self.options, n, values).map_err(|(i, reason)| {
            ConnectorError::Malformed {
                location: locate(i),
                reason,
            }
        })?;
        Ok(Decoded {
            batch,
            origins: UInt32Array::from_iter_values(0..n as u32),
            kinds: None,
        })
    }
}

/// Writes the single column's value as the whole record.
pub struct RawEncoder {
    options: RawOptions,
}

impl RawEncoder {
    pub fn new(options: RawOptions) -> Self {
        Self { options }
    }

    /// Each row's bytes; `None` for null.
    fn values(&self, batch: &RecordBatch) -> Result<Messages> {
        let batch = strip_insert_only(batch, "raw")?;
        let Some(column) = batch.columns().first() else {
            return Err(ConnectorError::Encode {
                format: "raw",
                reason: "the 'raw' format needs exactly one column".to_string(),
            }
            .into());
        };
        let mut out = Messages::with_capacity(batch.num_rows(), 0);
        let mut buf = Vec::new();
        let big = self.options.big_endian;
        macro_rules! num {
            ($t:ty) => {{
                let a = column.as_primitive::<$t>();
                for v in a.iter() {
                    out.push(
                        v.map(|x| {
                            if big {
                                x.to_be_bytes()
                            } else {
                                x.to_le_bytes()
                            }
                        })
                        .as_ref()
                        .map(|b| &b[..]),
                    );
                }
            }};
        }
        use datafusion::arrow::datatypes::*;
        match column.data_type() {
            DataType::Utf8 => {
                for v in column.as_string::<i32>().iter() {
                    match v {
                        None => out.push(None),
                        Some(s) => {
                            buf.clear();
                            self.options.charset.encode_into(s, &mut buf);
                            out.push(Some(&buf));
                        }
                    }
                }
            }
            DataType::Binary => {
                for v in column.as_binary::<i32>().iter() {
                    out.push(v);
                }
            }
            DataType::Boolean => {
                for v in column.as_boolean().iter() {
                    out.push(v.map(|b| if b { &[1u8][..] } else { &[0u8][..] }));
                }
            }
            DataType::Int8 => num!(Int8Type),
            DataType::Int16 => num!(Int16Type),
            DataType::Int32 => num!(Int32Type),
            DataType::Int64 => num!(Int64Type),
            DataType::Float32 => num!(Float32Type),
            DataType::Float64 => num!(Float64Type),
            other => {
                return Err(ConnectorError::Encode {
                    format: "raw",
                    reason: format!("type {other} is not supported"),
                }
                .into());
            }
        }
        Ok(out)
    }
}

impl MessageEncoder for RawEncoder {
    fn encode(&mut self, batch: &RecordBatch) -> Result<Messages> {
        self.values(batch)
    }
}

impl RecordEncoder for RawEncoder {
    fn encode(&mut self, batch: &RecordBatch, out: &mut Vec<u8>) -> Result<()> {
        let values = self.values(batch)?;
        for i in 0..values.len() {
            if let Some(v) = values.get(i) {
                out.extend_from_slice(v);
            }
            out.push(b'\n');
        }
        Ok(())
    }

    fn encode_rows(&mut self, batch: &RecordBatch) -> Result<Vec<Vec<u8>>> {
        let values = self.values(batch)?;
        Ok((0..values.len())
            .map(|i| values.get(i).map(<[u8]>::to_vec).unwrap_or_default())
            .collect())
    }
}
