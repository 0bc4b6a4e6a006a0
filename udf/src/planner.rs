//! Flink's special syntax forms that DataFusion's SQL planner hands to an
//! `ExprPlanner`: `EXTRACT(unit FROM t)` (Flink's BIGINT fields, DOW 1 =
//! Sunday) and `SUBSTRING(s FROM a [FOR b])` (Flink's positions). It must
//! come before DataFusion's own planners, which would claim them first.

use datafusion::common::Result;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult};
use datafusion::logical_expr::{Expr, expr::ScalarFunction};

use crate::builtins;

/// The planner for Flink's syntax forms.
#[derive(Debug, Default)]
pub struct FlinkExprPlanner;

impl ExprPlanner for FlinkExprPlanner {
    fn plan_extract(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(Expr::ScalarFunction(
            ScalarFunction::new_udf(builtins::datetime::extract_udf(), args),
        )))
    }

    fn plan_substring(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(Expr::ScalarFunction(
            ScalarFunction::new_udf(builtins::string::substring(), args),
        )))
    }
}
