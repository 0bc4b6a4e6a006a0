//! Sluice's function library: Flink built-ins that DataFusion lacks or names
//! differently. (The UDF API for users comes with the UDF work.)

mod proctime;

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

pub use proctime::ProcTime;

/// Every Flink built-in Sluice adds to DataFusion's functions.
pub fn flink_builtins() -> Vec<Arc<ScalarUDF>> {
    vec![Arc::new(ScalarUDF::new_from_impl(ProcTime::new()))]
}
