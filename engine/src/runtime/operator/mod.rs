//! Operators that run inside a chained task. One file per operator; the
//! stateful ones (windows, aggregations) live in their own folders.

mod calc;
mod correlate;
mod limit;

pub use calc::CalcOperator;
pub use correlate::{CorrelateOperator, CorrelateSpec};
pub use limit::LimitOperator;

use std::time::Duration;

use datafusion::arrow::record_batch::RecordBatch;

use super::state::OperatorState;
use crate::error::Result;

/// What an operator hands to the next one in its chain.
#[derive(Debug, Clone)]
pub enum Event {
    /// Rows (with the row-kind column last when the stream is updating).
    Batch(RecordBatch),
    /// Event time has reached this many epoch milliseconds.
    Watermark(i64),
    /// The input will be silent for a while: do not wait for its watermark.
    Idle,
}

/// Where a batch came from, for operators that care (watermark generation
/// tracks each source split separately).
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchOrigin {
    /// The source split (`0` for anything but a source head).
    pub split: usize,
}

/// A batch-at-a-time operator. Stateless chains are fused into one task, so
/// a batch passes through them without crossing a channel; stateful
/// operators also see watermarks, timer ticks and the end of input.
pub trait Operator: Send {
    /// Consumes one batch, appending what it produces to `out`.
    fn process(
        &mut self,
        batch: RecordBatch,
        origin: BatchOrigin,
        out: &mut Vec<Event>,
    ) -> Result<()>;

    /// The input's watermark advanced. Windows fire here; the default
    /// forwards it.
    fn on_watermark(&mut self, watermark: i64, out: &mut Vec<Event>) -> Result<()> {
        out.push(Event::Watermark(watermark));
        Ok(())
    }

    /// The input went idle; the default forwards that.
    fn on_idle(&mut self, out: &mut Vec<Event>) -> Result<()> {
        out.push(Event::Idle);
        Ok(())
    }

    /// How often [`Operator::on_tick`] should run (watermark emission,
    /// processing-time windows, mini-batch flushes); `None` for never.
    fn tick_interval(&self) -> Option<Duration> {
        None
    }

    /// A timer tick: `now` is the wall clock in epoch milliseconds.
    fn on_tick(&mut self, _now: i64, _out: &mut Vec<Event>) -> Result<()> {
        Ok(())
    }

    /// The input has ended: emit whatever is still held.
    fn on_end(&mut self, _out: &mut Vec<Event>) -> Result<()> {
        Ok(())
    }

    /// True once the operator wants no more input (a LIMIT that is full).
    fn is_done(&self) -> bool {
        false
    }

    /// The operator's state, if it keeps any (for checkpoints).
    fn state(&mut self) -> Option<&mut dyn OperatorState> {
        None
    }
}

/// Runs `events` through `ops` in order — each operator sees everything
/// the one before it produced — and returns what the last one produced.
pub fn pass(
    ops: &mut [Box<dyn Operator>],
    events: Vec<Event>,
    origin: BatchOrigin,
) -> Result<Vec<Event>> {
    let mut cur = events;
    for op in ops.iter_mut() {
        if cur.is_empty() {
            break;
        }
        let mut next = Vec::with_capacity(cur.len());
        for ev in cur {
            match ev {
                Event::Batch(b) => op.process(b, origin, &mut next)?,
                Event::Watermark(w) => op.on_watermark(w, &mut next)?,
                Event::Idle => op.on_idle(&mut next)?,
            }
        }
        cur = next;
    }
    Ok(cur)
}

/// The wall clock in epoch milliseconds.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
