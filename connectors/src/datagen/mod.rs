//! The `datagen` source: random or sequential rows, with Flink's options.
//!
//! ```sql
//! CREATE TABLE orders (id BIGINT, price DECIMAL(10, 2), ts TIMESTAMP(3)) WITH (
//!   'connector' = 'datagen',
//!   'rows-per-second' = '100',          -- default 10000, shared by instances
//!   'number-of-rows' = '1000',          -- unbounded when absent
//!   'fields.id.kind' = 'sequence',      -- random (default) | sequence
//!   'fields.id.start' = '1', 'fields.id.end' = '1000',
//!   'fields.price.min' = '1', 'fields.price.max' = '100',
//!   'fields.ts.max-past' = '5 s'
//! );
//! ```
//!
//! Random fields take `min`/`max` (numbers), `length`/`var-len` (strings,
//! bytes; `length` is also the size of arrays and maps), `max-past`
//! (timestamps) and `null-rate`; nested types are configured through
//! `fields.<f>.element.*`, `fields.<f>.key.*`, `fields.<f>.value.*` and
//! `fields.<row>.<field>.*`. Sequence fields take `start` and `end`; the
//! source ends when any sequence is exhausted.

mod field;
mod generator;
mod reader;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use sluice_engine::Result;
use sluice_engine::connector::{
    Connector, ConnectorTable, ScanContext, SinkTable, SourceReader, SourceTable, TableContext,
};

use field::FieldSpec;
use reader::DatagenReader;

/// Flink's default `rows-per-second`.
const DEFAULT_ROWS_PER_SECOND: u64 = 10_000;

/// Factory for `'connector' = 'datagen'`.
#[derive(Debug)]
pub struct DatagenConnector;

/// A validated datagen table: everything an instance needs to generate.
#[derive(Debug)]
pub(crate) struct DatagenSpec {
    schema: SchemaRef,
    fields: Vec<FieldSpec>,
    rows_per_second: u64,
    number_of_rows: Option<u64>,
    parallelism: Option<usize>,
}

/// The runtime half of a datagen table (a source only).
#[derive(Debug)]
struct DatagenTable {
    source: Arc<DatagenSource>,
}

/// The source side; cheap to share between instances.
#[derive(Debug)]
struct DatagenSource {
    spec: Arc<DatagenSpec>,
}

impl Connector for DatagenConnector {
    fn name(&self) -> &'static str {
        "datagen"
    }

    fn create(&self, ctx: TableContext<'_>) -> Result<Arc<dyn ConnectorTable>> {
        ctx.reject_metadata("datagen")?;
        let opts = ctx.options;
        let rows_per_second = opts.parse::<u64>("rows-per-second", "a positive integer")?;
        if rows_per_second == Some(0) {
            return Err(opts.error("rows-per-second", "must be positive"));
        }
        let number_of_rows = opts.parse::<u64>("number-of-rows", "a non-negative integer")?;
        let parallelism = opts.parse::<usize>("scan.parallelism", "a positive integer")?;
        if parallelism == Some(0) {
            return Err(opts.error("scan.parallelism", "must be positive"));
        }
        let fields = ctx
            .physical_schema
            .fields()
            .iter()
            .map(|f| FieldSpec::top_level(f, opts))
            .collect::<Result<Vec<_>>>()?;
        opts.finish("datagen")?;
        let spec = DatagenSpec {
            schema: ctx.physical_schema.clone(),
            fields,
            rows_per_second: rows_per_second.unwrap_or(DEFAULT_ROWS_PER_SECOND),
            number_of_rows,
            parallelism,
        };
        Ok(Arc::new(DatagenTable {
            source: Arc::new(DatagenSource {
                spec: Arc::new(spec),
            }),
        }))
    }
}

impl ConnectorTable for DatagenTable {
    fn source(&self) -> Option<Arc<dyn SourceTable>> {
        Some(self.source.clone())
    }

    fn sink(&self) -> Option<Arc<dyn SinkTable>> {
        None
    }
}

impl SourceTable for DatagenSource {
    fn schema(&self) -> SchemaRef {
        self.spec.schema.clone()
    }

    /// Bounded with `number-of-rows` or any sequence field (a sequence ends).
    fn is_bounded(&self) -> bool {
        self.spec.number_of_rows.is_some()
            || self.spec.fields.iter().any(|f| f.sequence_len().is_some())
    }

    fn parallelism(&self) -> Option<usize> {
        self.spec.parallelism
    }

    fn open(&self, ctx: ScanContext) -> Result<Box<dyn SourceReader>> {
        Ok(Box::new(DatagenReader::new(self.spec.clone(), &ctx)?))
    }
}
