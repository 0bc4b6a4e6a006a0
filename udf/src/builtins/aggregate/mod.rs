//! Flink's aggregate functions that DataFusion lacks or gives other
//! semantics: `AVG` (of integers), `LISTAGG`, `FIRST_VALUE`, `LAST_VALUE`.
//! NULL inputs are skipped, as in Flink.
//!
//! `accumulator` keeps O(1) state (the first value, the last value, the
//! joined string). `create_sliding_accumulator` keeps every value in
//! arrival order and supports `retract_batch`, for retracting input and
//! OVER windows.

mod avg;
mod first_last;
mod listagg;
mod window;

use std::sync::Arc;

use datafusion::logical_expr::{AggregateUDF, WindowUDF};

/// Every aggregate built-in.
pub fn functions() -> Vec<Arc<AggregateUDF>> {
    vec![
        Arc::new(AggregateUDF::new_from_impl(avg::Avg::new())),
        Arc::new(AggregateUDF::new_from_impl(listagg::ListAgg::new())),
        Arc::new(AggregateUDF::new_from_impl(first_last::FirstLast::first())),
        Arc::new(AggregateUDF::new_from_impl(first_last::FirstLast::last())),
    ]
}

/// Window functions replacing DataFusion's of the same name.
pub fn window_functions() -> Vec<Arc<WindowUDF>> {
    window::functions()
}
