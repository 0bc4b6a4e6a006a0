//! Windows: assignment of rows to windows (TVFs and legacy group windows)
//! and window aggregation over panes.

pub mod aggregate;
pub mod assign;
pub mod session;
pub mod spec;

pub use aggregate::{GroupColumn, WindowAggregateOperator, WindowAggregateSpec};
pub use assign::WindowAssignOperator;
pub use session::SessionWindowOperator;
pub use spec::WindowSpec;
