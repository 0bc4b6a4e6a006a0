//! Sluice: Flink SQL on Apache DataFusion, as a library.
//!
//! ```no_run
//! # async fn f() -> sluice::Result<()> {
//! let sluice = sluice::Sluice::new();
//! sluice.execute_sql("CREATE TABLE t (x INT) WITH ('connector' = 'datagen', 'number-of-rows' = '3')").await?;
//! # Ok(()) }
//! ```

pub use sluice_engine::connector::{ROW_KIND_COLUMN, RowKind};
pub use sluice_engine::error::{Result, SluiceError};
pub use sluice_engine::runtime::{JobHandle, JobStatus};
pub use sluice_engine::session::{QueryResult, Session, StatementResult};
pub use sluice_engine::sql::{FlinkStatement, statement_is_complete};
pub use sluice_udf::accumulator_state;
/// The UDF API: build functions here, register them with
/// [`Session::register_udf`], [`Session::register_udaf`] and
/// [`Session::register_udtf`] (a [`Sluice`] derefs to its session).
pub use sluice_udf::api as udf;

use sluice_engine::connector::ConnectorRegistry;

/// A Sluice session with every built-in connector registered.
#[derive(Debug)]
pub struct Sluice {
    session: Session,
}

impl Sluice {
    /// A new session with all connectors.
    pub fn new() -> Self {
        let mut registry = ConnectorRegistry::new();
        sluice_connectors::register_all(&mut registry);
        Sluice {
            session: Session::new(registry),
        }
    }
}

impl Default for Sluice {
    fn default() -> Self {
        Self::new()
    }
}

impl std::ops::Deref for Sluice {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}
