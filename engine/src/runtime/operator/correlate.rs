//! The correlate operator: a table function applied to every row of a
//! stream. Stateless and vectorized — per batch, the function's arguments
//! are evaluated, the function runs once over the whole batch, and each
//! produced row is emitted next to a copy of the input row it came from.
//! A LEFT correlate keeps input rows that produced nothing, NULL-padded.
//! An updating input keeps its row kind: every row produced from a `-U`
//! row is itself a `-U` (Flink does the same).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::physical_expr::PhysicalExpr;
use sluice_udf::api::{TableRows, TableUdf};

use super::{BatchOrigin, Event, Operator};
use crate::connector::row_kind_field;
use crate::error::Result;

/// Plan-time description of a correlate.
#[derive(Debug, Clone)]
pub struct CorrelateSpec {
    pub function: TableUdf,
    /// Argument expressions over the input.
    pub args: Vec<Arc<dyn PhysicalExpr>>,
    /// The produced columns, as the plan declared them.
    pub fields: Vec<Field>,
    /// LEFT JOIN: keep rows that produce nothing.
    pub outer: bool,
    /// Output: the input's columns, then the produced ones (no row kind).
    pub schema: SchemaRef,
}

/// The operator.
pub struct CorrelateOperator {
    spec: CorrelateSpec,
    /// The input is updating: its last column is the row kind.
    row_kind: bool,
    /// Output schema, with the row kind when there is one.
    schema: SchemaRef,
}

impl CorrelateOperator {
    pub fn new(spec: CorrelateSpec, row_kind: bool) -> Self {
        let mut fields: Vec<Field> = spec
            .schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect();
        if row_kind {
            fields.push(row_kind_field());
        }
        CorrelateOperator {
            spec,
            row_kind,
            schema: Arc::new(Schema::new(fields)),
        }
    }

    /// The output batch for `batch` (`None` when no row is produced).
    pub fn apply(&self, batch: &RecordBatch) -> Result<Option<RecordBatch>> {
        let n = batch.num_rows();
        let args = self
            .spec
            .args
            .iter()
            .map(|e| e.evaluate(batch).and_then(|v| v.into_array(n)))
            .collect::<datafusion::error::Result<Vec<_>>>()?;
        let produced = self.spec.function.invoke(&args, n, &self.spec.fields)?;
        let (input_rows, columns) = if self.spec.outer {
            pad_missing(produced, n)?
        } else {
            (produced.input_rows, produced.columns)
        };
        let rows = input_rows.len();
        if rows == 0 {
            return Ok(None);
        }
        let data_cols = batch.num_columns() - usize::from(self.row_kind);
        let mut out: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        for c in &batch.columns()[..data_cols] {
            out.push(take(c.as_ref(), &input_rows, None)?);
        }
        out.extend(columns);
        if self.row_kind {
            out.push(take(batch.column(data_cols).as_ref(), &input_rows, None)?);
        }
        Ok(Some(RecordBatch::try_new_with_options(
            Arc::clone(&self.schema),
            out,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )?))
    }
}

/// LEFT correlate: adds one all-NULL produced row for every input row
/// (of `n`) that produced none, keeping input order.
fn pad_missing(p: TableRows, n: usize) -> Result<(UInt32Array, Vec<ArrayRef>)> {
    let produced = p.input_rows.values();
    let mut input_rows = Vec::with_capacity(produced.len().max(n));
    let mut picks: Vec<Option<u32>> = Vec::with_capacity(produced.len().max(n));
    let mut next = 0;
    for row in 0..n as u32 {
        let start = next;
        while next < produced.len() && produced[next] == row {
            next += 1;
        }
        if start == next {
            input_rows.push(row);
            picks.push(None);
        } else {
            for i in start..next {
                input_rows.push(row);
                picks.push(Some(i as u32));
            }
        }
    }
    if picks.len() == produced.len() {
        return Ok((p.input_rows, p.columns));
    }
    let picks = UInt32Array::from(picks);
    let columns = p
        .columns
        .iter()
        .map(|c| take(c.as_ref(), &picks, None))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((UInt32Array::from(input_rows), columns))
}

impl Operator for CorrelateOperator {
    fn process(
        &mut self,
        batch: RecordBatch,
        _origin: BatchOrigin,
        out: &mut Vec<Event>,
    ) -> Result<()> {
        if let Some(b) = self.apply(&batch)? {
            out.push(Event::Batch(b));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Int64Type};
    use datafusion::physical_expr::expressions::Column;
    use sluice_udf::api::TableFunction;

    fn spec(outer: bool) -> CorrelateSpec {
        let f = TableFunction::new("split", |s: &str| {
            s.split(' ')
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        });
        let fields = vec![Field::new("f0", DataType::Utf8, true)];
        CorrelateSpec {
            function: f.into(),
            args: vec![Arc::new(Column::new("s", 1))],
            fields: fields.clone(),
            outer,
            schema: Arc::new(Schema::new(vec![
                Field::new("id", DataType::Int64, true),
                Field::new("s", DataType::Utf8, true),
                Field::new("f0", DataType::Utf8, true),
            ])),
        }
    }

    fn input() -> RecordBatch {
        RecordBatch::try_from_iter(vec![
            (
                "id",
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])) as ArrayRef,
            ),
            (
                "s",
                Arc::new(StringArray::from(vec![
                    Some("a b"),
                    Some(""),
                    None,
                    Some("c"),
                ])) as ArrayRef,
            ),
        ])
        .expect("batch")
    }

    fn rows(b: &RecordBatch) -> Vec<(i64, Option<String>)> {
        let ids = b.column(0).as_primitive::<Int64Type>();
        let words = b.column(2).as_string::<i32>();
        (0..b.num_rows())
            .map(|i| {
                let w = (!words.is_null(i)).then(|| words.value(i).to_string());
                (ids.value(i), w)
            })
            .collect()
    }

    #[test]
    fn inner_repeats_input_rows_and_drops_rows_without_output() {
        let op = CorrelateOperator::new(spec(false), false);
        let out = op.apply(&input()).expect("apply").expect("rows");
        assert_eq!(
            rows(&out),
            vec![
                (1, Some("a".into())),
                (1, Some("b".into())),
                (4, Some("c".into()))
            ]
        );
    }

    #[test]
    fn left_keeps_rows_without_output_null_padded() {
        let op = CorrelateOperator::new(spec(true), false);
        let out = op.apply(&input()).expect("apply").expect("rows");
        assert_eq!(
            rows(&out),
            vec![
                (1, Some("a".into())),
                (1, Some("b".into())),
                (2, None),
                (3, None),
                (4, Some("c".into()))
            ]
        );
    }
}
