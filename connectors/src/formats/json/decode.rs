//! JSON decoding: a whole chunk goes through arrow-json's tape decoder in one
//! pass. Only when that fails is the chunk decoded again line by line, to
//! name the bad line or (with `json.ignore-parse-errors`) drop it.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::json::reader::{Decoder, ReaderBuilder};
use sluice_engine::Result;
use sluice_engine::runtime::OperatorMetrics;

use super::JsonOptions;
use super::binary::{contains_binary, read_fields, to_binary};
use super::missing::find_missing;
use crate::ConnectorError;
use crate::formats::lines::{is_blank, lines, through_last_newline};
use crate::formats::{RecordDecoder, RecordLocation, arrow_reason};

/// Decodes newline-delimited JSON objects into batches of `schema`.
pub struct JsonDecoder {
    /// The schema of the produced batches.
    schema: SchemaRef,
    /// What arrow-json reads: `schema` with binary columns as text.
    read_schema: SchemaRef,
    /// Whether batches need the base64 pass.
    has_binary: bool,
    batch_size: usize,
    options: JsonOptions,
    /// The fast-path decoder, rebuilt after an error left it mid-record.
    decoder: Option<Decoder>,
}

impl JsonDecoder {
    pub fn new(schema: SchemaRef, options: JsonOptions, batch_size: usize) -> Self {
        let read_schema = Arc::new(Schema::new_with_metadata(
            read_fields(schema.fields()),
            schema.metadata().clone(),
        ));
        let has_binary = schema
            .fields()
            .iter()
            .any(|f| contains_binary(f.data_type()));
        Self {
            schema,
            read_schema,
            has_binary,
            batch_size: batch_size.max(1),
            options,
            decoder: None,
        }
    }

    fn build(&self) -> Result<Decoder, ArrowError> {
        // coerce_primitive: like Flink, a JSON number or boolean is accepted
        // for a STRING column.
        ReaderBuilder::new(self.read_schema.clone())
            .with_batch_size(self.batch_size)
            .with_coerce_primitive(true)
            .build_decoder()
    }

    /// Turns a batch read with `read_schema` into one of `schema`.
    fn finish_batch(&self, batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
        if !self.has_binary {
            return Ok(batch);
        }
        let columns = batch
            .columns()
            .iter()
            .zip(self.schema.fields().iter())
            .map(|(c, f)| to_binary(c, f.data_type()))
            .collect::<Result<Vec<_>, _>>()?;
        RecordBatch::try_new(self.schema.clone(), columns)
    }

    /// The vectorized path: the whole chunk in one decoder.
    fn decode_fast(&mut self, chunk: &[u8]) -> Result<Vec<RecordBatch>, ArrowError> {
        let mut decoder = match self.decoder.take() {
            Some(d) => d,
            None => self.build()?,
        };
        let mut out = Vec::new();
        let mut rest = chunk;
        while !rest.is_empty() {
            let read = decoder.decode(rest)?;
            rest = &rest[read..];
            if !rest.is_empty() {
                // The decoder stopped because a batch is full.
                if let Some(batch) = decoder.flush()? {
                    out.push(self.finish_batch(batch)?);
                }
            }
        }
        if decoder.has_partial_record() {
            return Err(ArrowError::JsonError("incomplete JSON object".to_string()));
        }
        if let Some(batch) = decoder.flush()? {
            out.push(self.finish_batch(batch)?);
        }
        self.decoder = Some(decoder);
        Ok(out)
    }

    /// Decodes one line on its own; the error is the reason it is malformed.
    fn decode_line(&self, probe: &mut Option<Decoder>, line: &[u8]) -> Result<RecordBatch, String> {
        let mut decoder = match probe.take() {
            Some(d) => d,
            None => self.build().map_err(|e| arrow_reason(&e))?,
        };
        let read = decoder.decode(line).map_err(|e| arrow_reason(&e))?;
        if read < line.len() || decoder.len() > 1 {
            return Err("expected one JSON object per line".to_string());
        }
        if decoder.has_partial_record() {
            return Err("incomplete JSON object".to_string());
        }
        let batch = decoder
            .flush()
            .map_err(|e| arrow_reason(&e))?
            .ok_or_else(|| "no JSON object".to_string())?;
        // Only a decoder that ended cleanly is reused.
        *probe = Some(decoder);
        let batch = self.finish_batch(batch).map_err(|e| arrow_reason(&e))?;
        if self.options.fail_on_missing_field
            && let Some(reason) = find_missing(line, self.schema.fields())
        {
            return Err(reason);
        }
        Ok(batch)
    }

    /// The slow path: line by line, only for chunks with bad data.
    fn decode_slow(
        &mut self,
        chunk: &[u8],
        location: &RecordLocation,
        metrics: &OperatorMetrics,
    ) -> Result<Vec<RecordBatch>> {
        let mut probe = None;
        let mut rows = Vec::new();
        for (offset, line) in lines(chunk) {
            if is_blank(line) {
                continue;
            }
            match self.decode_line(&mut probe, line) {
                Ok(row) => rows.push(row),
                Err(_) if self.options.ignore_parse_errors => metrics.add_skipped(1),
                Err(reason) => {
                    return Err(ConnectorError::Malformed {
                        location: location.describe(offset),
                        reason,
                    }
                    .into());
                }
            }
        }
        crate::formats::regroup(&self.schema, &rows, self.batch_size)
    }

    /// With `json.fail-on-missing-field`, the first line lacking a field.
    fn check_missing(&self, chunk: &[u8], location: &RecordLocation) -> Result<()> {
        for (offset, line) in lines(chunk) {
            if is_blank(line) {
                continue;
            }
            if let Some(reason) = find_missing(line, self.schema.fields()) {
                return Err(ConnectorError::Malformed {
                    location: location.describe(offset),
                    reason,
                }
                .into());
            }
        }
        Ok(())
    }
}

impl RecordDecoder for JsonDecoder {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn complete_prefix(&self, buf: &[u8], at_eof: bool) -> usize {
        // A raw newline cannot occur inside a JSON string, so every newline
        // ends a record.
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
        metrics: &OperatorMetrics,
    ) -> Result<Vec<RecordBatch>> {
        match self.decode_fast(chunk) {
            Ok(batches) => {
                if self.options.fail_on_missing_field {
                    self.check_missing(chunk, location)?;
                }
                Ok(batches)
            }
            Err(_) => self.decode_slow(chunk, location, metrics),
        }
    }
}
