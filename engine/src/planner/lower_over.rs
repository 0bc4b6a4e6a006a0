//! Lowering `agg(..) OVER (PARTITION BY .. ORDER BY time [frame])`: Flink's
//! OVER aggregation, ordered by a time attribute, with a frame that ends at
//! the current row.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{
    Expr, ExprSchemable, Window, WindowFrame, WindowFrameBound, WindowFrameUnits,
    WindowFunctionDefinition,
};
use datafusion::physical_expr::aggregate::AggregateExprBuilder;

use super::graph::NodeOp;
use super::lower::GraphBuilder;
use super::time_attr::{TimeAttr, time_attribute};
use crate::connector::ChangelogMode;
use crate::error::{Result, SluiceError};
use crate::runtime::aggregate::{AggregateCall, AggregateCalls};
use crate::runtime::over::{OverAggregateSpec, OverFrame};

/// Flink's message when an OVER window is not ordered by a time attribute.
const ORDER_BY_TIME: &str =
    "OVER windows' ordering in stream mode must be defined on a time attribute.";

impl GraphBuilder<'_> {
    pub(super) fn lower_over(&mut self, w: &Window) -> Result<usize> {
        let in_schema = w.input.schema();
        let arrow_schema = Arc::new(in_schema.as_arrow().clone());
        let mut params = None;
        let mut calls = Vec::new();
        for (i, e) in w.window_expr.iter().enumerate() {
            let e = match e {
                Expr::Alias(a) => a.expr.as_ref(),
                e => e,
            };
            let Expr::WindowFunction(wf) = e else {
                return Err(SluiceError::plan(format!(
                    "internal: unexpected OVER expression {e}"
                )));
            };
            let WindowFunctionDefinition::AggregateUDF(udaf) = &wf.fun else {
                return Err(SluiceError::not_supported(format!(
                    "{}() OVER (..) other than Top-N (`WHERE rn <= N`)",
                    wf.fun.name().to_ascii_uppercase()
                )));
            };
            let p = &wf.params;
            match params {
                None => params = Some(p),
                Some(first) => {
                    if first.partition_by != p.partition_by
                        || first.order_by != p.order_by
                        || first.window_frame != p.window_frame
                    {
                        return Err(SluiceError::not_supported(
                            "OVER aggregates with different windows in one SELECT \
                             (Flink requires one window too)",
                        ));
                    }
                }
            }
            let args = p
                .args
                .iter()
                .map(|a| self.physical(a, in_schema))
                .collect::<Result<Vec<_>>>()?;
            let name = w.schema.field(in_schema.fields().len() + i).name().clone();
            let mut builder = AggregateExprBuilder::new(Arc::clone(udaf), args)
                .schema(Arc::clone(&arrow_schema))
                .alias(name);
            if p.distinct {
                builder = builder.distinct();
            }
            let filter = p
                .filter
                .as_ref()
                .map(|f| self.physical(f, in_schema))
                .transpose()?;
            calls.push(AggregateCall {
                expr: Arc::new(builder.build()?),
                filter,
            });
        }
        let Some(p) = params else {
            return Err(SluiceError::plan("internal: OVER without a function"));
        };
        let [sort] = p.order_by.as_slice() else {
            return Err(SluiceError::plan(ORDER_BY_TIME));
        };
        let Expr::Column(c) = &sort.expr else {
            return Err(SluiceError::plan(ORDER_BY_TIME));
        };
        let time_idx = in_schema.index_of_column(c)?;
        let rowtime = match time_attribute(&w.input, time_idx) {
            Some(TimeAttr::Rowtime) => Some(time_idx),
            Some(TimeAttr::Proctime) => None,
            None => return Err(SluiceError::plan(ORDER_BY_TIME)),
        };
        if !sort.asc {
            return Err(SluiceError::plan(
                "OVER windows in stream mode must be ordered ascending by their time attribute",
            ));
        }
        let frame = over_frame(&p.window_frame)?;
        let input = self.lower(&w.input)?;
        if self.graph.nodes[input].changelog != ChangelogMode::AppendOnly {
            return Err(SluiceError::not_supported(
                "OVER aggregation over an updating input",
            ));
        }
        let calls = AggregateCalls {
            calls,
            retract: frame != OverFrame::Unbounded,
        };
        calls.validate()?;
        let partition = p
            .partition_by
            .iter()
            .map(|k| self.physical(k, in_schema))
            .collect::<Result<Vec<_>>>()?;
        let partition_types = p
            .partition_by
            .iter()
            .map(|k| Ok(k.get_type(in_schema)?))
            .collect::<Result<Vec<_>>>()?;
        let n = in_schema.fields().len();
        let fields: Vec<Field> = w
            .schema
            .as_arrow()
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let f = f.as_ref().clone();
                if i >= n { f.with_nullable(true) } else { f }
            })
            .collect();
        let spec = OverAggregateSpec {
            partition: partition.clone(),
            partition_types,
            rowtime,
            frame,
            peers: p.window_frame.units == WindowFrameUnits::Range,
            calls,
            schema: Arc::new(Schema::new(fields)),
        };
        let schema = Arc::clone(&spec.schema);
        let parallelism = self.config.parallelism();
        let id = self.add(
            NodeOp::OverAggregate(Box::new(spec)),
            vec![input],
            schema,
            parallelism,
        );
        self.keyed(id, partition);
        Ok(id)
    }
}

/// The frames Flink runs on a stream: from some rows or some time before
/// the current row (or from the start) up to the current row.
fn over_frame(f: &WindowFrame) -> Result<OverFrame> {
    if f.end_bound != WindowFrameBound::CurrentRow {
        return Err(SluiceError::not_supported(
            "OVER frames that end after CURRENT ROW",
        ));
    }
    match (&f.units, &f.start_bound) {
        (_, WindowFrameBound::Preceding(v)) if v.is_null() => Ok(OverFrame::Unbounded),
        (WindowFrameUnits::Rows, WindowFrameBound::CurrentRow) => Ok(OverFrame::Rows(0)),
        (WindowFrameUnits::Range, WindowFrameBound::CurrentRow) => Ok(OverFrame::Range(0)),
        (WindowFrameUnits::Rows, WindowFrameBound::Preceding(v)) => {
            match v.cast_to(&DataType::UInt64) {
                Ok(ScalarValue::UInt64(Some(n))) => Ok(OverFrame::Rows(n as usize)),
                _ => Err(SluiceError::plan(format!(
                    "ROWS BETWEEN {v} PRECEDING: expected a row count"
                ))),
            }
        }
        (WindowFrameUnits::Range, WindowFrameBound::Preceding(v)) => match interval_ms(v) {
            Some(ms) => Ok(OverFrame::Range(ms)),
            None => Err(SluiceError::plan(format!(
                "RANGE BETWEEN {v} PRECEDING: expected an INTERVAL of days or less"
            ))),
        },
        _ => Err(SluiceError::not_supported(format!(
            "OVER frame {} BETWEEN {} AND {}",
            f.units, f.start_bound, f.end_bound
        ))),
    }
}

fn interval_ms(v: &ScalarValue) -> Option<i64> {
    match v {
        ScalarValue::IntervalDayTime(Some(d)) => {
            Some(i64::from(d.days) * 86_400_000 + i64::from(d.milliseconds))
        }
        ScalarValue::IntervalMonthDayNano(Some(i)) if i.months == 0 => {
            Some(i64::from(i.days) * 86_400_000 + i.nanoseconds / 1_000_000)
        }
        _ => None,
    }
}
