//! Planning: SQL AST → DataFusion logical plan (with the catalog as context)
//! → DataFusion's optimizer → the streaming graph.

mod case_zip;
pub mod context;
pub mod create_table;
pub mod graph;
mod grouping_sets;
pub mod insert;
mod lateral;
mod legacy_window;
pub mod lower;
mod lower_over;
mod lower_rank;
mod lower_stateful;
pub mod nodes;
mod select_names;
mod temporal;
pub mod time_attr;
mod upsert_key;
pub mod window_tvf;

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::{LogicalPlan, TableSource};
use datafusion::prelude::SessionConfig as DfConfig;
use datafusion::sql::planner::{ParserOptions, SqlToRel};
use datafusion::sql::sqlparser::ast::{Query, Statement};

use crate::catalog::{Catalog, resolve_name};
use crate::connector::ConnectorRegistry;
use crate::error::{Result, SluiceError};
use crate::sql::TableHint;
use context::{SluiceContextProvider, table_source};

/// How DataFusion's SQL planner must read Flink SQL: identifiers keep their
/// case (Flink is case-sensitive), and strings stay `Utf8` so every connector
/// and function sees one string type.
pub fn parser_options() -> ParserOptions {
    ParserOptions {
        enable_ident_normalization: false,
        map_string_types_to_utf8view: false,
        ..ParserOptions::new()
    }
}

/// Optimizer rules left out, and why:
/// - `single_distinct_aggregation_to_group_by` turns `COUNT(DISTINCT x)` into
///   two stacked aggregates; on a stream the outer one would then consume
///   the inner one's updates instead of the input's rows, and a window
///   aggregate would lose its window.
const UNSAFE_FOR_STREAMING: &[&str] = &["single_distinct_aggregation_to_group_by"];

/// The DataFusion state Sluice plans with: built-in functions and the
/// default analyzer/optimizer rules. Every default rule is safe for the
/// stateless plans Sluice runs today (they only reorder and prune
/// projections/filters and fold constants).
pub fn new_session_state() -> SessionState {
    let mut config = DfConfig::new();
    let opts = config.options_mut();
    opts.sql_parser.enable_ident_normalization = false;
    opts.sql_parser.map_string_types_to_utf8view = false;
    opts.execution.time_zone = Some("+00:00".to_string());
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    let rules = state
        .optimizers()
        .iter()
        .filter(|r| !UNSAFE_FOR_STREAMING.contains(&r.name()))
        .cloned()
        .collect();
    SessionStateBuilder::new_from_existing(state)
        .with_optimizer_rules(rules)
        .build()
}

/// Plans one query (or INSERT's source) against the catalog.
pub fn plan_query(
    mut query: Query,
    hints: &[TableHint],
    catalog: &Catalog,
    registry: &ConnectorRegistry,
    state: &SessionState,
) -> Result<LogicalPlan> {
    temporal::reject_table_versions(&query)?;
    let extra = hinted_tables(hints, catalog, registry, state)?;
    select_names::name_expressions(&mut query);
    legacy_window::rewrite_group_windows(&mut query)?;
    sluice_udf::syntax::rewrite_query(&mut query);
    lateral::rewrite_unnest(&mut query);
    let provider = SluiceContextProvider {
        catalog,
        state,
        extra,
    };
    let sql_to_rel = SqlToRel::new_with_options(&provider, parser_options());
    let plan = sql_to_rel.sql_statement_to_plan(Statement::Query(Box::new(query)))?;
    let plan = lateral::decorrelate(plan)?;
    Ok(state.optimize(&plan)?)
}

/// Re-validates each hinted table reference with its merged options.
fn hinted_tables(
    hints: &[TableHint],
    catalog: &Catalog,
    registry: &ConnectorRegistry,
    state: &SessionState,
) -> Result<HashMap<String, Arc<dyn TableSource>>> {
    let mut out = HashMap::new();
    for h in hints {
        let name = resolve_name(&h.table)?;
        let Some(table) = catalog.table(&name) else {
            return Err(Catalog::not_found(&name));
        };
        let mut ddl = table.ddl.clone();
        ddl.options.extend(h.options.iter().cloned());
        let mut hinted =
            create_table::create_table(&ddl, catalog, registry, state).map_err(|e| {
                SluiceError::plan(format!(
                    "OPTIONS hint at {} on table '{name}': {e}",
                    h.position
                ))
            })?;
        hinted.name = name.clone();
        out.insert(
            h.alias_name.clone(),
            table_source(&Arc::new(hinted), &h.alias_name),
        );
    }
    Ok(out)
}

/// Renames a view's output columns (`CREATE VIEW v (a, b) AS ..`).
pub fn rename_columns(
    plan: LogicalPlan,
    names: &[datafusion::sql::sqlparser::ast::Ident],
) -> Result<LogicalPlan> {
    if names.is_empty() {
        return Ok(plan);
    }
    let fields = plan.schema().fields().len();
    if fields != names.len() {
        return Err(SluiceError::plan(format!(
            "the view lists {} column names but its query produces {fields} columns",
            names.len()
        )));
    }
    let exprs: Vec<datafusion::logical_expr::Expr> = plan
        .schema()
        .iter()
        .zip(names)
        .map(|((q, f), n)| {
            datafusion::logical_expr::Expr::Column(datafusion::common::Column::from((q, f)))
                .alias(&n.value)
        })
        .collect();
    Ok(datafusion::logical_expr::LogicalPlanBuilder::from(plan)
        .project(exprs)?
        .build()?)
}
