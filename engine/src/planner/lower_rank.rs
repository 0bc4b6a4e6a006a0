//! Lowering `ROW_NUMBER() | RANK() | DENSE_RANK() OVER (PARTITION BY ..
//! ORDER BY ..)` filtered by `rn <= N`: a window Top-N when the partition
//! holds a window's bounds and the input is append-only (final at window
//! end, append-only), else an updating Top-N.

use std::sync::Arc;

use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, ExprSchemable, Filter, LogicalPlan, Operator, Window};
use datafusion::physical_expr::PhysicalExpr;

use super::graph::NodeOp;
use super::lower::GraphBuilder;
use super::time_attr::trace_window_bound;
use crate::connector::{ChangelogMode, row_kind_field};
use crate::error::{Result, SluiceError};
use crate::runtime::rank::{RankFunction, TopNSpec, WindowTopNSpec};

impl GraphBuilder<'_> {
    /// `WHERE rn <= N` over `ROW_NUMBER() OVER (..) AS rn`: a Top-N. The
    /// filter is absorbed by the Top-N operator.
    pub(super) fn try_lower_top_n(&mut self, f: &Filter) -> Result<Option<usize>> {
        let Expr::BinaryExpr(b) = &f.predicate else {
            return Ok(None);
        };
        let (Expr::Column(c), Expr::Literal(v, _)) = (b.left.as_ref(), b.right.as_ref()) else {
            return Ok(None);
        };
        let Some(v) = v.cast_to(&DataType::Int64).ok().and_then(|v| match v {
            ScalarValue::Int64(Some(v)) => Some(v),
            _ => None,
        }) else {
            return Ok(None);
        };
        let n = match b.op {
            Operator::LtEq => v,
            Operator::Lt => v - 1,
            Operator::Eq if v == 1 => 1,
            _ => return Ok(None),
        };
        let idx = f.input.schema().index_of_column(c)?;
        let Some(w) = trace_rank(&f.input, idx) else {
            return Ok(None);
        };
        if n < 1 {
            return Err(SluiceError::plan(format!(
                "Top-N needs a positive N, found {n}"
            )));
        }
        self.top_n.insert(w as *const Window as usize, n as usize);
        self.lower(&f.input).map(Some)
    }

    pub(super) fn lower_window(&mut self, w: &Window) -> Result<usize> {
        let Some(limit) = self.top_n.get(&(w as *const Window as usize)).copied() else {
            return self.lower_over(w);
        };
        let Some(Expr::WindowFunction(wf)) = w.window_expr.first() else {
            return Err(SluiceError::plan(
                "internal: Top-N without a window function",
            ));
        };
        let name = wf.fun.name().to_ascii_lowercase();
        let function = match name.as_str() {
            "row_number" => RankFunction::RowNumber,
            "rank" => RankFunction::Rank,
            "dense_rank" => RankFunction::DenseRank,
            _ => {
                return Err(SluiceError::not_supported(format!(
                    "Top-N with {}() (ROW_NUMBER(), RANK() and DENSE_RANK() work)",
                    name.to_ascii_uppercase()
                )));
            }
        };
        let input = self.lower(&w.input)?;
        let input_updating = self.graph.nodes[input].changelog != ChangelogMode::AppendOnly;
        let in_schema = w.input.schema();
        let partition = self.key_exprs_over(&wf.params.partition_by, in_schema)?;
        let partition_types = wf
            .params
            .partition_by
            .iter()
            .map(|k| Ok(k.get_type(in_schema)?))
            .collect::<Result<Vec<_>>>()?;
        let mut order = Vec::new();
        let mut order_types = Vec::new();
        for s in &wf.params.order_by {
            order.push((
                self.physical(&s.expr, in_schema)?,
                SortOptions {
                    descending: !s.asc,
                    nulls_first: s.nulls_first,
                },
            ));
            order_types.push(s.expr.get_type(in_schema)?);
        }
        let window_end = window_end_key(&wf.params.partition_by, &w.input)?;
        if let (Some(window_end), false) = (window_end, input_updating) {
            let spec = WindowTopNSpec {
                partition: partition.clone(),
                order,
                limit,
                function,
                window_end,
                schema: Arc::new(w.schema.as_arrow().clone()),
            };
            let schema = Arc::clone(&spec.schema);
            let p = self.config.parallelism();
            let id = self.add(NodeOp::WindowTopN(Box::new(spec)), vec![input], schema, p);
            self.keyed(id, partition);
            return Ok(id);
        }
        let mut fields: Vec<Field> = nullable(w.schema.as_arrow())
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(row_kind_field());
        let spec = TopNSpec {
            partition: partition.clone(),
            partition_types,
            order,
            order_types,
            limit,
            function,
            input_updating,
            schema: Arc::new(Schema::new(fields)),
        };
        let schema = Arc::new(w.schema.as_arrow().clone());
        let p = self.config.parallelism();
        let id = self.add(NodeOp::TopN(Box::new(spec)), vec![input], schema, p);
        self.keyed(id, partition);
        self.graph.nodes[id].changelog = ChangelogMode::Retract;
        Ok(id)
    }

    fn key_exprs_over(
        &self,
        keys: &[Expr],
        schema: &datafusion::common::DFSchema,
    ) -> Result<Vec<Arc<dyn PhysicalExpr>>> {
        keys.iter().map(|k| self.physical(k, schema)).collect()
    }
}
/// Traces column `idx` of `plan` to the output of a one-function `Window`.
fn trace_rank(plan: &LogicalPlan, idx: usize) -> Option<&Window> {
    match plan {
        LogicalPlan::Projection(p) => match p.expr.get(idx)? {
            Expr::Column(c) => trace_rank(&p.input, p.input.schema().index_of_column(c).ok()?),
            Expr::Alias(a) => match a.expr.as_ref() {
                Expr::Column(c) => trace_rank(&p.input, p.input.schema().index_of_column(c).ok()?),
                _ => None,
            },
            _ => None,
        },
        LogicalPlan::SubqueryAlias(a) => trace_rank(&a.input, idx),
        LogicalPlan::Window(w) => {
            (idx >= w.input.schema().fields().len() && w.window_expr.len() == 1).then_some(w)
        }
        _ => None,
    }
}

/// The input column of `window_end` when `partition_by` holds both bounds
/// of one window (Flink's window Top-N condition).
fn window_end_key(partition_by: &[Expr], input: &LogicalPlan) -> Result<Option<usize>> {
    let mut start = None;
    let mut end = None;
    for e in partition_by {
        let Expr::Column(c) = e else { continue };
        let idx = input.schema().index_of_column(c)?;
        if let Some((node, which)) = trace_window_bound(input, idx) {
            let id = node as *const _ as usize;
            match which {
                0 => start = Some(id),
                1 => end = Some((id, idx, node.proctime)),
                _ => {}
            }
        }
    }
    match (start, end) {
        (Some(s), Some((e, idx, proctime))) if s == e => {
            if proctime {
                return Err(SluiceError::not_supported(
                    "window Top-N over processing-time windows",
                ));
            }
            Ok(Some(idx))
        }
        _ => Ok(None),
    }
}

fn nullable(schema: &Schema) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), f.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ))
}
