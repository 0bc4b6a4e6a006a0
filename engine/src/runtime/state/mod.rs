//! The state contract every stateful operator implements, so checkpoints
//! can be wired in without touching operators again, and the Arrow layout
//! operators write their state in.

mod snapshot;

pub use snapshot::{RowWriter, SnapshotReader, SnapshotWriter};

use datafusion::arrow::record_batch::RecordBatch;

use crate::error::Result;

/// Operator state that can be snapshotted to, and restored from, Arrow
/// batches (written as Arrow IPC files by the checkpoint coordinator).
///
/// A snapshot is taken between two events (a checkpoint barrier is one), so
/// it holds everything the operator would still emit: restoring it into a
/// fresh operator built from the same plan and feeding it what follows gives
/// the output an uninterrupted operator would have given.
pub trait OperatorState: Send {
    /// A consistent copy of the state. `&mut` because DataFusion reads an
    /// accumulator's partial state through `&mut self`.
    fn snapshot(&mut self) -> Result<Vec<RecordBatch>>;
    /// Replaces the state with a snapshot taken by the same operator.
    fn restore(&mut self, snapshot: &[RecordBatch]) -> Result<()>;
}
