//! OVER windows: aggregates over the rows before each row of a key, ordered
//! by a time attribute.

pub mod aggregate;

pub use aggregate::{OverAggregateOperator, OverAggregateSpec, OverFrame};
