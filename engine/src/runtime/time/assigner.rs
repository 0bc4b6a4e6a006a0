//! Watermark generation for a table with `WATERMARK FOR c AS expr`. It runs
//! in the source's task, right after the computed columns, and tracks every
//! source split separately: the source's watermark is the minimum over its
//! splits, so a lagging Kafka partition holds event time back — unless it has
//! been silent for the idle timeout, in which case it no longer counts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::compute::max;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::physical_expr::PhysicalExpr;

use crate::error::Result;
use crate::runtime::operator::{BatchOrigin, Event, Operator};
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
    settings: WatermarkSettings,
    splits: Vec<Split>,
    emitted: Option<i64>,
    idle_sent: bool,
}

impl WatermarkAssigner {
    pub fn new(expr: Arc<dyn PhysicalExpr>, settings: WatermarkSettings, splits: usize) -> Self {
        let now = Instant::now();
        WatermarkAssigner {
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
}

impl Operator for WatermarkAssigner {
    fn process(
        &mut self,
        batch: RecordBatch,
        origin: BatchOrigin,
        out: &mut Vec<Event>,
    ) -> Result<()> {
        let values = self.expr.evaluate(&batch)?.into_array(batch.num_rows())?;
        let batch_max = max(&millis(&values)?);
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
}
