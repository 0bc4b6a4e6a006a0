//! A searched `CASE` whose parts cannot fail, evaluated over every row and
//! combined with `zip`.
//!
//! DataFusion evaluates `CASE WHEN c1 THEN a WHEN c2 THEN b .. END` by
//! filtering, for each WHEN, the rows still undecided out of every column
//! the CASE reads. That is right when a branch may fail on rows it must not
//! see (`CASE WHEN x <> 0 THEN 1 / x END`), but a struct column is read
//! whole: Nexmark's time column, `CASE WHEN event_type = 0 THEN
//! person.dateTime WHEN .. END`, copied every string of three structs per
//! batch to pick one timestamp per row. When every condition is a
//! comparison and every branch a column, a literal or a struct field (none
//! of which can fail), evaluating each part over all rows and zipping the
//! results gives the same values without copying anything.

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, new_null_array};
use datafusion::arrow::compute::kernels::zip::zip;
use datafusion::arrow::compute::{cast, prep_null_mask_filter};
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Result, internal_err};
use datafusion::logical_expr::{ColumnarValue, Operator};
use datafusion::physical_expr::expressions::{
    BinaryExpr, CaseExpr, CastExpr, Column, IsNotNullExpr, IsNullExpr, Literal, NotExpr,
};
use datafusion::physical_expr::{PhysicalExpr, ScalarFunctionExpr};

/// Replaces every qualifying `CASE` in `expr` by its zip form.
pub fn rewrite(expr: Arc<dyn PhysicalExpr>, schema: &Schema) -> Result<Arc<dyn PhysicalExpr>> {
    expr.transform_up(|e| {
        let Some(case) = e.downcast_ref::<CaseExpr>() else {
            return Ok(Transformed::no(e));
        };
        let parts_safe = case.expr().is_none()
            && case
                .when_then_expr()
                .iter()
                .all(|(w, t)| safe(w, schema) && safe(t, schema))
            && case.else_expr().is_none_or(|e| safe(e, schema));
        if !parts_safe {
            return Ok(Transformed::no(e));
        }
        let data_type = e.data_type(schema)?;
        Ok(Transformed::yes(
            Arc::new(ZipCase { case: e, data_type }) as Arc<dyn PhysicalExpr>
        ))
    })
    .map(|t| t.data)
}

/// Whether `e` can be evaluated over any row without failing, cheaply.
fn safe(e: &Arc<dyn PhysicalExpr>, schema: &Schema) -> bool {
    if e.downcast_ref::<Column>().is_some() || e.downcast_ref::<Literal>().is_some() {
        return true;
    }
    if let Some(f) = e.downcast_ref::<ScalarFunctionExpr>() {
        let args = f.args();
        return f.name() == "get_field"
            && args.first().is_some_and(|a| safe(a, schema))
            && args[1..]
                .iter()
                .all(|a| a.downcast_ref::<Literal>().is_some());
    }
    if let Some(b) = e.downcast_ref::<BinaryExpr>() {
        use Operator::*;
        let op_safe = matches!(
            b.op(),
            Eq | NotEq | Lt | LtEq | Gt | GtEq | IsDistinctFrom | IsNotDistinctFrom | And | Or
        );
        return op_safe && safe(b.left(), schema) && safe(b.right(), schema);
    }
    if let Some(c) = e.downcast_ref::<CastExpr>() {
        let from = c.expr().data_type(schema);
        return safe(c.expr(), schema) && from.is_ok_and(|f| widening(&f, c.cast_type()));
    }
    if let Some(n) = e.downcast_ref::<IsNullExpr>() {
        return safe(n.arg(), schema);
    }
    if let Some(n) = e.downcast_ref::<IsNotNullExpr>() {
        return safe(n.arg(), schema);
    }
    if let Some(n) = e.downcast_ref::<NotExpr>() {
        return safe(n.arg(), schema);
    }
    false
}

/// A cast that holds every value of `from` (the planner's coercions of a
/// comparison's sides).
fn widening(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    from == to
        || matches!(
            (from, to),
            (Int8, Int16 | Int32 | Int64 | Float32 | Float64)
                | (Int16, Int32 | Int64 | Float32 | Float64)
                | (Int32, Int64 | Float64)
                | (
                    UInt8,
                    Int16 | Int32 | Int64 | UInt16 | UInt32 | UInt64 | Float32 | Float64
                )
                | (UInt16, Int32 | Int64 | UInt32 | UInt64 | Float32 | Float64)
                | (UInt32, Int64 | UInt64 | Float64)
        )
}

/// A DataFusion `CaseExpr` whose parts are all safe, evaluated by zipping.
/// It shows (and plans types) exactly as the CASE it wraps.
#[derive(Debug)]
struct ZipCase {
    case: Arc<dyn PhysicalExpr>,
    /// The CASE's type, which every branch is cast to (known at planning).
    data_type: DataType,
}

impl PartialEq for ZipCase {
    fn eq(&self, other: &Self) -> bool {
        self.case.as_ref() == other.case.as_ref()
    }
}

impl Eq for ZipCase {}

impl Hash for ZipCase {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.case.as_ref().hash(state);
    }
}

impl ZipCase {
    fn case(&self) -> Result<&CaseExpr> {
        match self.case.downcast_ref::<CaseExpr>() {
            Some(c) => Ok(c),
            None => internal_err!("ZipCase wraps a CaseExpr"),
        }
    }
}

impl fmt::Display for ZipCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.case.fmt(f)
    }
}

impl PhysicalExpr for ZipCase {
    fn data_type(&self, input_schema: &Schema) -> Result<DataType> {
        self.case.data_type(input_schema)
    }

    fn nullable(&self, input_schema: &Schema) -> Result<bool> {
        self.case.nullable(input_schema)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let case = self.case()?;
        let n = batch.num_rows();
        let data_type = &self.data_type;
        let mut result: ArrayRef = match case.else_expr() {
            Some(e) => cast(&e.evaluate(batch)?.into_array(n)?, data_type)?,
            None => new_null_array(data_type, n),
        };
        // From the last WHEN to the first, so the first true one wins.
        for (when, then) in case.when_then_expr().iter().rev() {
            let mask = when.evaluate(batch)?.into_array(n)?;
            let Some(mask) = mask.as_boolean_opt() else {
                return internal_err!("CASE condition {when} is not boolean");
            };
            // A NULL condition is not true: that row falls through.
            let mask = if mask.null_count() > 0 {
                prep_null_mask_filter(mask)
            } else {
                mask.clone()
            };
            // The planner gives every branch the CASE's type; an untyped
            // NULL literal is the one exception `zip` would refuse.
            result = match then.evaluate(batch)? {
                ColumnarValue::Array(a) => zip(&mask, &cast(&a, data_type)?, &result)?,
                ColumnarValue::Scalar(s) => {
                    zip(&mask, &s.cast_to(data_type)?.to_scalar()?, &result)?
                }
            };
        }
        Ok(ColumnarValue::Array(result))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        self.case.children()
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let case = Arc::clone(&self.case).with_new_children(children)?;
        Ok(Arc::new(ZipCase {
            case,
            data_type: self.data_type.clone(),
        }))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.case.fmt_sql(f)
    }
}

#[cfg(test)]
#[path = "case_zip_tests.rs"]
mod tests;
