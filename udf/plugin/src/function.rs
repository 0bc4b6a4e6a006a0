//! What a plugin author implements: vectorized scalar, aggregate and table
//! functions over Arrow arrays. Sluice casts every call's arguments to the
//! declared types first, so `invoke` can downcast them without checking.

use arrow_array::{ArrayRef, UInt32Array};
use arrow_schema::Field;

/// The error a function returns; Sluice fails the job with its message and
/// the function's name.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A function's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A scalar function (Flink's `ScalarFunction`): one value per row.
pub trait ScalarUdf: Send + Sync + 'static {
    /// The arguments' names and types.
    fn arguments(&self) -> Vec<Field>;
    /// The result's type (its name is ignored).
    fn result(&self) -> Field;
    /// Whether equal arguments always give equal results; a deterministic
    /// function called with constants is evaluated once.
    fn deterministic(&self) -> bool {
        true
    }
    /// Evaluates `rows` rows; returns exactly `rows` values.
    fn invoke(&self, args: &[ArrayRef], rows: usize) -> Result<ArrayRef>;
}

/// An aggregate function (Flink's `AggregateFunction`).
pub trait AggregateUdf: Send + Sync + 'static {
    /// One group's (or window pane's) running state.
    type Accumulator: Accumulator;
    /// The arguments' names and types.
    fn arguments(&self) -> Vec<Field>;
    /// The result's type.
    fn result(&self) -> Field;
    /// The fields [`Accumulator::state`] returns, for checkpoints and for
    /// combining partial results.
    fn state(&self) -> Vec<Field>;
    /// Flink's `createAccumulator`.
    fn create_accumulator(&self) -> Self::Accumulator;
    /// Whether [`Accumulator::retract`] is implemented; without it the
    /// function cannot read an updating input.
    fn supports_retract(&self) -> bool {
        false
    }
    /// Whether [`Accumulator::merge`] is implemented; without it the
    /// function cannot run in HOP, CUMULATE or SESSION windows.
    fn supports_merge(&self) -> bool {
        false
    }
}

/// The state of one group.
pub trait Accumulator: Send + Sync + 'static {
    /// Flink's `accumulate`, for every row of `args`.
    fn accumulate(&mut self, args: &[ArrayRef]) -> Result<()>;
    /// Flink's `retract`, for every row of `args`.
    fn retract(&mut self, _args: &[ArrayRef]) -> Result<()> {
        Err("retract is not implemented".into())
    }
    /// Flink's `merge`: adds each row of `states` (other accumulators'
    /// [`state`](Self::state)s, one column per state field).
    fn merge(&mut self, _states: &[ArrayRef]) -> Result<()> {
        Err("merge is not implemented".into())
    }
    /// The state as one-row arrays, one per state field.
    fn state(&self) -> Result<Vec<ArrayRef>>;
    /// Flink's `getValue`, as a one-row array.
    fn value(&self) -> Result<ArrayRef>;
    /// Approximate size in bytes, for memory accounting.
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

/// A table function (Flink's `TableFunction`): zero or more rows per row.
pub trait TableUdf: Send + Sync + 'static {
    /// The arguments' names and types.
    fn arguments(&self) -> Vec<Field>;
    /// The produced columns.
    fn columns(&self) -> Vec<Field>;
    /// Whether equal arguments always give equal rows.
    fn deterministic(&self) -> bool {
        true
    }
    /// Evaluates `rows` input rows: for each produced row, the input row it
    /// belongs to (ascending), and the produced columns.
    fn invoke(&self, args: &[ArrayRef], rows: usize) -> Result<(UInt32Array, Vec<ArrayRef>)>;
}
