//! The state contract every stateful operator implements from day one, so
//! checkpoints can be wired in without touching operators again.

use datafusion::arrow::record_batch::RecordBatch;

use crate::error::Result;

/// Operator state that can be snapshotted to, and restored from, Arrow
/// batches (written as Arrow IPC files by the checkpoint coordinator).
pub trait OperatorState: Send {
    /// A consistent copy of the state at a checkpoint barrier.
    fn snapshot(&self) -> Result<Vec<RecordBatch>>;
    /// Replaces the state with a snapshot taken by the same operator.
    fn restore(&mut self, snapshot: &[RecordBatch]) -> Result<()>;
}
