//! Time attributes: which columns of a plan carry event time (a table's
//! WATERMARK column, or a window's `window_time`) or processing time
//! (`PROCTIME()`), traced back through projections, filters and aliases.

use datafusion::logical_expr::{Expr, LogicalPlan};

use super::nodes::{WatermarkNode, WindowTvfNode, extension};

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
    match plan {
        LogicalPlan::Aggregate(a) => match unalias(a.group_expr.get(idx)?) {
            Expr::Column(c) => {
                trace_window_bound(&a.input, a.input.schema().index_of_column(c).ok()?)
            }
            _ => None,
        },
        LogicalPlan::Window(w) if idx < w.input.schema().fields().len() => {
            trace_window_bound(&w.input, idx)
        }
        LogicalPlan::Projection(p) => match unalias(p.expr.get(idx)?) {
            Expr::Column(c) => {
                trace_window_bound(&p.input, p.input.schema().index_of_column(c).ok()?)
            }
            _ => None,
        },
        LogicalPlan::Filter(f) => trace_window_bound(&f.input, idx),
        LogicalPlan::SubqueryAlias(a) => trace_window_bound(&a.input, idx),
        _ => trace_window(plan, idx),
    }
}

/// Traces column `idx` of `plan` down to a window TVF's window column:
/// the TVF and which of [`super::nodes::WINDOW_COLUMNS`] it is.
pub fn trace_window(plan: &LogicalPlan, idx: usize) -> Option<(&WindowTvfNode, usize)> {
    match plan {
        LogicalPlan::Projection(p) => match unalias(p.expr.get(idx)?) {
            Expr::Column(c) => trace_window(&p.input, p.input.schema().index_of_column(c).ok()?),
            _ => None,
        },
        LogicalPlan::Filter(f) => trace_window(&f.input, idx),
        LogicalPlan::SubqueryAlias(a) => trace_window(&a.input, idx),
        LogicalPlan::Extension(_) => {
            let t = extension::<WindowTvfNode>(plan)?;
            let n = t.input_len();
            idx.checked_sub(n).map(|w| (t, w))
        }
        _ => None,
    }
}
