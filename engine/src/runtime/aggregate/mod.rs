//! Aggregation state shared by window and non-windowed aggregates.

pub mod functions;
pub mod group_by;
pub mod keys;

pub use functions::{AggregateCall, AggregateCalls};
pub use group_by::{GroupAggregateOperator, GroupAggregateSpec};
