//! The benchmark's `blackhole`: the real blackhole sink, wrapped so the
//! harness learns when the first row reached it and how many rows did.
//! Registered under the same name, so the queries run unchanged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use sluice_connectors::blackhole::BlackholeConnector;
use sluice_engine::Result;
use sluice_engine::connector::{
    ChangelogMode, Connector, ConnectorTable, SinkContext, SinkTable, SinkWriter, SourceTable,
    TableContext,
};

/// What every probed sink of one session saw.
#[derive(Debug, Default)]
pub struct Probe {
    first_output: Mutex<Option<Instant>>,
    rows: AtomicU64,
}

impl Probe {
    /// When the first non-empty batch arrived, if any did.
    pub fn first_output(&self) -> Option<Instant> {
        *self.first_output.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Rows received so far.
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    fn record(&self, rows: usize) {
        if rows == 0 {
            return;
        }
        if self.rows.fetch_add(rows as u64, Ordering::Relaxed) == 0 {
            let mut first = self.first_output.lock().unwrap_or_else(|e| e.into_inner());
            first.get_or_insert_with(Instant::now);
        }
    }
}

/// `'connector' = 'blackhole'`, reporting to a [`Probe`].
#[derive(Debug)]
pub struct ProbedBlackhole {
    pub probe: Arc<Probe>,
}

#[derive(Debug)]
struct ProbedTable {
    sink: Arc<ProbedSink>,
}

#[derive(Debug)]
struct ProbedSink {
    inner: Arc<dyn SinkTable>,
    probe: Arc<Probe>,
}

struct ProbedWriter {
    inner: Box<dyn SinkWriter>,
    probe: Arc<Probe>,
}

impl Connector for ProbedBlackhole {
    fn name(&self) -> &'static str {
        BlackholeConnector.name()
    }

    fn create(&self, ctx: TableContext<'_>) -> Result<Arc<dyn ConnectorTable>> {
        let table = BlackholeConnector.create(ctx)?;
        let inner = table.sink().ok_or_else(|| {
            sluice_engine::SluiceError::connector("blackhole", "the blackhole has no sink")
        })?;
        Ok(Arc::new(ProbedTable {
            sink: Arc::new(ProbedSink {
                inner,
                probe: self.probe.clone(),
            }),
        }))
    }
}

impl ConnectorTable for ProbedTable {
    fn source(&self) -> Option<Arc<dyn SourceTable>> {
        None
    }

    fn sink(&self) -> Option<Arc<dyn SinkTable>> {
        Some(self.sink.clone())
    }
}

impl SinkTable for ProbedSink {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn accepted_changelog(&self) -> ChangelogMode {
        self.inner.accepted_changelog()
    }

    fn parallelism(&self) -> Option<usize> {
        self.inner.parallelism()
    }

    fn open(&self, ctx: SinkContext) -> Result<Box<dyn SinkWriter>> {
        Ok(Box::new(ProbedWriter {
            inner: self.inner.open(ctx)?,
            probe: self.probe.clone(),
        }))
    }
}

#[async_trait]
impl SinkWriter for ProbedWriter {
    async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        self.probe.record(batch.num_rows());
        self.inner.write(batch).await
    }

    async fn flush(&mut self) -> Result<()> {
        self.inner.flush().await
    }

    fn flush_deadline(&self) -> Option<tokio::time::Instant> {
        self.inner.flush_deadline()
    }

    async fn finish(&mut self) -> Result<()> {
        self.inner.finish().await
    }
}
