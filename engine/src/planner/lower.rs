//! Lowering an optimized DataFusion logical plan to the streaming graph.
//! This is where what cannot run on an unbounded stream is rejected, with a
//! message that says why and what to write instead.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::execution::context::ExecutionProps;
use datafusion::logical_expr::logical_plan::{FetchType, SkipType};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_expr::expressions::Column as PhysicalColumn;
use datafusion::physical_expr::{PhysicalExpr, create_physical_expr};

use super::context::ScanSource;
use super::graph::{CalcStep, NodeOp, StreamGraph, StreamNode};
use crate::config::SessionConfig;
use crate::connector::{ChangelogMode, SinkTable, row_kind_field};
use crate::error::{Result, SluiceError};

/// Builds one streaming graph from one or more logical plans (a statement set
/// lowers several INSERTs into one graph that shares identical scans).
pub struct GraphBuilder<'a> {
    pub(super) graph: StreamGraph,
    pub(super) config: &'a SessionConfig,
    pub(super) props: ExecutionProps,
    /// Scans already in the graph, so a statement set reads a source once.
    scans: HashMap<(String, Option<Vec<usize>>), usize>,
    /// Window TVFs read by a window aggregate: they assign panes.
    pub(super) pane_tvfs: HashSet<usize>,
    /// `Window` nodes under a `rank <= N` filter, with their N.
    pub(super) top_n: HashMap<usize, usize>,
}

impl<'a> GraphBuilder<'a> {
    pub fn new(config: &'a SessionConfig) -> Self {
        GraphBuilder {
            graph: StreamGraph::default(),
            config,
            props: ExecutionProps::new(),
            scans: HashMap::new(),
            pane_tvfs: HashSet::new(),
            top_n: HashMap::new(),
        }
    }

    /// Physical expressions read these options (the session time zone).
    pub fn with_config_options(mut self, options: Arc<ConfigOptions>) -> Self {
        self.props.config_options = Some(options);
        self
    }

    /// The finished graph.
    pub fn build(self) -> StreamGraph {
        self.graph
    }

    pub(super) fn add(
        &mut self,
        op: NodeOp,
        inputs: Vec<usize>,
        schema: SchemaRef,
        parallelism: usize,
    ) -> usize {
        let bounded = match &op {
            NodeOp::Source { source, .. } => source.is_bounded(),
            NodeOp::Values { .. } => true,
            _ => inputs.iter().all(|i| self.graph.nodes[*i].bounded),
        };
        // Updates flow through every operator that does not consume them.
        let changelog = if inputs
            .iter()
            .any(|i| self.graph.nodes[*i].changelog != ChangelogMode::AppendOnly)
        {
            ChangelogMode::Retract
        } else {
            ChangelogMode::AppendOnly
        };
        let id = self.graph.nodes.len();
        self.graph.nodes.push(StreamNode {
            id,
            op,
            inputs,
            schema,
            parallelism,
            bounded,
            changelog,
            input_keys: None,
        });
        id
    }

    /// Adds a sink reading `input`. An updating input into a sink that
    /// accepts only appends is a planning error naming the operator that
    /// produces the updates.
    pub fn add_sink(
        &mut self,
        input: usize,
        table: String,
        connector: String,
        sink: Arc<dyn SinkTable>,
    ) -> Result<usize> {
        if self.graph.nodes[input].changelog != ChangelogMode::AppendOnly
            && sink.accepted_changelog() == ChangelogMode::AppendOnly
        {
            let producer = self.update_producer(input);
            return Err(SluiceError::plan(format!(
                "Table sink '{table}' (connector '{connector}') doesn't support consuming update \
                 changes which is produced by node {producer}. Write into a sink that accepts \
                 updates (upsert-kafka, jdbc or elasticsearch with a PRIMARY KEY, print), or make \
                 the query append-only (e.g. a window aggregate instead of a GROUP BY)."
            )));
        }
        let parallelism = sink
            .parallelism()
            .unwrap_or(self.graph.nodes[input].parallelism);
        let schema = sink.schema();
        // Parallel instances of an upsert sink each get all changes of their
        // keys, in order: otherwise two instances could write one key's
        // changes out of order (Flink keys the sink input by its primary key
        // the same way).
        let keys = match sink.accepted_changelog() {
            ChangelogMode::Upsert(keys) if parallelism > 1 => Some(
                keys.iter()
                    .map(|k| {
                        let i = schema.index_of(k)?;
                        Ok(Arc::new(PhysicalColumn::new(k, i)) as Arc<dyn PhysicalExpr>)
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
            _ => None,
        };
        let id = self.add(
            NodeOp::Sink {
                table,
                connector,
                sink,
            },
            vec![input],
            schema,
            parallelism,
        );
        self.graph.nodes[id].input_keys = keys;
        Ok(id)
    }

    /// The first node upstream of `id` that turns appends into updates.
    fn update_producer(&self, mut id: usize) -> String {
        loop {
            let n = &self.graph.nodes[id];
            match n
                .inputs
                .iter()
                .find(|i| self.graph.nodes[**i].changelog != ChangelogMode::AppendOnly)
            {
                Some(i) => id = *i,
                None => return format!("{}({})", n.name(), n.details()),
            }
        }
    }

    /// Adds the client-facing collector of a SELECT.
    pub fn add_collect(&mut self, input: usize) -> usize {
        let schema = self.graph.nodes[input].schema.clone();
        self.add(NodeOp::Collect, vec![input], schema, 1)
    }

    pub(super) fn physical(&self, e: &Expr, schema: &DFSchema) -> Result<Arc<dyn PhysicalExpr>> {
        let expr =
            create_physical_expr(e, schema, &self.props, &PhysicalPlanningContext::default())?;
        Ok(super::case_zip::rewrite(expr, schema.as_arrow())?)
    }

    /// Appends a step to `input` if it is a Calc only this plan reads, else
    /// starts a new Calc: this is operator fusion.
    pub(super) fn add_calc(&mut self, input: usize, step: CalcStep, schema: SchemaRef) -> usize {
        let shared = self.scans.values().any(|v| *v == input);
        if !shared {
            let node = &mut self.graph.nodes[input];
            if let NodeOp::Calc { steps } = &mut node.op {
                steps.push(step);
                node.schema = schema;
                return input;
            }
        }
        let p = self.graph.nodes[input].parallelism;
        self.add(NodeOp::Calc { steps: vec![step] }, vec![input], schema, p)
    }

    /// Lowers `plan`, returning the id of the node producing its output.
    pub fn lower(&mut self, plan: &LogicalPlan) -> Result<usize> {
        match plan {
            LogicalPlan::TableScan(scan) => {
                let Some(src) = scan.source.downcast_ref::<ScanSource>() else {
                    return Err(SluiceError::plan(format!(
                        "table '{}' cannot be read by a streaming query",
                        scan.table_name
                    )));
                };
                if !scan.filters.is_empty() {
                    return Err(SluiceError::plan(
                        "internal: unexpected pushed-down filters",
                    ));
                }
                let Some(source) = src.table.connector.source() else {
                    return Err(SluiceError::plan(format!(
                        "table '{}' uses connector '{}', which can only be written to, not read",
                        src.table.name, src.table.connector_name
                    )));
                };
                let key = (src.name.clone(), scan.projection.clone());
                let id = match self.scans.get(&key) {
                    Some(id) => *id,
                    None => {
                        // A changelog source (canal-json, debezium-json,
                        // upsert-kafka) carries each row's kind as the last
                        // column, like every updating operator.
                        let changelog = source.changelog_mode();
                        let mut schema = plan.schema().as_arrow().clone();
                        if changelog != ChangelogMode::AppendOnly {
                            let mut fields: Vec<_> = schema.fields().iter().cloned().collect();
                            fields.push(Arc::new(row_kind_field()));
                            schema = Schema::new_with_metadata(fields, schema.metadata().clone());
                        }
                        let schema = Arc::new(schema);
                        let parallelism = source.parallelism().unwrap_or(self.config.parallelism());
                        let id = self.add(
                            NodeOp::Source {
                                table: src.table.name.clone(),
                                connector: src.table.connector_name.clone(),
                                source,
                                projection: scan.projection.clone(),
                            },
                            vec![],
                            schema,
                            parallelism,
                        );
                        self.graph.nodes[id].changelog = changelog;
                        self.scans.insert(key, id);
                        id
                    }
                };
                match scan.fetch {
                    Some(f) => self.add_limit(id, 0, Some(f), plan),
                    None => Ok(id),
                }
            }
            LogicalPlan::Projection(p) => {
                let input = self.lower(&p.input)?;
                let exprs = p
                    .expr
                    .iter()
                    .map(|e| self.physical(e, p.input.schema()))
                    .collect::<Result<Vec<_>>>()?;
                let schema = Arc::new(p.schema.as_arrow().clone());
                Ok(self.add_calc(input, CalcStep::Project(exprs, schema.clone()), schema))
            }
            LogicalPlan::Filter(f) => {
                if let Some(id) = self.try_lower_top_n(f)? {
                    return Ok(id);
                }
                let input = self.lower(&f.input)?;
                let pred = self.physical(&f.predicate, f.input.schema())?;
                let schema = self.graph.nodes[input].schema.clone();
                Ok(self.add_calc(input, CalcStep::Filter(pred), schema))
            }
            LogicalPlan::SubqueryAlias(a) => self.lower(&a.input),
            LogicalPlan::Union(u) => {
                let inputs = u
                    .inputs
                    .iter()
                    .map(|i| self.lower(i))
                    .collect::<Result<Vec<_>>>()?;
                let schema = Arc::new(u.schema.as_arrow().clone());
                let p = self.config.parallelism();
                Ok(self.add(NodeOp::Union, inputs, schema, p))
            }
            LogicalPlan::Values(v) => {
                let schema = Arc::new(v.schema.as_arrow().clone());
                let batch = values_batch(&v.values, schema.clone(), &self.props)?;
                Ok(self.add(
                    NodeOp::Values {
                        batches: vec![batch],
                    },
                    vec![],
                    schema,
                    1,
                ))
            }
            LogicalPlan::EmptyRelation(e) => {
                let schema = Arc::new(e.schema.as_arrow().clone());
                let batches = if e.produce_one_row {
                    vec![RecordBatch::try_new_with_options(
                        schema.clone(),
                        vec![],
                        &RecordBatchOptions::new().with_row_count(Some(1)),
                    )?]
                } else {
                    vec![]
                };
                Ok(self.add(NodeOp::Values { batches }, vec![], schema, 1))
            }
            LogicalPlan::Limit(l) => {
                let input = self.lower(&l.input)?;
                let skip = match l.get_skip_type()? {
                    SkipType::Literal(s) => s,
                    SkipType::UnsupportedExpr => {
                        return Err(SluiceError::plan("OFFSET must be a constant"));
                    }
                };
                let fetch = match l.get_fetch_type()? {
                    FetchType::Literal(f) => f,
                    FetchType::UnsupportedExpr => {
                        return Err(SluiceError::plan("LIMIT must be a constant"));
                    }
                };
                self.add_limit(input, skip, fetch, plan)
            }
            LogicalPlan::Sort(s) => {
                if s.fetch.is_some() {
                    return Err(SluiceError::not_supported(
                        "ORDER BY .. LIMIT (Top-N) on a stream; it comes with the changelog work",
                    ));
                }
                Err(SluiceError::plan(
                    "ORDER BY is not supported on a streaming query: sorting needs the whole \
                     input, which never ends. Sort by an event-time attribute ascending inside a \
                     window, or keep the top rows with ROW_NUMBER() OVER (ORDER BY ..) <= N",
                ))
            }
            LogicalPlan::Aggregate(a) => self.lower_aggregate(a),
            LogicalPlan::Extension(_) => self.lower_extension(plan),
            LogicalPlan::Distinct(_) => {
                Err(SluiceError::not_supported("SELECT DISTINCT on a stream"))
            }
            LogicalPlan::Join(_) => Err(SluiceError::not_supported("joins")),
            LogicalPlan::Window(w) => self.lower_window(w),
            LogicalPlan::Unnest(_) => Err(SluiceError::not_supported("UNNEST")),
            LogicalPlan::Subquery(_) => Err(SluiceError::not_supported("correlated sub-queries")),
            other => Err(SluiceError::not_supported(format!(
                "{} in a streaming query",
                other.display()
            ))),
        }
    }

    fn add_limit(
        &mut self,
        input: usize,
        skip: usize,
        fetch: Option<usize>,
        plan: &LogicalPlan,
    ) -> Result<usize> {
        if !self.graph.nodes[input].bounded {
            return Err(SluiceError::plan(format!(
                "LIMIT/OFFSET is not supported on an unbounded stream: the query would never \
                 know it has seen the first rows in order. Bound the source (e.g. \
                 'number-of-rows' for datagen) or use ROW_NUMBER() OVER (..) <= N. Plan: {}",
                plan.display()
            )));
        }
        let schema = self.graph.nodes[input].schema.clone();
        Ok(self.add(NodeOp::Limit { skip, fetch }, vec![input], schema, 1))
    }
}

/// Evaluates a VALUES list (constant expressions) into one batch.
fn values_batch(
    rows: &[Vec<Expr>],
    schema: SchemaRef,
    props: &ExecutionProps,
) -> Result<RecordBatch> {
    let empty_schema = DFSchema::empty();
    let one_row = RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        vec![],
        &RecordBatchOptions::new().with_row_count(Some(1)),
    )?;
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (ci, field) in schema.fields().iter().enumerate() {
        let mut scalars = Vec::with_capacity(rows.len());
        for row in rows {
            let e = create_physical_expr(
                &row[ci],
                &empty_schema,
                props,
                &PhysicalPlanningContext::default(),
            )?;
            let v = e.evaluate(&one_row)?;
            let s = match v {
                datafusion::logical_expr::ColumnarValue::Scalar(s) => s,
                datafusion::logical_expr::ColumnarValue::Array(a) => {
                    ScalarValue::try_from_array(&a, 0)?
                }
            };
            let s = if s.data_type() == *field.data_type() {
                s
            } else {
                s.cast_to(field.data_type())?
            };
            scalars.push(s);
        }
        columns.push(if scalars.is_empty() {
            datafusion::arrow::array::new_empty_array(field.data_type())
        } else {
            ScalarValue::iter_to_array(scalars)?
        });
    }
    Ok(RecordBatch::try_new_with_options(
        schema,
        columns,
        &RecordBatchOptions::new().with_row_count(Some(rows.len())),
    )?)
}
