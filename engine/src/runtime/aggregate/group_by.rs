//! Non-windowed GROUP BY (and SELECT DISTINCT): an updating result. Each
//! change to a group's result is emitted as Flink does — `+I` for a new
//! group, `-U` old / `+U` new for a changed one, `-D` when its last row is
//! retracted — with the row kind in the batch's last column.
//!
//! Without mini-batch every input row is applied and emitted on its own, so
//! the changelog is exactly Flink's; with `table.exec.mini-batch.enabled`
//! rows are buffered and each key emits at most one update per mini-batch.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{ArrayRef, AsArray, Int8Array, RecordBatch, RecordBatchOptions};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Int8Type, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Accumulator;
use datafusion::physical_expr::PhysicalExpr;

use super::functions::{AggregateCalls, CallInputs, evaluate_all, result_column};
use super::keys::{Key, KeyCodec};
use crate::connector::RowKind;
use crate::error::{Result, SluiceError};
use crate::runtime::operator::{BatchOrigin, Event, Operator};
use crate::runtime::state::{OperatorState, RowWriter, SnapshotReader, SnapshotWriter};

/// Plan-time description of a GROUP BY.
#[derive(Debug, Clone)]
pub struct GroupAggregateSpec {
    pub keys: Vec<Arc<dyn PhysicalExpr>>,
    pub key_types: Vec<DataType>,
    pub calls: AggregateCalls,
    /// Output schema including the trailing row-kind column.
    pub schema: SchemaRef,
    /// The input carries a row-kind column (its last).
    pub input_updating: bool,
    pub state_ttl: Option<Duration>,
    /// `(allow-latency, size)` when mini-batch is on.
    pub mini_batch: Option<(Duration, usize)>,
}

struct Group {
    accs: Vec<Box<dyn Accumulator>>,
    count: i64,
    last: Option<Vec<ScalarValue>>,
    touched: Instant,
}

/// Rows to emit, gathered while processing.
#[derive(Default)]
struct Changes {
    keys: Vec<Key>,
    values: Vec<Vec<ScalarValue>>,
    kinds: Vec<i8>,
}

impl Changes {
    fn push(&mut self, key: &Key, values: Vec<ScalarValue>, kind: RowKind) {
        self.keys.push(key.clone());
        self.values.push(values);
        self.kinds.push(kind as i8);
    }
}

/// The operator.
pub struct GroupAggregateOperator {
    spec: GroupAggregateSpec,
    codec: KeyCodec,
    groups: HashMap<Key, Group>,
    buffered: Vec<RecordBatch>,
    buffered_rows: usize,
    buffer_since: Option<Instant>,
}

impl GroupAggregateOperator {
    pub fn new(spec: GroupAggregateSpec) -> Result<Self> {
        let codec = KeyCodec::new(spec.keys.clone(), &spec.key_types)?;
        Ok(GroupAggregateOperator {
            spec,
            codec,
            groups: HashMap::new(),
            buffered: Vec::new(),
            buffered_rows: 0,
            buffer_since: None,
        })
    }

    fn kinds(&self, batch: &RecordBatch) -> Option<Vec<bool>> {
        self.spec.input_updating.then(|| {
            let k = batch
                .column(batch.num_columns() - 1)
                .as_primitive::<Int8Type>();
            k.values()
                .iter()
                .map(|v| *v == RowKind::UpdateBefore as i8 || *v == RowKind::Delete as i8)
                .collect()
        })
    }

    /// Applies rows `off..off+len` of `inputs` to the group `key`.
    fn apply(
        &mut self,
        key: &Key,
        inputs: &CallInputs,
        off: usize,
        len: usize,
        retract: bool,
    ) -> Result<bool> {
        let now = Instant::now();
        if !self.groups.contains_key(key) {
            if retract {
                // A retraction for a group we do not know (expired by TTL): ignore.
                return Ok(false);
            }
            self.groups.insert(
                key.clone(),
                Group {
                    accs: self.spec.calls.accumulators()?,
                    count: 0,
                    last: None,
                    touched: now,
                },
            );
        }
        let g = self.groups.get_mut(key).expect("inserted above");
        inputs.apply(&mut g.accs, off, len, retract)?;
        g.count += if retract { -(len as i64) } else { len as i64 };
        g.touched = now;
        Ok(true)
    }

    /// Emits the change of `key`'s result since it was last emitted.
    fn emit_change(&mut self, key: &Key, changes: &mut Changes) -> Result<()> {
        let Some(g) = self.groups.get_mut(key) else {
            return Ok(());
        };
        if g.count <= 0 {
            if let Some(last) = g.last.take() {
                changes.push(key, last, RowKind::Delete);
            }
            self.groups.remove(key);
            return Ok(());
        }
        let new = evaluate_all(&mut g.accs)?;
        match g.last.take() {
            None => changes.push(key, new.clone(), RowKind::Insert),
            Some(old) if old != new => {
                changes.push(key, old, RowKind::UpdateBefore);
                changes.push(key, new.clone(), RowKind::UpdateAfter);
            }
            Some(_) => {}
        }
        g.last = Some(new);
        Ok(())
    }

    /// Row by row, in input order: Flink's changelog exactly.
    fn process_rows(&mut self, batch: &RecordBatch, changes: &mut Changes) -> Result<()> {
        let grouped = self.codec.group(batch)?;
        let inputs = self.spec.calls.inputs(batch)?;
        let retracts = self.kinds(batch);
        for (row, g) in grouped.group_of_row.iter().enumerate() {
            let key = &grouped.keys[*g as usize];
            let retract = retracts.as_ref().is_some_and(|r| r[row]);
            if self.apply(key, &inputs, row, 1, retract)? {
                self.emit_change(key, changes)?;
            }
        }
        Ok(())
    }

    /// A whole mini-batch at once: one change per key.
    fn process_coalesced(&mut self, batch: &RecordBatch, changes: &mut Changes) -> Result<()> {
        let grouped = self.codec.group(batch)?;
        let inputs = self.spec.calls.inputs(batch)?.take(&grouped.order)?;
        let retracts = self.kinds(batch);
        let order = grouped.order.values();
        for (key, (off, len)) in grouped.keys.iter().zip(grouped.ranges) {
            let mut applied = false;
            // Runs of accumulating / retracting rows, in input order.
            let mut start = off;
            while start < off + len {
                let r = |i: usize| retracts.as_ref().is_some_and(|k| k[order[i] as usize]);
                let kind = r(start);
                let mut end = start + 1;
                while end < off + len && r(end) == kind {
                    end += 1;
                }
                applied |= self.apply(key, &inputs, start, end - start, kind)?;
                start = end;
            }
            if applied {
                self.emit_change(key, changes)?;
            }
        }
        Ok(())
    }

    fn output(&self, changes: Changes, out: &mut Vec<Event>) -> Result<()> {
        let n = changes.kinds.len();
        if n == 0 {
            return Ok(());
        }
        let mut cols: Vec<ArrayRef> = self.codec.decode(changes.keys.iter())?;
        for c in 0..self.spec.calls.calls.len() {
            let want = self.spec.schema.field(cols.len()).data_type();
            cols.push(result_column(&changes.values, c, want)?);
        }
        cols.push(Arc::new(Int8Array::from(changes.kinds)));
        out.push(Event::Batch(RecordBatch::try_new_with_options(
            Arc::clone(&self.spec.schema),
            cols,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )?));
        Ok(())
    }

    fn flush_buffer(&mut self, out: &mut Vec<Event>) -> Result<()> {
        if self.buffered.is_empty() {
            return Ok(());
        }
        let schema = self.buffered[0].schema();
        let batch = concat_batches(&schema, &self.buffered)?;
        self.buffered.clear();
        self.buffered_rows = 0;
        self.buffer_since = None;
        let mut changes = Changes::default();
        self.process_coalesced(&batch, &mut changes)?;
        self.output(changes, out)
    }
}

impl Operator for GroupAggregateOperator {
    fn process(&mut self, batch: RecordBatch, _: BatchOrigin, out: &mut Vec<Event>) -> Result<()> {
        if let Some((_, size)) = self.spec.mini_batch {
            self.buffered_rows += batch.num_rows();
            self.buffered.push(batch);
            self.buffer_since.get_or_insert_with(Instant::now);
            if self.buffered_rows >= size {
                self.flush_buffer(out)?;
            }
            return Ok(());
        }
        let mut changes = Changes::default();
        self.process_rows(&batch, &mut changes)?;
        self.output(changes, out)
    }

    fn on_watermark(&mut self, watermark: i64, out: &mut Vec<Event>) -> Result<()> {
        self.flush_buffer(out)?;
        out.push(Event::Watermark(watermark));
        Ok(())
    }

    fn tick_interval(&self) -> Option<Duration> {
        let mb = self
            .spec
            .mini_batch
            .map(|(lat, _)| lat.max(Duration::from_millis(1)));
        let ttl = self
            .spec
            .state_ttl
            .map(|t| (t / 4).max(Duration::from_millis(10)));
        match (mb, ttl) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_tick(&mut self, _now: i64, out: &mut Vec<Event>) -> Result<()> {
        if let (Some((latency, _)), Some(since)) = (self.spec.mini_batch, self.buffer_since)
            && since.elapsed() >= latency
        {
            self.flush_buffer(out)?;
        }
        if let Some(ttl) = self.spec.state_ttl {
            // Flink's state TTL: a key untouched for `ttl` is forgotten (its
            // last result stays where it was emitted).
            self.groups.retain(|_, g| g.touched.elapsed() < ttl);
        }
        Ok(())
    }

    fn on_end(&mut self, out: &mut Vec<Event>) -> Result<()> {
        self.flush_buffer(out)
    }

    fn state(&mut self) -> Option<&mut dyn OperatorState> {
        Some(self)
    }
}

/// Per group: key, row count, idle age (ms, for the TTL), the last emitted
/// result, the accumulators. A mini-batch not flushed yet is kept as the
/// rows it buffered.
impl OperatorState for GroupAggregateOperator {
    fn snapshot(&mut self) -> Result<Vec<RecordBatch>> {
        let mut w = SnapshotWriter::new();
        let mut rows = Vec::with_capacity(self.groups.len());
        for (key, g) in self.groups.iter_mut() {
            // Every group has emitted once it has been applied (see `apply`
            // and `emit_change`), so `last` is always there between events.
            let Some(last) = &g.last else {
                return Err(SluiceError::state("a group without an emitted result"));
            };
            let age = g.touched.elapsed().as_millis() as i64;
            let mut row = RowWriter::new().bytes(key).i64(g.count).i64(age);
            for v in last {
                row = row.scalar(v.clone());
            }
            rows.push(row.accumulators(&mut g.accs)?);
        }
        w.rows("groups", rows)?;
        for b in &self.buffered {
            w.batch("buffer", b)?;
        }
        Ok(w.finish())
    }

    fn restore(&mut self, snapshot: &[RecordBatch]) -> Result<()> {
        let r = SnapshotReader::new(snapshot, &["groups", "buffer"])?;
        let now = Instant::now();
        self.groups.clear();
        for mut row in r.rows("groups") {
            let key = row.bytes()?;
            let count = row.i64()?;
            let age = Duration::from_millis(row.i64()?.max(0) as u64);
            let last = (0..self.spec.calls.calls.len())
                .map(|_| row.scalar())
                .collect::<Result<Vec<_>>>()?;
            let accs = row.accumulators(&self.spec.calls)?;
            let group = Group {
                accs,
                count,
                last: Some(last),
                touched: now.checked_sub(age).unwrap_or(now),
            };
            self.groups.insert(key, group);
        }
        self.buffered = r.batches("buffer")?;
        self.buffered_rows = self.buffered.iter().map(|b| b.num_rows()).sum();
        self.buffer_since = (!self.buffered.is_empty()).then_some(now);
        Ok(())
    }
}
