//! [`ChangeBatch`]: the rows of one flush with their row kinds, as a
//! connector's [`super::FlushWriter`] receives them.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Int8Array, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::{DataType, Int8Type, SchemaRef};
use sluice_engine::connector::{ROW_KIND_COLUMN, RowKind};
use sluice_engine::display::{DisplayStyle, RowFormatter};
use sluice_engine::{Result, SluiceError};

/// Rows to write, in the sink's schema, and what each row means.
#[derive(Debug, Clone)]
pub struct ChangeBatch {
    rows: RecordBatch,
    /// `None` for append-only input: every row is `+I`.
    kinds: Option<Int8Array>,
}

impl ChangeBatch {
    /// An append-only batch: every row is `+I`.
    pub fn inserts(rows: RecordBatch) -> Self {
        Self { rows, kinds: None }
    }

    /// Rows with their row kinds (`Int8` values of [`RowKind`]).
    pub fn new(rows: RecordBatch, kinds: Int8Array) -> Result<Self> {
        if kinds.len() != rows.num_rows() {
            return Err(SluiceError::execution(format!(
                "{} row kinds for {} rows",
                kinds.len(),
                rows.num_rows()
            )));
        }
        if let Some(bad) = kinds
            .iter()
            .find(|k| k.and_then(RowKind::from_i8).is_none())
        {
            return Err(SluiceError::execution(format!(
                "invalid row kind {bad:?} in column {ROW_KIND_COLUMN}"
            )));
        }
        Ok(Self {
            rows,
            kinds: Some(kinds),
        })
    }

    /// Splits the engine's batch: when its last column is the row-kind
    /// column it becomes the kinds, and the rest must match `schema`.
    pub fn from_input(batch: RecordBatch, schema: &SchemaRef) -> Result<Self> {
        let n = batch.num_columns();
        let has_kinds = n > 0 && batch.schema().field(n - 1).name() == ROW_KIND_COLUMN;
        if !has_kinds {
            return Ok(Self::inserts(with_schema(batch, schema)?));
        }
        let kinds = batch.column(n - 1);
        if kinds.data_type() != &DataType::Int8 {
            return Err(SluiceError::execution(format!(
                "column {ROW_KIND_COLUMN} must be TINYINT, got {}",
                kinds.data_type()
            )));
        }
        let kinds = kinds.as_primitive::<Int8Type>().clone();
        let mut rows = batch;
        rows.remove_column(n - 1);
        Self::new(with_schema(rows, schema)?, kinds)
    }

    /// Several batches as one, in order.
    pub fn concat(batches: &[ChangeBatch]) -> Result<Self> {
        match batches {
            [] => Err(SluiceError::execution("nothing to concatenate")),
            [one] => Ok(one.clone()),
            _ => {
                let schema = batches[0].rows.schema();
                let rows = datafusion::arrow::compute::concat_batches(
                    &schema,
                    batches.iter().map(|b| &b.rows),
                )?;
                if batches.iter().all(|b| b.kinds.is_none()) {
                    return Ok(Self::inserts(rows));
                }
                let mut kinds = Vec::with_capacity(rows.num_rows());
                for b in batches {
                    match &b.kinds {
                        Some(k) => kinds.extend(k.values().iter().copied()),
                        None => {
                            kinds.extend(std::iter::repeat_n(RowKind::Insert as i8, b.num_rows()))
                        }
                    }
                }
                Self::new(rows, Int8Array::from(kinds))
            }
        }
    }

    /// About how many bytes the rows take (the slices' share of their
    /// buffers), for size-based flushing.
    pub fn approx_bytes(&self) -> usize {
        self.rows
            .columns()
            .iter()
            .map(|c| c.to_data().get_slice_memory_size().unwrap_or(0))
            .sum()
    }

    /// The rows, without the row-kind column.
    pub fn rows(&self) -> &RecordBatch {
        &self.rows
    }

    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.rows.num_rows()
    }

    /// True when the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.num_rows() == 0
    }

    /// True when every row is `+I` by construction (append-only input).
    pub fn is_append_only(&self) -> bool {
        self.kinds.is_none()
    }

    /// The kind of row `row`.
    pub fn kind(&self, row: usize) -> RowKind {
        match &self.kinds {
            // Validated in `new`.
            Some(k) => RowKind::from_i8(k.value(row)).unwrap_or(RowKind::Insert),
            None => RowKind::Insert,
        }
    }

    /// True when row `row` removes what it describes: `-D`, or a `-U` that
    /// was not followed by its `+U` (for an upsert target, the same thing).
    pub fn is_retraction(&self, row: usize) -> bool {
        matches!(self.kind(row), RowKind::Delete | RowKind::UpdateBefore)
    }

    /// Row indices split into (upserts: `+I`/`+U`, retractions: `-D`/`-U`),
    /// each in input order.
    pub fn split_retractions(&self) -> (Vec<u32>, Vec<u32>) {
        let mut writes = Vec::with_capacity(self.num_rows());
        let mut deletes = Vec::new();
        for i in 0..self.num_rows() {
            if self.is_retraction(i) {
                deletes.push(i as u32);
            } else {
                writes.push(i as u32);
            }
        }
        (writes, deletes)
    }

    /// The rows at `indices`, in that order.
    pub fn take(&self, indices: &[u32]) -> Result<Self> {
        let idx = UInt32Array::from(indices.to_vec());
        let rows = take_record_batch(&self.rows, &idx)?;
        let kinds = match &self.kinds {
            Some(k) => Some(
                datafusion::arrow::compute::take(k, &idx, None)?
                    .as_primitive::<Int8Type>()
                    .clone(),
            ),
            None => None,
        };
        Ok(Self { rows, kinds })
    }

    /// `len` rows from `offset` (zero-copy).
    pub fn slice(&self, offset: usize, len: usize) -> Self {
        Self {
            rows: self.rows.slice(offset, len),
            kinds: self.kinds.as_ref().map(|k| k.slice(offset, len)),
        }
    }

    /// Row `row` as Flink prints it, e.g. `+I[1, abc]`, cut after `limit`
    /// characters so one huge value cannot flood a log or error message.
    pub fn describe_row(&self, row: usize, limit: usize) -> String {
        let formatter = RowFormatter::new(
            self.rows.columns().iter().map(|c| c.as_ref()),
            DisplayStyle::Print,
        );
        let mut out = String::new();
        out.push_str(self.kind(row).short());
        out.push('[');
        formatter.write(&mut out, row);
        out.push(']');
        truncate(out, limit)
    }

    /// `name=value` pairs of the given columns for row `row`, e.g.
    /// `id=7, region=eu` — how errors name a row by its key.
    pub fn describe_columns(&self, row: usize, columns: &[usize]) -> String {
        let schema = self.rows.schema();
        let mut out = String::new();
        for (n, c) in columns.iter().enumerate() {
            if n > 0 {
                out.push_str(", ");
            }
            out.push_str(schema.field(*c).name());
            out.push('=');
            let array = self.rows.column(*c);
            sluice_engine::display::ValueFormatter::new(array.as_ref(), DisplayStyle::Print)
                .write(&mut out, row);
        }
        truncate(out, 200)
    }
}

/// Gives `batch` the sink's schema (names and nullability) when only those
/// differ, as they may after the engine's relabelling.
fn with_schema(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    if batch.schema_ref() == schema {
        return Ok(batch);
    }
    if batch.num_columns() != schema.fields().len() {
        return Err(SluiceError::execution(format!(
            "sink expects {} columns, got {}",
            schema.fields().len(),
            batch.num_columns()
        )));
    }
    let options =
        datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(schema),
        batch.columns().to_vec(),
        &options,
    )?)
}

fn truncate(mut s: String, limit: usize) -> String {
    if s.len() > limit {
        let mut cut = limit;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}
