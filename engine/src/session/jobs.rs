//! Statements that start jobs (SELECT, INSERT, statement sets) and EXPLAIN,
//! which plans them without running.

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::ast::{ObjectNamePart, Query, Statement, TableObject};
use tokio::sync::mpsc;

use super::{QueryResult, Session, StatementResult};
use crate::catalog::{Catalog, CatalogTable, resolve_name};
use crate::connector::SinkTable;
use crate::error::{Result, SluiceError};
use crate::planner::graph::StreamGraph;
use crate::planner::insert::align_to_sink;
use crate::planner::lower::GraphBuilder;
use crate::planner::plan_query;
use crate::runtime::executor::{SteppedJob, spawn_job};
use crate::runtime::{JobHandle, JobInfo};
use crate::sql::{FlinkStatement, TableHint};

/// A planned INSERT: the logical plan aligned to the sink, and the sink.
struct PlannedInsert {
    table: Arc<CatalogTable>,
    sink: Arc<dyn SinkTable>,
    plan: LogicalPlan,
}

impl Session {
    fn plan_select(&self, query: Query, hints: &[TableHint]) -> Result<(LogicalPlan, StreamGraph)> {
        let catalog = self.catalog();
        let plan = plan_query(query, hints, &catalog, &self.inner.registry, &self.state())?;
        let config = self.config();
        let mut gb = GraphBuilder::new(&config).with_config_options(self.config_options());
        let out = gb.lower(&plan)?;
        gb.add_collect(out);
        Ok((plan, gb.build()))
    }

    /// Runs every statement of `sql` but the last, which must be a SELECT,
    /// and returns that SELECT as a job stepped by the caller, one input
    /// batch at a time (see [`SteppedJob`]): how operator state snapshots are
    /// tested.
    pub async fn stepped_query(&self, sql: &str) -> Result<SteppedJob> {
        let mut statements = self.parse(sql)?;
        let Some(FlinkStatement::Query { query, hints }) = statements.pop() else {
            return Err(SluiceError::plan("the last statement must be a SELECT"));
        };
        for stmt in statements {
            self.execute(stmt).await?;
        }
        let (_, graph) = self.plan_select(*query, &hints)?;
        SteppedJob::open(&graph, &self.config()).await
    }

    pub(super) fn run_query(&self, query: Query, hints: &[TableHint]) -> Result<StatementResult> {
        let (plan, graph) = self.plan_select(query, hints)?;
        let is_changelog = graph
            .nodes
            .last()
            .is_some_and(|n| n.changelog != crate::connector::ChangelogMode::AppendOnly);
        let schema: SchemaRef = Arc::new(Schema::new(
            plan.schema()
                .fields()
                .iter()
                .map(|f| Field::new(f.name(), f.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let (tx, rx) = mpsc::channel(16);
        let job = JobInfo::new(new_job_id(), "collect".to_string());
        self.inner.jobs.add(Arc::clone(&job));
        spawn_job(
            graph,
            Arc::clone(&job),
            &self.config(),
            Some((tx, schema.clone())),
        )?;
        Ok(StatementResult::Query(QueryResult {
            schema,
            is_changelog,
            batches: rx,
            job: JobHandle { info: job },
        }))
    }

    fn plan_insert(&self, catalog: &Catalog, stmt: FlinkStatement) -> Result<PlannedInsert> {
        let FlinkStatement::Insert { statement, hints } = stmt else {
            return Err(SluiceError::plan(
                "only INSERT statements are allowed in a statement set",
            ));
        };
        let Statement::Insert(ins) = *statement else {
            return Err(SluiceError::plan("expected an INSERT statement"));
        };
        if ins.overwrite {
            return Err(SluiceError::not_supported("INSERT OVERWRITE"));
        }
        let TableObject::TableName(target) = &ins.table else {
            return Err(SluiceError::not_supported("INSERT INTO TABLE FUNCTION"));
        };
        let name = resolve_name(target)?;
        let Some(table) = catalog.table(&name) else {
            if catalog.view(&name).is_some() {
                return Err(SluiceError::plan(format!(
                    "cannot INSERT INTO view '{name}'"
                )));
            }
            return Err(Catalog::not_found(&name));
        };
        let Some(sink) = table.connector.sink() else {
            return Err(SluiceError::plan(format!(
                "table '{name}' uses connector '{}', which can only be read, not written",
                table.connector_name
            )));
        };
        let Some(source) = ins.source else {
            return Err(SluiceError::plan("INSERT needs a SELECT or VALUES"));
        };
        let columns: Vec<String> = ins
            .columns
            .iter()
            .map(|c| match c.0.last() {
                Some(ObjectNamePart::Identifier(i)) => i.value.clone(),
                _ => c.to_string(),
            })
            .collect();
        let query = plan_query(
            *source,
            &hints,
            catalog,
            &self.inner.registry,
            &self.state(),
        )?;
        let aligned = align_to_sink(&table, &columns, query)?;
        let plan = self.state().optimize(&aligned)?;
        Ok(PlannedInsert { table, sink, plan })
    }

    /// Plans INSERTs into one graph (shared scans are read once).
    fn plan_inserts(
        &self,
        inserts: Vec<FlinkStatement>,
    ) -> Result<(Vec<PlannedInsert>, StreamGraph)> {
        let catalog = self.catalog();
        let planned = inserts
            .into_iter()
            .map(|s| self.plan_insert(&catalog, s))
            .collect::<Result<Vec<_>>>()?;
        let planned = share_scans(planned)?;
        let config = self.config();
        let mut gb = GraphBuilder::new(&config).with_config_options(self.config_options());
        for p in &planned {
            let out = gb.lower(&p.plan)?;
            gb.add_sink(
                out,
                p.table.name.clone(),
                p.table.connector_name.clone(),
                Arc::clone(&p.sink),
            )?;
        }
        Ok((planned, gb.build()))
    }

    pub(super) fn run_inserts(&self, inserts: Vec<FlinkStatement>) -> Result<StatementResult> {
        let (planned, graph) = self.plan_inserts(inserts)?;
        let names: Vec<String> = planned
            .iter()
            .map(|p| format!("default_catalog.default_database.{}", p.table.name))
            .collect();
        let job_name = self
            .config_value(crate::config::PIPELINE_NAME)
            .unwrap_or_else(|| format!("insert-into_{}", names.join(",")));
        let job = JobInfo::new(new_job_id(), job_name);
        self.inner.jobs.add(Arc::clone(&job));
        spawn_job(graph, Arc::clone(&job), &self.config(), None)?;
        Ok(StatementResult::Job(JobHandle { info: job }))
    }

    pub(super) fn explain(&self, stmt: FlinkStatement) -> Result<StatementResult> {
        let (plans, graph) = match stmt {
            FlinkStatement::Query { query, hints } => {
                let (plan, graph) = self.plan_select(*query, &hints)?;
                (vec![plan], graph)
            }
            FlinkStatement::Insert { .. } => {
                let (p, g) = self.plan_inserts(vec![stmt])?;
                (p.into_iter().map(|p| p.plan).collect(), g)
            }
            FlinkStatement::StatementSet(v) => {
                let (p, g) = self.plan_inserts(v)?;
                (p.into_iter().map(|p| p.plan).collect(), g)
            }
            _ => {
                return Err(SluiceError::plan(
                    "EXPLAIN supports a query, an INSERT or a statement set",
                ));
            }
        };
        let mut out = String::from("== Optimized Logical Plan ==\n");
        for p in plans {
            out.push_str(&p.display_indent().to_string());
            out.push_str("\n\n");
        }
        out.push_str("== Streaming Graph ==\n");
        out.push_str(&graph.explain());
        Ok(StatementResult::Explain(out))
    }
}

/// Widens every scan of the same table reference to the union of the
/// columns the INSERTs read, so the graph reads each source once; a
/// projection above each widened scan gives its INSERT back the columns it
/// was planned on.
fn share_scans(planned: Vec<PlannedInsert>) -> Result<Vec<PlannedInsert>> {
    use std::collections::{BTreeSet, HashMap};

    use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::logical_plan::TableScanBuilder;
    use datafusion::logical_expr::{Expr, LogicalPlanBuilder};

    if planned.len() < 2 {
        return Ok(planned);
    }
    let mut columns: HashMap<String, BTreeSet<usize>> = HashMap::new();
    for p in &planned {
        p.plan.apply(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                let all = (0..scan.source.schema().fields().len()).collect::<Vec<_>>();
                columns
                    .entry(scan.table_name.to_string())
                    .or_default()
                    .extend(scan.projection.clone().unwrap_or(all));
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
    }
    planned
        .into_iter()
        .map(|p| {
            let plan = p
                .plan
                .transform_up(|node| match node {
                    LogicalPlan::TableScan(scan) if scan.fetch.is_none() => {
                        let wanted: Vec<usize> = columns
                            .get(&scan.table_name.to_string())
                            .map(|c| c.iter().copied().collect())
                            .unwrap_or_default();
                        if scan.projection.as_ref() == Some(&wanted) {
                            return Ok(Transformed::no(LogicalPlan::TableScan(scan)));
                        }
                        // Parents keep the exact schema they were planned
                        // on: some (watermark, window) hold column indices.
                        let original: Vec<Expr> = scan
                            .projected_schema
                            .columns()
                            .into_iter()
                            .map(Expr::Column)
                            .collect();
                        let widened = TableScanBuilder::new(scan.table_name, scan.source)
                            .with_projection(Some(wanted))
                            .with_filters(scan.filters)
                            .with_fetch(scan.fetch)
                            .build()?;
                        let restored = LogicalPlanBuilder::from(LogicalPlan::TableScan(widened))
                            .project(original)?
                            .build()?;
                        Ok(Transformed::yes(restored))
                    }
                    other => Ok(Transformed::no(other)),
                })?
                .data;
            Ok(PlannedInsert { plan, ..p })
        })
        .collect()
}

/// A new 32-hex-digit job id, like Flink's.
fn new_job_id() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut a = RandomState::new().build_hasher();
    a.write_u64(t ^ n);
    let mut b = RandomState::new().build_hasher();
    b.write_u64(n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ t);
    format!("{:016x}{:016x}", a.finish(), b.finish())
}
