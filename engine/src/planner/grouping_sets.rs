//! `GROUPING SETS`, `ROLLUP` and `CUBE`: one aggregate per grouping set,
//! all reading the same input (lowered once), each padded to the full
//! output — NULL for the keys its set leaves out, and its `__grouping_id`,
//! which is what `GROUPING()` reads — and unioned. In a window aggregation
//! `window_start` and `window_end` are in every set, so every set's
//! aggregate is a window aggregate firing with the same windows; without a
//! window each set is an updating GROUP BY and the union carries their
//! changes.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Aggregate, Expr, GroupingSet};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{Column, Literal};

use super::graph::{CalcStep, NodeOp};
use super::lower::GraphBuilder;
use super::lower_stateful::{AggregateShape, nullable};
use crate::error::{Result, SluiceError};

/// The sets of a grouping-set expression, each a list of expressions.
fn sets_of(set: &GroupingSet) -> Vec<Vec<Expr>> {
    match set {
        GroupingSet::GroupingSets(sets) => sets.clone(),
        // (a, b, c), (a, b), (a), ()
        GroupingSet::Rollup(e) => (0..=e.len()).rev().map(|n| e[..n].to_vec()).collect(),
        // Every subset; bit i of `mask` leaves out the i-th from the end.
        GroupingSet::Cube(e) => (0..1usize << e.len())
            .map(|mask| {
                e.iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << (e.len() - 1 - i)) == 0)
                    .map(|(_, x)| x.clone())
                    .collect()
            })
            .collect(),
    }
}

/// `__grouping_id` of a set, as DataFusion computes it: one bit per
/// grouping column (set when the set leaves it out, first column highest),
/// and above them the set's ordinal among identical sets.
fn grouping_id(left_out: &[bool], ordinal: usize, data_type: &DataType) -> Result<ScalarValue> {
    let bits = left_out
        .iter()
        .fold(0u64, |acc, out| (acc << 1) | u64::from(*out));
    let id = bits | ((ordinal as u64) << left_out.len());
    Ok(ScalarValue::UInt64(Some(id)).cast_to(data_type)?)
}

impl GraphBuilder<'_> {
    pub(super) fn lower_grouping_sets(&mut self, agg: &Aggregate) -> Result<usize> {
        let [Expr::GroupingSet(set)] = agg.group_expr.as_slice() else {
            return Err(SluiceError::not_supported(
                "GROUPING SETS mixed with other GROUP BY expressions this way",
            ));
        };
        let columns: Vec<Expr> = set.distinct_expr().into_iter().cloned().collect();
        let sets = sets_of(set);
        let aggregates = sets
            .iter()
            .map(|s| {
                Aggregate::try_new(Arc::clone(&agg.input), s.clone(), agg.aggr_expr.clone())
                    .map_err(SluiceError::from)
            })
            .collect::<Result<Vec<_>>>()?;
        let shapes = aggregates
            .iter()
            .map(AggregateShape::of)
            .collect::<Result<Vec<_>>>()?;
        let windowed = |s: &AggregateShape| matches!(s, AggregateShape::Window { .. });
        if shapes.iter().any(windowed) && !shapes.iter().all(windowed) {
            return Err(SluiceError::plan(
                "every grouping set of a window aggregate must contain window_start and \
                 window_end: GROUP BY them outside the GROUPING SETS / ROLLUP / CUBE",
            ));
        }
        let (Some(first), Some(first_shape)) = (aggregates.first(), shapes.first()) else {
            return Err(SluiceError::plan("GROUPING SETS without a set"));
        };
        let input = self.lower_aggregate_input(first, first_shape)?;

        let schema = nullable(agg.schema.as_arrow());
        let id_type = schema
            .field_with_name(Aggregate::INTERNAL_GROUPING_ID)?
            .data_type()
            .clone();
        let mut seen: HashMap<Vec<bool>, usize> = HashMap::new();
        let mut parts = Vec::with_capacity(sets.len());
        for ((set, aggregate), shape) in sets.iter().zip(&aggregates).zip(&shapes) {
            let node = self.add_aggregate(aggregate, shape, input)?;
            let left_out: Vec<bool> = columns.iter().map(|c| !set.contains(c)).collect();
            let ordinal = seen.entry(left_out.clone()).or_default();
            let id = grouping_id(&left_out, *ordinal, &id_type)?;
            *ordinal += 1;
            // The set's aggregate outputs its own keys, then the calls.
            let mut exprs: Vec<Arc<dyn PhysicalExpr>> = Vec::new();
            for (i, c) in columns.iter().enumerate() {
                exprs.push(match set.iter().position(|s| s == c) {
                    Some(p) => Arc::new(Column::new(schema.field(i).name(), p)),
                    None => Arc::new(Literal::new(ScalarValue::try_from(
                        schema.field(i).data_type(),
                    )?)),
                });
            }
            exprs.push(Arc::new(Literal::new(id)));
            for c in 0..agg.aggr_expr.len() {
                let name = schema.field(columns.len() + 1 + c).name();
                exprs.push(Arc::new(Column::new(name, set.len() + c)));
            }
            let step = CalcStep::Project(exprs, Arc::clone(&schema));
            parts.push(self.add_calc(node, step, Arc::clone(&schema)));
        }
        let p = self.config.parallelism();
        Ok(self.add(NodeOp::Union, parts, schema, p))
    }
}
