use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;

use super::ChangelogMode;
use crate::error::Result;
use crate::runtime::OperatorMetrics;

/// A readable table.
pub trait SourceTable: Send + Sync + Debug {
    /// The schema the source produces: the table's physical columns followed
    /// by its metadata columns, in declaration order.
    fn schema(&self) -> SchemaRef;
    /// True when the input ends by itself (a file, `number-of-rows`).
    fn is_bounded(&self) -> bool;
    /// The source's own parallelism (`scan.parallelism`), if it sets one.
    fn parallelism(&self) -> Option<usize> {
        None
    }
    /// What the source produces. A source that is not append-only (a
    /// changelog format, upsert-kafka) appends the Int8 row-kind column
    /// ([`crate::connector::ROW_KIND_COLUMN`]) as the LAST column of every batch,
    /// after the projected columns; it is not part of [`SourceTable::schema`].
    fn changelog_mode(&self) -> ChangelogMode {
        ChangelogMode::AppendOnly
    }
    /// Opens one parallel instance of the source.
    fn open(&self, ctx: ScanContext) -> Result<Box<dyn SourceReader>>;
}

/// What one source instance is asked to read.
#[derive(Debug, Clone)]
pub struct ScanContext {
    /// Indices into [`SourceTable::schema`] of the columns to produce, in order;
    /// `None` means all. Batches must have exactly these columns.
    pub projection: Option<Vec<usize>>,
    /// This instance's index, `0..parallelism`.
    pub instance: usize,
    /// Number of parallel instances of this source.
    pub parallelism: usize,
    /// Preferred rows per batch (`table.exec.batch-size`).
    pub batch_size: usize,
    /// Counters the source updates (e.g. skipped malformed records).
    pub metrics: Arc<OperatorMetrics>,
}

impl ScanContext {
    /// The projected schema for `schema`.
    pub fn project_schema(&self, schema: &SchemaRef) -> Result<SchemaRef> {
        Ok(match &self.projection {
            None => schema.clone(),
            Some(p) => Arc::new(schema.project(p)?),
        })
    }
}

/// One parallel instance of a source.
#[async_trait]
pub trait SourceReader: Send {
    /// The next batch, or `None` once a bounded input is exhausted. An
    /// unbounded source simply waits for data.
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>>;
    /// How many splits (e.g. Kafka partitions) this instance reads. Event-time
    /// watermarks are tracked per split and combined by minimum, so a split
    /// that lags holds the watermark back until it is idle.
    fn split_count(&self) -> usize {
        1
    }
    /// The split (`0..split_count()`) the batch last returned by
    /// [`SourceReader::next_batch`] came from; every batch holds rows of one split.
    fn last_split(&self) -> usize {
        0
    }
}
