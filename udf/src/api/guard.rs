//! A user function that panics must fail its job with the function's name,
//! not take the process (and every other job in it) down: every call into
//! user code goes through [`guarded`].

use std::panic::{AssertUnwindSafe, catch_unwind};

use datafusion::common::{DataFusionError, Result};

/// Runs `f`, turning a panic into an execution error naming `function`.
pub fn guarded<T>(function: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = sluice_udf_plugin::export::panic_message(payload.as_ref());
            Err(DataFusionError::Execution(format!(
                "user-defined function '{function}' panicked: {msg}"
            )))
        }
    }
}
