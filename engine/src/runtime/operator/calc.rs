//! The fused stateless operator: filters and projections evaluated as
//! DataFusion `PhysicalExpr`s over whole batches.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, RecordBatchOptions};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::{BatchOrigin, Event, Operator};
use crate::connector::row_kind_field;
use crate::error::{Result, SluiceError};
use crate::planner::graph::CalcStep;

/// Runs a chain of filters and projections.
pub struct CalcOperator {
    steps: Vec<CalcStep>,
    /// The input is updating: its last column is the row kind, which every
    /// projection carries through unchanged.
    row_kind: bool,
    /// The last watermark seen, for `CURRENT_WATERMARK(..)`.
    watermark: Option<i64>,
}

impl CalcOperator {
    /// A fused operator for `steps`.
    pub fn new(steps: Vec<CalcStep>, row_kind: bool) -> Self {
        // Output batches use all-nullable fields: DataFusion's nullability
        // inference is conservative in places, and a batch must never fail to
        // build because of it. NOT NULL is enforced where it matters: at sinks.
        let steps = steps
            .into_iter()
            .map(|s| match s {
                CalcStep::Project(exprs, schema) => {
                    let nullable: SchemaRef = Arc::new(Schema::new(
                        schema
                            .fields()
                            .iter()
                            .map(|f| Field::new(f.name(), f.data_type().clone(), true))
                            .chain(row_kind.then(row_kind_field))
                            .collect::<Vec<_>>(),
                    ));
                    CalcStep::Project(exprs, nullable)
                }
                filter => filter,
            })
            .collect();
        CalcOperator {
            steps,
            row_kind,
            watermark: None,
        }
    }
}

impl Operator for CalcOperator {
    fn process(
        &mut self,
        batch: RecordBatch,
        _origin: BatchOrigin,
        out: &mut Vec<Event>,
    ) -> Result<()> {
        let watermark = self.watermark;
        let result =
            sluice_udf::current_watermark::with_watermark(watermark, || self.apply(batch))?;
        if let Some(b) = result {
            out.push(Event::Batch(b));
        }
        Ok(())
    }

    fn on_watermark(&mut self, watermark: i64, out: &mut Vec<Event>) -> Result<()> {
        self.watermark = Some(watermark);
        out.push(Event::Watermark(watermark));
        Ok(())
    }
}

impl CalcOperator {
    /// Runs every step over `batch`; `None` when no row is left.
    pub fn apply(&mut self, mut batch: RecordBatch) -> Result<Option<RecordBatch>> {
        for step in &self.steps {
            match step {
                CalcStep::Filter(pred) => {
                    let mask = pred.evaluate(&batch)?.into_array(batch.num_rows())?;
                    if mask.data_type() != &DataType::Boolean {
                        return Err(SluiceError::execution(format!(
                            "filter predicate {pred} is not boolean"
                        )));
                    }
                    let mask = mask.as_boolean();
                    if mask.true_count() == batch.num_rows() && mask.null_count() == 0 {
                        continue;
                    }
                    batch = filter_record_batch(&batch, mask)?;
                    if batch.num_rows() == 0 {
                        return Ok(None);
                    }
                }
                CalcStep::Project(exprs, schema) => {
                    let n = batch.num_rows();
                    let mut cols = exprs
                        .iter()
                        .map(|e| e.evaluate(&batch).and_then(|v| v.into_array(n)))
                        .collect::<datafusion::error::Result<Vec<_>>>()?;
                    if self.row_kind {
                        cols.push(Arc::clone(batch.column(batch.num_columns() - 1)));
                    }
                    batch = RecordBatch::try_new_with_options(
                        Arc::clone(schema),
                        cols,
                        &RecordBatchOptions::new().with_row_count(Some(n)),
                    )?;
                }
            }
        }
        Ok(Some(batch))
    }
}
