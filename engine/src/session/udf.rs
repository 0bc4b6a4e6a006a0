//! Registering user-defined functions on a session, so every later SQL
//! statement of the session (and of its clones) can call them.

use std::sync::{Arc, RwLockReadGuard};

use datafusion::execution::FunctionRegistry;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use sluice_udf::api::TableUdf;

use super::Session;
use super::functions::UserFunction;
use crate::error::Result;

impl Session {
    /// The DataFusion state statements are planned with.
    pub(super) fn state(&self) -> RwLockReadGuard<'_, SessionState> {
        self.inner
            .state
            .read()
            .expect("session state lock poisoned")
    }

    /// `table.local-time-zone`: DataFusion's session time zone, which the
    /// Flink built-ins read (`None`: back to UTC).
    pub(super) fn set_time_zone(&self, zone: Option<&str>) {
        let zone = zone.unwrap_or("+00:00").to_string();
        self.with_state(|s| s.config_mut().options_mut().execution.time_zone = Some(zone));
    }

    /// The DataFusion options expressions are evaluated with.
    pub(super) fn config_options(&self) -> Arc<datafusion::common::config::ConfigOptions> {
        Arc::new(self.state().config_options().as_ref().clone())
    }

    pub(super) fn with_state<T>(&self, f: impl FnOnce(&mut SessionState) -> T) -> T {
        let mut state = self
            .inner
            .state
            .write()
            .expect("session state lock poisoned");
        f(&mut state)
    }

    /// Registers a scalar function (a `sluice_udf::api::ScalarFunction` or
    /// any DataFusion `ScalarUDF`); it replaces a function of the same name,
    /// built-ins included. Jobs already running keep the function they use.
    pub fn register_udf(&self, f: impl Into<ScalarUDF>) -> Result<()> {
        let f = Arc::new(f.into());
        self.record_registered(f.name(), "SCALAR");
        self.with_state(|s| s.register_udf(f))?;
        Ok(())
    }

    /// Registers an aggregate function (a
    /// `sluice_udf::api::AggregateFunction` or any DataFusion `AggregateUDF`).
    pub fn register_udaf(&self, f: impl Into<AggregateUDF>) -> Result<()> {
        let f = Arc::new(f.into());
        self.record_registered(f.name(), "AGGREGATE");
        self.with_state(|s| s.register_udaf(f))?;
        Ok(())
    }

    /// Registers a table function (a `sluice_udf::api::TableFunction` or
    /// any `TableUdfImpl`), callable as `LATERAL TABLE(name(..))`. Names
    /// are matched as written, then in lower case (Flink ignores case).
    pub fn register_udtf(&self, f: impl Into<TableUdf>) -> Result<()> {
        let f = f.into();
        let name = f.name().to_string();
        let lower = name.to_ascii_lowercase();
        self.record_registered(&name, "TABLE");
        self.with_state(|s| {
            s.register_udtf(&name, Arc::new(f.clone()));
            if lower != name {
                s.register_udtf(&lower, Arc::new(f));
            }
        });
        Ok(())
    }

    /// Lists a function registered from Rust in `SHOW USER FUNCTIONS`.
    fn record_registered(&self, name: &str, kind: &'static str) {
        self.user_functions().insert(
            name.to_ascii_lowercase(),
            UserFunction::registered(name, kind),
        );
    }
}
