//! The catalog as DataFusion's `ContextProvider`: table and view lookup for
//! `SqlToRel`, with functions from the DataFusion session state.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{TableReference, plan_datafusion_err};
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::planner::{ContextProvider, ExprPlanner, RelationPlanner};
use datafusion::logical_expr::{
    AggregateUDF, HigherOrderUDF, LogicalPlan, ScalarUDF, TableSource, WindowUDF,
};

use super::window_tvf::WindowTvfPlanner;
use crate::catalog::{Catalog, CatalogTable, DEFAULT_CATALOG, DEFAULT_DATABASE};

/// A catalog table as DataFusion sees it: the connector's scan. Tables with
/// computed columns are seen through [`InlinedSource`] instead.
#[derive(Debug)]
pub struct ScanSource {
    pub table: Arc<CatalogTable>,
    /// The name this scan is planned under (a hinted reference has its own).
    pub name: String,
    schema: SchemaRef,
}

impl ScanSource {
    pub fn new(table: Arc<CatalogTable>, name: String) -> Self {
        let schema = table.scan_schema();
        ScanSource {
            table,
            name,
            schema,
        }
    }
}

impl TableSource for ScanSource {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

/// A view, or a table with computed columns: DataFusion inlines the plan.
#[derive(Debug)]
pub struct InlinedSource {
    pub plan: LogicalPlan,
}

impl TableSource for InlinedSource {
    fn schema(&self) -> SchemaRef {
        Arc::new(self.plan.schema().as_arrow().clone())
    }
    fn get_logical_plan(&'_ self) -> Option<Cow<'_, LogicalPlan>> {
        Some(Cow::Borrowed(&self.plan))
    }
}

/// The source DataFusion should see for a catalog table.
pub fn table_source(table: &Arc<CatalogTable>, name: &str) -> Arc<dyn TableSource> {
    match &table.computed_plan {
        Some(plan) => Arc::new(InlinedSource { plan: plan.clone() }),
        None => Arc::new(ScanSource::new(Arc::clone(table), name.to_string())),
    }
}

/// `SqlToRel`'s view of one statement: the catalog, plus any hinted table
/// references that statement has.
pub struct SluiceContextProvider<'a> {
    pub catalog: &'a Catalog,
    pub state: &'a SessionState,
    /// Hinted references (`t$hint1`) with their own validated tables.
    pub extra: HashMap<String, Arc<dyn TableSource>>,
}

impl ContextProvider for SluiceContextProvider<'_> {
    fn get_table_source(
        &self,
        name: TableReference,
    ) -> datafusion::error::Result<Arc<dyn TableSource>> {
        let qualified_ok = match (name.catalog(), name.schema()) {
            (None, None) => true,
            (None, Some(s)) => s == DEFAULT_DATABASE,
            (Some(c), Some(s)) => c == DEFAULT_CATALOG && s == DEFAULT_DATABASE,
            _ => false,
        };
        let t = name.table();
        if qualified_ok {
            if let Some(s) = self.extra.get(t) {
                return Ok(Arc::clone(s));
            }
            if let Some(table) = self.catalog.table(t) {
                return Ok(table_source(&table, t));
            }
            if let Some(view) = self.catalog.view(t) {
                return Ok(Arc::new(InlinedSource {
                    plan: view.plan.clone(),
                }));
            }
        }
        Err(plan_datafusion_err!(
            "Object '{name}' not found within '{DEFAULT_CATALOG}.{DEFAULT_DATABASE}'"
        ))
    }

    fn get_relation_planners(&self) -> &[Arc<dyn RelationPlanner>] {
        static PLANNERS: std::sync::LazyLock<Vec<Arc<dyn RelationPlanner>>> =
            std::sync::LazyLock::new(|| {
                vec![
                    Arc::new(super::lateral::LateralTablePlanner),
                    Arc::new(WindowTvfPlanner),
                ]
            });
        &PLANNERS
    }

    fn get_table_function_source(
        &self,
        name: &str,
        _args: Vec<datafusion::logical_expr::Expr>,
    ) -> datafusion::error::Result<Arc<dyn TableSource>> {
        super::lateral::table_function_source(self.state, name)
    }

    fn get_expr_planners(&self) -> &[Arc<dyn ExprPlanner>] {
        self.state.expr_planners()
    }

    fn get_function_meta(&self, name: &str) -> Option<Arc<ScalarUDF>> {
        let f = self.state.scalar_functions();
        f.get(name)
            .or_else(|| f.get(&name.to_ascii_lowercase()))
            .cloned()
    }

    fn get_higher_order_meta(&self, name: &str) -> Option<Arc<HigherOrderUDF>> {
        let f = self.state.higher_order_functions();
        f.get(name)
            .or_else(|| f.get(&name.to_ascii_lowercase()))
            .cloned()
    }

    fn get_aggregate_meta(&self, name: &str) -> Option<Arc<AggregateUDF>> {
        let f = self.state.aggregate_functions();
        f.get(name)
            .or_else(|| f.get(&name.to_ascii_lowercase()))
            .cloned()
    }

    fn get_window_meta(&self, name: &str) -> Option<Arc<WindowUDF>> {
        let f = self.state.window_functions();
        f.get(name)
            .or_else(|| f.get(&name.to_ascii_lowercase()))
            .cloned()
    }

    fn get_variable_type(&self, _variable_names: &[String]) -> Option<DataType> {
        None
    }

    fn options(&self) -> &ConfigOptions {
        self.state.config_options()
    }

    fn udf_names(&self) -> Vec<String> {
        self.state.scalar_functions().keys().cloned().collect()
    }

    fn higher_order_function_names(&self) -> Vec<String> {
        self.state
            .higher_order_functions()
            .keys()
            .cloned()
            .collect()
    }

    fn udaf_names(&self) -> Vec<String> {
        self.state.aggregate_functions().keys().cloned().collect()
    }

    fn udwf_names(&self) -> Vec<String> {
        self.state.window_functions().keys().cloned().collect()
    }
}
