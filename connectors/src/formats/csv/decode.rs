//! CSV decoding: arrow-csv splits a whole chunk into text columns in one
//! pass, then [`convert`] types each column at once. Only when that fails (a
//! row with the wrong number of fields, text that does not parse without
//! `csv.ignore-parse-errors`) is the chunk decoded again record by record, to
//! name the bad line or drop the bad record.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, BooleanArray, RecordBatch, RecordBatchOptions};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::csv::reader::{Decoder, ReaderBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use sluice_engine::Result;
use sluice_engine::runtime::OperatorMetrics;

use super::CsvOptions;
use super::convert::{TextRules, convert, type_name};
use super::scan;
use crate::ConnectorError;
use crate::formats::{RecordDecoder, RecordLocation, arrow_reason};

/// Decodes CSV records into batches of the projected columns.
pub struct CsvDecoder {
    /// Every physical column as nullable text: what arrow-csv reads. CSV
    /// fields are positional, so arrow-csv needs the full width.
    text_schema: SchemaRef,
    /// Indices of the produced columns in the physical schema.
    projection: Vec<usize>,
    /// The schema of the produced batches.
    schema: SchemaRef,
    options: CsvOptions,
    batch_size: usize,
}

/// A text batch converted to the output schema, with the rows whose text
/// did not parse (those fields are null).
struct Typed {
    batch: RecordBatch,
    invalid: Option<BooleanArray>,
}

impl CsvDecoder {
    pub fn new(
        physical: SchemaRef,
        projection: Vec<usize>,
        options: CsvOptions,
        batch_size: usize,
    ) -> Result<Self> {
        let text_schema = Arc::new(Schema::new(
            physical
                .fields()
                .iter()
                .map(|f| Field::new(f.name(), DataType::Utf8, true))
                .collect::<Vec<_>>(),
        ));
        let schema = Arc::new(physical.project(&projection)?);
        Ok(Self {
            text_schema,
            projection,
            schema,
            options,
            batch_size: batch_size.max(1),
        })
    }

    fn build(&self) -> Decoder {
        let o = &self.options;
        // arrow-csv cannot turn quoting off; NUL never occurs in text files,
        // so using it as the quote character has the same effect.
        let mut builder = ReaderBuilder::new(self.text_schema.clone())
            .with_header(false)
            .with_delimiter(o.delimiter)
            .with_quote(o.quote.unwrap_or(0))
            .with_batch_size(self.batch_size)
            .with_projection(self.projection.clone())
            // Flink pads short rows with nulls when parse errors are ignored.
            .with_truncated_rows(o.ignore_parse_errors);
        if let Some(e) = o.escape {
            builder = builder.with_escape(e);
        }
        if o.allow_comments {
            builder = builder.with_comment(b'#');
        }
        builder.build_decoder()
    }

    fn rules(&self) -> TextRules<'_> {
        TextRules {
            null_literal: self.options.null_literal.as_deref(),
            array_delimiter: &self.options.array_delimiter,
        }
    }

    /// Types a text batch column by column.
    fn typed(&self, text: &RecordBatch) -> Result<Typed, ArrowError> {
        let mut columns = Vec::with_capacity(text.num_columns());
        let mut invalid: Option<BooleanArray> = None;
        for (column, field) in text.columns().iter().zip(self.schema.fields()) {
            let converted = convert(column.as_string::<i32>(), field.data_type(), self.rules())?;
            invalid = match (invalid, converted.invalid) {
                (Some(a), Some(b)) => {
                    Some(datafusion::arrow::compute::kernels::boolean::or(&a, &b)?)
                }
                (a, b) => a.or(b),
            };
            columns.push(converted.array);
        }
        let batch = RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(text.num_rows())),
        )?;
        Ok(Typed { batch, invalid })
    }

    /// Splits `chunk` into text batches.
    fn read_text(&self, chunk: &[u8]) -> Result<Vec<RecordBatch>, ArrowError> {
        let mut decoder = self.build();
        let mut out = Vec::new();
        let mut rest = chunk;
        loop {
            if decoder.capacity() == 0 {
                out.extend(decoder.flush()?);
            }
            if rest.is_empty() {
                break;
            }
            let read = decoder.decode(rest)?;
            rest = &rest[read..];
        }
        // An empty buffer tells csv_core the input ended, completing a last
        // record that has no newline.
        decoder.decode(&[])?;
        out.extend(decoder.flush()?);
        Ok(out)
    }

    /// The vectorized path. `Err` sends the chunk to the slow path.
    fn decode_fast(
        &self,
        chunk: &[u8],
        metrics: &OperatorMetrics,
    ) -> Result<Vec<RecordBatch>, ArrowError> {
        let mut out = Vec::new();
        let mut tolerated = 0;
        for text in self.read_text(chunk)? {
            let typed = self.typed(&text)?;
            if let Some(invalid) = typed.invalid {
                if !self.options.ignore_parse_errors {
                    return Err(ArrowError::ParseError("unparsable field".to_string()));
                }
                tolerated += invalid.true_count();
            }
            out.push(typed.batch);
        }
        metrics.add_skipped(tolerated);
        Ok(out)
    }

    /// Why the one-row text batch `text` does not convert, if it does not.
    fn row_problem(&self, text: &RecordBatch, typed: &Typed) -> Option<String> {
        typed.invalid.as_ref()?;
        text.columns()
            .iter()
            .zip(typed.batch.columns())
            .zip(self.schema.fields())
            .find(|((raw, converted), _)| raw.is_valid(0) && converted.is_null(0))
            .map(|((raw, _), field)| {
                format!(
                    "cannot parse '{}' as {} for column '{}'",
                    raw.as_string::<i32>().value(0),
                    type_name(field.data_type()),
                    field.name()
                )
            })
            .or_else(|| Some("unparsable field".to_string()))
    }

    /// Decodes one record on its own; the error is why it is malformed.
    /// Returns the row and whether a field was nulled (ignored parse error).
    fn decode_record(&self, record: &[u8]) -> Result<(RecordBatch, bool), String> {
        let reason = |e: ArrowError| {
            let r = arrow_reason(&e);
            match r.find("expected ") {
                Some(i) if r.starts_with("incorrect number of fields") => {
                    format!("wrong number of fields: {}", &r[i..])
                }
                _ => r,
            }
        };
        let texts = self.read_text(record).map_err(reason)?;
        let text = concat_batches(&self.text_schema_projected(), &texts).map_err(reason)?;
        let typed = self.typed(&text).map_err(reason)?;
        match self.row_problem(&text, &typed) {
            None => Ok((typed.batch, false)),
            Some(_) if self.options.ignore_parse_errors => Ok((typed.batch, true)),
            Some(problem) => Err(problem),
        }
    }

    fn text_schema_projected(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.projection
                .iter()
                .map(|i| self.text_schema.field(*i).clone())
                .collect::<Vec<_>>(),
        ))
    }

    /// The slow path: record by record, only for chunks with bad data.
    fn decode_slow(
        &self,
        chunk: &[u8],
        location: &RecordLocation,
        metrics: &OperatorMetrics,
    ) -> Result<Vec<RecordBatch>> {
        let mut rows = Vec::new();
        for record in scan::records(chunk, &self.options) {
            match self.decode_record(&chunk[record.bytes.clone()]) {
                Ok((row, nulled)) => {
                    if nulled {
                        metrics.add_skipped(1);
                    }
                    rows.push(row);
                }
                Err(_) if self.options.ignore_parse_errors => metrics.add_skipped(1),
                Err(reason) => {
                    return Err(ConnectorError::Malformed {
                        location: location.describe(record.line_offset),
                        reason,
                    }
                    .into());
                }
            }
        }
        crate::formats::regroup(&self.schema, &rows, self.batch_size)
    }
}

impl RecordDecoder for CsvDecoder {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn complete_prefix(&self, buf: &[u8], at_eof: bool) -> usize {
        if at_eof {
            buf.len()
        } else {
            scan::complete_prefix(buf, &self.options)
        }
    }

    fn decode(
        &mut self,
        chunk: &[u8],
        location: &RecordLocation,
        metrics: &OperatorMetrics,
    ) -> Result<Vec<RecordBatch>> {
        match self.decode_fast(chunk, metrics) {
            Ok(batches) => Ok(batches),
            Err(_) => self.decode_slow(chunk, location, metrics),
        }
    }
}
