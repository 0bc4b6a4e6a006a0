//! Window assignment: appends `window_start`, `window_end`, `window_time` to
//! every row. Ahead of a window aggregate the columns hold the row's *pane*
//! (the aggregate combines panes into windows); for a bare window TVF each
//! row is repeated once per window it belongs to, as Flink's TVF does.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, PrimitiveArray, RecordBatch, RecordBatchOptions,
    UInt32Array,
};
use datafusion::arrow::compute::{cast, take_record_batch};
use datafusion::arrow::datatypes::{DataType, Int64Type, SchemaRef, TimeUnit};

use super::spec::WindowSpec;
use crate::error::{Result, SluiceError};
use crate::runtime::operator::{BatchOrigin, Event, Operator};

/// Epoch milliseconds of a timestamp column (`None` for NULL).
pub fn millis(col: &ArrayRef) -> Result<PrimitiveArray<Int64Type>> {
    let ms = match col.data_type() {
        DataType::Timestamp(TimeUnit::Millisecond, _) => cast(col, &DataType::Int64)?,
        DataType::Timestamp(_, tz) => {
            let c = cast(col, &DataType::Timestamp(TimeUnit::Millisecond, tz.clone()))?;
            cast(&c, &DataType::Int64)?
        }
        DataType::Int64 => Arc::clone(col),
        other => {
            return Err(SluiceError::execution(format!(
                "window time column must be a TIMESTAMP, found {other}"
            )));
        }
    };
    Ok(ms.as_primitive::<Int64Type>().clone())
}

/// Builds a timestamp column of `data_type` from epoch milliseconds.
pub fn timestamps(values: Vec<i64>, data_type: &DataType) -> Result<ArrayRef> {
    let a: ArrayRef = Arc::new(Int64Array::from(values));
    let ms = match data_type {
        DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Millisecond, tz.clone()),
        other => other.clone(),
    };
    let a = cast(&a, &ms)?;
    Ok(if &ms == data_type {
        a
    } else {
        cast(&a, data_type)?
    })
}

/// The window-assignment operator.
pub struct WindowAssignOperator {
    spec: WindowSpec,
    time_col: usize,
    /// Pane columns for a downstream window aggregate, not one row per window.
    panes: bool,
    schema: SchemaRef,
}

impl WindowAssignOperator {
    pub fn new(spec: WindowSpec, time_col: usize, panes: bool, schema: SchemaRef) -> Self {
        WindowAssignOperator {
            spec,
            time_col,
            panes,
            schema,
        }
    }
}

impl Operator for WindowAssignOperator {
    fn process(&mut self, batch: RecordBatch, _: BatchOrigin, out: &mut Vec<Event>) -> Result<()> {
        let ts = millis(batch.column(self.time_col))?;
        let mut rows: Vec<u32> = Vec::with_capacity(batch.num_rows());
        let (mut starts, mut ends) = (Vec::new(), Vec::new());
        for i in 0..ts.len() {
            // A row without event time belongs to no window.
            if ts.is_null(i) {
                continue;
            }
            if let WindowSpec::Session { gap } = self.spec {
                // A session starts as the row's own window; the aggregate merges.
                rows.push(i as u32);
                starts.push(ts.value(i));
                ends.push(ts.value(i) + gap);
                continue;
            }
            let pane_end = self.spec.pane_end(ts.value(i));
            if self.panes || self.spec.single_pane() {
                rows.push(i as u32);
                starts.push(pane_end - self.spec.pane());
                ends.push(pane_end);
            } else {
                for (s, e) in self.spec.windows_of_pane(pane_end) {
                    rows.push(i as u32);
                    starts.push(s);
                    ends.push(e);
                }
            }
        }
        if rows.is_empty() {
            return Ok(());
        }
        let base = if rows.len() == batch.num_rows()
            && rows.iter().enumerate().all(|(i, r)| i as u32 == *r)
        {
            batch
        } else {
            take_record_batch(&batch, &UInt32Array::from(rows))?
        };
        let n = base.num_rows();
        let w = self.schema.fields().len() - 3;
        let ty = |i: usize| self.schema.field(w + i).data_type();
        let times: Vec<i64> = ends.iter().map(|e| e - 1).collect();
        let mut cols = base.columns().to_vec();
        cols.push(timestamps(starts, ty(0))?);
        cols.push(timestamps(ends, ty(1))?);
        cols.push(timestamps(times, ty(2))?);
        out.push(Event::Batch(RecordBatch::try_new_with_options(
            Arc::clone(&self.schema),
            cols,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )?));
        Ok(())
    }
}
