//! A table function joined to the rows it reads (Flink's "correlate"):
//! `FROM t, LATERAL TABLE(f(t.s)) AS T(a, b)`, `LEFT JOIN LATERAL TABLE(..)
//! ON TRUE` and `CROSS JOIN UNNEST(t.arr) AS T(x)`.
//!
//! SQL planning first yields a [`TableFunctionScanNode`] whose arguments
//! are outer references into the left side of a lateral join; the lateral
//! rewrite then folds that join into one [`CorrelateNode`] over the left
//! side, which the streaming planner lowers to a stateless operator.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::FieldRef;
use datafusion::common::{DFSchema, DFSchemaRef, Result, TableReference};
use datafusion::logical_expr::{Expr, LogicalPlan, UserDefinedLogicalNodeCore};
use sluice_udf::api::TableUdf;

fn args_display(args: &[Expr]) -> String {
    args.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A table function call as a relation, before it is joined to its input.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableFunctionScanNode {
    pub function: TableUdf,
    /// Constants and outer references to the lateral join's left side.
    pub args: Vec<Expr>,
    /// The produced columns (unqualified; an alias qualifies them).
    pub schema: DFSchemaRef,
}

impl PartialOrd for TableFunctionScanNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        if self == other {
            return Some(Ordering::Equal);
        }
        Some(self.function.name().cmp(other.function.name())).filter(|o| o.is_ne())
    }
}

impl UserDefinedLogicalNodeCore for TableFunctionScanNode {
    fn name(&self) -> &str {
        "TableFunctionScan"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        self.args.clone()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "TableFunctionScan: {}({})",
            self.function.name(),
            args_display(&self.args)
        )
    }

    fn with_exprs_and_inputs(&self, exprs: Vec<Expr>, _inputs: Vec<LogicalPlan>) -> Result<Self> {
        Ok(TableFunctionScanNode {
            function: self.function.clone(),
            args: exprs,
            schema: Arc::clone(&self.schema),
        })
    }
}

/// Every input row joined with the rows the table function produces for it;
/// with `outer` (LEFT JOIN) a row that produces none is kept, NULL-padded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CorrelateNode {
    pub input: LogicalPlan,
    pub function: TableUdf,
    /// Expressions over `input`.
    pub args: Vec<Expr>,
    pub outer: bool,
    /// The produced columns, with the alias that qualifies them.
    pub fields: Vec<(Option<TableReference>, FieldRef)>,
    /// The input's columns, then the produced ones.
    pub schema: DFSchemaRef,
}

impl PartialOrd for CorrelateNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        if self == other {
            return Some(Ordering::Equal);
        }
        self.input.partial_cmp(&other.input).filter(|o| o.is_ne())
    }
}

impl CorrelateNode {
    pub fn try_new(
        input: LogicalPlan,
        function: TableUdf,
        args: Vec<Expr>,
        outer: bool,
        fields: Vec<(Option<TableReference>, FieldRef)>,
    ) -> Result<Self> {
        let mut all: Vec<(Option<TableReference>, FieldRef)> = input
            .schema()
            .iter()
            .map(|(q, f)| (q.cloned(), Arc::clone(f)))
            .collect();
        all.extend(fields.iter().cloned());
        let schema = Arc::new(DFSchema::new_with_metadata(all, HashMap::new())?);
        Ok(CorrelateNode {
            input,
            function,
            args,
            outer,
            fields,
            schema,
        })
    }

    /// Number of input columns (the produced ones follow them).
    pub fn input_len(&self) -> usize {
        self.input.schema().fields().len()
    }
}

impl UserDefinedLogicalNodeCore for CorrelateNode {
    fn name(&self) -> &str {
        "Correlate"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        self.args.clone()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "Correlate: {}({}), joinType={}",
            self.function.name(),
            args_display(&self.args),
            if self.outer { "LEFT" } else { "INNER" }
        )
    }

    fn with_exprs_and_inputs(
        &self,
        exprs: Vec<Expr>,
        mut inputs: Vec<LogicalPlan>,
    ) -> Result<Self> {
        CorrelateNode::try_new(
            inputs.swap_remove(0),
            self.function.clone(),
            exprs,
            self.outer,
            self.fields.clone(),
        )
    }

    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        let n = self.input_len();
        let schema = self.input.schema();
        let mut cols: Vec<usize> = output_columns.iter().copied().filter(|i| *i < n).collect();
        for a in &self.args {
            for c in a.column_refs() {
                cols.push(schema.index_of_column(c).ok()?);
            }
        }
        cols.sort_unstable();
        cols.dedup();
        Some(vec![cols])
    }
}
