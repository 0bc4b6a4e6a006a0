//! The one buffering layer every external-system sink shares.
//!
//! A connector implements [`FlushWriter`] — "write these rows" — and wraps it
//! in a [`BufferedWriter`], which is the [`SinkWriter`] the runtime drives.
//! The layer does everything else, the same way for every sink:
//!
//! * **Buffering.** Rows are kept as Arrow batches (no per-row copies) until
//!   a flush. A flush happens when `sink.buffer-flush.max-rows` rows are
//!   buffered (input batches are cut so no flush is larger), when the
//!   connector's size limit (`FlushPolicy::max_bytes`) is reached, when
//!   `sink.buffer-flush.interval` has passed since the first buffered row
//!   (the runtime calls `flush()` at [`SinkWriter::flush_deadline`] even when
//!   no new rows arrive), on every checkpoint barrier (`flush()`) and at the
//!   end of input (`finish()`). `0` disables the count or the timer, as in
//!   Flink.
//! * **Changelog.** For an updating input the runtime appends the row-kind
//!   column; the layer splits it off, so a connector sees a [`ChangeBatch`]:
//!   the rows in the sink's schema plus each row's [`RowKind`]. With an
//!   upsert key ([`BufferedWriter::with_upsert_key`]) a flush holds only the
//!   last change per key, so `+I 1`, `+U 1`, `-D 1` in one flush become one
//!   delete. `-U` rows are retractions like `-D`
//!   ([`ChangeBatch::is_retraction`]); upsert targets delete on them only
//!   when no `+U` for the key follows in the same flush, and a max-rows cut
//!   never separates a `-U` from the row after it.
//! * **Retries.** A [`WriteError::Retryable`] failure (connection lost,
//!   server busy) is retried with exponential back-off (1 s, 2 s, 4 s, ...)
//!   up to `sink.max-retries` times; then the job fails with the connector's
//!   last message. [`WriteError::Rows`] retries only the rows that failed
//!   transiently. [`WriteError::Fatal`] fails at once.
//! * **Bad data.** A row the target refuses for its content is never
//!   retried and never dropped silently: the job fails naming the row (and
//!   column when known) and the server's message, or — when the user sets
//!   `'sink.ignore-errors' = 'true'` — the row is skipped, logged and counted
//!   in the job's `records_skipped`. When a target rejects a whole batch
//!   without saying which row ([`WriteError::Rejected`]), the layer splits
//!   the batch in halves and writes them again until it isolates the row(s).
//! * **Metrics.** Each flush records its row count and latency
//!   (`OperatorMetrics::add_flush`), shown by `DESCRIBE JOB`.
//!
//! Options are read with [`BufferOptions::take`] (Flink's JDBC/HBase keys)
//! or built by the connector from its own keys (Elasticsearch's
//! `sink.bulk-flush.*`); `sink.parallelism` with [`take_sink_parallelism`].
//!
//! A connector's sink then looks like this:
//!
//! ```text
//! impl SinkTable for MySink {
//!     fn open(&self, ctx: SinkContext) -> Result<Box<dyn SinkWriter>> {
//!         let label = SinkLabel { connector: "my", table: self.table.clone(), target: self.addr.clone() };
//!         let writer = BufferedWriter::new(MyFlushWriter::new(..), self.schema.clone(),
//!                                          self.buffer.clone(), ctx.metrics, label);
//!         Ok(Box::new(writer.with_upsert_key(self.key_indices.clone())))
//!     }
//! }
//! ```
//!
//! [`SinkWriter`]: sluice_engine::connector::SinkWriter
//! [`SinkWriter::flush_deadline`]: sluice_engine::connector::SinkWriter::flush_deadline
//! [`RowKind`]: sluice_engine::connector::RowKind

mod batch;
pub mod compact;
mod error;
mod options;
mod writer;

#[cfg(test)]
mod tests;

pub use batch::ChangeBatch;
pub use error::{RowError, WriteError};
pub use options::{
    BufferDefaults, BufferOptions, FlushPolicy, IGNORE_ERRORS, INTERVAL, MAX_RETRIES, MAX_ROWS,
    MAX_SIZE, PARALLELISM, RetryPolicy, take_sink_parallelism,
};
pub use writer::{BufferedWriter, FlushWriter, SinkLabel};
