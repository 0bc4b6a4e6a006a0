//! Window aggregation over panes. Rows are aggregated into the pane they fall
//! in (per key); when the watermark passes a window's last millisecond the
//! window's panes are combined — two-phase: each pane's partial accumulator
//! state is merged into a fresh final accumulator — and the result emitted.
//! Results are final, so the output is append-only.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Accumulator;

use super::assign::{millis, timestamps};
use super::spec::WindowSpec;
use crate::error::Result;
use crate::runtime::OperatorMetrics;
use crate::runtime::aggregate::functions::{
    AggregateCalls, evaluate_all, merge_states, result_column,
};
use crate::runtime::aggregate::keys::{Key, KeyCodec};
use crate::runtime::operator::{BatchOrigin, Event, Operator};
use crate::runtime::state::{OperatorState, RowWriter, SnapshotReader, SnapshotWriter};

/// Where an output column of a window aggregate comes from (the group-by
/// columns, in order; the aggregate values follow them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupColumn {
    /// The i-th non-window key.
    Key(usize),
    Start,
    End,
    Time,
}

/// Everything the window aggregate needs, decided at plan time.
#[derive(Debug, Clone)]
pub struct WindowAggregateSpec {
    pub window: WindowSpec,
    /// Input column with the row's pane end (`window_end` of the pane assigner).
    pub pane_col: usize,
    /// Non-window group keys, as expressions over the input, and their types.
    pub keys: Vec<Arc<dyn datafusion::physical_expr::PhysicalExpr>>,
    pub key_types: Vec<DataType>,
    pub group_columns: Vec<GroupColumn>,
    pub calls: AggregateCalls,
    /// Output schema: group columns, then one column per aggregate call.
    pub schema: SchemaRef,
    /// Windows fire on the wall clock instead of the watermark.
    pub proctime: bool,
}

type Accs = Vec<Box<dyn Accumulator>>;

/// The operator.
pub struct WindowAggregateOperator {
    spec: WindowAggregateSpec,
    codec: KeyCodec,
    panes: BTreeMap<i64, HashMap<Key, Accs>>,
    watermark: i64,
    metrics: Arc<OperatorMetrics>,
}

impl WindowAggregateOperator {
    pub fn new(spec: WindowAggregateSpec, metrics: Arc<OperatorMetrics>) -> Result<Self> {
        let codec = KeyCodec::new(spec.keys.clone(), &spec.key_types)?;
        Ok(WindowAggregateOperator {
            spec,
            codec,
            panes: BTreeMap::new(),
            watermark: i64::MIN,
            metrics,
        })
    }

    fn add_pane_rows(&mut self, pane_end: i64, batch: &RecordBatch) -> Result<()> {
        let grouped = self.codec.group(batch)?;
        let inputs = self.spec.calls.inputs(batch)?.take(&grouped.order)?;
        let pane = self.panes.entry(pane_end).or_default();
        for (key, (off, len)) in grouped.keys.into_iter().zip(grouped.ranges) {
            let accs = match pane.get_mut(&key) {
                Some(a) => a,
                None => pane.entry(key).or_insert(self.spec.calls.accumulators()?),
            };
            inputs.apply(accs, off, len, false)?;
        }
        Ok(())
    }

    /// Fires every window whose last millisecond is at or below `wm`.
    fn fire(&mut self, wm: i64, out: &mut Vec<Event>) -> Result<()> {
        let prev = self.watermark;
        if wm <= prev {
            return Ok(());
        }
        self.watermark = wm;
        let mut windows = BTreeSet::new();
        for p in self.panes.keys() {
            for (s, e) in self.spec.window.windows_of_pane(*p) {
                if e - 1 <= wm && e - 1 > prev {
                    windows.insert((e, s));
                }
            }
        }
        for (end, start) in windows {
            self.emit_window(start, end, out)?;
        }
        let window = self.spec.window;
        self.panes.retain(|p, _| window.pane_retire_at(*p) - 1 > wm);
        Ok(())
    }

    fn emit_window(&mut self, start: i64, end: i64, out: &mut Vec<Event>) -> Result<()> {
        let mut results: BTreeMap<Key, Vec<ScalarValue>> = BTreeMap::new();
        if self.spec.window.single_pane() {
            if let Some(pane) = self.panes.get_mut(&end) {
                for (k, accs) in pane.iter_mut() {
                    results.insert(k.clone(), evaluate_all(accs)?);
                }
            }
        } else {
            let mut finals: BTreeMap<Key, Accs> = BTreeMap::new();
            for p in self.spec.window.panes_of_window(start, end) {
                let Some(pane) = self.panes.get_mut(&p) else {
                    continue;
                };
                for (k, accs) in pane.iter_mut() {
                    let f = match finals.get_mut(k) {
                        Some(f) => f,
                        None => finals
                            .entry(k.clone())
                            .or_insert(self.spec.calls.accumulators()?),
                    };
                    merge_states(f, accs)?;
                }
            }
            for (k, mut f) in finals {
                results.insert(k, evaluate_all(&mut f)?);
            }
        }
        if results.is_empty() {
            return Ok(());
        }
        let keys = self.codec.decode(results.keys())?;
        let bounds = vec![(start, end); results.len()];
        let values: Vec<Vec<ScalarValue>> = results.into_values().collect();
        out.push(Event::Batch(window_batch(
            &self.spec, &keys, &bounds, &values,
        )?));
        Ok(())
    }
}

/// A window aggregate's output: the group-by columns (keys, and each row's
/// window bounds), then the aggregate results.
pub fn window_batch(
    spec: &WindowAggregateSpec,
    keys: &[ArrayRef],
    bounds: &[(i64, i64)],
    values: &[Vec<ScalarValue>],
) -> Result<RecordBatch> {
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(spec.schema.fields().len());
    for (i, g) in spec.group_columns.iter().enumerate() {
        let dt = spec.schema.field(i).data_type();
        let times = |f: fn(&(i64, i64)) -> i64| bounds.iter().map(f).collect();
        cols.push(match g {
            GroupColumn::Key(k) => Arc::clone(&keys[*k]),
            GroupColumn::Start => timestamps(times(|b| b.0), dt)?,
            GroupColumn::End => timestamps(times(|b| b.1), dt)?,
            GroupColumn::Time => timestamps(times(|b| b.1 - 1), dt)?,
        });
    }
    let first = spec.group_columns.len();
    for c in 0..spec.calls.calls.len() {
        cols.push(result_column(
            values,
            c,
            spec.schema.field(first + c).data_type(),
        )?);
    }
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(&spec.schema),
        cols,
        &RecordBatchOptions::new().with_row_count(Some(bounds.len())),
    )?)
}

impl Operator for WindowAggregateOperator {
    fn process(&mut self, batch: RecordBatch, _: BatchOrigin, _out: &mut Vec<Event>) -> Result<()> {
        let panes = millis(batch.column(self.spec.pane_col))?;
        let mut by_pane: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
        let mut late = 0;
        for (i, p) in panes.iter().enumerate() {
            let Some(p) = p else { continue };
            // Flink's rule: a row is late when its pane's window already fired.
            if !self.spec.proctime && p - 1 <= self.watermark {
                late += 1;
                continue;
            }
            by_pane.entry(p).or_default().push(i as u32);
        }
        if late > 0 {
            self.metrics.add_late_dropped(late);
        }
        let only_one = by_pane.len() == 1 && late == 0;
        for (p, rows) in by_pane {
            if only_one && rows.len() == batch.num_rows() {
                self.add_pane_rows(p, &batch)?;
            } else {
                let sub = take_record_batch(&batch, &UInt32Array::from(rows))?;
                self.add_pane_rows(p, &sub)?;
            }
        }
        Ok(())
    }

    fn on_watermark(&mut self, watermark: i64, out: &mut Vec<Event>) -> Result<()> {
        if !self.spec.proctime {
            self.fire(watermark, out)?;
        }
        out.push(Event::Watermark(watermark));
        Ok(())
    }

    fn tick_interval(&self) -> Option<std::time::Duration> {
        self.spec
            .proctime
            .then(|| std::time::Duration::from_millis(50))
    }

    fn on_tick(&mut self, now: i64, out: &mut Vec<Event>) -> Result<()> {
        if self.spec.proctime {
            self.fire(now - 1, out)?;
        }
        Ok(())
    }

    fn on_end(&mut self, out: &mut Vec<Event>) -> Result<()> {
        // End of input: every window fires (the watermark jumps to +inf;
        // processing-time windows fire too rather than being lost).
        self.fire(i64::MAX, out)
    }

    fn state(&mut self) -> Option<&mut dyn OperatorState> {
        Some(self)
    }
}

/// The watermark, then one row per (pane, key) with its accumulators.
impl OperatorState for WindowAggregateOperator {
    fn snapshot(&mut self) -> Result<Vec<RecordBatch>> {
        let mut w = SnapshotWriter::new();
        w.watermark(self.watermark)?;
        let mut rows = Vec::new();
        for (pane, keys) in self.panes.iter_mut() {
            for (key, accs) in keys.iter_mut() {
                rows.push(RowWriter::new().i64(*pane).bytes(key).accumulators(accs)?);
            }
        }
        w.rows("panes", rows)?;
        Ok(w.finish())
    }

    fn restore(&mut self, snapshot: &[RecordBatch]) -> Result<()> {
        let r = SnapshotReader::new(snapshot, &["meta", "panes"])?;
        self.watermark = r.watermark()?;
        self.panes.clear();
        for mut row in r.rows("panes") {
            let pane = row.i64()?;
            let key = row.bytes()?;
            let accs = row.accumulators(&self.spec.calls)?;
            self.panes.entry(pane).or_default().insert(key, accs);
        }
        Ok(())
    }
}
