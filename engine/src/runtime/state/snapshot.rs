//! How operators lay their state out as Arrow batches.
//!
//! A snapshot is a list of batches, each tagged in its schema metadata with
//! what it holds (`groups`, `panes`, `pending`, ..), so an operator restores
//! its own layout and rejects anything else with an error instead of
//! misreading it. Keyed state is written one row per entry: the encoded key
//! as bytes, the entry's scalars, then each accumulator's partial state —
//! the state DataFusion merges in two-phase aggregation — so restoring is a
//! `merge_batch` into fresh accumulators and works for every aggregate,
//! built-in or user-defined, without knowing its internals.
//!
//! Snapshots are not on the hot path (they are taken at checkpoints), so
//! rows go through `ScalarValue`s for a layout every operator can share.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Field, Int64Type, Schema};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Accumulator;

use crate::error::{Result, SluiceError};
use crate::runtime::aggregate::AggregateCalls;

/// The schema metadata key naming what a snapshot batch holds.
const TAG: &str = "sluice.state";

/// One state row being written, column by column.
#[derive(Debug, Default)]
pub struct RowWriter(Vec<ScalarValue>);

impl RowWriter {
    /// Starts a row.
    pub fn new() -> Self {
        RowWriter::default()
    }

    pub fn i64(mut self, v: i64) -> Self {
        self.0.push(ScalarValue::Int64(Some(v)));
        self
    }

    pub fn opt_i64(mut self, v: Option<i64>) -> Self {
        self.0.push(ScalarValue::Int64(v));
        self
    }

    pub fn bool(mut self, v: bool) -> Self {
        self.0.push(ScalarValue::Boolean(Some(v)));
        self
    }

    pub fn bytes(mut self, v: &[u8]) -> Self {
        self.0.push(ScalarValue::Binary(Some(v.to_vec())));
        self
    }

    /// Any value; every row of a table must give this column one type.
    pub fn scalar(mut self, v: ScalarValue) -> Self {
        self.0.push(v);
        self
    }

    /// Each accumulator's partial state, field by field.
    pub fn accumulators(mut self, accs: &mut [Box<dyn Accumulator>]) -> Result<Self> {
        for acc in accs {
            self.0.extend(acc.state()?);
        }
        Ok(self)
    }
}

/// Builds one operator's snapshot.
#[derive(Debug, Default)]
pub struct SnapshotWriter {
    batches: Vec<RecordBatch>,
}

fn tagged(schema: &Schema, tag: &str) -> Arc<Schema> {
    let mut metadata = schema.metadata().clone();
    metadata.insert(TAG.to_string(), tag.to_string());
    Arc::new(schema.clone().with_metadata(metadata))
}

impl SnapshotWriter {
    pub fn new() -> Self {
        SnapshotWriter::default()
    }

    /// Adds `rows` as one batch tagged `tag` (nothing when there are none).
    pub fn rows(&mut self, tag: &str, rows: Vec<RowWriter>) -> Result<()> {
        let Some(first) = rows.first() else {
            return Ok(());
        };
        let width = first.0.len();
        if let Some(r) = rows.iter().find(|r| r.0.len() != width) {
            return Err(SluiceError::state(format!(
                "'{tag}' rows of {} and {width} columns",
                r.0.len()
            )));
        }
        let mut columns = Vec::with_capacity(width);
        for c in 0..width {
            let col = ScalarValue::iter_to_array(rows.iter().map(|r| r.0[c].clone()))
                .map_err(|e| SluiceError::state(format!("'{tag}' column {c}: {e}")))?;
            columns.push(col);
        }
        let fields: Vec<Field> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
            .collect();
        let schema = tagged(&Schema::new(fields), tag);
        self.batches.push(RecordBatch::try_new(schema, columns)?);
        Ok(())
    }

    /// Adds rows kept as they arrived (input waiting for a watermark or a
    /// mini-batch flush), tagged `tag`.
    pub fn batch(&mut self, tag: &str, batch: &RecordBatch) -> Result<()> {
        let schema = tagged(batch.schema().as_ref(), tag);
        self.batches
            .push(RecordBatch::try_new(schema, batch.columns().to_vec())?);
        Ok(())
    }

    /// Scalars of the operator itself (its watermark, counters): one row
    /// tagged `meta`.
    pub fn meta(&mut self, row: RowWriter) -> Result<()> {
        self.rows("meta", vec![row])
    }

    /// An event-time operator's watermark, as its `meta` row.
    pub fn watermark(&mut self, watermark: i64) -> Result<()> {
        self.meta(RowWriter::new().i64(watermark))
    }

    pub fn finish(self) -> Vec<RecordBatch> {
        self.batches
    }
}

/// Reads a snapshot back, checking it holds only what the operator keeps.
pub struct SnapshotReader<'a> {
    batches: Vec<(&'a str, &'a RecordBatch)>,
}

impl<'a> SnapshotReader<'a> {
    /// `known` lists the tags this operator writes.
    pub fn new(snapshot: &'a [RecordBatch], known: &[&str]) -> Result<Self> {
        let mut batches = Vec::with_capacity(snapshot.len());
        for b in snapshot {
            let tag = b
                .schema_ref()
                .metadata()
                .get(TAG)
                .map(String::as_str)
                .ok_or_else(|| SluiceError::state("a snapshot batch without a tag"))?;
            if !known.contains(&tag) {
                return Err(SluiceError::state(format!(
                    "the snapshot holds '{tag}', which this operator does not keep \
                     (taken by another operator?)"
                )));
            }
            batches.push((tag, b));
        }
        Ok(SnapshotReader { batches })
    }

    /// The rows of every table tagged `tag`.
    pub fn rows(&self, tag: &str) -> impl Iterator<Item = RowReader<'a>> + '_ {
        let tag = tag.to_string();
        self.batches
            .iter()
            .filter(move |(t, _)| *t == tag)
            .flat_map(|(_, b)| {
                (0..b.num_rows()).map(move |row| RowReader {
                    batch: b,
                    row,
                    col: 0,
                })
            })
    }

    /// The `meta` row, if one was written.
    pub fn meta(&self) -> Option<RowReader<'a>> {
        self.rows("meta").next()
    }

    /// The watermark written by [`SnapshotWriter::watermark`] (none yet
    /// when there is no `meta` row).
    pub fn watermark(&self) -> Result<i64> {
        match self.meta() {
            Some(mut m) => m.i64(),
            None => Ok(i64::MIN),
        }
    }

    /// The batches tagged `tag`, with the tag taken off again.
    pub fn batches(&self, tag: &str) -> Result<Vec<RecordBatch>> {
        self.batches
            .iter()
            .filter(|(t, _)| *t == tag)
            .map(|(_, b)| {
                let mut metadata: HashMap<String, String> = b.schema_ref().metadata().clone();
                metadata.remove(TAG);
                let schema = Schema::new(b.schema_ref().fields().clone()).with_metadata(metadata);
                Ok(RecordBatch::try_new(
                    Arc::new(schema),
                    b.columns().to_vec(),
                )?)
            })
            .collect()
    }
}

/// One state row being read, column by column in the order it was written.
pub struct RowReader<'a> {
    batch: &'a RecordBatch,
    row: usize,
    col: usize,
}

impl RowReader<'_> {
    fn next(&mut self) -> Result<&ArrayRef> {
        let c = self.col;
        self.col += 1;
        self.batch.columns().get(c).ok_or_else(|| {
            SluiceError::state(format!(
                "a snapshot row has {} columns, more were expected",
                self.batch.num_columns()
            ))
        })
    }

    fn mismatch(&self, want: &str) -> SluiceError {
        SluiceError::state(format!(
            "snapshot column {} is not {want}",
            self.col.saturating_sub(1)
        ))
    }

    pub fn opt_i64(&mut self) -> Result<Option<i64>> {
        let row = self.row;
        let col = self.next()?;
        let Some(a) = col.as_primitive_opt::<Int64Type>() else {
            return Err(self.mismatch("BIGINT"));
        };
        Ok(a.is_valid(row).then(|| a.value(row)))
    }

    pub fn i64(&mut self) -> Result<i64> {
        self.opt_i64()?
            .ok_or_else(|| SluiceError::state("a NULL where a number was written"))
    }

    pub fn bool(&mut self) -> Result<bool> {
        let row = self.row;
        let col = self.next()?;
        let Some(a) = col.as_boolean_opt() else {
            return Err(self.mismatch("BOOLEAN"));
        };
        Ok(a.value(row))
    }

    pub fn bytes(&mut self) -> Result<Box<[u8]>> {
        let row = self.row;
        let col = self.next()?;
        let Some(a) = col.as_binary_opt::<i32>() else {
            return Err(self.mismatch("BYTES"));
        };
        Ok(a.value(row).into())
    }

    pub fn scalar(&mut self) -> Result<ScalarValue> {
        let row = self.row;
        Ok(ScalarValue::try_from_array(self.next()?, row)?)
    }

    /// Fresh accumulators for `calls`, each merged with the partial state
    /// written by [`RowWriter::accumulators`].
    pub fn accumulators(&mut self, calls: &AggregateCalls) -> Result<Vec<Box<dyn Accumulator>>> {
        let mut accs = calls.accumulators()?;
        let row = self.row;
        for acc in accs.iter_mut() {
            let width = acc.state()?.len();
            let mut state = Vec::with_capacity(width);
            for _ in 0..width {
                state.push(self.next()?.slice(row, 1));
            }
            acc.merge_batch(&state)?;
        }
        Ok(accs)
    }
}
