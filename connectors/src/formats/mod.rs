//! The format layer: Flink's `'format' = 'json' | 'csv'`, shared by every
//! connector that moves bytes (filesystem now, Kafka later).
//!
//! A table's format is validated once, at CREATE TABLE, by [`format_for`],
//! which takes the format's own option keys (`json.*`, `csv.*`) out of the
//! table's options and returns a [`Format`]. At run time each parallel
//! instance asks that `Format` for its own [`RecordDecoder`] or
//! [`RecordEncoder`], because decoders carry per-instance state and only then
//! is the projection known.
//!
//! Decoding is vectorized: whole chunks go through arrow-json's / arrow-csv's
//! decoders straight into Arrow arrays. Only when a chunk contains bad data is
//! it decoded again record by record, to name the bad line (or skip it under
//! `*.ignore-parse-errors`).

mod base64;
mod canal_json;
mod csv;
mod debezium_json;
mod envelope;
mod json;
pub(crate) mod lines;
pub mod messages;
mod raw;
mod text;

#[cfg(test)]
mod changelog_tests;
#[cfg(test)]
mod tests;

use std::fmt::Debug;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Int8Type, SchemaRef};
use datafusion::arrow::error::ArrowError;
use sluice_engine::Result;
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{ChangelogMode, ROW_KIND_COLUMN, RowKind};
use sluice_engine::runtime::OperatorMetrics;

use crate::ConnectorError;
use messages::{LineMessages, MessageDecoder, MessageEncoder, RowMessages};

/// Rejects, at CREATE TABLE, a column whose type the format cannot carry;
/// `problem` says what is wrong with a type, if anything.
pub(crate) fn check_column_types(
    opts: &ConnectorOptions,
    schema: &SchemaRef,
    problem: fn(&DataType) -> Option<String>,
) -> Result<()> {
    for field in schema.fields() {
        if let Some(p) = problem(field.data_type()) {
            return Err(sluice_engine::SluiceError::Options {
                table: opts.table().to_string(),
                message: format!("column '{}': {p}", field.name()),
            });
        }
    }
    Ok(())
}

/// Regroups the one-row batches of the slow (record-by-record) decode path
/// into batches of at most `batch_size` rows.
pub(crate) fn regroup(
    schema: &SchemaRef,
    rows: &[RecordBatch],
    batch_size: usize,
) -> Result<Vec<RecordBatch>> {
    rows.chunks(batch_size.max(1))
        .map(|group| Ok(concat_batches(schema, group)?))
        .collect()
}

/// Every value `'format'` may take, sorted.
pub const SUPPORTED_FORMATS: &[&str] = &["canal-json", "csv", "debezium-json", "json", "raw"];

/// Rows per batch for decoders created without an explicit batch size.
pub const DEFAULT_BATCH_SIZE: usize = 8192;

/// Where a chunk of records came from, so that an error can point at the
/// exact record: `file /data/x.json, line 3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLocation {
    /// What holds the records, e.g. `file /data/x.json` or
    /// `topic t, partition 0, offset 17`.
    pub source: String,
    /// The 1-based line number of the chunk's first byte, or `None` when the
    /// input is not line-oriented (one message per record).
    pub first_line: Option<u64>,
}

impl RecordLocation {
    /// A chunk of a line-oriented input whose first byte is on `first_line`.
    pub fn lines(source: impl Into<String>, first_line: u64) -> Self {
        Self {
            source: source.into(),
            first_line: Some(first_line),
        }
    }

    /// A single record that is not part of a line-oriented input.
    pub fn record(source: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            first_line: None,
        }
    }

    /// Describes the record starting `line_offset` lines into the chunk.
    pub fn describe(&self, line_offset: u64) -> String {
        match self.first_line {
            Some(first) => format!("{}, line {}", self.source, first + line_offset),
            None => self.source.clone(),
        }
    }
}

/// A validated format: its options are taken and checked; it makes decoders
/// and encoders for the table's physical columns.
pub trait Format: Send + Sync + Debug {
    /// The format's name as written in `'format'`.
    fn name(&self) -> &'static str;
    /// The file extension of files written in this format, with the dot.
    fn file_extension(&self) -> &'static str;
    /// A decoder producing `projection` (indices into the physical schema the
    /// format was created with; `None` = all columns) in batches of at most
    /// `batch_size` rows.
    fn decoder(
        &self,
        projection: Option<&[usize]>,
        batch_size: usize,
    ) -> Result<Box<dyn RecordDecoder>>;
    /// An encoder for batches holding the physical columns, optionally
    /// followed by the engine's row-kind column.
    fn encoder(&self) -> Result<Box<dyn RecordEncoder>>;

    /// The metadata keys the format can read (Flink's
    /// `listReadableMetadata`), with the type of each value.
    fn metadata_keys(&self) -> Vec<(&'static str, DataType)> {
        Vec::new()
    }

    /// What decoded rows are: append-only, or a changelog (`canal-json`,
    /// `debezium-json`) whose encoder also takes the row-kind column.
    fn changelog_mode(&self) -> ChangelogMode {
        ChangelogMode::AppendOnly
    }

    /// A decoder of one record per message (Kafka) producing `projection`
    /// followed by the `metadata` keys (from [`Format::metadata_keys`]).
    fn message_decoder(
        &self,
        projection: Option<&[usize]>,
        metadata: &[String],
        batch_size: usize,
    ) -> Result<Box<dyn MessageDecoder>> {
        reject_format_metadata(self.name(), metadata)?;
        Ok(Box::new(LineMessages::new(
            self.decoder(projection, batch_size)?,
            false,
        )))
    }

    /// An encoder of one message per row.
    fn message_encoder(&self) -> Result<Box<dyn MessageEncoder>> {
        // json writes one record per line with no raw newline inside.
        Ok(Box::new(RowMessages::new(
            self.encoder()?,
            self.name() == "json",
        )))
    }
}

/// Fails when metadata keys are asked of a format that has none.
pub(crate) fn reject_format_metadata(format: &str, metadata: &[String]) -> Result<()> {
    match metadata.first() {
        None => Ok(()),
        Some(k) => Err(sluice_engine::SluiceError::plan(format!(
            "format '{format}' has no metadata key '{k}'"
        ))),
    }
}

/// Turns bytes of many records into record batches. One per source instance.
pub trait RecordDecoder: Send {
    /// The schema of every batch produced.
    fn schema(&self) -> SchemaRef;

    /// The length of the longest prefix of `buf` that holds only complete
    /// records, so a reader can hand whole records to [`Self::decode`] and
    /// keep the rest for its next read. `buf` must start at a record boundary.
    /// At end of input (`at_eof`) everything is complete.
    fn complete_prefix(&self, buf: &[u8], at_eof: bool) -> usize;

    /// Decodes a chunk of complete records. A malformed record fails with
    /// [`ConnectorError::Malformed`] naming `location` and the line, unless
    /// the format ignores parse errors: then it is dropped and counted with
    /// [`OperatorMetrics::add_skipped`].
    fn decode(
        &mut self,
        chunk: &[u8],
        location: &RecordLocation,
        metrics: &OperatorMetrics,
    ) -> Result<Vec<RecordBatch>>;
}

/// Turns record batches into bytes. One per sink instance.
pub trait RecordEncoder: Send {
    /// Appends every row of `batch` to `out`, each terminated by `\n`.
    fn encode(&mut self, batch: &RecordBatch, out: &mut Vec<u8>) -> Result<()>;

    /// Encodes each row on its own, without the trailing `\n` (one message per
    /// row, as Kafka wants).
    fn encode_rows(&mut self, batch: &RecordBatch) -> Result<Vec<Vec<u8>>>;
}

/// Validates `format` with its options (taking its `json.*` / `csv.*` keys)
/// for a table whose physical columns are `schema`.
pub fn format_for(
    format: &str,
    opts: &mut ConnectorOptions,
    schema: &SchemaRef,
) -> Result<Arc<dyn Format>> {
    match format.trim().to_ascii_lowercase().as_str() {
        "json" => Ok(Arc::new(json::JsonFormat::from_options(opts, schema)?)),
        "csv" => Ok(Arc::new(csv::CsvFormat::from_options(opts, schema)?)),
        "raw" => Ok(Arc::new(raw::RawFormat::from_options(opts, schema)?)),
        "canal-json" => Ok(Arc::new(canal_json::CanalJsonFormat::from_options(
            opts, schema,
        )?)),
        "debezium-json" => Ok(Arc::new(debezium_json::DebeziumJsonFormat::from_options(
            opts, schema,
        )?)),
        _ => Err(opts.error(
            "format",
            format!(
                "unknown format '{format}'; supported formats are: {}",
                SUPPORTED_FORMATS.join(", ")
            ),
        )),
    }
}

/// Shorthand for [`format_for`] + [`Format::decoder`] over all columns.
pub fn decoder_for(
    format: &str,
    opts: &mut ConnectorOptions,
    schema: SchemaRef,
) -> Result<Box<dyn RecordDecoder>> {
    format_for(format, opts, &schema)?.decoder(None, DEFAULT_BATCH_SIZE)
}

/// Shorthand for [`format_for`] + [`Format::encoder`].
pub fn encoder_for(
    format: &str,
    opts: &mut ConnectorOptions,
    schema: SchemaRef,
) -> Result<Box<dyn RecordEncoder>> {
    format_for(format, opts, &schema)?.encoder()
}

/// The text of an arrow error without its `Json error: ` style prefix.
pub(crate) fn arrow_reason(e: &ArrowError) -> String {
    match e {
        ArrowError::JsonError(m)
        | ArrowError::ParseError(m)
        | ArrowError::CsvError(m)
        | ArrowError::CastError(m)
        | ArrowError::InvalidArgumentError(m)
        | ArrowError::SchemaError(m) => m.clone(),
        other => other.to_string(),
    }
}

/// Removes the engine's row-kind column from `batch`, if present. JSON and CSV
/// rows carry no row kind, so anything but `+I` would be written as an insert:
/// that is an error rather than silent corruption. A null row kind counts as
/// `+I`.
pub fn strip_insert_only(batch: &RecordBatch, format: &'static str) -> Result<RecordBatch> {
    let schema = batch.schema();
    let Some((last, field)) = schema.fields().iter().enumerate().next_back() else {
        return Ok(batch.clone());
    };
    if field.name() != ROW_KIND_COLUMN {
        return Ok(batch.clone());
    }
    let kinds = batch.column(last);
    let Some(kinds) = kinds.as_primitive_opt::<Int8Type>() else {
        return Err(ConnectorError::Encode {
            format,
            reason: format!(
                "column '{ROW_KIND_COLUMN}' must be Int8, got {}",
                kinds.data_type()
            ),
        }
        .into());
    };
    let bad = kinds.iter().flatten().find(|k| *k != RowKind::Insert as i8);
    if let Some(k) = bad {
        let kind = RowKind::from_i8(k).map_or("unknown", RowKind::short);
        return Err(ConnectorError::UpdatingRow { format, kind }.into());
    }
    let mut keep = batch.clone();
    keep.remove_column(last);
    Ok(keep)
}
