//! `'connector' = 'replay'`: a test-only source that replays a CSV file
//! whose first field is the source split of the row. Each line is one
//! batch of its split, optionally paced (`row-interval`), and the source can
//! stay open after the last line (`hold-open`) so idleness can be observed.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use sluice_engine::connector::{
    Connector, ConnectorTable, ScanContext, SinkTable, SourceReader, SourceTable, TableContext,
};
use sluice_engine::error::{Result, SluiceError};

#[derive(Debug)]
pub struct ReplayConnector;

#[derive(Debug)]
struct Replay {
    schema: SchemaRef,
    lines: Vec<(usize, Vec<String>)>,
    splits: usize,
    interval: Duration,
    hold_open: bool,
}

impl Connector for ReplayConnector {
    fn name(&self) -> &'static str {
        "replay"
    }

    fn create(&self, ctx: TableContext<'_>) -> Result<Arc<dyn ConnectorTable>> {
        let path = ctx.options.required("path")?;
        let splits = ctx
            .options
            .parse::<usize>("splits", "an integer")?
            .unwrap_or(1);
        let interval = ctx.options.duration("row-interval")?.unwrap_or_default();
        let hold_open = ctx.options.bool("hold-open")?.unwrap_or(false);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| SluiceError::execution(format!("{path}: {e}")))?;
        let lines = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                let mut f: Vec<String> = l.split(',').map(|s| s.trim().to_string()).collect();
                let split = f.remove(0).parse().unwrap_or(0);
                (split, f)
            })
            .collect();
        Ok(Arc::new(Replay {
            schema: ctx.physical_schema.clone(),
            lines,
            splits,
            interval,
            hold_open,
        }))
    }
}

impl ConnectorTable for Replay {
    fn source(&self) -> Option<Arc<dyn SourceTable>> {
        Some(Arc::new(ReplaySource(Arc::new(Replay {
            schema: self.schema.clone(),
            lines: self.lines.clone(),
            splits: self.splits,
            interval: self.interval,
            hold_open: self.hold_open,
        }))))
    }
    fn sink(&self) -> Option<Arc<dyn SinkTable>> {
        None
    }
}

#[derive(Debug)]
struct ReplaySource(Arc<Replay>);

impl SourceTable for ReplaySource {
    fn schema(&self) -> SchemaRef {
        self.0.schema.clone()
    }
    fn is_bounded(&self) -> bool {
        !self.0.hold_open
    }
    fn parallelism(&self) -> Option<usize> {
        Some(1)
    }
    fn open(&self, ctx: ScanContext) -> Result<Box<dyn SourceReader>> {
        Ok(Box::new(ReplayReader {
            table: Arc::clone(&self.0),
            next: 0,
            last_split: 0,
            projection: ctx.projection,
        }))
    }
}

struct ReplayReader {
    table: Arc<Replay>,
    next: usize,
    last_split: usize,
    projection: Option<Vec<usize>>,
}

#[async_trait]
impl SourceReader for ReplayReader {
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let Some((split, fields)) = self.table.lines.get(self.next).cloned() else {
            if self.table.hold_open {
                std::future::pending::<()>().await;
            }
            return Ok(None);
        };
        if self.next > 0 && !self.table.interval.is_zero() {
            tokio::time::sleep(self.table.interval).await;
        }
        self.next += 1;
        self.last_split = split;
        let mut cols: Vec<ArrayRef> = Vec::new();
        for (i, f) in self.table.schema.fields().iter().enumerate() {
            let v = fields.get(i).cloned().unwrap_or_default();
            let a: ArrayRef = match f.data_type() {
                DataType::Int64 => Arc::new(Int64Array::from(vec![v.parse::<i64>().ok()])),
                other => cast(&(Arc::new(StringArray::from(vec![v])) as ArrayRef), other)?,
            };
            cols.push(a);
        }
        let batch = RecordBatch::try_new(self.table.schema.clone(), cols)?;
        Ok(Some(match &self.projection {
            Some(p) => batch.project(p)?,
            None => batch,
        }))
    }

    fn split_count(&self) -> usize {
        self.table.splits
    }

    fn last_split(&self) -> usize {
        self.last_split
    }
}
