//! `FOR SYSTEM_TIME AS OF`: parsed (Flink's temporal and lookup joins use
//! it) but not run yet. DataFusion's planner would drop the clause and read
//! the table as of now, a silently different answer, so it is refused here
//! with the clause's position.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Query, Spanned, TableFactor, TableVersion, Visit, Visitor};

use crate::error::{Result, SluiceError};
use crate::sql::error::position;

/// Fails on the first table read `FOR SYSTEM_TIME AS OF` in `query`.
pub fn reject_table_versions(query: &Query) -> Result<()> {
    struct Find;
    impl Visitor for Find {
        type Break = SluiceError;

        fn pre_visit_table_factor(&mut self, tf: &TableFactor) -> ControlFlow<SluiceError> {
            let TableFactor::Table {
                name,
                version: Some(version),
                ..
            } = tf
            else {
                return ControlFlow::Continue(());
            };
            let at = match version {
                TableVersion::ForSystemTimeAsOf(e) => e.span().start,
                _ => name.span().start,
            };
            ControlFlow::Break(SluiceError::not_supported(format!(
                "FOR SYSTEM_TIME AS OF on '{name}' at {} (temporal and lookup joins)",
                position(at)
            )))
        }
    }
    match query.visit(&mut Find) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}
