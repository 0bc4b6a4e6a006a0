//! Time attributes: which columns of a plan carry event time (a table's
//! WATERMARK column, or a window's `window_time`) or processing time
//! (`PROCTIME()`), traced back through projections, filters and aliases.

use datafusion::logical_expr::{Expr, LogicalPlan};

use super::nodes::{CorrelateNode, WatermarkNode, WindowTvfNode, extension};

/// What kind of time a column carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeAttr {
    Rowtime,
    Proctime,
}

fn unalias(e: &Expr) -> &Expr {
    match e {
        Expr::Alias(a) => unalias(&a.expr),
        Expr::Cast(c) => unalias(&c.expr),
        other => other,
    }
}

/// The time attribute of column `idx` of `plan`, if it is one.
pub fn time_attribute(plan: &LogicalPlan, idx: usize) -> Option<TimeAttr> {
    match plan {
        LogicalPlan::Projection(p) => match unalias(p.expr.get(idx)?) {
            Expr::Column(c) => time_attribute(&p.input, p.input.schema().index_of_column(c).ok()?),
            Expr::ScalarFunction(f) if f.name().eq_ignore_ascii_case("proctime") => {
                Some(TimeAttr::Proctime)
            }
            _ => None,
        },
        LogicalPlan::Filter(f) => time_attribute(&f.input, idx),
        LogicalPlan::SubqueryAlias(a) => time_attribute(&a.input, idx),
        LogicalPlan::Limit(l) => time_attribute(&l.input, idx),
        LogicalPlan::Aggregate(a) => match unalias(a.group_expr.get(idx)?) {
            Expr::Column(c) => {
                let i = a.input.schema().index_of_column(c).ok()?;
                // Only window_time survives a window aggregate as rowtime.
                let traced = trace_window(&a.input, i);
                matches!(traced, Some((_, 2))).then_some(TimeAttr::Rowtime)
            }
            _ => None,
        },
        LogicalPlan::Extension(_) => {
            if let Some(w) = extension::<WatermarkNode>(plan) {
                let rowtime = w.input.schema().index_of_column(&w.rowtime).ok()?;
                if rowtime == idx {
                    return Some(TimeAttr::Rowtime);
                }
                return time_attribute(&w.input, idx);
            }
            // A table function's row keeps its input row's time (Flink's
            // correlate preserves the left side's time attributes).
            if let Some(c) = extension::<CorrelateNode>(plan) {
                let n = c.input.schema().fields().len();
                return (idx < n).then(|| time_attribute(&c.input, idx)).flatten();
            }
            if let Some(t) = extension::<WindowTvfNode>(plan) {
                let n = t.input_len();
                return match idx.checked_sub(n) {
                    None => time_attribute(&t.input, idx),
                    Some(2) if t.proctime => Some(TimeAttr::Proctime),
                    Some(2) => Some(TimeAttr::Rowtime),
                    Some(_) => None,
                };
            }
            None
        }
        _ => None,
    }
}

/// Like [`trace_window`], also through the group keys of aggregations and
/// the input columns of OVER windows: where a window Top-N finds its window.
pub fn trace_window_bound(plan: &LogicalPlan, idx: usize) -> Option<(&WindowTvfNode, usize)> {
    trace(plan, idx, true)
}

/// Traces column `idx` of `plan` down to a window TVF's window column:
/// the TVF and which of [`super::nodes::WINDOW_COLUMNS`] it is.
pub fn trace_window(plan: &LogicalPlan, idx: usize) -> Option<(&WindowTvfNode, usize)> {
    trace(plan, idx, false)
}

fn trace(
    plan: &LogicalPlan,
    idx: usize,
    through_aggregates: bool,
) -> Option<(&WindowTvfNode, usize)> {
    let column = |input: &LogicalPlan, e: &Expr| match unalias(e) {
        Expr::Column(c) => input.schema().index_of_column(c).ok(),
        _ => None,
    };
    match plan {
        LogicalPlan::Projection(p) => trace(
            &p.input,
            column(&p.input, p.expr.get(idx)?)?,
            through_aggregates,
        ),
        LogicalPlan::Aggregate(a) if through_aggregates => {
            trace(&a.input, column(&a.input, a.group_expr.get(idx)?)?, true)
        }
        LogicalPlan::Window(w) if through_aggregates && idx < w.input.schema().fields().len() => {
            trace(&w.input, idx, true)
        }
        LogicalPlan::Filter(f) => trace(&f.input, idx, through_aggregates),
        LogicalPlan::SubqueryAlias(a) => trace(&a.input, idx, through_aggregates),
        LogicalPlan::Extension(_) => {
            let t = extension::<WindowTvfNode>(plan)?;
            let n = t.input_len();
            idx.checked_sub(n).map(|w| (t, w))
        }
        _ => None,
    }
}
