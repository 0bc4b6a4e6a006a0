//! Lowering of the stateful parts of a plan: watermark assigners, window
//! TVFs, window aggregates and non-windowed (updating) aggregates.

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::common::tree_node::TreeNode;
use datafusion::logical_expr::ExprSchemable;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{Aggregate, Expr, LogicalPlan};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::aggregate::LoweredAggregateBuilder;

use super::graph::NodeOp;
use super::lower::GraphBuilder;
use super::nodes::{WatermarkNode, WindowTvfNode, extension};
use super::time_attr::trace_window;
use crate::connector::{ChangelogMode, row_kind_field};
use crate::error::{Result, SluiceError};
use crate::runtime::aggregate::{AggregateCall, AggregateCalls, GroupAggregateSpec};
use crate::runtime::time::WatermarkSettings;
use crate::runtime::window::{GroupColumn, WindowAggregateSpec, WindowSpec};

/// Every field nullable: operators build batches from computed values and
/// NOT NULL is enforced where it matters, at sinks.
pub(super) fn nullable(schema: &Schema) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), f.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ))
}

fn node_id(node: &WindowTvfNode) -> usize {
    node as *const WindowTvfNode as usize
}

impl GraphBuilder<'_> {
    pub(super) fn lower_extension(&mut self, plan: &LogicalPlan) -> Result<usize> {
        if let Some(c) = extension::<super::nodes::CorrelateNode>(plan) {
            return self.lower_correlate(c);
        }
        if let Some(w) = extension::<WatermarkNode>(plan) {
            let input = self.lower(&w.input)?;
            let expr = self.physical(&w.expr, w.input.schema())?;
            let settings = WatermarkSettings {
                interval: self.config.watermark_interval(),
                idle_timeout: w.idle_timeout.or(self.config.idle_timeout()),
            };
            let schema = self.graph.nodes[input].schema.clone();
            let p = self.graph.nodes[input].parallelism;
            return Ok(self.add(NodeOp::Watermark { expr, settings }, vec![input], schema, p));
        }
        if let Some(t) = extension::<WindowTvfNode>(plan) {
            let panes = self.pane_tvfs.contains(&node_id(t));
            if matches!(t.spec, WindowSpec::Session { .. }) && !panes {
                return Err(SluiceError::not_supported(
                    "a SESSION window TVF outside a window aggregation",
                ));
            }
            let input = self.lower(&t.input)?;
            if self.graph.nodes[input].changelog != ChangelogMode::AppendOnly {
                return Err(SluiceError::plan(
                    "window TVFs need an append-only input, but this input is updating",
                ));
            }
            let time_col = t.input.schema().index_of_column(&t.time_col)?;
            let schema = nullable(t.schema.as_arrow());
            let p = self.graph.nodes[input].parallelism;
            return Ok(self.add(
                NodeOp::WindowAssign {
                    spec: t.spec,
                    time_col,
                    panes,
                },
                vec![input],
                schema,
                p,
            ));
        }
        Err(SluiceError::not_supported(format!(
            "{} in a streaming query",
            plan.display()
        )))
    }

    pub(super) fn lower_aggregate(&mut self, agg: &Aggregate) -> Result<usize> {
        if agg
            .group_expr
            .iter()
            .any(|e| matches!(e, Expr::GroupingSet(_)))
        {
            return self.lower_grouping_sets(agg);
        }
        let shape = AggregateShape::of(agg)?;
        let input = self.lower_aggregate_input(agg, &shape)?;
        self.add_aggregate(agg, &shape, input)
    }

    /// Lowers an aggregate's input. A window aggregate's TVF only has to
    /// mark panes, which must be known before the TVF is lowered.
    pub(super) fn lower_aggregate_input(
        &mut self,
        agg: &Aggregate,
        shape: &AggregateShape,
    ) -> Result<usize> {
        if let AggregateShape::Window { tvf, keys, .. } = shape {
            if matches!(tvf.spec, WindowSpec::Session { .. }) {
                // Sessions are per partition key: every key must be grouped on.
                for k in &tvf.partition_keys {
                    if !keys
                        .iter()
                        .any(|e| matches!(e, Expr::Column(c) if c.name == k.name))
                    {
                        return Err(SluiceError::plan(format!(
                            "SESSION window partitioned by '{}' must also GROUP BY it",
                            k.name
                        )));
                    }
                }
            }
            // Find the instance of the TVF inside our input (the shape holds
            // a clone, at another address).
            let mut found = None;
            agg.input.apply(|p| {
                if let Some(t) = extension::<WindowTvfNode>(p)
                    && t == tvf.as_ref()
                {
                    found = Some(node_id(t));
                }
                Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
            })?;
            if let Some(id) = found {
                self.pane_tvfs.insert(id);
            }
        }
        self.lower(&agg.input)
    }

    /// Adds the aggregate node reading the already lowered `input`.
    pub(super) fn add_aggregate(
        &mut self,
        agg: &Aggregate,
        shape: &AggregateShape,
        input: usize,
    ) -> Result<usize> {
        match shape {
            AggregateShape::Window {
                tvf,
                keys,
                group_columns,
                pane_col,
            } => self.add_window_aggregate(agg, tvf, keys, group_columns.clone(), *pane_col, input),
            AggregateShape::Group => self.add_group_aggregate(agg, input),
        }
    }

    fn calls(&self, agg: &Aggregate, retract: bool) -> Result<AggregateCalls> {
        let physical_schema = agg.input.schema().as_arrow();
        let mut calls = Vec::new();
        for e in &agg.aggr_expr {
            let ctx = PhysicalPlanningContext::default();
            let mut builder = LoweredAggregateBuilder::new(
                e,
                agg.input.schema(),
                physical_schema,
                &self.props,
                &ctx,
            );
            if let Expr::AggregateFunction(_) = e {
                builder = builder.with_name(e.schema_name().to_string());
            }
            let lowered = builder.build()?;
            let (expr, filter) = (lowered.aggregate, lowered.filter);
            if !lowered.order_bys.is_empty() {
                return Err(SluiceError::not_supported(format!(
                    "ORDER BY inside an aggregate call ({e})"
                )));
            }
            calls.push(AggregateCall { expr, filter });
        }
        let calls = AggregateCalls { calls, retract };
        calls.validate()?;
        Ok(calls)
    }

    fn key_exprs(&self, keys: &[Expr], agg: &Aggregate) -> Result<Vec<Arc<dyn PhysicalExpr>>> {
        keys.iter()
            .map(|k| self.physical(k, agg.input.schema()))
            .collect()
    }

    /// Hash-partitions by the keys (or runs as one instance without keys).
    pub(super) fn keyed(&mut self, node: usize, keys: Vec<Arc<dyn PhysicalExpr>>) {
        let n = &mut self.graph.nodes[node];
        if keys.is_empty() {
            n.parallelism = 1;
        }
        n.input_keys = Some(keys);
    }

    fn add_window_aggregate(
        &mut self,
        agg: &Aggregate,
        tvf: &WindowTvfNode,
        keys: &[Expr],
        group_columns: Vec<GroupColumn>,
        pane_col: Option<usize>,
        input: usize,
    ) -> Result<usize> {
        let key_exprs = self.key_exprs(keys, agg)?;
        let key_types = keys
            .iter()
            .map(|k| Ok(k.get_type(agg.input.schema())?))
            .collect::<Result<Vec<_>>>()?;
        let spec = WindowAggregateSpec {
            window: tvf.spec,
            pane_col: pane_col.ok_or_else(|| SluiceError::plan("window_end missing"))?,
            keys: key_exprs.clone(),
            key_types,
            group_columns,
            calls: self.calls(agg, false)?,
            schema: nullable(agg.schema.as_arrow()),
            proctime: tvf.proctime,
        };
        let schema = spec.schema.clone();
        let p = self.config.parallelism();
        let id = self.add(
            NodeOp::WindowAggregate(Box::new(spec)),
            vec![input],
            schema,
            p,
        );
        self.keyed(id, key_exprs);
        Ok(id)
    }

    fn add_group_aggregate(&mut self, agg: &Aggregate, input: usize) -> Result<usize> {
        let updating = self.graph.nodes[input].changelog != ChangelogMode::AppendOnly;
        let key_exprs = self.key_exprs(&agg.group_expr, agg)?;
        let key_types = agg
            .group_expr
            .iter()
            .map(|k| Ok(k.get_type(agg.input.schema())?))
            .collect::<Result<Vec<_>>>()?;
        let mut fields: Vec<Field> = nullable(agg.schema.as_arrow())
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(row_kind_field());
        let spec = GroupAggregateSpec {
            keys: key_exprs.clone(),
            key_types,
            calls: self.calls(agg, updating)?,
            schema: Arc::new(Schema::new(fields)),
            input_updating: updating,
            state_ttl: self.config.state_ttl(),
            mini_batch: self.config.mini_batch(),
        };
        // The node's schema is what the plan sees: without the row kind.
        let schema = Arc::new(agg.schema.as_arrow().clone());
        let p = self.config.parallelism();
        let id = self.add(
            NodeOp::GroupAggregate(Box::new(spec)),
            vec![input],
            schema,
            p,
        );
        self.keyed(id, key_exprs);
        self.graph.nodes[id].changelog = ChangelogMode::Retract;
        Ok(id)
    }
}

/// What an aggregate lowers to, read off its GROUP BY.
pub(super) enum AggregateShape {
    /// A window aggregate: grouped by the window's bounds (traced to the
    /// window TVF below) and `keys`.
    Window {
        tvf: Box<WindowTvfNode>,
        keys: Vec<Expr>,
        group_columns: Vec<GroupColumn>,
        pane_col: Option<usize>,
    },
    /// A non-windowed, updating GROUP BY.
    Group,
}

impl AggregateShape {
    pub(super) fn of(agg: &Aggregate) -> Result<Self> {
        let in_schema = agg.input.schema();
        // Which group-by columns are window_start / window_end / window_time?
        let mut window: Option<&WindowTvfNode> = None;
        let mut group_columns = Vec::new();
        let mut keys = Vec::new();
        let mut pane_col = None;
        for e in &agg.group_expr {
            let traced = match e {
                Expr::Column(c) => {
                    let idx = in_schema.index_of_column(c)?;
                    trace_window(&agg.input, idx).map(|(t, w)| (t, w, idx))
                }
                _ => None,
            };
            match traced {
                Some((t, w, idx)) => {
                    window = Some(t);
                    group_columns.push(match w {
                        0 => GroupColumn::Start,
                        1 => {
                            pane_col = Some(idx);
                            GroupColumn::End
                        }
                        _ => GroupColumn::Time,
                    });
                }
                None => {
                    group_columns.push(GroupColumn::Key(keys.len()));
                    keys.push(e.clone());
                }
            }
        }
        let has = |g: GroupColumn| group_columns.contains(&g);
        match window {
            Some(t) if has(GroupColumn::Start) && has(GroupColumn::End) => {
                Ok(AggregateShape::Window {
                    tvf: Box::new(t.clone()),
                    keys,
                    group_columns,
                    pane_col,
                })
            }
            Some(_) => Err(SluiceError::plan(
                "a window aggregate must GROUP BY both window_start and window_end",
            )),
            None => Ok(AggregateShape::Group),
        }
    }
}
