//! Operators that run inside a chained task. One file per operator.

mod calc;
mod limit;

pub use calc::CalcOperator;
pub use limit::LimitOperator;

use datafusion::arrow::record_batch::RecordBatch;

use crate::error::Result;

/// A batch-at-a-time operator. Stateless chains are fused into one task, so
/// a batch passes through them without crossing a channel.
pub trait Operator: Send {
    /// Transforms one batch; `None` when nothing is left of it.
    fn process(&mut self, batch: RecordBatch) -> Result<Option<RecordBatch>>;
    /// True once the operator wants no more input (a LIMIT that is full).
    fn is_done(&self) -> bool {
        false
    }
}
