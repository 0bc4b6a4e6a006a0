//! Reading Debezium events: the envelopes of a batch of messages are decoded
//! by the json decoder in one pass, then each event's `op` picks its before
//! and/or after image.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use sluice_engine::Result;
use sluice_engine::connector::RowKind;
use sluice_engine::runtime::OperatorMetrics;

use super::metadata_keys;
use crate::ConnectorError;
use crate::formats::envelope::{
    DecoderLayout, EnvelopeOptions, Picks, map_lookup, millis_to_ltz, nullable,
};
use crate::formats::messages::{Decoded, LineMessages, Locate, MessageDecoder, Messages};

const BEFORE: usize = 0;
const AFTER: usize = 1;

/// A requested metadata column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meta {
    Schema,
    IngestionTimestamp,
    SourceTimestamp,
    SourceDatabase,
    SourceSchema,
    SourceTable,
    SourceProperties,
}

impl Meta {
    fn from_key(key: &str) -> Option<Self> {
        Some(match key {
            "schema" => Meta::Schema,
            "ingestion-timestamp" => Meta::IngestionTimestamp,
            "source.timestamp" => Meta::SourceTimestamp,
            "source.database" => Meta::SourceDatabase,
            "source.schema" => Meta::SourceSchema,
            "source.table" => Meta::SourceTable,
            "source.properties" => Meta::SourceProperties,
            _ => return None,
        })
    }
}

/// Decodes Debezium events into `+I/-U/+U/-D` rows.
pub struct DebeziumDecoder {
    /// Projected physical columns, then metadata columns.
    schema: SchemaRef,
    metadata: Vec<Meta>,
    envelopes: LineMessages,
    schema_include: bool,
    ignore_parse_errors: bool,
}

impl DebeziumDecoder {
    pub fn new(
        table: &str,
        physical: &SchemaRef,
        projection: Option<&[usize]>,
        metadata: &[String],
        options: &EnvelopeOptions,
        schema_include: bool,
        batch_size: usize,
    ) -> Result<Self> {
        let layout = DecoderLayout::new(
            "debezium-json",
            physical,
            projection,
            metadata,
            &metadata_keys(),
            Meta::from_key,
        )?;
        let meta = layout.metadata;
        let envelope = envelope_schema(&layout.image, &meta, schema_include);
        let inner = options
            .json_format(table, &envelope)?
            .decoder(None, batch_size)?;
        Ok(Self {
            schema: layout.output,
            metadata: meta,
            envelopes: LineMessages::new(inner, options.ignore_parse_errors),
            schema_include,
            ignore_parse_errors: options.ignore_parse_errors,
        })
    }

    /// The metadata column `m` for each envelope.
    fn metadata_column(
        &self,
        m: Meta,
        payload: &StructArray,
        messages: &Messages,
        origins: &[u32],
    ) -> Result<ArrayRef> {
        let source = || payload.column_by_name("source").cloned();
        let null_text = || {
            Arc::new(datafusion::arrow::array::new_null_array(
                &DataType::Utf8,
                payload.len(),
            )) as ArrayRef
        };
        Ok(match m {
            Meta::Schema => {
                let mut b = StringBuilder::new();
                for o in origins {
                    let text = messages
                        .get(*o as usize)
                        .and_then(|p| serde_json::from_slice::<serde_json::Value>(p).ok())
                        .and_then(|v| {
                            v.get("schema")
                                .filter(|s| !s.is_null())
                                .map(|s| s.to_string())
                        });
                    b.append_option(text);
                }
                Arc::new(b.finish())
            }
            Meta::IngestionTimestamp => match payload.column_by_name("ts_ms") {
                Some(ts) => millis_to_ltz(ts)?,
                None => null_text(),
            },
            Meta::SourceTimestamp => match source() {
                Some(s) => millis_to_ltz(&map_lookup(s.as_ref(), "ts_ms"))?,
                None => null_text(),
            },
            Meta::SourceDatabase => {
                source().map_or_else(null_text, |s| map_lookup(s.as_ref(), "db"))
            }
            Meta::SourceSchema => {
                source().map_or_else(null_text, |s| map_lookup(s.as_ref(), "schema"))
            }
            Meta::SourceTable => {
                source().map_or_else(null_text, |s| map_lookup(s.as_ref(), "table"))
            }
            Meta::SourceProperties => source().unwrap_or_else(null_text),
        })
    }
}

/// The json schema of an event: `before`, `after`, `op` and what the
/// requested metadata needs, wrapped in `payload` with `schema-include`.
fn envelope_schema(image: &Fields, meta: &[Meta], schema_include: bool) -> SchemaRef {
    let row = DataType::Struct(nullable(image));
    let mut fields = vec![
        Field::new("before", row.clone(), true),
        Field::new("after", row, true),
        Field::new("op", DataType::Utf8, true),
    ];
    if meta.contains(&Meta::IngestionTimestamp) {
        fields.push(Field::new("ts_ms", DataType::Int64, true));
    }
    if meta.iter().any(|m| {
        matches!(
            m,
            Meta::SourceTimestamp
                | Meta::SourceDatabase
                | Meta::SourceSchema
                | Meta::SourceTable
                | Meta::SourceProperties
        )
    }) {
        fields.push(Field::new(
            "source",
            crate::formats::envelope::map_of(DataType::Utf8),
            true,
        ));
    }
    if schema_include {
        Arc::new(Schema::new(vec![Field::new(
            "payload",
            DataType::Struct(fields.into()),
            true,
        )]))
    } else {
        Arc::new(Schema::new(fields))
    }
}

impl MessageDecoder for DebeziumDecoder {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn decode(
        &mut self,
        messages: &Messages,
        locate: Locate<'_>,
        metrics: &OperatorMetrics,
    ) -> Result<Decoded> {
        let env = self.envelopes.decode(messages, locate, metrics)?;
        if env.batch.num_rows() == 0 {
            return Ok(Decoded::empty(self.schema.clone(), true));
        }
        let payload: StructArray = if self.schema_include {
            env.batch.column(0).as_struct().clone()
        } else {
            env.batch.clone().into()
        };
        let column = |name: &str| -> Result<StructArray> {
            payload
                .column_by_name(name)
                .and_then(|c| c.as_struct_opt().cloned())
                .ok_or_else(|| {
                    sluice_engine::SluiceError::execution(format!(
                        "debezium envelope lacks '{name}'"
                    ))
                })
        };
        let (before, after) = (column("before")?, column("after")?);
        let op = payload
            .column_by_name("op")
            .and_then(|c| c.as_string_opt::<i32>().cloned())
            .ok_or_else(|| sluice_engine::SluiceError::execution("debezium envelope lacks 'op'"))?;
        let origins = env.origins.values();
        let mut picks = Picks::default();
        for e in 0..payload.len() {
            let image_missing = |image: &StructArray, name: &str| -> Option<String> {
                image.is_null(e).then(|| {
                    format!(
                        "The \"before\" field of {name} message is null, if you are using Debezium \
                         Postgres Connector, please check the Postgres table has been set \
                         REPLICA IDENTITY to FULL level."
                    )
                })
            };
            let problem = if payload.is_null(e) {
                Some("the \"payload\" field is null".to_string())
            } else if op.is_null(e) {
                Some("the \"op\" field is missing".to_string())
            } else {
                match op.value(e) {
                    "c" | "r" => {
                        picks.push(AFTER, e, e, RowKind::Insert);
                        None
                    }
                    "u" => image_missing(&before, "UPDATE").or_else(|| {
                        picks.push(BEFORE, e, e, RowKind::UpdateBefore);
                        picks.push(AFTER, e, e, RowKind::UpdateAfter);
                        None
                    }),
                    "d" => image_missing(&before, "DELETE").or_else(|| {
                        picks.push(BEFORE, e, e, RowKind::Delete);
                        None
                    }),
                    other => Some(format!("Unknown \"op\" value \"{other}\"")),
                }
            };
            if let Some(reason) = problem {
                if self.ignore_parse_errors {
                    metrics.add_skipped(1);
                    continue;
                }
                return Err(ConnectorError::Malformed {
                    location: locate(origins[e] as usize),
                    reason,
                }
                .into());
            }
        }
        let metadata = self
            .metadata
            .iter()
            .map(|m| self.metadata_column(*m, &payload, messages, origins))
            .collect::<Result<Vec<_>>>()?;
        picks.build(&self.schema, &[&before, &after], &metadata, &env.origins)
    }
}
