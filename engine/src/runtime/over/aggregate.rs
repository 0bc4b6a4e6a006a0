//! OVER aggregation: `agg(x) OVER (PARTITION BY k ORDER BY t ROWS|RANGE
//! BETWEEN .. PRECEDING AND CURRENT ROW)` ordered by a time attribute.
//!
//! Event time: rows wait until the watermark passes their timestamp, then
//! each key's rows are processed in time order (Flink's rule; a row at or
//! below the watermark on arrival is late, dropped and counted). Processing
//! time: rows are processed as they arrive. Either way every input row is
//! emitted once with the aggregates over its frame, append-only.
//!
//! Each key keeps one set of accumulators; a bounded frame (`n PRECEDING`,
//! `INTERVAL .. PRECEDING`) also keeps the inputs of the rows still in it so
//! they can be retracted when they leave. Rows are handled as array slices,
//! so a key's consecutive rows update its accumulators in one call.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{SortColumn, concat_batches, lexsort_to_indices, min, take};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::row::Rows;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Accumulator;
use datafusion::physical_expr::PhysicalExpr;

use crate::error::{Result, SluiceError};
use crate::runtime::aggregate::AggregateCalls;
use crate::runtime::aggregate::functions::{CallInputs, evaluate_all, result_column};
use crate::runtime::aggregate::keys::{Key, KeyCodec};
use crate::runtime::metrics::OperatorMetrics;
use crate::runtime::operator::{BatchOrigin, Event, Operator, now_millis};
use crate::runtime::state::{OperatorState, RowWriter, SnapshotReader, SnapshotWriter};
use crate::runtime::window::assign::millis;

/// Which rows before the current one are in its frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverFrame {
    /// `UNBOUNDED PRECEDING`.
    Unbounded,
    /// `ROWS BETWEEN n PRECEDING AND CURRENT ROW`.
    Rows(usize),
    /// `RANGE BETWEEN INTERVAL .. PRECEDING AND CURRENT ROW`, in ms.
    Range(i64),
}

/// Plan-time description of an OVER aggregation.
#[derive(Debug, Clone)]
pub struct OverAggregateSpec {
    pub partition: Vec<Arc<dyn PhysicalExpr>>,
    pub partition_types: Vec<DataType>,
    /// The ORDER BY time attribute's input column (event time), or `None`
    /// for processing time.
    pub rowtime: Option<usize>,
    pub frame: OverFrame,
    /// RANGE frames treat rows with the same timestamp as peers: they share
    /// one result that includes them all.
    pub peers: bool,
    pub calls: AggregateCalls,
    /// Output: the input's columns, then one per call.
    pub schema: SchemaRef,
}

/// Each row's encoded partition key; without PARTITION BY every row has
/// the same, empty key.
struct RowKeys(Option<Rows>);

impl RowKeys {
    fn row(&self, i: usize) -> &[u8] {
        match &self.0 {
            Some(rows) => rows.row(i).data(),
            None => &[],
        }
    }
}

/// One key's state.
struct KeyState {
    accs: Vec<Box<dyn Accumulator>>,
    /// Rows in a bounded frame: timestamp and single-row inputs.
    frame: VecDeque<(i64, CallInputs)>,
}

/// The operator.
pub struct OverAggregateOperator {
    spec: OverAggregateSpec,
    keys: KeyCodec,
    state: HashMap<Key, KeyState>,
    /// Event time: rows waiting for the watermark.
    /// Event time: rows waiting for the watermark, each batch with its
    /// earliest timestamp so a watermark below it skips the batch untouched.
    pending: Vec<(i64, RecordBatch)>,
    watermark: i64,
    metrics: Arc<OperatorMetrics>,
}

impl OverAggregateOperator {
    pub fn new(spec: OverAggregateSpec, metrics: Arc<OperatorMetrics>) -> Result<Self> {
        let keys = KeyCodec::new(spec.partition.clone(), &spec.partition_types)?;
        Ok(OverAggregateOperator {
            spec,
            keys,
            state: HashMap::new(),
            pending: Vec::new(),
            watermark: i64::MIN,
            metrics,
        })
    }

    fn encode(&self, batch: &RecordBatch) -> Result<RowKeys> {
        Ok(RowKeys(if self.spec.partition.is_empty() {
            None
        } else {
            Some(self.keys.encode(batch)?)
        }))
    }

    /// Processes `rows` (already in time order within each key) and emits
    /// them with their aggregates.
    fn run(&mut self, rows: RecordBatch, ts: &[i64], out: &mut Vec<Event>) -> Result<()> {
        let n = rows.num_rows();
        if n == 0 {
            return Ok(());
        }
        let keys = self.encode(&rows)?;
        let inputs = self.spec.calls.inputs(&rows)?;
        let mut results: Vec<Vec<ScalarValue>> = Vec::with_capacity(n);
        let mut i = 0;
        while i < n {
            // A run of rows of one key; with peers, of one key and timestamp.
            let mut j = i + 1;
            while j < n && keys.row(j) == keys.row(i) && (!self.spec.peers || ts[j] == ts[i]) {
                j += 1;
            }
            let key = keys.row(i);
            if !self.state.contains_key(key) {
                let accs = self.spec.calls.accumulators()?;
                self.state.insert(
                    Key::from(key),
                    KeyState {
                        accs,
                        frame: VecDeque::new(),
                    },
                );
            }
            let Some(state) = self.state.get_mut(key) else {
                continue;
            };
            if self.spec.peers {
                advance(&self.spec, state, &inputs, i, j - i, ts[i])?;
                let r = evaluate_all(&mut state.accs)?;
                results.extend(std::iter::repeat_n(r, j - i));
            } else {
                for (row, t) in ts.iter().enumerate().take(j).skip(i) {
                    advance(&self.spec, state, &inputs, row, 1, *t)?;
                    results.push(evaluate_all(&mut state.accs)?);
                }
            }
            i = j;
        }
        let mut columns = rows.columns().to_vec();
        let base = columns.len();
        for c in 0..self.spec.calls.calls.len() {
            let want = self.spec.schema.field(base + c).data_type();
            columns.push(result_column(&results, c, want)?);
        }
        out.push(Event::Batch(RecordBatch::try_new(
            Arc::clone(&self.spec.schema),
            columns,
        )?));
        Ok(())
    }

    fn push_pending(&mut self, batch: RecordBatch, rowtime: usize) -> Result<()> {
        let earliest = min(&millis(batch.column(rowtime))?).unwrap_or(i64::MAX);
        self.pending.push((earliest, batch));
        Ok(())
    }

    /// Event time: processes every pending row at or below `watermark`, in
    /// (key, time, arrival) order.
    fn fire(&mut self, watermark: i64, out: &mut Vec<Event>) -> Result<()> {
        let Some(rowtime) = self.spec.rowtime else {
            return Ok(());
        };
        let (touched, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(earliest, _)| *earliest <= watermark);
        self.pending = waiting;
        let Some((_, first)) = touched.first() else {
            return Ok(());
        };
        let batches: Vec<RecordBatch> = touched.iter().map(|(_, b)| b.clone()).collect();
        let all = concat_batches(&first.schema(), &batches)?;
        let ts = millis(all.column(rowtime))?;
        let (ready, rest): (Vec<u32>, Vec<u32>) =
            (0..all.num_rows() as u32).partition(|i| ts.value(*i as usize) <= watermark);
        if !rest.is_empty() {
            self.push_pending(take_rows(&all, &UInt32Array::from(rest))?, rowtime)?;
        }
        let ready = take_rows(&all, &UInt32Array::from(ready))?;
        // Sort by key, then time; the position breaks ties, so rows with
        // equal timestamps keep their arrival order.
        let key_columns = self
            .spec
            .partition
            .iter()
            .map(|e| Ok(e.evaluate(&ready)?.into_array(ready.num_rows())?))
            .collect::<Result<Vec<ArrayRef>>>()?;
        let mut sort: Vec<SortColumn> = key_columns
            .into_iter()
            .map(|values| SortColumn {
                values,
                options: None,
            })
            .collect();
        sort.push(SortColumn {
            values: Arc::new(millis(ready.column(rowtime))?),
            options: None,
        });
        sort.push(SortColumn {
            values: Arc::new(UInt32Array::from_iter_values(0..ready.num_rows() as u32)),
            options: None,
        });
        let order = lexsort_to_indices(&sort, None)?;
        let sorted = take_rows(&ready, &order)?;
        let ts = millis(sorted.column(rowtime))?;
        self.run(sorted, ts.values(), out)
    }
}

/// Adds rows `offset..offset+len` (timestamp `ts`) to a key's frame, first
/// retracting what leaves it.
fn advance(
    spec: &OverAggregateSpec,
    state: &mut KeyState,
    inputs: &CallInputs,
    offset: usize,
    len: usize,
    ts: i64,
) -> Result<()> {
    if spec.frame != OverFrame::Unbounded {
        for row in offset..offset + len {
            state.frame.push_back((ts, slice_inputs(inputs, row)));
        }
    }
    let leaving = match spec.frame {
        OverFrame::Unbounded => 0,
        // n PRECEDING keeps n + 1 rows: the current one and n before it.
        OverFrame::Rows(n) => state.frame.len().saturating_sub(n + 1),
        OverFrame::Range(ms) => state
            .frame
            .iter()
            .take_while(|(t, _)| *t < ts.saturating_sub(ms))
            .count(),
    };
    for (_, old) in state.frame.drain(..leaving) {
        old.apply(&mut state.accs, 0, 1, true)?;
    }
    inputs.apply(&mut state.accs, offset, len, false)
}

/// One row's inputs, as zero-copy slices.
fn slice_inputs(inputs: &CallInputs, row: usize) -> CallInputs {
    CallInputs {
        args: inputs
            .args
            .iter()
            .map(|a| a.iter().map(|c| c.slice(row, 1)).collect())
            .collect(),
        masks: inputs
            .masks
            .iter()
            .map(|m| m.as_ref().map(|m| m.slice(row, 1)))
            .collect(),
    }
}

fn take_rows(batch: &RecordBatch, idx: &UInt32Array) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .map(|c| Ok(take(c.as_ref(), idx, None)?))
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

impl Operator for OverAggregateOperator {
    fn process(
        &mut self,
        batch: RecordBatch,
        _origin: BatchOrigin,
        out: &mut Vec<Event>,
    ) -> Result<()> {
        let Some(rowtime) = self.spec.rowtime else {
            // Processing time: the batch's rows in arrival order, per key.
            let now = now_millis();
            let keys = self.encode(&batch)?;
            let mut order: Vec<u32> = (0..batch.num_rows() as u32).collect();
            // Stable: a key's rows keep their arrival order.
            order.sort_by(|a, b| keys.row(*a as usize).cmp(keys.row(*b as usize)));
            let sorted = take_rows(&batch, &UInt32Array::from(order))?;
            let ts = vec![now; sorted.num_rows()];
            return self.run(sorted, &ts, out);
        };
        let ts = millis(batch.column(rowtime))?;
        let late: Vec<bool> = ts.values().iter().map(|t| *t <= self.watermark).collect();
        let n_late = late.iter().filter(|l| **l).count();
        if n_late == 0 {
            return self.push_pending(batch, rowtime);
        }
        self.metrics.add_late_dropped(n_late);
        let keep: Vec<u32> = (0..batch.num_rows() as u32)
            .filter(|i| !late[*i as usize])
            .collect();
        if keep.is_empty() {
            return Ok(());
        }
        self.push_pending(take_rows(&batch, &UInt32Array::from(keep))?, rowtime)
    }

    fn on_watermark(&mut self, watermark: i64, out: &mut Vec<Event>) -> Result<()> {
        self.watermark = self.watermark.max(watermark);
        self.fire(self.watermark, out)?;
        out.push(Event::Watermark(watermark));
        Ok(())
    }

    fn on_end(&mut self, out: &mut Vec<Event>) -> Result<()> {
        self.fire(i64::MAX, out)
    }

    fn state(&mut self) -> Option<&mut dyn OperatorState> {
        Some(self)
    }
}

/// The watermark; per key its accumulators (`keys`) and the rows still in
/// its bounded frame (`frame`: key, time, each call's arguments and filter
/// value, oldest first); rows waiting for the watermark as they arrived.
impl OperatorState for OverAggregateOperator {
    fn snapshot(&mut self) -> Result<Vec<RecordBatch>> {
        let mut w = SnapshotWriter::new();
        w.watermark(self.watermark)?;
        let (mut keys, mut frames) = (Vec::new(), Vec::new());
        for (key, state) in self.state.iter_mut() {
            for (ts, inputs) in &state.frame {
                let mut row = RowWriter::new().bytes(key).i64(*ts);
                for (args, mask) in inputs.args.iter().zip(&inputs.masks) {
                    for a in args {
                        row = row.scalar(ScalarValue::try_from_array(a, 0)?);
                    }
                    if let Some(m) = mask {
                        row = row.scalar(ScalarValue::try_from_array(m, 0)?);
                    }
                }
                frames.push(row);
            }
            keys.push(RowWriter::new().bytes(key).accumulators(&mut state.accs)?);
        }
        w.rows("keys", keys)?;
        w.rows("frame", frames)?;
        for (_, b) in &self.pending {
            w.batch("pending", b)?;
        }
        Ok(w.finish())
    }

    fn restore(&mut self, snapshot: &[RecordBatch]) -> Result<()> {
        let r = SnapshotReader::new(snapshot, &["meta", "keys", "frame", "pending"])?;
        self.watermark = r.watermark()?;
        self.state.clear();
        for mut row in r.rows("keys") {
            let key = row.bytes()?;
            let accs = row.accumulators(&self.spec.calls)?;
            let frame = VecDeque::new();
            self.state.insert(key, KeyState { accs, frame });
        }
        for mut row in r.rows("frame") {
            let key = row.bytes()?;
            let ts = row.i64()?;
            let mut inputs = CallInputs {
                args: Vec::new(),
                masks: Vec::new(),
            };
            for c in &self.spec.calls.calls {
                let args = (0..c.expr.expressions().len())
                    .map(|_| Ok(row.scalar()?.to_array()?))
                    .collect::<Result<Vec<_>>>()?;
                inputs.args.push(args);
                inputs.masks.push(match c.filter {
                    Some(_) => Some(row.scalar()?.to_array()?.as_boolean().clone()),
                    None => None,
                });
            }
            let Some(state) = self.state.get_mut(&key) else {
                return Err(SluiceError::state("a frame row of a key without state"));
            };
            state.frame.push_back((ts, inputs));
        }
        self.pending.clear();
        if let Some(rowtime) = self.spec.rowtime {
            for b in r.batches("pending")? {
                self.push_pending(b, rowtime)?;
            }
        }
        Ok(())
    }
}
