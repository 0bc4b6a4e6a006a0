//! The streaming graph: what the planner lowers a logical plan to, and what
//! the runtime runs. Each node records its parallelism, whether its input is
//! bounded, and its changelog mode.

use std::sync::Arc;

use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::physical_expr::PhysicalExpr;

use crate::connector::{ChangelogMode, SinkTable, SourceTable};
use crate::runtime::aggregate::AggregateCalls;
use crate::runtime::aggregate::group_by::GroupAggregateSpec;
use crate::runtime::operator::CorrelateSpec;
use crate::runtime::over::OverAggregateSpec;
use crate::runtime::rank::{TopNSpec, WindowTopNSpec};
use crate::runtime::time::WatermarkSettings;
use crate::runtime::window::{WindowAggregateSpec, WindowSpec};

/// One step of a fused stateless operator.
#[derive(Debug, Clone)]
pub enum CalcStep {
    /// Keep rows where the predicate is true.
    Filter(Arc<dyn PhysicalExpr>),
    /// Compute new columns; the schema names them.
    Project(Vec<Arc<dyn PhysicalExpr>>, SchemaRef),
}

/// What a node does.
#[derive(Debug, Clone)]
pub enum NodeOp {
    /// Reads a table. `projection` indexes the source's schema.
    Source {
        table: String,
        connector: String,
        source: Arc<dyn SourceTable>,
        projection: Option<Vec<usize>>,
    },
    /// Emits literal rows once (`VALUES`, `SELECT 1`).
    Values { batches: Vec<RecordBatch> },
    /// A fused chain of filters and projections.
    Calc { steps: Vec<CalcStep> },
    /// Merges its inputs.
    Union,
    /// Skips and takes rows (bounded inputs only).
    Limit { skip: usize, fetch: Option<usize> },
    /// Writes into a table.
    Sink {
        table: String,
        connector: String,
        sink: Arc<dyn SinkTable>,
    },
    /// Hands rows to the client (`SELECT`).
    Collect,
    /// Generates event-time watermarks (per source split) from `expr`.
    Watermark {
        expr: Arc<dyn PhysicalExpr>,
        settings: WatermarkSettings,
    },
    /// Appends `window_start`, `window_end`, `window_time`; `panes` when a
    /// window aggregate follows (then they hold the row's pane).
    WindowAssign {
        spec: WindowSpec,
        time_col: usize,
        panes: bool,
    },
    /// Aggregates windows (append-only output).
    WindowAggregate(Box<WindowAggregateSpec>),
    /// Non-windowed GROUP BY / DISTINCT: an updating result.
    GroupAggregate(Box<GroupAggregateSpec>),
    /// `ROW_NUMBER() OVER (..) <= N`: an updating result.
    TopN(Box<TopNSpec>),
    /// A table function applied to every row (`LATERAL TABLE`, `UNNEST`).
    Correlate(Box<CorrelateSpec>),
    /// Top-N per window, emitted when the window ends.
    WindowTopN(Box<WindowTopNSpec>),
    /// `agg(..) OVER (PARTITION BY .. ORDER BY time ..)`.
    OverAggregate(Box<OverAggregateSpec>),
}

/// A node of the streaming graph.
#[derive(Debug, Clone)]
pub struct StreamNode {
    pub id: usize,
    pub op: NodeOp,
    pub inputs: Vec<usize>,
    /// Output columns.
    pub schema: SchemaRef,
    pub parallelism: usize,
    pub bounded: bool,
    pub changelog: ChangelogMode,
    /// How rows reach this node from its input: `Some(keys)` hashes by the
    /// keys (empty: everything to one instance); `None` forwards.
    pub input_keys: Option<Vec<Arc<dyn PhysicalExpr>>>,
}

impl StreamNode {
    /// A short name for EXPLAIN, SHOW JOBS and errors.
    pub fn name(&self) -> String {
        match &self.op {
            NodeOp::Source { table, .. } => format!("Source: {table}"),
            NodeOp::Values { .. } => "Values".to_string(),
            NodeOp::Calc { steps } => {
                let kinds: Vec<&str> = steps
                    .iter()
                    .map(|s| match s {
                        CalcStep::Filter(_) => "filter",
                        CalcStep::Project(..) => "project",
                    })
                    .collect();
                format!("Calc({})", kinds.join(", "))
            }
            NodeOp::Union => "Union".to_string(),
            NodeOp::Limit { .. } => "Limit".to_string(),
            NodeOp::Sink { table, .. } => format!("Sink: {table}"),
            NodeOp::Collect => "Collect".to_string(),
            NodeOp::Watermark { .. } => "WatermarkAssigner".to_string(),
            NodeOp::WindowAssign { spec, .. } => format!("WindowAssign: {spec}"),
            NodeOp::WindowAggregate(s) => format!("WindowAggregate: {}", s.window),
            NodeOp::GroupAggregate(_) => "GroupAggregate".to_string(),
            NodeOp::TopN(s) => format!("Rank({} <= {})", s.function.name(), s.limit),
            NodeOp::Correlate(s) => format!("Correlate: {}", s.function.name()),
            NodeOp::WindowTopN(s) => {
                format!("WindowRank({} <= {})", s.function.name(), s.limit)
            }
            NodeOp::OverAggregate(s) => format!("OverAggregate: {:?}", s.frame),
        }
    }

    fn field_names(&self) -> String {
        let cols: Vec<&str> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        cols.join(", ")
    }

    /// The node's details for EXPLAIN.
    pub fn details(&self) -> String {
        match &self.op {
            NodeOp::Source { connector, .. } | NodeOp::Sink { connector, .. } => {
                format!("connector={connector}, fields=[{}]", self.field_names())
            }
            NodeOp::Values { batches } => {
                format!(
                    "rows={}",
                    batches.iter().map(|b| b.num_rows()).sum::<usize>()
                )
            }
            NodeOp::Calc { steps } => {
                let parts: Vec<String> = steps
                    .iter()
                    .map(|s| match s {
                        CalcStep::Filter(p) => format!("where=[{p}]"),
                        CalcStep::Project(exprs, schema) => {
                            let cols: Vec<String> = exprs
                                .iter()
                                .zip(schema.fields())
                                .map(|(e, f)| {
                                    let e = e.to_string();
                                    if e.starts_with(&format!("{}@", f.name())) {
                                        f.name().clone()
                                    } else {
                                        format!("{e} AS {}", f.name())
                                    }
                                })
                                .collect();
                            format!("select=[{}]", cols.join(", "))
                        }
                    })
                    .collect();
                parts.join(", ")
            }
            NodeOp::Union => String::new(),
            NodeOp::Limit { skip, fetch } => match fetch {
                Some(f) => format!("offset={skip}, fetch={f}"),
                None => format!("offset={skip}"),
            },
            NodeOp::Collect => String::new(),
            NodeOp::Watermark { expr, .. } => format!("watermark=[{expr}]"),
            NodeOp::WindowAssign { panes, .. } => {
                if *panes {
                    "panes".to_string()
                } else {
                    String::new()
                }
            }
            NodeOp::WindowAggregate(s) => {
                let proc = if s.proctime { ", proctime" } else { "" };
                format!(
                    "keys=[{}], aggs=[{}]{proc}",
                    exprs(&s.keys),
                    calls(&s.calls)
                )
            }
            NodeOp::GroupAggregate(s) => {
                format!("keys=[{}], aggs=[{}]", exprs(&s.keys), calls(&s.calls))
            }
            NodeOp::Correlate(s) => format!(
                "args=[{}], joinType={}, fields=[{}]",
                exprs(&s.args),
                if s.outer { "LEFT" } else { "INNER" },
                self.field_names()
            ),
            NodeOp::TopN(s) => rank_detail(&s.partition, &s.order),
            NodeOp::WindowTopN(s) => rank_detail(&s.partition, &s.order),
            NodeOp::OverAggregate(s) => {
                let time = if s.rowtime.is_some() {
                    "rowtime"
                } else {
                    "proctime"
                };
                format!(
                    "partitionBy=[{}], orderBy={time}, aggs=[{}]",
                    exprs(&s.partition),
                    calls(&s.calls)
                )
            }
        }
    }
}

/// `partitionBy=[..], orderBy=[..]` of a Top-N.
fn rank_detail(
    partition: &[Arc<dyn PhysicalExpr>],
    order: &[(Arc<dyn PhysicalExpr>, SortOptions)],
) -> String {
    let order: Vec<String> = order
        .iter()
        .map(|(e, o)| format!("{e}{}", if o.descending { " DESC" } else { "" }))
        .collect();
    format!(
        "partitionBy=[{}], orderBy=[{}]",
        exprs(partition),
        order.join(", ")
    )
}

fn exprs(e: &[Arc<dyn PhysicalExpr>]) -> String {
    e.iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn calls(c: &AggregateCalls) -> String {
    c.calls
        .iter()
        .map(|c| c.expr.name().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A job's operators, in topological order (inputs before consumers).
#[derive(Debug, Clone, Default)]
pub struct StreamGraph {
    pub nodes: Vec<StreamNode>,
}

impl StreamGraph {
    /// The nodes reading `id`'s output.
    pub fn consumers(&self, id: usize) -> Vec<usize> {
        self.nodes
            .iter()
            .filter(|n| n.inputs.contains(&id))
            .map(|n| n.id)
            .collect()
    }

    /// The graph as EXPLAIN prints it.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        for n in &self.nodes {
            let inputs = if n.inputs.is_empty() {
                String::new()
            } else {
                let ids: Vec<String> = n.inputs.iter().map(|i| format!("#{i}")).collect();
                match &n.input_keys {
                    // Parallel instances read their input by key.
                    Some(keys) if n.parallelism > 1 => {
                        format!(" <- {} hash[{}]", ids.join(", "), exprs(keys))
                    }
                    _ => format!(" <- {}", ids.join(", ")),
                }
            };
            let details = n.details();
            // An upsert changelog names its key already.
            let key = match (&n.changelog, self.upsert_key(n.id)) {
                (ChangelogMode::Retract, Some(k)) => format!(", upsert-key=[{}]", k.join(", ")),
                _ => String::new(),
            };
            out.push_str(&format!(
                "#{} {}{}{} [parallelism={}, changelog={}{}{}]\n",
                n.id,
                n.name(),
                if details.is_empty() {
                    String::new()
                } else {
                    format!("({details})")
                },
                inputs,
                n.parallelism,
                n.changelog,
                key,
                if n.bounded { ", bounded" } else { "" }
            ));
        }
        out
    }
}
