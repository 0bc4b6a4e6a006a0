//! The `kafka` connector: Flink's Kafka source and sink over librdkafka.
//!
//! Options (Flink's keys and defaults; see `docs/connectors/kafka.md`):
//! `topic` (`'a'` or `'a;b'`) or `topic-pattern`, `properties.*` (passed to
//! librdkafka: `bootstrap.servers`, `group.id`, SASL/SSL, ...), `format` or
//! `value.format` with `key.format`, `key.fields`, `key.fields-prefix`,
//! `value.fields-include`; `scan.startup.mode` (`group-offsets`),
//! `scan.startup.timestamp-millis`, `scan.startup.specific-offsets`,
//! `scan.bounded.mode` (`unbounded`), `scan.bounded.timestamp-millis`,
//! `scan.bounded.specific-offsets`, `scan.topic-partition-discovery.interval`
//! (5 min), `scan.parallelism`, `scan.watermark.idle-timeout`;
//! `sink.partitioner` (`default`), `sink.delivery-guarantee`
//! (`at-least-once`), `sink.transactional-id-prefix`, `sink.parallelism`.
//!
//! Metadata: see [`metadata`].

mod assignment;
mod batch;
mod client;
mod codec;
mod fetch;
pub(crate) mod metadata;
mod offsets;
pub(crate) mod options;
mod producer;
mod rows;
pub(crate) mod sink;
pub(crate) mod source;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use sluice_engine::connector::{Connector, ConnectorTable, SinkTable, SourceTable, TableContext};
use sluice_engine::{Result, SluiceError};

pub use codec::KafkaCodec;
use metadata::KafkaMetadata;
use options::{Flavor, KafkaOptions};
pub use sink::KafkaSink;
pub use source::KafkaSource;

/// Factory for `'connector' = 'kafka'`.
#[derive(Debug)]
pub struct KafkaConnector;

/// A Kafka table: readable and writable.
#[derive(Debug)]
pub struct KafkaTable {
    source: Arc<KafkaSource>,
    sink: Arc<KafkaSink>,
}

impl ConnectorTable for KafkaTable {
    fn source(&self) -> Option<Arc<dyn SourceTable>> {
        Some(self.source.clone())
    }
    fn sink(&self) -> Option<Arc<dyn SinkTable>> {
        Some(self.sink.clone())
    }
}

/// Builds a kafka or upsert-kafka table from validated options.
pub(crate) fn create_table(
    ctx: TableContext<'_>,
    flavor: Flavor,
) -> Result<Arc<dyn ConnectorTable>> {
    let opts = ctx.options;
    let options = KafkaOptions::from_options(opts, flavor)?;
    let codec = KafkaCodec::from_options(opts, &ctx.physical_schema, flavor, ctx.primary_key)?;
    if flavor == Flavor::Kafka && !ctx.primary_key.is_empty() && !codec.value_is_changelog() {
        return Err(SluiceError::Options {
            table: ctx.table_name.to_string(),
            message: format!(
                "The Kafka table '{}' with '{}' format doesn't support defining PRIMARY KEY \
                 constraint on the table, because it can't guarantee the semantic of primary \
                 key. Use 'upsert-kafka' for a keyed changelog.",
                ctx.table_name,
                codec.value_format.name()
            ),
        });
    }
    let metadata = ctx
        .metadata_columns
        .iter()
        .map(|m| KafkaMetadata::resolve(ctx.table_name, m, codec.value_format.as_ref()))
        .collect::<Result<Vec<_>>>()?;
    let upsert_key = (flavor == Flavor::UpsertKafka).then(|| ctx.primary_key.to_vec());
    let source = KafkaSource::new(
        ctx.table_name,
        &ctx.physical_schema,
        codec.clone(),
        metadata.clone(),
        options.clone(),
        flavor == Flavor::UpsertKafka,
    );
    let sink = KafkaSink::new(
        ctx.table_name,
        &ctx.physical_schema,
        codec,
        metadata,
        options,
        upsert_key,
    );
    Ok(Arc::new(KafkaTable {
        source: Arc::new(source),
        sink: Arc::new(sink),
    }))
}

impl Connector for KafkaConnector {
    fn name(&self) -> &'static str {
        "kafka"
    }

    fn create(&self, ctx: TableContext<'_>) -> Result<Arc<dyn ConnectorTable>> {
        create_table(ctx, Flavor::Kafka)
    }
}
