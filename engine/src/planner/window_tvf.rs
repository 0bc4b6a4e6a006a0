//! Plans `FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), size [, offset]))` and
//! its HOP / CUMULATE / SESSION siblings into a [`WindowTvfNode`] — a
//! DataFusion `RelationPlanner`, so the TVF is planned inside SqlToRel with
//! full access to the catalog and the query's scope.

use std::sync::Arc;

use datafusion::common::{Column, DFSchema, ScalarValue, plan_datafusion_err, plan_err};
use datafusion::logical_expr::planner::{
    PlannedRelation, RelationPlanner, RelationPlannerContext, RelationPlanning,
};
use datafusion::logical_expr::{Expr, Extension, LogicalPlan};
use datafusion::sql::sqlparser::ast::{
    Expr as SqlExpr, FunctionArg, FunctionArgExpr, FunctionArgOperator, FunctionArguments,
    ObjectName, ObjectNamePart, TableFactor,
};

use super::nodes::WindowTvfNode;
use super::time_attr::{TimeAttr, time_attribute};
use crate::runtime::window::WindowSpec;
use crate::sql::TABLE_ARG;

/// The window TVF planner.
#[derive(Debug, Default)]
pub struct WindowTvfPlanner;

/// A TVF's arguments, positional or named (`DATA => TABLE t, SIZE => ..`).
struct Args {
    positional: Vec<SqlExpr>,
    named: Vec<(String, SqlExpr)>,
}

impl Args {
    /// The argument called `name`, or else the `pos`-th positional one.
    fn get(&self, name: &str, pos: usize) -> Option<&SqlExpr> {
        self.named
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, e)| e)
            .or_else(|| self.positional.get(pos))
    }
}

impl RelationPlanner for WindowTvfPlanner {
    fn plan_relation(
        &self,
        relation: TableFactor,
        ctx: &mut dyn RelationPlannerContext,
    ) -> datafusion::error::Result<RelationPlanning> {
        // Flink's form is `FROM TABLE(TUMBLE(..))`; `FROM TUMBLE(..)` is
        // read the same way.
        let (fname, fargs, alias) = match &relation {
            TableFactor::TableFunction {
                expr: SqlExpr::Function(f),
                alias,
            } => {
                let FunctionArguments::List(list) = &f.args else {
                    let name = f.name.to_string().to_ascii_uppercase();
                    return plan_err!(
                        "{name} needs arguments: {name}(TABLE t, DESCRIPTOR(ts), ..)"
                    );
                };
                (&f.name, &list.args, alias)
            }
            TableFactor::Table {
                name,
                args: Some(targs),
                alias,
                ..
            } if is_window_tvf(name) => (name, &targs.args, alias),
            _ => return Ok(RelationPlanning::Original(Box::new(relation))),
        };
        let name = fname.to_string().to_ascii_uppercase();
        if !is_window_tvf(fname) {
            return plan_err!(
                "not supported yet: table function '{}' (window TVFs TUMBLE, HOP, CUMULATE and \
                 SESSION are)",
                fname
            );
        }
        let mut args = Args {
            positional: vec![],
            named: vec![],
        };
        for a in fargs {
            match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => args.positional.push(e.clone()),
                FunctionArg::Named {
                    name,
                    arg: FunctionArgExpr::Expr(e),
                    operator: FunctionArgOperator::RightArrow,
                } => args.named.push((name.value.clone(), e.clone())),
                other => return plan_err!("{name}: unexpected argument {other}"),
            }
        }
        let plan = plan_tvf(&name, &args, ctx)?;
        Ok(RelationPlanning::Planned(Box::new(PlannedRelation::new(
            plan,
            alias.clone(),
        ))))
    }
}

fn is_window_tvf(name: &ObjectName) -> bool {
    matches!(
        name.to_string().to_ascii_uppercase().as_str(),
        "TUMBLE" | "HOP" | "CUMULATE" | "SESSION"
    )
}

fn plan_tvf(
    name: &str,
    args: &Args,
    ctx: &mut dyn RelationPlannerContext,
) -> datafusion::error::Result<LogicalPlan> {
    let Some(SqlExpr::Prefixed { prefix, value }) = args.get("DATA", 0) else {
        return plan_err!("{name}: the first argument must be TABLE <name>");
    };
    let SqlExpr::Tuple(parts) = value.as_ref() else {
        return plan_err!("{name}: malformed TABLE argument");
    };
    if prefix.value != TABLE_ARG || parts.len() != 2 {
        return plan_err!("{name}: malformed TABLE argument");
    }
    let (SqlExpr::CompoundIdentifier(table), SqlExpr::Tuple(keys)) = (&parts[0], &parts[1]) else {
        return plan_err!("{name}: malformed TABLE argument");
    };
    let input = ctx.plan(TableFactor::Table {
        name: ObjectName(
            table
                .iter()
                .cloned()
                .map(ObjectNamePart::Identifier)
                .collect(),
        ),
        alias: None,
        args: None,
        with_hints: vec![],
        version: None,
        with_ordinality: false,
        partitions: vec![],
        json_path: None,
        sample: None,
        index_hints: vec![],
    })?;
    let schema = Arc::clone(input.schema());

    let Some(SqlExpr::Function(desc)) = args.get("TIMECOL", 1) else {
        return plan_err!("{name}: the second argument must be DESCRIPTOR(<time column>)");
    };
    let col_name = match &desc.args {
        FunctionArguments::List(l) if l.args.len() == 1 => l.args[0].to_string(),
        _ => return plan_err!("{name}: DESCRIPTOR takes exactly one column"),
    };
    let col_name = col_name.trim_matches('`').to_string();
    let time_col = schema
        .qualified_field_with_unqualified_name(&col_name)
        .map(|(q, f)| Column::new(q.cloned(), f.name()))
        .map_err(|_| plan_datafusion_err!("{name}: DESCRIPTOR column '{col_name}' not found"))?;
    let idx = schema.index_of_column(&time_col)?;
    let attr = time_attribute(&input, idx);
    if attr.is_none() {
        return plan_err!(
            "The window function requires the timecol is a time attribute type, but '{col_name}' \
             is {}. Declare a WATERMARK on it, or use a PROCTIME() column.",
            schema.field(idx).data_type()
        );
    }

    let mut interval = |arg: &str, pos: usize| -> datafusion::error::Result<Option<i64>> {
        match args.get(arg, pos) {
            None => Ok(None),
            Some(e) => {
                let e = ctx.sql_to_expr(e.clone(), &DFSchema::empty())?;
                interval_millis(&e).map(Some).ok_or_else(|| {
                    plan_datafusion_err!("{name}: argument {arg} must be an INTERVAL, found {e}")
                })
            }
        }
    };
    let required = |v: Option<i64>, arg: &str| {
        v.filter(|v| *v > 0)
            .ok_or_else(|| plan_datafusion_err!("{name}: a positive {arg} INTERVAL is required"))
    };
    let spec = match name {
        "TUMBLE" => WindowSpec::Tumble {
            size: required(interval("SIZE", 2)?, "SIZE")?,
            offset: interval("OFFSET", 3)?.unwrap_or(0),
        },
        "HOP" => {
            let slide = required(interval("SLIDE", 2)?, "SLIDE")?;
            let size = required(interval("SIZE", 3)?, "SIZE")?;
            if size % slide != 0 {
                return plan_err!(
                    "HOP: the size ({size} ms) must be an integral multiple of the slide ({slide} ms)"
                );
            }
            WindowSpec::Hop {
                slide,
                size,
                offset: interval("OFFSET", 4)?.unwrap_or(0),
            }
        }
        "CUMULATE" => {
            let step = required(interval("STEP", 2)?, "STEP")?;
            let size = required(interval("SIZE", 3)?, "SIZE")?;
            if size % step != 0 {
                return plan_err!(
                    "CUMULATE: the max size ({size} ms) must be an integral multiple of the step \
                     ({step} ms)"
                );
            }
            WindowSpec::Cumulate {
                step,
                size,
                offset: interval("OFFSET", 4)?.unwrap_or(0),
            }
        }
        _ => WindowSpec::Session {
            gap: required(interval("GAP", 2)?, "GAP")?,
        },
    };
    let partition_keys = keys
        .iter()
        .map(|k| {
            let n = k.to_string().trim_matches('`').to_string();
            schema
                .qualified_field_with_unqualified_name(&n)
                .map(|(q, f)| Column::new(q.cloned(), f.name()))
                .map_err(|_| plan_datafusion_err!("{name}: PARTITION BY column '{n}' not found"))
        })
        .collect::<datafusion::error::Result<Vec<_>>>()?;
    let node = WindowTvfNode::try_new(
        input,
        spec,
        time_col,
        partition_keys,
        attr == Some(TimeAttr::Proctime),
    )?;
    Ok(LogicalPlan::Extension(Extension {
        node: Arc::new(node),
    }))
}

/// Milliseconds of an INTERVAL literal.
pub fn interval_millis(e: &Expr) -> Option<i64> {
    let Expr::Literal(v, _) = e else {
        return None;
    };
    match v {
        ScalarValue::IntervalDayTime(Some(d)) => {
            Some(d.days as i64 * 86_400_000 + d.milliseconds as i64)
        }
        ScalarValue::IntervalMonthDayNano(Some(m)) if m.months == 0 => {
            Some(m.days as i64 * 86_400_000 + m.nanoseconds / 1_000_000)
        }
        ScalarValue::IntervalYearMonth(_) | ScalarValue::IntervalMonthDayNano(_) => None,
        ScalarValue::DurationMillisecond(Some(v)) => Some(*v),
        _ => None,
    }
}
