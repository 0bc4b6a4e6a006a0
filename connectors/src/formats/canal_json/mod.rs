//! Flink's `canal-json` format: Canal binlog events
//! (`{"data":[..],"old":[..],"type":"INSERT|UPDATE|DELETE","database":..,
//! "table":..,"ts":..,"es":..,..}`) as a changelog: each element of `data` of
//! an INSERT is a `+I`, of a DELETE a `-D`; an UPDATE gives `-U` (the element
//! of `old`, its missing fields taken from `data`) then `+U`. DDL events
//! (`isDdl` true, type `CREATE`, ...) are skipped. Writing turns `+I`/`+U`
//! into `{"data":[row],"type":"INSERT"}` and `-U`/`-D` into `DELETE`, as
//! Flink does.
//!
//! Options: `canal-json.ignore-parse-errors` (false),
//! `canal-json.timestamp-format.standard` (`SQL`),
//! `canal-json.map-null-key.mode` / `.literal`,
//! `canal-json.encode.decimal-as-plain-number`,
//! `canal-json.encode.ignore-null-fields`, `canal-json.database.include` and
//! `canal-json.table.include` (regular expressions matched against the whole
//! name; other events are skipped).
//!
//! Metadata (Kafka: `value.` + key): `database`, `table` STRING, `sql-type`
//! MAP<STRING, INT>, `pk-names` ARRAY<STRING>, `ingestion-timestamp`
//! (from `ts`) and `event-timestamp` (from `es`) TIMESTAMP_LTZ(3).

mod decode;
mod encode;

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, SchemaRef};
use regex::Regex;
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::ChangelogMode;
use sluice_engine::{Result, SluiceError};

use super::envelope::{EnvelopeOptions, ltz3, map_of};
use super::messages::{MessageDecoder, MessageEncoder, RowMessages};
use super::{Format, RecordDecoder, RecordEncoder};

/// The metadata keys and their types.
fn metadata_keys() -> Vec<(&'static str, DataType)> {
    vec![
        ("database", DataType::Utf8),
        ("table", DataType::Utf8),
        ("sql-type", map_of(DataType::Int32)),
        (
            "pk-names",
            DataType::List(Arc::new(Field::new("element", DataType::Utf8, true))),
        ),
        ("ingestion-timestamp", ltz3()),
        ("event-timestamp", ltz3()),
    ]
}

/// Compiles an include pattern so that it must match the whole name, like
/// Java's `Pattern.matches`.
fn include_pattern(opts: &mut ConnectorOptions, key: &str) -> Result<Option<Regex>> {
    let Some(p) = opts.string(key) else {
        return Ok(None);
    };
    Regex::new(&format!("^(?:{p})$"))
        .map(Some)
        .map_err(|e| opts.error(key, format!("invalid regular expression '{p}': {e}")))
}

/// A validated canal-json format for one table.
#[derive(Debug)]
pub struct CanalJsonFormat {
    table: String,
    schema: SchemaRef,
    options: EnvelopeOptions,
    database: Option<Regex>,
    table_include: Option<Regex>,
}

impl CanalJsonFormat {
    /// Takes the `canal-json.*` options.
    pub fn from_options(opts: &mut ConnectorOptions, schema: &SchemaRef) -> Result<Self> {
        let options = EnvelopeOptions::from_options(opts, "canal-json")?;
        let database = include_pattern(opts, "canal-json.database.include")?;
        let table_include = include_pattern(opts, "canal-json.table.include")?;
        let format = Self {
            table: opts.table().to_string(),
            schema: schema.clone(),
            options,
            database,
            table_include,
        };
        // Validates every column type the way plain json does.
        format
            .options
            .json_format(&format.table, &encode::envelope_schema(schema))?;
        Ok(format)
    }
}

impl Format for CanalJsonFormat {
    fn name(&self) -> &'static str {
        "canal-json"
    }

    fn file_extension(&self) -> &'static str {
        ".json"
    }

    fn decoder(
        &self,
        _projection: Option<&[usize]>,
        _batch_size: usize,
    ) -> Result<Box<dyn RecordDecoder>> {
        Err(SluiceError::not_supported(
            "reading format 'canal-json' from files (it is read from Kafka)",
        ))
    }

    fn encoder(&self) -> Result<Box<dyn RecordEncoder>> {
        let envelope = encode::envelope_schema(&self.schema);
        let inner = self
            .options
            .json_format(&self.table, &envelope)?
            .encoder()?;
        Ok(Box::new(encode::CanalEncoder::new(
            self.schema.clone(),
            envelope,
            inner,
        )))
    }

    fn metadata_keys(&self) -> Vec<(&'static str, DataType)> {
        metadata_keys()
    }

    fn changelog_mode(&self) -> ChangelogMode {
        ChangelogMode::Retract
    }

    fn message_decoder(
        &self,
        projection: Option<&[usize]>,
        metadata: &[String],
        batch_size: usize,
    ) -> Result<Box<dyn MessageDecoder>> {
        Ok(Box::new(decode::CanalDecoder::new(
            &self.table,
            &self.schema,
            projection,
            metadata,
            &self.options,
            decode::Filters {
                database: self.database.clone(),
                table: self.table_include.clone(),
            },
            batch_size,
        )?))
    }

    fn message_encoder(&self) -> Result<Box<dyn MessageEncoder>> {
        Ok(Box::new(RowMessages::new(self.encoder()?, true)))
    }
}
