//! Window Top-N and window deduplication: `ROW_NUMBER() OVER (PARTITION BY
//! window_start, window_end [, k] ORDER BY x) <= N` on a window TVF or a
//! window aggregation. Unlike the updating Top-N, a window's ranking is final
//! once the watermark passes its end, so it is emitted then, once, as an
//! append-only stream (Flink's `WindowRank`).
//!
//! Rows are kept as Arrow batches per window end; a window holding many rows
//! is compacted to its current best N per partition, so memory stays
//! proportional to N × partitions, not to the window's input.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, UInt32Array, UInt64Array};
use datafusion::arrow::compute::{
    SortColumn, SortOptions, concat_batches, lexsort_to_indices, take,
};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::physical_expr::PhysicalExpr;

use crate::error::Result;
use crate::runtime::metrics::OperatorMetrics;
use crate::runtime::operator::{BatchOrigin, Event, Operator};
use crate::runtime::state::{OperatorState, RowWriter, SnapshotReader, SnapshotWriter};
use crate::runtime::window::assign::millis;

/// Plan-time description of a window Top-N.
#[derive(Debug, Clone)]
pub struct WindowTopNSpec {
    /// The PARTITION BY keys (the window's bounds among them).
    pub partition: Vec<Arc<dyn PhysicalExpr>>,
    pub order: Vec<(Arc<dyn PhysicalExpr>, SortOptions)>,
    pub limit: usize,
    /// How rows are numbered.
    pub function: RankFunction,
    /// The input column holding `window_end`.
    pub window_end: usize,
    /// Output: the input's columns, then the rank (UInt64).
    pub schema: SchemaRef,
}

/// The ranking function of a window Top-N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankFunction {
    /// `ROW_NUMBER()`: 1, 2, 3, .. — exactly N rows per partition.
    RowNumber,
    /// `RANK()`: ties share a rank and leave a gap (1, 1, 3); every row
    /// ranked N or better is kept, so ties can keep more than N rows.
    Rank,
    /// `DENSE_RANK()`: ties share a rank, no gaps (1, 1, 2).
    DenseRank,
}

impl RankFunction {
    /// The SQL name, as `EXPLAIN` shows it.
    pub fn name(self) -> &'static str {
        match self {
            RankFunction::RowNumber => "ROW_NUMBER",
            RankFunction::Rank => "RANK",
            RankFunction::DenseRank => "DENSE_RANK",
        }
    }
}

/// The rows of one window not emitted yet.
#[derive(Default)]
struct Pending {
    batches: Vec<RecordBatch>,
    rows: usize,
    /// Rows left by the last compaction: compact again once this doubles.
    compacted: usize,
}

/// The operator.
pub struct WindowTopNOperator {
    spec: WindowTopNSpec,
    metrics: Arc<OperatorMetrics>,
    /// Keyed by window end (epoch ms).
    pending: BTreeMap<i64, Pending>,
    watermark: i64,
}

/// Compact a window once it holds this many rows (and twice what the last
/// compaction kept).
const COMPACT_AT: usize = 4096;

impl WindowTopNOperator {
    pub fn new(spec: WindowTopNSpec, metrics: Arc<OperatorMetrics>) -> Self {
        WindowTopNOperator {
            spec,
            metrics,
            pending: BTreeMap::new(),
            watermark: i64::MIN,
        }
    }

    /// The best `limit` rows of each partition of `rows`, in rank order,
    /// with their ranks.
    fn rank(&self, rows: &RecordBatch) -> Result<(RecordBatch, UInt64Array)> {
        let eval = |e: &Arc<dyn PhysicalExpr>| -> Result<ArrayRef> {
            Ok(e.evaluate(rows)?.into_array(rows.num_rows())?)
        };
        let keys = self
            .spec
            .partition
            .iter()
            .map(eval)
            .collect::<Result<Vec<_>>>()?;
        let mut sort: Vec<SortColumn> = keys
            .iter()
            .map(|k| SortColumn {
                values: Arc::clone(k),
                options: None,
            })
            .collect();
        for (e, options) in &self.spec.order {
            sort.push(SortColumn {
                values: eval(e)?,
                options: Some(*options),
            });
        }
        let order = lexsort_to_indices(&sort, None)?;
        // Partition boundaries by row-format equality: cheap and works for
        // every key type.
        let converter = RowConverter::new(
            keys.iter()
                .map(|k| SortField::new(k.data_type().clone()))
                .collect(),
        )?;
        let key_rows = converter.convert_columns(&keys)?;
        // Ties are rows equal in every ORDER BY value (RANK/DENSE_RANK).
        let order_values: Vec<ArrayRef> = sort[keys.len()..]
            .iter()
            .map(|c| Arc::clone(&c.values))
            .collect();
        let order_rows = match self.spec.function {
            RankFunction::RowNumber => None,
            _ => Some(
                RowConverter::new(
                    order_values
                        .iter()
                        .map(|v| SortField::new(v.data_type().clone()))
                        .collect(),
                )?
                .convert_columns(&order_values)?,
            ),
        };
        let mut picked = Vec::new();
        let mut ranks = Vec::new();
        let mut previous: Option<u32> = None;
        let (mut position, mut rank) = (0u64, 0u64);
        for &i in order.values() {
            let same =
                previous.is_some_and(|p| key_rows.row(p as usize) == key_rows.row(i as usize));
            let tie = same
                && order_rows.as_ref().is_some_and(|o| {
                    previous.is_some_and(|p| o.row(p as usize) == o.row(i as usize))
                });
            position = if same { position + 1 } else { 1 };
            rank = match self.spec.function {
                _ if !same => 1,
                _ if tie => rank,
                RankFunction::RowNumber | RankFunction::Rank => position,
                RankFunction::DenseRank => rank + 1,
            };
            previous = Some(i);
            if rank <= self.spec.limit as u64 {
                picked.push(i);
                ranks.push(rank);
            }
        }
        let picked = UInt32Array::from(picked);
        let columns = rows
            .columns()
            .iter()
            .map(|c| Ok(take(c.as_ref(), &picked, None)?))
            .collect::<Result<Vec<_>>>()?;
        Ok((
            RecordBatch::try_new(rows.schema(), columns)?,
            UInt64Array::from(ranks),
        ))
    }

    fn concat(&self, pending: &Pending) -> Result<Option<RecordBatch>> {
        let Some(first) = pending.batches.first() else {
            return Ok(None);
        };
        Ok(Some(concat_batches(&first.schema(), &pending.batches)?))
    }

    /// Keeps only the current best N per partition of window `end`.
    fn compact(&mut self, end: i64) -> Result<()> {
        let Some(p) = self.pending.get(&end) else {
            return Ok(());
        };
        let Some(all) = self.concat(p)? else {
            return Ok(());
        };
        let (kept, _) = self.rank(&all)?;
        let rows = kept.num_rows();
        if let Some(p) = self.pending.get_mut(&end) {
            *p = Pending {
                batches: vec![kept],
                rows,
                compacted: rows,
            };
        }
        Ok(())
    }

    /// Emits every window whose end the watermark has passed.
    fn fire(&mut self, watermark: i64, out: &mut Vec<Event>) -> Result<()> {
        while let Some(entry) = self.pending.first_entry() {
            // A window [start, end) is complete once the watermark reaches
            // end - 1, as for window aggregation.
            if entry.key().saturating_sub(1) > watermark {
                break;
            }
            let pending = entry.remove();
            let Some(all) = self.concat(&pending)? else {
                continue;
            };
            let (ranked, ranks) = self.rank(&all)?;
            let mut columns = ranked.columns().to_vec();
            columns.push(Arc::new(ranks));
            out.push(Event::Batch(RecordBatch::try_new(
                Arc::clone(&self.spec.schema),
                columns,
            )?));
        }
        Ok(())
    }
}

impl Operator for WindowTopNOperator {
    fn process(
        &mut self,
        batch: RecordBatch,
        _origin: BatchOrigin,
        _out: &mut Vec<Event>,
    ) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let ends = millis(batch.column(self.spec.window_end))?;
        let mut by_end: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
        let mut late = 0usize;
        for (i, end) in ends.values().iter().enumerate() {
            // The window already fired: Flink drops the row as late.
            if end.saturating_sub(1) <= self.watermark {
                late += 1;
                continue;
            }
            by_end.entry(*end).or_default().push(i as u32);
        }
        if late > 0 {
            self.metrics.add_late_dropped(late);
        }
        let whole = by_end.len() == 1 && late == 0;
        for (end, rows) in by_end {
            let part = if whole {
                batch.clone()
            } else {
                let idx = UInt32Array::from(rows);
                let columns = batch
                    .columns()
                    .iter()
                    .map(|c| Ok(take(c.as_ref(), &idx, None)?))
                    .collect::<Result<Vec<_>>>()?;
                RecordBatch::try_new(batch.schema(), columns)?
            };
            let p = self.pending.entry(end).or_default();
            p.rows += part.num_rows();
            p.batches.push(part);
            if p.rows >= COMPACT_AT.max(2 * p.compacted) {
                self.compact(end)?;
            }
        }
        Ok(())
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

/// The watermark; per open window its end and compaction mark
/// (`windows`); the window's rows as they are held (`pending`, each batch
/// of one window, found again by its `window_end` column).
impl OperatorState for WindowTopNOperator {
    fn snapshot(&mut self) -> Result<Vec<RecordBatch>> {
        let mut w = SnapshotWriter::new();
        w.watermark(self.watermark)?;
        let windows = self
            .pending
            .iter()
            .map(|(end, p)| RowWriter::new().i64(*end).i64(p.compacted as i64))
            .collect();
        w.rows("windows", windows)?;
        for p in self.pending.values() {
            for b in &p.batches {
                w.batch("pending", b)?;
            }
        }
        Ok(w.finish())
    }

    fn restore(&mut self, snapshot: &[RecordBatch]) -> Result<()> {
        let r = SnapshotReader::new(snapshot, &["meta", "windows", "pending"])?;
        self.watermark = r.watermark()?;
        self.pending.clear();
        for mut row in r.rows("windows") {
            let end = row.i64()?;
            let compacted = row.i64()?.max(0) as usize;
            self.pending.insert(
                end,
                Pending {
                    compacted,
                    ..Pending::default()
                },
            );
        }
        for b in r.batches("pending")? {
            let Some(end) = millis(b.column(self.spec.window_end))?
                .values()
                .first()
                .copied()
            else {
                continue;
            };
            let p = self.pending.entry(end).or_default();
            p.rows += b.num_rows();
            p.batches.push(b);
        }
        Ok(())
    }
}
