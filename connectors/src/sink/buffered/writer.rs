//! [`BufferedWriter`]: the [`SinkWriter`] every buffered sink runs. It owns
//! the buffer, the flush triggers, compaction, retries and metrics, and calls
//! the connector's [`FlushWriter`] once per flush.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use sluice_engine::connector::{RowKind, SinkWriter};
use sluice_engine::runtime::OperatorMetrics;
use sluice_engine::{Result, SluiceError};

use super::{BufferOptions, ChangeBatch, WriteError, compact};

/// What a connector implements: write one flush's worth of rows.
#[async_trait]
pub trait FlushWriter: Send {
    /// Writes `batch` (never empty). With an upsert key the batch holds at
    /// most one change per key (the last); rows keep their arrival order.
    ///
    /// On failure, say what happened (see [`WriteError`]): whole-batch
    /// errors must mean nothing was written (use a transaction, or make the
    /// write idempotent and say so in the connector's docs), because the
    /// layer writes the same rows again.
    async fn write(&mut self, batch: &ChangeBatch) -> std::result::Result<(), WriteError>;

    /// How error messages name row `row`. The default prints the whole row
    /// the way Flink prints it (`+I[1, abc]`); keyed targets may prefer the key.
    fn describe_row(&self, batch: &ChangeBatch, row: usize) -> String {
        batch.describe_row(row, 300)
    }

    /// End of input, after the last flush: release connections.
    async fn close(&mut self) -> std::result::Result<(), WriteError> {
        Ok(())
    }
}

/// Who is writing, for error messages: `connector 'jdbc': table 'orders'
/// (test.orders at 127.0.0.1:3306): ...`.
#[derive(Debug, Clone)]
pub struct SinkLabel {
    /// The connector's name.
    pub connector: &'static str,
    /// The Sluice table name.
    pub table: String,
    /// Where the rows go (server and object), never with credentials.
    pub target: String,
}

impl SinkLabel {
    fn error(&self, message: impl std::fmt::Display) -> SluiceError {
        SluiceError::connector(
            self.connector,
            format!("table '{}' ({}): {message}", self.table, self.target),
        )
    }
}

/// Buffers rows and writes them through a [`FlushWriter`] when
/// `sink.buffer-flush.max-rows` rows (or `max_bytes`) are buffered, when
/// `sink.buffer-flush.interval` has passed since the first buffered row
/// (via [`SinkWriter::flush_deadline`]), on every checkpoint barrier
/// ([`SinkWriter::flush`]) and at the end of input ([`SinkWriter::finish`]).
pub struct BufferedWriter<W> {
    writer: W,
    schema: SchemaRef,
    /// Column indices of the upsert key; `None` keeps every row.
    key: Option<Vec<usize>>,
    options: BufferOptions,
    metrics: Arc<OperatorMetrics>,
    label: SinkLabel,
    buffer: Vec<ChangeBatch>,
    buffered_rows: usize,
    buffered_bytes: usize,
    /// When the first row entered the (then empty) buffer.
    first_at: Option<tokio::time::Instant>,
    finished: bool,
}

impl<W: FlushWriter> BufferedWriter<W> {
    /// A writer for rows of `schema` (the sink's columns, without the
    /// row-kind column, which is read from the input when present).
    pub fn new(
        writer: W,
        schema: SchemaRef,
        options: BufferOptions,
        metrics: Arc<OperatorMetrics>,
        label: SinkLabel,
    ) -> Self {
        Self {
            writer,
            schema,
            key: None,
            options,
            metrics,
            label,
            buffer: Vec::new(),
            buffered_rows: 0,
            buffered_bytes: 0,
            first_at: None,
            finished: false,
        }
    }

    /// Compacts each flush to the last change per key (columns `key`).
    pub fn with_upsert_key(mut self, key: Vec<usize>) -> Self {
        self.key = (!key.is_empty()).then_some(key);
        self
    }

    /// The connector's writer (for tests and diagnostics).
    pub fn inner(&self) -> &W {
        &self.writer
    }

    fn full(&self) -> bool {
        let rows =
            self.options.flush.max_rows > 0 && self.buffered_rows >= self.options.flush.max_rows;
        let bytes = self
            .options
            .flush
            .max_bytes
            .is_some_and(|max| self.buffered_bytes as u64 >= max);
        rows || bytes
    }

    fn push(&mut self, batch: ChangeBatch) {
        if self.buffered_rows == 0 {
            self.first_at = Some(tokio::time::Instant::now());
        }
        self.buffered_rows += batch.num_rows();
        if self.options.flush.max_bytes.is_some() {
            self.buffered_bytes += batch.approx_bytes();
        }
        self.buffer.push(batch);
    }

    /// Writes out everything buffered.
    async fn flush_buffer(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let batches = std::mem::take(&mut self.buffer);
        self.buffered_rows = 0;
        self.buffered_bytes = 0;
        self.first_at = None;
        let mut batch = ChangeBatch::concat(&batches)?;
        drop(batches);
        if let Some(key) = &self.key {
            batch = compact::last_per_key(&batch, key)?;
        }
        let written = self.write_with_retries(batch).await?;
        self.metrics.add_flush(written, started.elapsed());
        Ok(())
    }

    /// Writes `batch`, retrying transient failures with back-off and
    /// splitting a rejected batch to find the rows at fault. Returns how many
    /// rows were written (skipped rows are not).
    async fn write_with_retries(&mut self, batch: ChangeBatch) -> Result<usize> {
        let mut written = 0;
        // Work items in order: the next one to write is at the end.
        let mut stack = vec![batch];
        while let Some(mut pending) = stack.pop() {
            let mut retry = 0u32;
            loop {
                let n = pending.num_rows();
                let outcome = self.writer.write(&pending).await;
                let (retry_msg, next) = match outcome {
                    Ok(()) => {
                        written += n;
                        break;
                    }
                    Err(WriteError::Fatal(msg)) => {
                        return Err(self.label.error(format!("writing {n} rows failed: {msg}")));
                    }
                    Err(WriteError::Retryable(msg)) => (msg, pending.clone()),
                    Err(WriteError::Rejected(msg)) => {
                        if n == 1 {
                            self.rejected_row(&pending, 0, None, &msg)?;
                        } else {
                            // Halves go back on the stack, first half on top,
                            // so rows are still written in order.
                            let half = n / 2;
                            stack.push(pending.slice(half, n - half));
                            stack.push(pending.slice(0, half));
                        }
                        break;
                    }
                    Err(WriteError::Rows(errors)) => {
                        let mut again = Vec::new();
                        let mut first_msg = None;
                        for e in &errors {
                            if e.row >= n {
                                return Err(self.label.error(format!(
                                    "connector reported row {} of a {n}-row batch: {}",
                                    e.row, e.message
                                )));
                            }
                            if e.retryable {
                                again.push(e.row as u32);
                                first_msg.get_or_insert_with(|| e.message.clone());
                            } else {
                                self.rejected_row(
                                    &pending,
                                    e.row,
                                    e.column.as_deref(),
                                    &e.message,
                                )?;
                            }
                        }
                        written += n - errors.len();
                        let Some(msg) = first_msg else { break };
                        again.sort_unstable();
                        again.dedup();
                        (msg, pending.take(&again)?)
                    }
                };
                if retry >= self.options.retry.max_retries {
                    return Err(self.label.error(format!(
                        "writing {} rows failed after {retry} {}: {retry_msg}",
                        next.num_rows(),
                        if retry == 1 { "retry" } else { "retries" },
                    )));
                }
                let wait = self.options.retry.backoff(retry);
                log::warn!(
                    "connector '{}': table '{}': write failed, retry {} of {} in {:?}: {retry_msg}",
                    self.label.connector,
                    self.label.table,
                    retry + 1,
                    self.options.retry.max_retries,
                    wait
                );
                tokio::time::sleep(wait).await;
                retry += 1;
                pending = next;
            }
        }
        Ok(written)
    }

    /// A row the target refused for its data: skipped and counted under
    /// `sink.ignore-errors`, else the job's error.
    fn rejected_row(
        &self,
        batch: &ChangeBatch,
        row: usize,
        column: Option<&str>,
        message: &str,
    ) -> Result<()> {
        let what = self.writer.describe_row(batch, row);
        let column = column
            .map(|c| format!(", column '{c}'"))
            .unwrap_or_default();
        if self.options.ignore_errors {
            self.metrics.add_skipped(1);
            log::warn!(
                "connector '{}': table '{}': skipped row {what}{column} ('sink.ignore-errors'): {message}",
                self.label.connector,
                self.label.table
            );
            return Ok(());
        }
        Err(self
            .label
            .error(format!("row {what}{column} was rejected: {message}")))
    }
}

#[async_trait]
impl<W: FlushWriter> SinkWriter for BufferedWriter<W> {
    async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        let batch = ChangeBatch::from_input(batch, &self.schema)?;
        let max_rows = self.options.flush.max_rows;
        let mut offset = 0;
        let n = batch.num_rows();
        // Cut the input so no flush exceeds max-rows: a user who sets it
        // bounds the size of each statement or request.
        while offset < n {
            let room = if max_rows > 0 {
                max_rows.saturating_sub(self.buffered_rows).max(1)
            } else {
                n - offset
            };
            let mut len = room.min(n - offset);
            // Keep a `-U` with its `+U`: split apart, an upsert target would
            // briefly miss the row between the two flushes.
            if self.key.is_some()
                && offset + len < n
                && batch.kind(offset + len - 1) == RowKind::UpdateBefore
            {
                len += 1;
            }
            self.push(batch.slice(offset, len));
            offset += len;
            if self.full() {
                self.flush_buffer().await?;
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        self.flush_buffer().await
    }

    fn flush_deadline(&self) -> Option<tokio::time::Instant> {
        let interval = self.options.flush.interval;
        if interval.is_zero() {
            return None;
        }
        self.first_at.map(|t| t + interval)
    }

    async fn finish(&mut self) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        self.flush_buffer().await?;
        self.finished = true;
        self.writer
            .close()
            .await
            .map_err(|e| self.label.error(format!("closing: {e}")))
    }
}
