//! Watermark generation for a table with `WATERMARK FOR c AS expr`. It runs
//! in the source's task, right after the computed columns, and tracks every
//! source split separately: the source's watermark is the minimum over its
//! splits, so a lagging Kafka partition holds event time back — unless it has
//! been silent for the idle timeout, in which case it no longer counts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::compute::max;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::logical_expr::Operator as BinaryOp;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{BinaryExpr, Column, Literal};

use crate::error::Result;
use crate::runtime::operator::{BatchOrigin, Event, Operator};
use crate::runtime::state::{OperatorState, RowWriter, SnapshotReader, SnapshotWriter};
use crate::runtime::window::assign::millis;

/// How watermarks are emitted.
#[derive(Debug, Clone, Copy)]
pub struct WatermarkSettings {
    /// `pipeline.auto-watermark-interval`; zero emits after every batch.
    pub interval: Duration,
    /// `scan.watermark.idle-timeout` / `table.exec.source.idle-timeout`.
    pub idle_timeout: Option<Duration>,
}

#[derive(Debug, Clone, Copy)]
struct Split {
    max: Option<i64>,
    last_active: Instant,
    idle: bool,
}

/// The operator.
pub struct WatermarkAssigner {
    expr: Arc<dyn PhysicalExpr>,
    /// The column the expression only shifts (`ts`, `ts - INTERVAL ..`):
    /// its largest value gives the largest watermark, so the expression
    /// runs on that one row instead of every row of every batch.
    shifted: Option<usize>,
    settings: WatermarkSettings,
    splits: Vec<Split>,
    emitted: Option<i64>,
    idle_sent: bool,
}

impl WatermarkAssigner {
    pub fn new(expr: Arc<dyn PhysicalExpr>, settings: WatermarkSettings, splits: usize) -> Self {
        let now = Instant::now();
        WatermarkAssigner {
            shifted: shifted_column(&expr),
            expr,
            settings,
            splits: vec![
                Split {
                    max: None,
                    last_active: now,
                    idle: false,
                };
                splits.max(1)
            ],
            emitted: None,
            idle_sent: false,
        }
    }

    fn emit(&mut self, out: &mut Vec<Event>) {
        let active: Vec<&Split> = self.splits.iter().filter(|s| !s.idle).collect();
        if active.is_empty() {
            if !self.idle_sent {
                self.idle_sent = true;
                out.push(Event::Idle);
            }
            return;
        }
        // A split that has produced nothing yet holds event time back.
        let Some(min) = active
            .iter()
            .map(|s| s.max)
            .try_fold(i64::MAX, |m, s| s.map(|v| m.min(v)))
        else {
            return;
        };
        if self.emitted.is_none_or(|e| min > e) {
            self.emitted = Some(min);
            out.push(Event::Watermark(min));
        }
    }

    /// The largest value of the watermark expression over `batch`.
    fn batch_max(&self, batch: &RecordBatch) -> Result<Option<i64>> {
        let Some(col) = self.shifted else {
            let values = self.expr.evaluate(batch)?.into_array(batch.num_rows())?;
            return Ok(max(&millis(&values)?));
        };
        let times = millis(batch.column(col))?;
        let latest = times
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.map(|t| (t, i)))
            .max();
        let Some((_, row)) = latest else {
            return Ok(None);
        };
        let value = self.expr.evaluate(&batch.slice(row, 1))?.into_array(1)?;
        Ok(max(&millis(&value)?))
    }
}

/// The input column `expr` is, or shifts by a constant (`c`, `c - lit`,
/// `c + lit`): such an expression is largest where the column is.
fn shifted_column(expr: &Arc<dyn PhysicalExpr>) -> Option<usize> {
    if let Some(c) = expr.downcast_ref::<Column>() {
        return Some(c.index());
    }
    let b = expr.downcast_ref::<BinaryExpr>()?;
    if !matches!(b.op(), BinaryOp::Minus | BinaryOp::Plus) || !b.right().is::<Literal>() {
        return None;
    }
    b.left().downcast_ref::<Column>().map(Column::index)
}

impl Operator for WatermarkAssigner {
    fn process(
        &mut self,
        batch: RecordBatch,
        origin: BatchOrigin,
        out: &mut Vec<Event>,
    ) -> Result<()> {
        let batch_max = self.batch_max(&batch)?;
        let last = self.splits.len() - 1;
        let split = &mut self.splits[origin.split.min(last)];
        split.last_active = Instant::now();
        if split.idle {
            split.idle = false;
            self.idle_sent = false;
        }
        if let Some(m) = batch_max {
            split.max = Some(split.max.map_or(m, |old| old.max(m)));
        }
        out.push(Event::Batch(batch));
        if self.settings.interval.is_zero() {
            self.emit(out);
        }
        Ok(())
    }

    fn tick_interval(&self) -> Option<Duration> {
        let interval = Some(self.settings.interval).filter(|d| !d.is_zero());
        match (interval, self.settings.idle_timeout) {
            (Some(a), Some(b)) => Some(a.min(b / 2).max(Duration::from_millis(1))),
            (a, b) => a.or(b.map(|b| (b / 2).max(Duration::from_millis(1)))),
        }
    }

    fn on_tick(&mut self, _now: i64, out: &mut Vec<Event>) -> Result<()> {
        if let Some(timeout) = self.settings.idle_timeout {
            for s in self.splits.iter_mut() {
                if !s.idle && s.last_active.elapsed() >= timeout {
                    s.idle = true;
                }
            }
        }
        self.emit(out);
        Ok(())
    }

    fn on_end(&mut self, out: &mut Vec<Event>) -> Result<()> {
        // A bounded input is complete: every window may fire.
        out.push(Event::Watermark(i64::MAX));
        Ok(())
    }

    fn state(&mut self) -> Option<&mut dyn OperatorState> {
        Some(self)
    }
}

/// The last watermark emitted and whether idleness was announced (`meta`);
/// per split its largest event time and whether it is idle (`splits`). A
/// restored split counts as active from the restore on.
impl OperatorState for WatermarkAssigner {
    fn snapshot(&mut self) -> Result<Vec<RecordBatch>> {
        let mut w = SnapshotWriter::new();
        w.meta(RowWriter::new().opt_i64(self.emitted).bool(self.idle_sent))?;
        let splits = self
            .splits
            .iter()
            .map(|s| RowWriter::new().opt_i64(s.max).bool(s.idle))
            .collect();
        w.rows("splits", splits)?;
        Ok(w.finish())
    }

    fn restore(&mut self, snapshot: &[RecordBatch]) -> Result<()> {
        let r = SnapshotReader::new(snapshot, &["meta", "splits"])?;
        if let Some(mut m) = r.meta() {
            self.emitted = m.opt_i64()?;
            self.idle_sent = m.bool()?;
        }
        let now = Instant::now();
        let splits = r
            .rows("splits")
            .map(|mut row| {
                Ok(Split {
                    max: row.opt_i64()?,
                    idle: row.bool()?,
                    last_active: now,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // The source may be read with another split count after a restore
        // (Kafka partitions added): keep what matches, new splits start fresh.
        for (i, s) in splits.into_iter().enumerate() {
            if let Some(slot) = self.splits.get_mut(i) {
                *slot = s;
            }
        }
        Ok(())
    }
}
