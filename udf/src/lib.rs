//! Sluice's function library: Flink built-ins that DataFusion lacks or names
//! differently, the Rust UDF API ([`api`]) and run-time plugins ([`plugin`]).

pub mod api;
pub mod builtins;
pub mod current_watermark;
pub mod planner;
pub mod plugin;
mod proctime;
pub mod syntax;

use std::sync::Arc;

use datafusion::execution::FunctionRegistry;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

pub use planner::FlinkExprPlanner;
pub use proctime::ProcTime;

/// Every Flink built-in Sluice adds to DataFusion's functions.
pub fn flink_builtins() -> Vec<Arc<ScalarUDF>> {
    let mut f = vec![
        Arc::new(ScalarUDF::new_from_impl(ProcTime::new())),
        Arc::new(ScalarUDF::new_from_impl(
            current_watermark::CurrentWatermark::new(),
        )),
    ];
    f.extend(builtins::scalar_functions());
    f
}

/// Every Flink aggregate built-in Sluice adds (`LISTAGG`, `AVG` keeping an
/// integer argument's type, and `FIRST_VALUE`/`LAST_VALUE` with Flink's
/// NULL-skipping semantics).
pub fn flink_aggregates() -> Vec<Arc<AggregateUDF>> {
    builtins::aggregate::functions()
}

/// `state` with Flink's built-ins registered over DataFusion's functions of
/// the same names, and Flink's syntax forms (`EXTRACT`, `SUBSTRING .. FROM
/// .. FOR`) planned before DataFusion's planners see them.
pub fn with_flink_builtins(state: SessionState) -> SessionState {
    let mut builder = SessionStateBuilder::new_from_existing(state);
    builder
        .expr_planners()
        .get_or_insert_with(Vec::new)
        .insert(0, Arc::new(FlinkExprPlanner));
    let mut state = builder.build();
    for f in flink_builtins() {
        // Registering replaces DataFusion's function of the same name.
        let _ = state.register_udf(f);
    }
    for f in flink_aggregates() {
        let _ = state.register_udaf(f);
    }
    for f in builtins::aggregate::window_functions() {
        let _ = state.register_udwf(f);
    }
    state
}
