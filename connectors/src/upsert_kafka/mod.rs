//! The `upsert-kafka` connector: a compacted topic as a table keyed by its
//! PRIMARY KEY. Reading, a record is an upsert of its key and a null value
//! (tombstone) a delete; the reader normalizes them into a correct
//! `+I/-U/+U/-D` changelog ([`normalize`]). Writing, `+I`/`+U` become values
//! and `-D` tombstones (a `-U` writes nothing: the `+U` that follows replaces
//! the value), keyed by the primary key so every change of a key lands in one
//! partition, in order.
//!
//! Options (Flink's): `topic`, `properties.*`, `key.format` and
//! `value.format` (both required; the value format must be insert-only),
//! `key.fields-prefix`, `value.fields-include` (`ALL`), `scan.parallelism`,
//! `sink.parallelism`, `sink.buffer-flush.max-rows` and
//! `sink.buffer-flush.interval` (both > 0 to buffer: between flushes only the
//! last change per key is kept), `sink.delivery-guarantee`,
//! `sink.transactional-id-prefix`. The source always starts at the earliest
//! offset and never ends.

pub(crate) mod normalize;

use std::sync::Arc;

use sluice_engine::Result;
use sluice_engine::connector::{Connector, ConnectorTable, TableContext};

use crate::kafka::create_table;
use crate::kafka::options::Flavor;

/// Factory for `'connector' = 'upsert-kafka'`.
#[derive(Debug)]
pub struct UpsertKafkaConnector;

impl Connector for UpsertKafkaConnector {
    fn name(&self) -> &'static str {
        "upsert-kafka"
    }

    fn create(&self, ctx: TableContext<'_>) -> Result<Arc<dyn ConnectorTable>> {
        create_table(ctx, Flavor::UpsertKafka)
    }
}
