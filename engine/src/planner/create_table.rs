//! `CREATE TABLE`: merge `LIKE`, check columns, let the connector validate its
//! options, and plan computed columns once.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use datafusion::common::DFSchema;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{ExprSchemable, Extension, LogicalPlan, LogicalPlanBuilder};
use datafusion::sql::planner::{PlannerContext, SqlToRel};

use super::context::{ScanSource, SluiceContextProvider};
use super::nodes::WatermarkNode;
use super::parser_options;
use crate::catalog::{
    Catalog, CatalogTable, ColumnSource, ConnectorOptions, TableColumn, metadata_columns,
    resolve_name,
};
use crate::connector::{ConnectorRegistry, TableContext};
use crate::error::{Result, SluiceError};
use crate::sql::types::{FlinkType, FlinkTypeKind};
use crate::sql::{ColumnKind, CreateTable, LikeOption};

/// Builds the catalog entry for a `CREATE TABLE`.
pub fn create_table(
    ct: &CreateTable,
    catalog: &Catalog,
    registry: &ConnectorRegistry,
    state: &SessionState,
) -> Result<CatalogTable> {
    let name = resolve_name(&ct.name)?;
    let ct = merge_like(ct, catalog)?;
    let err = |m: String| SluiceError::Options {
        table: name.clone(),
        message: m,
    };

    let mut columns = Vec::new();
    let mut seen = HashSet::new();
    for c in &ct.columns {
        if !seen.insert(c.name.value.clone()) {
            return Err(SluiceError::plan(format!(
                "CREATE TABLE {name} at {}: duplicate column '{}'",
                c.position, c.name.value
            )));
        }
        let (data_type, source) = match &c.kind {
            ColumnKind::Physical(t) => (t.clone(), ColumnSource::Physical),
            // The type is known once the expression is planned, below.
            ColumnKind::Computed(e) => (
                FlinkType::nullable(FlinkTypeKind::Boolean),
                ColumnSource::Computed(e.clone()),
            ),
            ColumnKind::Metadata {
                data_type,
                key,
                is_virtual,
            } => (
                data_type.clone(),
                ColumnSource::Metadata {
                    key: key.clone().unwrap_or_else(|| c.name.value.clone()),
                    is_virtual: *is_virtual,
                },
            ),
        };
        columns.push(TableColumn {
            name: c.name.value.clone(),
            data_type,
            source,
            comment: c.comment.clone(),
        });
    }

    let mut primary_key = Vec::new();
    if let Some(pk) = &ct.primary_key {
        for k in &pk.columns {
            let Some(col) = columns.iter_mut().find(|c| c.name == k.value) else {
                return Err(SluiceError::plan(format!(
                    "PRIMARY KEY at {}: column '{}' does not exist",
                    pk.position, k.value
                )));
            };
            if !matches!(col.source, ColumnSource::Physical) {
                return Err(SluiceError::plan(format!(
                    "PRIMARY KEY at {}: column '{}' is not a physical column",
                    pk.position, k.value
                )));
            }
            // Flink makes primary-key columns NOT NULL.
            col.data_type.nullable = false;
            primary_key.push(k.value.clone());
        }
    }

    let options: BTreeMap<String, String> = ct.option_map();
    let Some(connector_name) = options.get("connector").cloned() else {
        return Err(err(format!(
            "missing required option 'connector'; available connectors: {}",
            registry.names().join(", ")
        )));
    };
    let Some(connector) = registry.get(&connector_name) else {
        return Err(err(format!(
            "option 'connector': unknown connector '{connector_name}'; available connectors: {}",
            registry.names().join(", ")
        )));
    };
    // Watermark options belong to the engine, whatever the connector.
    let idle_timeout = match options.get(IDLE_TIMEOUT_KEY) {
        None => None,
        Some(v) => Some(crate::catalog::parse_duration(v).ok_or_else(|| {
            err(format!(
                "option '{IDLE_TIMEOUT_KEY}': invalid duration '{v}' (expected e.g. '30 s')"
            ))
        })?),
    };
    let mut connector_options = ConnectorOptions::new(
        name.clone(),
        options
            .iter()
            .filter(|(k, _)| k.as_str() != "connector" && k.as_str() != IDLE_TIMEOUT_KEY)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    );
    let physical: Vec<_> = columns
        .iter()
        .filter(|c| matches!(c.source, ColumnSource::Physical))
        .map(|c| {
            datafusion::arrow::datatypes::Field::new(
                &c.name,
                c.data_type.to_arrow(),
                c.data_type.nullable,
            )
        })
        .collect();
    let meta = metadata_columns(&columns);
    let partition_keys: Vec<String> = ct.partitioned_by.iter().map(|i| i.value.clone()).collect();
    if !partition_keys.is_empty() && !connector.supports_partitioning() {
        return Err(err(format!(
            "PARTITIONED BY ({}): connector '{connector_name}' does not support partitioned tables",
            partition_keys.join(", ")
        )));
    }
    for key in &partition_keys {
        if !physical.iter().any(|f| f.name() == key) {
            return Err(err(format!(
                "PARTITIONED BY: '{key}' is not a physical column of the table"
            )));
        }
    }
    let connector_table = connector.create(TableContext {
        table_name: &name,
        physical_schema: Arc::new(datafusion::arrow::datatypes::Schema::new(physical)),
        metadata_columns: &meta,
        primary_key: &primary_key,
        partition_keys: &partition_keys,
        options: &mut connector_options,
    })?;
    connector_options.finish(&connector_name)?;

    let mut table = CatalogTable {
        name: name.clone(),
        ddl: ct.clone(),
        columns,
        connector_name,
        options,
        connector: connector_table,
        primary_key,
        watermark: ct.watermark.clone(),
        temporary: ct.temporary,
        computed_plan: None,
    };
    plan_computed_columns(&mut table, catalog, state)?;
    check_watermark(&table)?;
    plan_watermark(&mut table, catalog, state, idle_timeout)?;
    Ok(table)
}

/// The table option that marks a silent source split idle.
pub const IDLE_TIMEOUT_KEY: &str = "scan.watermark.idle-timeout";

/// Puts the watermark assigner above the table's scan (and computed
/// columns), so every query reading the table generates watermarks.
fn plan_watermark(
    table: &mut CatalogTable,
    catalog: &Catalog,
    state: &SessionState,
    idle_timeout: Option<std::time::Duration>,
) -> Result<()> {
    let Some(w) = table.watermark.clone() else {
        return Ok(());
    };
    let input = match table.computed_plan.take() {
        Some(p) => p,
        None => {
            let raw = Arc::new(table.clone());
            LogicalPlanBuilder::scan(
                table.name.clone(),
                Arc::new(ScanSource::new(raw, table.name.clone())),
                None,
            )?
            .build()?
        }
    };
    let provider = SluiceContextProvider {
        catalog,
        state,
        extra: Default::default(),
    };
    let sql_to_rel = SqlToRel::new_with_options(&provider, parser_options());
    let mut wexpr = w.expr.clone();
    sluice_udf::syntax::rewrite_expr(&mut wexpr);
    let expr = sql_to_rel
        .sql_to_expr(wexpr, input.schema(), &mut PlannerContext::new())
        .map_err(|e| {
            SluiceError::plan(format!(
                "WATERMARK of table '{}': {}",
                table.name,
                SluiceError::from(e)
            ))
        })?;
    let rowtime = input
        .schema()
        .qualified_field_with_unqualified_name(&w.column.value)
        .map(|(q, f)| datafusion::common::Column::new(q.cloned(), f.name()))?;
    let node = WatermarkNode {
        input,
        rowtime,
        expr,
        idle_timeout,
    };
    table.computed_plan = Some(LogicalPlan::Extension(Extension {
        node: Arc::new(node),
    }));
    Ok(())
}

/// Types computed columns and stores the projection that computes them.
fn plan_computed_columns(
    table: &mut CatalogTable,
    catalog: &Catalog,
    state: &SessionState,
) -> Result<()> {
    if !table
        .columns
        .iter()
        .any(|c| matches!(c.source, ColumnSource::Computed(_)))
    {
        return Ok(());
    }
    let raw = Arc::new(table.clone());
    let scan = LogicalPlanBuilder::scan(
        table.name.clone(),
        Arc::new(ScanSource::new(Arc::clone(&raw), table.name.clone())),
        None,
    )?
    .build()?;
    let schema: &DFSchema = scan.schema();
    let provider = SluiceContextProvider {
        catalog,
        state,
        extra: Default::default(),
    };
    let sql_to_rel = SqlToRel::new_with_options(&provider, parser_options());
    let mut exprs = Vec::new();
    for col in table.columns.iter_mut() {
        match &col.source {
            ColumnSource::Computed(sql) => {
                let mut sql = sql.as_ref().clone();
                sluice_udf::syntax::rewrite_expr(&mut sql);
                let expr = sql_to_rel
                    .sql_to_expr(sql, schema, &mut PlannerContext::new())
                    .map_err(|e| {
                        SluiceError::plan(format!(
                            "computed column '{}' of table '{}': {}",
                            col.name,
                            table.name,
                            SluiceError::from(e)
                        ))
                    })?;
                let (_, field) = expr.to_field(schema)?;
                let (dt, nullable) = (field.data_type().clone(), field.is_nullable());
                col.data_type = FlinkType::from_arrow(&dt, nullable);
                exprs.push(expr.alias(&col.name));
            }
            _ => exprs.push(datafusion::prelude::col(datafusion::common::Column::new(
                Some(table.name.clone()),
                &col.name,
            ))),
        }
    }
    let plan = LogicalPlanBuilder::from(scan).project(exprs)?.build()?;
    table.computed_plan = Some(plan);
    Ok(())
}

/// `WATERMARK FOR c AS expr`: `c` must be a TIMESTAMP(3) or TIMESTAMP_LTZ(3)
/// column and `expr` must be a timestamp expression over the table.
fn check_watermark(table: &CatalogTable) -> Result<()> {
    let Some(w) = &table.watermark else {
        return Ok(());
    };
    let Some(col) = table.columns.iter().find(|c| c.name == w.column.value) else {
        return Err(SluiceError::plan(format!(
            "WATERMARK FOR '{}' in table '{}': no such column",
            w.column.value, table.name
        )));
    };
    match col.data_type.kind {
        FlinkTypeKind::Timestamp(p) | FlinkTypeKind::TimestampLtz(p) if p <= 3 => Ok(()),
        _ => Err(SluiceError::plan(format!(
            "WATERMARK FOR '{}' in table '{}': the rowtime column must be TIMESTAMP(3) or \
             TIMESTAMP_LTZ(3), but it is {}",
            w.column.value, table.name, col.data_type
        ))),
    }
}

/// Applies `LIKE source (options)`: Flink's default is `INCLUDING ALL
/// OVERWRITING OPTIONS`.
fn merge_like(ct: &CreateTable, catalog: &Catalog) -> Result<CreateTable> {
    let Some(like) = &ct.like else {
        return Ok(ct.clone());
    };
    let src_name = resolve_name(&like.source)?;
    let Some(src) = catalog.table(&src_name) else {
        return Err(Catalog::not_found(&src_name));
    };
    let include = |feature: &str| -> bool {
        let mut inc = true;
        for LikeOption {
            strategy,
            feature: f,
        } in &like.options
        {
            if f == "ALL" || f == feature {
                inc = strategy != "EXCLUDING";
            }
        }
        inc
    };
    let mut out = ct.clone();
    let mut columns = Vec::new();
    for c in &src.ddl.columns {
        let keep = match &c.kind {
            ColumnKind::Physical(_) => true,
            ColumnKind::Computed(_) => include("GENERATED"),
            ColumnKind::Metadata { .. } => include("METADATA"),
        };
        let overridden = ct.columns.iter().any(|n| n.name.value == c.name.value);
        if keep && !overridden {
            columns.push(c.clone());
        }
    }
    columns.extend(ct.columns.iter().cloned());
    out.columns = columns;
    if out.watermark.is_none() && include("WATERMARKS") {
        out.watermark = src.ddl.watermark.clone();
    }
    if out.primary_key.is_none() && include("CONSTRAINTS") {
        out.primary_key = src.ddl.primary_key.clone();
    }
    if out.partitioned_by.is_empty() && include("PARTITIONS") {
        out.partitioned_by = src.ddl.partitioned_by.clone();
    }
    if include("OPTIONS") {
        let mut opts = src.ddl.options.clone();
        opts.extend(ct.options.iter().cloned());
        out.options = opts;
    }
    out.like = None;
    Ok(out)
}
