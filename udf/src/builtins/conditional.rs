//! `IF(condition, true_value, false_value)`: `false_value` when the
//! condition is FALSE or NULL. Planned as a `CASE`, so only the chosen
//! branch is evaluated (`IF(x = 0, 0, 1 / x)` is safe).
//!
//! `IFNULL(value, replacement)`: planned as `COALESCE`, so the result has
//! the common type of both (DataFusion's own `ifnull` answers a string
//! view, which Sluice does not use).

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, BooleanArray};
use datafusion::arrow::compute::kernels::zip::zip;
use datafusion::arrow::compute::prep_null_mask_filter;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{
    Case, ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Flink's `IF`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct If {
    signature: Signature,
}

/// The `IF` function.
pub fn if_udf() -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(If {
        signature: Signature::user_defined(Volatility::Immutable),
    }))
}

impl ScalarUDFImpl for If {
    fn name(&self) -> &str {
        "if"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [cond, a, b] = arg_types else {
            return plan_err!(
                "Invalid number of arguments for IF(condition, true_value, false_value): got {}",
                arg_types.len()
            );
        };
        if !matches!(cond, DataType::Boolean | DataType::Null) {
            return plan_err!("IF: the condition must be BOOLEAN, got {cond}");
        }
        let Some(common) = type_union_resolution(&[a.clone(), b.clone()]) else {
            return plan_err!("IF: the branches have incompatible types {a} and {b}");
        };
        Ok(vec![DataType::Boolean, common.clone(), common])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[1].clone())
    }

    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let Ok([cond, a, b]) = <[Expr; 3]>::try_from(args) else {
            return plan_err!("IF takes three arguments");
        };
        Ok(ExprSimplifyResult::Simplified(Expr::Case(Case::new(
            None,
            vec![(Box::new(cond), Box::new(a))],
            Some(Box::new(b)),
        ))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // Only reached when the optimizer did not turn IF into a CASE.
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let cond = arrays[0].as_boolean();
        let mask: BooleanArray = if cond.null_count() > 0 {
            prep_null_mask_filter(cond)
        } else {
            cond.clone()
        };
        Ok(ColumnarValue::Array(zip(&mask, &arrays[1], &arrays[2])?))
    }
}

/// Flink's `IFNULL`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IfNull {
    signature: Signature,
}

/// The `IFNULL` function.
pub fn ifnull_udf() -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(IfNull {
        signature: Signature::user_defined(Volatility::Immutable),
    }))
}

impl ScalarUDFImpl for IfNull {
    fn name(&self) -> &str {
        "ifnull"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [a, b] = arg_types else {
            return plan_err!(
                "Invalid number of arguments for IFNULL(value, replacement): got {}",
                arg_types.len()
            );
        };
        let Some(common) = type_union_resolution(&[a.clone(), b.clone()]) else {
            return plan_err!("IFNULL: the arguments have incompatible types {a} and {b}");
        };
        Ok(vec![common.clone(), common])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        Ok(ExprSimplifyResult::Simplified(Expr::ScalarFunction(
            ScalarFunction::new_udf(datafusion::functions::core::coalesce(), args),
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // Only reached when the optimizer did not turn IFNULL into COALESCE.
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let present = datafusion::arrow::compute::is_not_null(&arrays[0])?;
        Ok(ColumnarValue::Array(zip(&present, &arrays[0], &arrays[1])?))
    }
}
