//! `FIRST_VALUE` / `LAST_VALUE` over a window. DataFusion always plans these
//! names as its own window functions (not as aggregates) inside `OVER`;
//! theirs keep NULLs unless `IGNORE NULLS` is written, while Flink's skip
//! them. These wrappers make skipping NULLs the default.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::functions_window::nth_value::{first_value_udwf, last_value_udwf};
use datafusion::logical_expr::function::{
    ExpressionArgs, PartitionEvaluatorArgs, WindowUDFFieldArgs,
};
use datafusion::logical_expr::{
    PartitionEvaluator, ReversedUDWF, Signature, WindowUDF, WindowUDFImpl,
};
use datafusion::physical_expr::PhysicalExpr;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IgnoreNulls {
    last: bool,
    inner: Arc<WindowUDF>,
}

fn make(last: bool) -> Arc<WindowUDF> {
    let inner = if last {
        last_value_udwf()
    } else {
        first_value_udwf()
    };
    Arc::new(WindowUDF::new_from_impl(IgnoreNulls { last, inner }))
}

/// `FIRST_VALUE` and `LAST_VALUE` window functions that skip NULLs.
pub fn functions() -> Vec<Arc<WindowUDF>> {
    vec![make(false), make(true)]
}

impl WindowUDFImpl for IgnoreNulls {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn expressions(&self, expr_args: ExpressionArgs) -> Vec<Arc<dyn PhysicalExpr>> {
        self.inner.expressions(expr_args)
    }

    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        let skipping = PartitionEvaluatorArgs::new(
            args.input_exprs(),
            args.input_fields(),
            args.is_reversed(),
            true,
        );
        self.inner.partition_evaluator_factory(skipping)
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        self.inner.field(field_args)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn reverse_expr(&self) -> ReversedUDWF {
        ReversedUDWF::Reversed(make(!self.last))
    }
}
