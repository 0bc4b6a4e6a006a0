//! Table functions in FROM: `FROM t, LATERAL TABLE(f(t.s)) AS T(a, b)`,
//! `[CROSS | INNER] JOIN LATERAL TABLE(..) [ON TRUE]`, `LEFT JOIN LATERAL
//! TABLE(..) ON TRUE`, `CROSS JOIN UNNEST(t.arr) AS T(x)`, and a table
//! function of constants (`FROM TABLE(f('a b'))`).
//!
//! DataFusion plans a lateral relation as a join whose right side refers to
//! the left side's columns (outer references), which a stream cannot run.
//! So: a `RelationPlanner` turns the call into a [`TableFunctionScanNode`]
//! (DataFusion still builds the join around it), [`decorrelate`] folds each
//! such join into one [`CorrelateNode`] over the join's left side, and the
//! streaming planner lowers that to the stateless correlate operator.

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, ScalarValue, TableReference, plan_datafusion_err, plan_err};
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::planner::{
    PlannedRelation, RelationPlanner, RelationPlannerContext, RelationPlanning,
};
use datafusion::logical_expr::{
    EmptyRelation, Expr, ExprSchemable, Extension, Filter, Join, JoinType, LogicalPlan, TableSource,
};
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr as SqlExpr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName, Query,
    TableAlias, TableFactor, VisitMut, VisitorMut,
};
use sluice_udf::api::{TableUdf, Unnest};

use super::graph::NodeOp;
use super::lower::GraphBuilder;
use super::nodes::{CorrelateNode, TableFunctionScanNode, extension};
use crate::error::Result;
use crate::runtime::operator::CorrelateSpec;

/// A registered table function as DataFusion's `ContextProvider` hands it
/// out (`get_table_function_source`); the planner below takes it back.
#[derive(Debug)]
pub struct TableFunctionSource {
    pub function: TableUdf,
}

impl TableSource for TableFunctionSource {
    fn schema(&self) -> SchemaRef {
        Arc::new(Schema::empty())
    }
}

/// The table function `name` of `state` (exact name, then lower case).
pub fn table_function_source(
    state: &SessionState,
    name: &str,
) -> datafusion::error::Result<Arc<dyn TableSource>> {
    let fs = state.table_functions();
    let f = fs
        .get(name)
        .or_else(|| fs.get(&name.to_ascii_lowercase()))
        .and_then(|f| TableUdf::from_datafusion(f.function()))
        .ok_or_else(|| plan_datafusion_err!("No table function named '{name}'"))?;
    Ok(Arc::new(TableFunctionSource { function: f }))
}

fn lookup(ctx: &dyn RelationPlannerContext, name: &ObjectName) -> Option<TableUdf> {
    let name = name.to_string().trim_matches('`').to_string();
    let source = ctx
        .context_provider()
        .get_table_function_source(&name, vec![])
        .ok()?;
    source
        .downcast_ref::<TableFunctionSource>()
        .map(|s| s.function.clone())
}

/// `UNNEST(x)` in FROM as the lateral `UNNEST` relation. Only a few
/// sqlparser dialects parse it that way; in the Flink dialect it arrives as a
/// table named UNNEST with arguments, which DataFusion would not plan as
/// lateral (so `CROSS JOIN UNNEST(t.arr)` could not see `t`).
pub fn rewrite_unnest(query: &mut Query) {
    struct Rewriter;
    impl VisitorMut for Rewriter {
        type Break = ();
        fn pre_visit_table_factor(&mut self, t: &mut TableFactor) -> ControlFlow<()> {
            let TableFactor::Table {
                name,
                args: Some(args),
                alias,
                ..
            } = t
            else {
                return ControlFlow::Continue(());
            };
            if name.0.len() != 1 || !name.to_string().eq_ignore_ascii_case("UNNEST") {
                return ControlFlow::Continue(());
            }
            let array_exprs = args
                .args
                .iter()
                .filter_map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                    _ => None,
                })
                .collect();
            *t = TableFactor::UNNEST {
                alias: alias.take(),
                array_exprs,
                with_offset: false,
                with_offset_alias: None,
                with_ordinality: false,
            };
            ControlFlow::Continue(())
        }
    }
    let _ = query.visit(&mut Rewriter);
}

/// Plans table function calls in FROM (see the module docs).
#[derive(Debug, Default)]
pub struct LateralTablePlanner;

impl RelationPlanner for LateralTablePlanner {
    fn plan_relation(
        &self,
        relation: TableFactor,
        ctx: &mut dyn RelationPlannerContext,
    ) -> datafusion::error::Result<RelationPlanning> {
        let call = match &relation {
            // `LATERAL TABLE(f(..))` parses as a lateral function named TABLE.
            TableFactor::Function { name, args, .. }
                if name.to_string().eq_ignore_ascii_case("TABLE") =>
            {
                let [FunctionArg::Unnamed(FunctionArgExpr::Expr(SqlExpr::Function(f)))] =
                    args.as_slice()
                else {
                    return plan_err!(
                        "LATERAL TABLE(..) takes one table function call, e.g. LATERAL \
                         TABLE(split(s)) AS T(word)"
                    );
                };
                let Some(udtf) = lookup(ctx, &f.name) else {
                    return plan_err!("No table function named '{}'", f.name);
                };
                Some((udtf, call_args(&f.args)?))
            }
            TableFactor::Function { name, args, .. } => match lookup(ctx, name) {
                Some(udtf) => Some((udtf, function_args(args)?)),
                None => None,
            },
            // `FROM f('a b')`, a call without TABLE(..) (not lateral).
            TableFactor::Table {
                name,
                args: Some(args),
                ..
            } => match lookup(ctx, name) {
                Some(udtf) => Some((udtf, function_args(&args.args)?)),
                None => None,
            },
            TableFactor::TableFunction {
                expr: SqlExpr::Function(f),
                ..
            } => match lookup(ctx, &f.name) {
                Some(udtf) => Some((udtf, call_args(&f.args)?)),
                None => None,
            },
            TableFactor::UNNEST {
                array_exprs,
                with_offset,
                with_ordinality,
                ..
            } => {
                if *with_offset || *with_ordinality {
                    return plan_err!("UNNEST .. WITH OFFSET / WITH ORDINALITY is not supported");
                }
                if array_exprs.len() != 1 {
                    return plan_err!("UNNEST takes exactly one ARRAY or MAP");
                }
                Some((Unnest::udtf(), array_exprs.clone()))
            }
            _ => None,
        };
        let Some((udtf, args)) = call else {
            return Ok(RelationPlanning::Original(Box::new(relation)));
        };
        let alias = match relation {
            TableFactor::Function { alias, .. }
            | TableFactor::Table { alias, .. }
            | TableFactor::TableFunction { alias, .. }
            | TableFactor::UNNEST { alias, .. } => alias,
            _ => None,
        };
        let (plan, alias) = plan_call(udtf, args, alias, ctx)?;
        Ok(RelationPlanning::Planned(Box::new(PlannedRelation::new(
            plan, alias,
        ))))
    }
}

fn function_args(args: &[FunctionArg]) -> datafusion::error::Result<Vec<SqlExpr>> {
    args.iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e.clone()),
            other => plan_err!("unsupported table function argument {other}"),
        })
        .collect()
}

fn call_args(args: &FunctionArguments) -> datafusion::error::Result<Vec<SqlExpr>> {
    match args {
        FunctionArguments::None => Ok(vec![]),
        FunctionArguments::List(l) => function_args(&l.args),
        FunctionArguments::Subquery(_) => plan_err!("a table function takes values, not a query"),
    }
}

/// The scan node for one call; `AS T(a, b)` names its columns here, so the
/// alias DataFusion applies only qualifies them.
fn plan_call(
    udtf: TableUdf,
    sql_args: Vec<SqlExpr>,
    alias: Option<TableAlias>,
    ctx: &mut dyn RelationPlannerContext,
) -> datafusion::error::Result<(LogicalPlan, Option<TableAlias>)> {
    let empty = DFSchema::empty();
    // Column references resolve against the lateral join's left side as
    // outer references.
    let args = sql_args
        .into_iter()
        .map(|a| ctx.sql_to_expr(a, &empty))
        .collect::<datafusion::error::Result<Vec<_>>>()?;
    let types = args
        .iter()
        .map(|a| a.get_type(&empty))
        .collect::<datafusion::error::Result<Vec<_>>>()?;
    let coerced = udtf.coerce_types(&types)?;
    let args = args
        .into_iter()
        .zip(types.iter().zip(&coerced))
        .map(|(a, (from, to))| {
            if from == to {
                Ok(a)
            } else {
                a.cast_to(to, &empty)
            }
        })
        .collect::<datafusion::error::Result<Vec<_>>>()?;
    let mut fields = udtf.output_fields(&coerced)?;
    let alias = match alias {
        Some(mut a) if !a.columns.is_empty() => {
            if a.columns.len() != fields.len() {
                let names: Vec<String> = fields.iter().map(|f| format!("'{}'", f.name())).collect();
                return plan_err!(
                    "List of column aliases must have same degree as table; table has {} columns \
                     ({}), whereas alias list has {} columns",
                    fields.len(),
                    names.join(", "),
                    a.columns.len()
                );
            }
            for (f, c) in fields.iter_mut().zip(&a.columns) {
                *f = f.clone().with_name(c.name.value.clone());
            }
            a.columns.clear();
            Some(a)
        }
        other => other,
    };
    let schema = DFSchema::from_unqualified_fields(fields.into(), Default::default())?;
    let node = TableFunctionScanNode {
        function: udtf,
        args,
        schema: Arc::new(schema),
    };
    Ok((
        LogicalPlan::Extension(Extension {
            node: Arc::new(node),
        }),
        alias,
    ))
}

/// Folds every lateral join onto a table function into a [`CorrelateNode`];
/// a table function outside such a join reads one empty row.
pub fn decorrelate(plan: LogicalPlan) -> Result<LogicalPlan> {
    let plan = plan
        .transform_down(|p| match p {
            LogicalPlan::Join(j) => correlate_join(j),
            other => Ok(Transformed::no(other)),
        })?
        .data;
    let plan = plan
        .transform_up(|p| {
            let Some(scan) = extension::<TableFunctionScanNode>(&p) else {
                return Ok(Transformed::no(p));
            };
            if scan.args.iter().any(|a| a.contains_outer()) {
                return plan_err!(
                    "LATERAL TABLE({}(..)) refers to columns of a table it is not joined to; \
                     write FROM t, LATERAL TABLE(f(t.col)) or t LEFT JOIN LATERAL TABLE(..) ON TRUE",
                    scan.function.name()
                );
            }
            let one_row = LogicalPlan::EmptyRelation(EmptyRelation {
                produce_one_row: true,
                schema: Arc::new(DFSchema::empty()),
            });
            let fields = scan
                .schema
                .iter()
                .map(|(q, f)| (q.cloned(), Arc::clone(f)))
                .collect();
            let node = CorrelateNode::try_new(
                one_row,
                scan.function.clone(),
                scan.args.clone(),
                false,
                fields,
            )?;
            Ok(Transformed::yes(LogicalPlan::Extension(Extension {
                node: Arc::new(node),
            })))
        })?
        .data;
    Ok(plan)
}

/// The table function scan on the right of a lateral join, with the alias
/// that qualifies its columns.
fn lateral_scan(p: &LogicalPlan) -> Option<(&TableFunctionScanNode, Option<TableReference>)> {
    match p {
        LogicalPlan::SubqueryAlias(a) => {
            lateral_scan(&a.input).map(|(s, _)| (s, Some(a.alias.clone())))
        }
        LogicalPlan::Subquery(s) => lateral_scan(&s.subquery),
        _ => extension::<TableFunctionScanNode>(p).map(|s| (s, None)),
    }
}

fn is_true(e: &Expr) -> bool {
    matches!(e, Expr::Literal(ScalarValue::Boolean(Some(true)), _))
}

fn correlate_join(join: Join) -> datafusion::error::Result<Transformed<LogicalPlan>> {
    let Some((scan, qualifier)) = lateral_scan(&join.right) else {
        return Ok(Transformed::no(LogicalPlan::Join(join)));
    };
    let name = scan.function.name().to_string();
    let outer = match join.join_type {
        JoinType::Inner => false,
        JoinType::Left => true,
        other => {
            return plan_err!(
                "{other} JOIN with table function '{name}' is not supported; use a comma, \
                 CROSS JOIN or LEFT JOIN .. ON TRUE"
            );
        }
    };
    let mut conditions: Vec<Expr> = join
        .on
        .iter()
        .map(|(l, r)| l.clone().eq(r.clone()))
        .collect();
    conditions.extend(join.filter.iter().filter(|f| !is_true(f)).cloned());
    if outer && !conditions.is_empty() {
        return plan_err!(
            "LEFT JOIN LATERAL TABLE({name}(..)) only supports ON TRUE (as Flink does); filter \
             the produced rows in WHERE or inside the function instead"
        );
    }
    let left_schema = join.left.schema();
    let args = scan
        .args
        .iter()
        .cloned()
        .map(|a| {
            a.transform(|e| match e {
                Expr::OuterReferenceColumn(_, c) => {
                    if !left_schema.has_column(&c) {
                        return plan_err!(
                            "table function '{name}' refers to column {c}, which is not in the \
                             table it is joined to"
                        );
                    }
                    Ok(Transformed::yes(Expr::Column(c)))
                }
                other => Ok(Transformed::no(other)),
            })
            .map(|t| t.data)
        })
        .collect::<datafusion::error::Result<Vec<_>>>()?;
    let fields = scan
        .schema
        .fields()
        .iter()
        .map(|f| {
            let f = if outer {
                Arc::new(f.as_ref().clone().with_nullable(true))
            } else {
                Arc::clone(f)
            };
            (qualifier.clone(), f)
        })
        .collect();
    let node = CorrelateNode::try_new(
        Arc::unwrap_or_clone(join.left),
        scan.function.clone(),
        args,
        outer,
        fields,
    )?;
    let mut plan = LogicalPlan::Extension(Extension {
        node: Arc::new(node),
    });
    if let Some(pred) = conditions.into_iter().reduce(Expr::and) {
        plan = LogicalPlan::Filter(Filter::try_new(pred, Arc::new(plan))?);
    }
    Ok(Transformed::yes(plan))
}

/// Every field nullable, as operators build their batches.
fn nullable(schema: &Schema) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<Field>>(),
    ))
}

impl GraphBuilder<'_> {
    /// The correlate operator for `c`, chained after its input.
    pub(super) fn lower_correlate(&mut self, c: &CorrelateNode) -> Result<usize> {
        let input = self.lower(&c.input)?;
        let args = c
            .args
            .iter()
            .map(|a| self.physical(a, c.input.schema()))
            .collect::<Result<Vec<_>>>()?;
        let fields = c.fields.iter().map(|(_, f)| f.as_ref().clone()).collect();
        let schema = nullable(c.schema.as_arrow());
        let spec = CorrelateSpec {
            function: c.function.clone(),
            args,
            fields,
            outer: c.outer,
            schema: Arc::clone(&schema),
        };
        let p = self.graph.nodes[input].parallelism;
        Ok(self.add(NodeOp::Correlate(Box::new(spec)), vec![input], schema, p))
    }
}
