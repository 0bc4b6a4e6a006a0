//! A window table function (`TUMBLE`, `HOP`, `CUMULATE`, `SESSION`) as a
//! logical plan node: the input's columns plus `window_start`, `window_end`
//! and `window_time`. How it runs depends on what reads it (see the
//! lowering): under a window aggregate it only marks each row's pane.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Column, DFSchema, DFSchemaRef, Result};
use datafusion::logical_expr::{Expr, LogicalPlan, UserDefinedLogicalNodeCore};

use crate::runtime::window::WindowSpec;

/// Names of the columns a window TVF adds, in order.
pub const WINDOW_COLUMNS: [&str; 3] = ["window_start", "window_end", "window_time"];

/// The logical window TVF.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WindowTvfNode {
    pub input: LogicalPlan,
    pub spec: WindowSpec,
    /// The `DESCRIPTOR(..)` column.
    pub time_col: Column,
    /// `SESSION(TABLE t PARTITION BY k ..)` keys.
    pub partition_keys: Vec<Column>,
    /// The time column is a processing-time attribute.
    pub proctime: bool,
    pub schema: DFSchemaRef,
}

impl PartialOrd for WindowTvfNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.input.partial_cmp(&other.input)
    }
}

impl WindowTvfNode {
    pub fn try_new(
        input: LogicalPlan,
        spec: WindowSpec,
        time_col: Column,
        partition_keys: Vec<Column>,
        proctime: bool,
    ) -> Result<Self> {
        let schema = tvf_schema(&input, &time_col)?;
        Ok(WindowTvfNode {
            input,
            spec,
            time_col,
            partition_keys,
            proctime,
            schema,
        })
    }

    /// Number of input columns (the window columns follow them).
    pub fn input_len(&self) -> usize {
        self.input.schema().fields().len()
    }
}

fn tvf_schema(input: &LogicalPlan, time_col: &Column) -> Result<DFSchemaRef> {
    let in_schema = input.schema();
    let (_, time_field) = in_schema.qualified_field_from_column(time_col)?;
    let dt = match time_field.data_type() {
        DataType::Timestamp(_, tz) => DataType::Timestamp(
            datafusion::arrow::datatypes::TimeUnit::Millisecond,
            tz.clone(),
        ),
        other => other.clone(),
    };
    let mut fields: Vec<_> = in_schema
        .iter()
        .map(|(q, f)| (q.cloned(), Arc::clone(f)))
        .collect();
    // Flink: window_start/window_end are TIMESTAMP(3); window_time has the
    // time attribute's own type (TIMESTAMP_LTZ(3) for PROCTIME()).
    let local = DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Millisecond, None);
    for (i, name) in WINDOW_COLUMNS.iter().enumerate() {
        let t = if i < 2 && matches!(dt, DataType::Timestamp(..)) {
            local.clone()
        } else {
            dt.clone()
        };
        fields.push((None, Arc::new(Field::new(*name, t, false))));
    }
    Ok(Arc::new(DFSchema::new_with_metadata(
        fields,
        HashMap::new(),
    )?))
}

impl UserDefinedLogicalNodeCore for WindowTvfNode {
    fn name(&self) -> &str {
        "WindowTableFunction"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        let mut e = vec![Expr::Column(self.time_col.clone())];
        e.extend(self.partition_keys.iter().cloned().map(Expr::Column));
        e
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "WindowTableFunction: {}, time_col={}",
            self.spec, self.time_col
        )?;
        if self.proctime {
            write!(f, " (proctime)")?;
        }
        Ok(())
    }

    fn with_exprs_and_inputs(
        &self,
        exprs: Vec<Expr>,
        mut inputs: Vec<LogicalPlan>,
    ) -> Result<Self> {
        let cols: Vec<Column> = exprs
            .into_iter()
            .filter_map(|e| match e {
                Expr::Column(c) => Some(c),
                _ => None,
            })
            .collect();
        let time_col = cols
            .first()
            .cloned()
            .unwrap_or_else(|| self.time_col.clone());
        let keys = cols.into_iter().skip(1).collect();
        WindowTvfNode::try_new(
            inputs.swap_remove(0),
            self.spec,
            time_col,
            keys,
            self.proctime,
        )
    }

    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        let n = self.input_len();
        let schema = self.input.schema();
        let mut cols: Vec<usize> = output_columns.iter().copied().filter(|i| *i < n).collect();
        cols.push(schema.index_of_column(&self.time_col).ok()?);
        for k in &self.partition_keys {
            cols.push(schema.index_of_column(k).ok()?);
        }
        cols.sort_unstable();
        cols.dedup();
        Some(vec![cols])
    }
}
