use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;

use super::ChangelogMode;
use crate::error::Result;
use crate::runtime::OperatorMetrics;

/// A writable table.
pub trait SinkTable: Send + Sync + Debug {
    /// The columns a query must produce for INSERT: the physical columns and
    /// the writable (non-`VIRTUAL`) metadata columns, in declaration order.
    fn schema(&self) -> SchemaRef;
    /// What this sink accepts. Append-only sinks fed an updating query are a
    /// planning error.
    fn accepted_changelog(&self) -> ChangelogMode {
        ChangelogMode::AppendOnly
    }
    /// `sink.parallelism`, if set.
    fn parallelism(&self) -> Option<usize> {
        None
    }
    /// Opens one parallel instance of the sink.
    fn open(&self, ctx: SinkContext) -> Result<Box<dyn SinkWriter>>;
}

/// Where one sink instance runs.
#[derive(Debug, Clone)]
pub struct SinkContext {
    /// The job's id (used e.g. in part-file names).
    pub job_id: String,
    /// This instance's index, `0..parallelism`.
    pub instance: usize,
    /// Number of parallel sink instances.
    pub parallelism: usize,
    /// Counters the sink updates.
    pub metrics: Arc<OperatorMetrics>,
}

/// One parallel instance of a sink.
#[async_trait]
pub trait SinkWriter: Send {
    /// Accepts a batch with [`SinkTable::schema`]'s columns (plus the row-kind
    /// column for updating input). May buffer.
    async fn write(&mut self, batch: RecordBatch) -> Result<()>;
    /// Makes everything written so far durable (checkpoint barrier, timer).
    async fn flush(&mut self) -> Result<()>;
    /// When the writer wants [`SinkWriter::flush`] called even if no batch
    /// arrives (`sink.buffer-flush.interval` since the first buffered row).
    /// The runtime calls `flush` once this instant passes.
    fn flush_deadline(&self) -> Option<tokio::time::Instant> {
        None
    }
    /// The event-time watermark reached the sink (epoch ms): a sink that
    /// commits by event time (the filesystem's partition-time commit)
    /// acts on it.
    async fn on_watermark(&mut self, _watermark: i64) -> Result<()> {
        Ok(())
    }
    /// End of input: flush and release resources.
    async fn finish(&mut self) -> Result<()>;
}
