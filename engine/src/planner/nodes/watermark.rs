//! The `WATERMARK FOR c AS expr` of a table, as a logical plan node right
//! above the table's scan (and computed columns). It keeps the columns the
//! expression reads even when the query does not select them, and it stops
//! filters from being pushed beneath it: watermarks are generated from every
//! row the source reads, as in Flink.

use std::cmp::Ordering;
use std::fmt;
use std::time::Duration;

use datafusion::common::{Column, DFSchemaRef, Result};
use datafusion::logical_expr::{Expr, LogicalPlan, UserDefinedLogicalNodeCore};

/// The logical watermark assigner.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WatermarkNode {
    pub input: LogicalPlan,
    /// The rowtime column.
    pub rowtime: Column,
    /// The watermark expression over `input`.
    pub expr: Expr,
    /// `scan.watermark.idle-timeout` of the table, if set.
    pub idle_timeout: Option<Duration>,
}

impl PartialOrd for WatermarkNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.input.partial_cmp(&other.input)
    }
}

impl UserDefinedLogicalNodeCore for WatermarkNode {
    fn name(&self) -> &str {
        "WatermarkAssigner"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        self.input.schema()
    }

    fn expressions(&self) -> Vec<Expr> {
        vec![self.expr.clone()]
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "WatermarkAssigner: rowtime={}, watermark={}",
            self.rowtime, self.expr
        )
    }

    fn with_exprs_and_inputs(
        &self,
        mut exprs: Vec<Expr>,
        mut inputs: Vec<LogicalPlan>,
    ) -> Result<Self> {
        Ok(WatermarkNode {
            input: inputs.swap_remove(0),
            rowtime: self.rowtime.clone(),
            expr: exprs.swap_remove(0),
            idle_timeout: self.idle_timeout,
        })
    }

    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        let schema = self.input.schema();
        let mut cols: Vec<usize> = output_columns.to_vec();
        for c in self.expr.column_refs() {
            cols.push(schema.index_of_column(c).ok()?);
        }
        cols.push(schema.index_of_column(&self.rowtime).ok()?);
        cols.sort_unstable();
        cols.dedup();
        Some(vec![cols])
    }
}
