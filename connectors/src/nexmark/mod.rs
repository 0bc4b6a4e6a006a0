//! The `nexmark` source: the Nexmark benchmark's auction-site event stream
//! (people, auctions, bids), generated exactly as the reference Flink
//! generator's model does, with its options.
//!
//! ```sql
//! CREATE TABLE datagen (
//!     event_type INT,
//!     person ROW<id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR,
//!                city VARCHAR, state VARCHAR, `dateTime` TIMESTAMP(3), extra VARCHAR>,
//!     auction ROW<id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT,
//!                 reserve BIGINT, `dateTime` TIMESTAMP(3), expires TIMESTAMP(3),
//!                 seller BIGINT, category BIGINT, extra VARCHAR>,
//!     bid ROW<auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
//!             `dateTime` TIMESTAMP(3), extra VARCHAR>,
//!     `dateTime` AS CASE WHEN event_type = 0 THEN person.`dateTime`
//!                        WHEN event_type = 1 THEN auction.`dateTime`
//!                        ELSE bid.`dateTime` END,
//!     WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
//! ) WITH (
//!     'connector' = 'nexmark',
//!     'first-event.rate' = '10000000',
//!     'events.num' = '100000000',
//!     'base-time' = '2024-01-01 00:00:00'
//! );
//! ```
//!
//! Each event's values come from a `java.util.Random` seeded with its event
//! id (the reference's original, reproducible model), so a configuration
//! always yields the same events; see `docs/connectors/nexmark.md`.

mod auction;
mod bid;
mod columns;
mod config;
mod java_random;
mod model;
mod person;
mod reader;
mod schema;
mod strings;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use sluice_engine::Result;
use sluice_engine::connector::{
    Connector, ConnectorTable, ScanContext, SinkTable, SourceReader, SourceTable, TableContext,
};

use config::NexmarkConfig;
use reader::NexmarkReader;
use schema::Column;

/// Factory for `'connector' = 'nexmark'`.
#[derive(Debug)]
pub struct NexmarkConnector;

/// A validated nexmark table (a source only).
#[derive(Debug)]
struct NexmarkTable {
    source: Arc<NexmarkSource>,
}

/// The source side; shared by every instance of every job reading it.
#[derive(Debug)]
struct NexmarkSource {
    config: NexmarkConfig,
    schema: SchemaRef,
    columns: Vec<Column>,
}

impl Connector for NexmarkConnector {
    fn name(&self) -> &'static str {
        "nexmark"
    }

    fn create(&self, ctx: TableContext<'_>) -> Result<Arc<dyn ConnectorTable>> {
        ctx.reject_metadata("nexmark")?;
        let columns = schema::columns(ctx.table_name, &ctx.physical_schema)?;
        // Like the reference, which reads the clock when the table source is
        // created; `base-time` makes runs reproducible.
        let now_ms = chrono::Utc::now().timestamp_millis();
        let config = NexmarkConfig::from_options(ctx.options, now_ms)?;
        ctx.options.finish("nexmark")?;
        Ok(Arc::new(NexmarkTable {
            source: Arc::new(NexmarkSource {
                config,
                schema: ctx.physical_schema.clone(),
                columns,
            }),
        }))
    }
}

impl ConnectorTable for NexmarkTable {
    fn source(&self) -> Option<Arc<dyn SourceTable>> {
        Some(self.source.clone())
    }

    fn sink(&self) -> Option<Arc<dyn SinkTable>> {
        None
    }
}

impl SourceTable for NexmarkSource {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Bounded by `events.num` or `stop-at`, unless `keep-alive` is set.
    fn is_bounded(&self) -> bool {
        self.config.is_bounded()
    }

    fn parallelism(&self) -> Option<usize> {
        self.config.parallelism
    }

    fn open(&self, ctx: ScanContext) -> Result<Box<dyn SourceReader>> {
        Ok(Box::new(NexmarkReader::new(
            &self.config,
            &self.schema,
            &self.columns,
            &ctx,
        )?))
    }
}
