//! Flink's `debezium-json` format: Debezium change events
//! (`{"before":..,"after":..,"op":"c|r|u|d","source":{..},"ts_ms":..}`) as a
//! changelog: `c`/`r` → `+I`, `u` → `-U` `+U`, `d` → `-D`. Writing turns
//! `+I`/`+U` into `op` `c` with `after`, and `-U`/`-D` into `op` `d` with
//! `before`, as Flink does.
//!
//! Options: `debezium-json.schema-include` (false: with Kafka Connect's
//! `value.converter.schemas.enable`, events are wrapped in
//! `{"schema":..,"payload":..}`), `debezium-json.ignore-parse-errors`
//! (false), `debezium-json.timestamp-format.standard` (`SQL`),
//! `debezium-json.map-null-key.mode` / `.literal`,
//! `debezium-json.encode.decimal-as-plain-number`,
//! `debezium-json.encode.ignore-null-fields`.
//!
//! Metadata (Kafka: `value.` + key): `schema` STRING, `ingestion-timestamp`
//! TIMESTAMP_LTZ(3), `source.timestamp` TIMESTAMP_LTZ(3), `source.database`,
//! `source.schema`, `source.table` STRING, `source.properties`
//! MAP<STRING, STRING>.

mod decode;
mod encode;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::ChangelogMode;
use sluice_engine::{Result, SluiceError};

use super::envelope::{EnvelopeOptions, ltz3, map_of};
use super::messages::{MessageDecoder, MessageEncoder, RowMessages};
use super::{Format, RecordDecoder, RecordEncoder};

/// The metadata keys and their types.
fn metadata_keys() -> Vec<(&'static str, DataType)> {
    vec![
        ("schema", DataType::Utf8),
        ("ingestion-timestamp", ltz3()),
        ("source.timestamp", ltz3()),
        ("source.database", DataType::Utf8),
        ("source.schema", DataType::Utf8),
        ("source.table", DataType::Utf8),
        ("source.properties", map_of(DataType::Utf8)),
    ]
}

/// A validated debezium-json format for one table.
#[derive(Debug)]
pub struct DebeziumJsonFormat {
    table: String,
    schema: SchemaRef,
    options: EnvelopeOptions,
    schema_include: bool,
}

impl DebeziumJsonFormat {
    /// Takes the `debezium-json.*` options.
    pub fn from_options(opts: &mut ConnectorOptions, schema: &SchemaRef) -> Result<Self> {
        let schema_include = opts.bool("debezium-json.schema-include")?.unwrap_or(false);
        let options = EnvelopeOptions::from_options(opts, "debezium-json")?;
        let format = Self {
            table: opts.table().to_string(),
            schema: schema.clone(),
            options,
            schema_include,
        };
        // Validates every column type the way plain json does.
        format
            .options
            .json_format(&format.table, &encode::envelope_schema(schema))?;
        Ok(format)
    }
}

impl Format for DebeziumJsonFormat {
    fn name(&self) -> &'static str {
        "debezium-json"
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
            "reading format 'debezium-json' from files (it is read from Kafka)",
        ))
    }

    fn encoder(&self) -> Result<Box<dyn RecordEncoder>> {
        if self.schema_include {
            return Err(SluiceError::plan(
                "Debezium JSON serialization doesn't support \
                 'debezium-json.schema-include' option been set to true",
            ));
        }
        let envelope = encode::envelope_schema(&self.schema);
        let inner = self
            .options
            .json_format(&self.table, &envelope)?
            .encoder()?;
        Ok(Box::new(encode::DebeziumEncoder::new(
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
        Ok(Box::new(decode::DebeziumDecoder::new(
            &self.table,
            &self.schema,
            projection,
            metadata,
            &self.options,
            self.schema_include,
            batch_size,
        )?))
    }

    fn message_encoder(&self) -> Result<Box<dyn MessageEncoder>> {
        Ok(Box::new(RowMessages::new(self.encoder()?, true)))
    }
}
