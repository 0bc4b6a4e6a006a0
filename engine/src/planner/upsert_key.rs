//! The upsert key of an updating node: columns whose values identify one
//! result row, so a later change of that row carries the same key (Flink's
//! `upsertKeys`). EXPLAIN shows it; a keyed sink (JDBC, Elasticsearch,
//! upsert-kafka) writes correctly only when it can address rows by it.

use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column;

use super::graph::{CalcStep, NodeOp, StreamGraph};
use crate::connector::ChangelogMode;
use crate::runtime::rank::RankFunction;

impl StreamGraph {
    /// The names of node `id`'s upsert key, when it has one it can prove.
    pub fn upsert_key(&self, id: usize) -> Option<Vec<String>> {
        let node = &self.nodes[id];
        let key = self.upsert_key_columns(id)?;
        Some(
            key.iter()
                .map(|&i| node.schema.field(i).name().clone())
                .collect(),
        )
    }

    /// Node `id`'s upsert key as output column positions.
    fn upsert_key_columns(&self, id: usize) -> Option<Vec<usize>> {
        let node = &self.nodes[id];
        let input = |i: usize| node.inputs.get(i).copied();
        match &node.op {
            NodeOp::Source { .. } => match &node.changelog {
                ChangelogMode::Upsert(names) => {
                    names.iter().map(|n| node.schema.index_of(n).ok()).collect()
                }
                _ => None,
            },
            // The group keys lead the output.
            NodeOp::GroupAggregate(spec) => Some((0..spec.keys.len()).collect()),
            NodeOp::TopN(spec) => {
                let mut key = columns(&spec.partition)?;
                match spec.function {
                    // One row per partition: the partition identifies it.
                    RankFunction::RowNumber if spec.limit == 1 => {}
                    // Otherwise the row number does (it leads the output's
                    // extra columns); tied ranks identify nothing.
                    RankFunction::RowNumber => key.push(spec.schema.fields().len() - 2),
                    _ => return None,
                }
                Some(key)
            }
            NodeOp::Calc { steps } => {
                let mut key = self.upsert_key_columns(input(0)?)?;
                for step in steps {
                    if let CalcStep::Project(exprs, _) = step {
                        let projected = columns_positions(exprs);
                        key = key
                            .iter()
                            .map(|k| projected.iter().position(|p| *p == Some(*k)))
                            .collect::<Option<_>>()?;
                    }
                }
                Some(key)
            }
            NodeOp::Sink { .. }
            | NodeOp::Collect
            | NodeOp::Limit { .. }
            | NodeOp::Watermark { .. } => self.upsert_key_columns(input(0)?),
            _ => None,
        }
    }
}

/// The input column of each expression that is a plain column.
fn columns_positions(exprs: &[std::sync::Arc<dyn PhysicalExpr>]) -> Vec<Option<usize>> {
    exprs
        .iter()
        .map(|e| e.downcast_ref::<Column>().map(Column::index))
        .collect()
}

/// The input columns of `exprs`, when every one is a plain column.
fn columns(exprs: &[std::sync::Arc<dyn PhysicalExpr>]) -> Option<Vec<usize>> {
    columns_positions(exprs).into_iter().collect()
}
