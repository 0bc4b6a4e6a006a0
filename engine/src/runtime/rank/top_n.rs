//! Top-N over an unbounded stream: `ROW_NUMBER() | RANK() | DENSE_RANK()
//! OVER (PARTITION BY k ORDER BY x) <= N`. Each partition keeps its rows
//! sorted; the rows ranked N or better are the result. After every input row
//! the ranked prefix is compared, position by position, with what it was, and
//! each position that changed is emitted as `-U` old / `+U` new (or `+I` /
//! `-D` when the result grew or shrank) — Flink's output with the rank number.
//! N = 1 ordered by a time attribute is deduplication (first or last row).
//!
//! Over an append-only input a row ranked out can never come back, so only
//! the ranked prefix is kept. Over an updating input a retraction can pull a
//! lower row back in, so every live row of the partition is kept (Flink's
//! retractable rank keeps them likewise).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, AsArray, Int8Array, RecordBatch, RecordBatchOptions, UInt64Array,
};
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::{DataType, Int8Type, SchemaRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::physical_expr::PhysicalExpr;

use super::RankFunction;
use crate::connector::RowKind;
use crate::error::Result;
use crate::runtime::aggregate::keys::{Key, KeyCodec};
use crate::runtime::operator::{BatchOrigin, Event, Operator};
use crate::runtime::state::{OperatorState, RowWriter, SnapshotReader, SnapshotWriter};

/// Plan-time description of a Top-N.
#[derive(Debug, Clone)]
pub struct TopNSpec {
    pub partition: Vec<Arc<dyn PhysicalExpr>>,
    pub partition_types: Vec<DataType>,
    pub order: Vec<(Arc<dyn PhysicalExpr>, SortOptions)>,
    pub order_types: Vec<DataType>,
    pub limit: usize,
    /// How rows are numbered.
    pub function: RankFunction,
    /// The input carries a row-kind column (last) with retractions.
    pub input_updating: bool,
    /// Output: the input's columns, the rank (UInt64), the row kind.
    pub schema: SchemaRef,
}

struct Entry {
    sort: Box<[u8]>,
    /// Shared so the ranked prefix can be remembered cheaply before a change.
    row: Arc<[u8]>,
}

/// The operator.
pub struct TopNOperator {
    spec: TopNSpec,
    partitions: KeyCodec,
    order: RowConverter,
    rows: RowConverter,
    /// Each partition's rows in rank order; among equal sort keys, in
    /// arrival order (the earlier row keeps the better row number).
    state: HashMap<Key, Vec<Entry>>,
}

/// The changes one batch produced, in row format.
#[derive(Default)]
struct Out {
    rows: Vec<Arc<[u8]>>,
    ranks: Vec<u64>,
    kinds: Vec<i8>,
}

impl Out {
    fn push(&mut self, row: &Arc<[u8]>, rank: u64, kind: RowKind) {
        self.rows.push(Arc::clone(row));
        self.ranks.push(rank);
        self.kinds.push(kind as i8);
    }
}

impl TopNOperator {
    pub fn new(spec: TopNSpec) -> Result<Self> {
        let partitions = KeyCodec::new(spec.partition.clone(), &spec.partition_types)?;
        let order = RowConverter::new(
            spec.order
                .iter()
                .zip(&spec.order_types)
                .map(|((_, o), t)| SortField::new_with_options(t.clone(), *o))
                .collect(),
        )?;
        let rows = RowConverter::new(
            spec.schema.fields()[..value_columns(&spec)]
                .iter()
                .map(|f| SortField::new(f.data_type().clone()))
                .collect(),
        )?;
        Ok(TopNOperator {
            spec,
            partitions,
            order,
            rows,
            state: HashMap::new(),
        })
    }
}

/// The input's value columns (the output without rank and row kind).
fn value_columns(spec: &TopNSpec) -> usize {
    spec.schema.fields().len() - 2
}

/// The ranks of the rows of `list` that are ranked `limit` or better: a
/// prefix of the list, since ranks never fall along it.
fn ranked_prefix(list: &[Entry], function: RankFunction, limit: usize) -> Vec<u64> {
    let limit = limit as u64;
    let mut ranks = Vec::with_capacity(list.len().min(limit as usize));
    for (i, e) in list.iter().enumerate() {
        let tie = i > 0 && list[i - 1].sort == e.sort;
        let rank = match (function, ranks.last()) {
            (RankFunction::RowNumber, _) | (_, None) => i as u64 + 1,
            (_, Some(&prev)) if tie => prev,
            (RankFunction::Rank, _) => i as u64 + 1,
            (RankFunction::DenseRank, Some(&prev)) => prev + 1,
        };
        if rank > limit {
            break;
        }
        ranks.push(rank);
    }
    ranks
}

impl TopNOperator {
    /// Applies one input row to its partition's ranking and records how the
    /// ranked prefix changed.
    fn apply(&mut self, key: &Key, sort: &[u8], row: &[u8], retract: bool, o: &mut Out) {
        let (function, limit, updating) = (
            self.spec.function,
            self.spec.limit,
            self.spec.input_updating,
        );
        if !self.state.contains_key(key) {
            if retract {
                // A retraction for a partition we do not hold: nothing to change.
                return;
            }
            self.state.insert(key.clone(), Vec::new());
        }
        let list = self.state.get_mut(key).expect("inserted above");
        // Where the change happens: rows before it keep their rank.
        let from = if retract {
            let lo = list.partition_point(|e| e.sort.as_ref() < sort);
            let hi = list.partition_point(|e| e.sort.as_ref() <= sort);
            // A retraction of a row we never kept (ranked out, or expired) has
            // nothing to change.
            match (lo..hi).find(|&i| list[i].row.as_ref() == row) {
                Some(i) => i,
                None => return,
            }
        } else {
            let pos = list.partition_point(|e| e.sort.as_ref() <= sort);
            // Cheap exits for rows that rank out of an append-only input:
            // nothing changes and nothing needs keeping.
            let ranked_out = match function {
                RankFunction::RowNumber => pos >= limit,
                RankFunction::Rank => list.partition_point(|e| e.sort.as_ref() < sort) >= limit,
                RankFunction::DenseRank => false,
            };
            if ranked_out && !updating {
                return;
            }
            pos
        };
        let old_ranks = ranked_prefix(list, function, limit);
        let old: Vec<Arc<[u8]>> = list
            .get(from..old_ranks.len())
            .unwrap_or_default()
            .iter()
            .map(|e| Arc::clone(&e.row))
            .collect();
        if retract {
            list.remove(from);
        } else {
            list.insert(
                from,
                Entry {
                    sort: sort.into(),
                    row: row.into(),
                },
            );
        }
        let new_ranks = ranked_prefix(list, function, limit);
        for i in from..old_ranks.len().max(new_ranks.len()) {
            let before = old.get(i - from).map(|r| (r, old_ranks[i]));
            let after = new_ranks.get(i).map(|&rank| (&list[i].row, rank));
            match (before, after) {
                (Some((b, br)), Some((a, ar))) => {
                    if br != ar || b != a {
                        o.push(b, br, RowKind::UpdateBefore);
                        o.push(a, ar, RowKind::UpdateAfter);
                    }
                }
                (Some((b, br)), None) => o.push(b, br, RowKind::Delete),
                (None, Some((a, ar))) => o.push(a, ar, RowKind::Insert),
                (None, None) => {}
            }
        }
        if !updating {
            // Ranked out for good: an append-only input never retracts.
            list.truncate(new_ranks.len());
        }
        if list.is_empty() {
            self.state.remove(key);
        }
    }
}

impl Operator for TopNOperator {
    fn process(&mut self, batch: RecordBatch, _: BatchOrigin, out: &mut Vec<Event>) -> Result<()> {
        let n = batch.num_rows();
        let grouped = self.partitions.group(&batch)?;
        let order_cols = self
            .spec
            .order
            .iter()
            .map(|(e, _)| e.evaluate(&batch).and_then(|v| v.into_array(n)))
            .collect::<datafusion::error::Result<Vec<ArrayRef>>>()?;
        let sort_keys = self.order.convert_columns(&order_cols)?;
        let values = value_columns(&self.spec);
        let full = self.rows.convert_columns(&batch.columns()[..values])?;
        let kinds = self.spec.input_updating.then(|| {
            batch
                .column(batch.num_columns() - 1)
                .as_primitive::<Int8Type>()
        });
        let mut o = Out::default();
        for (r, g) in grouped.group_of_row.iter().enumerate() {
            let retract = kinds.is_some_and(|k| {
                let k = k.value(r);
                k == RowKind::UpdateBefore as i8 || k == RowKind::Delete as i8
            });
            let key = &grouped.keys[*g as usize];
            self.apply(
                key,
                sort_keys.row(r).data(),
                full.row(r).data(),
                retract,
                &mut o,
            );
        }
        if o.rows.is_empty() {
            return Ok(());
        }
        let parser = self.rows.parser();
        let mut cols = self
            .rows
            .convert_rows(o.rows.iter().map(|r| parser.parse(r)))?;
        let count = o.ranks.len();
        cols.push(Arc::new(UInt64Array::from(o.ranks)));
        cols.push(Arc::new(Int8Array::from(o.kinds)));
        debug_assert!(cols.iter().all(|c| c.len() == count));
        out.push(Event::Batch(RecordBatch::try_new_with_options(
            Arc::clone(&self.spec.schema),
            cols,
            &RecordBatchOptions::new().with_row_count(Some(count)),
        )?));
        Ok(())
    }

    fn state(&mut self) -> Option<&mut dyn OperatorState> {
        Some(self)
    }
}

/// One row per kept row, partition by partition in rank order: the
/// partition key, the row's sort key and the row itself (row format).
impl OperatorState for TopNOperator {
    fn snapshot(&mut self) -> Result<Vec<RecordBatch>> {
        let mut w = SnapshotWriter::new();
        let mut rows = Vec::new();
        for (key, list) in &self.state {
            for e in list {
                rows.push(RowWriter::new().bytes(key).bytes(&e.sort).bytes(&e.row));
            }
        }
        w.rows("ranked", rows)?;
        Ok(w.finish())
    }

    fn restore(&mut self, snapshot: &[RecordBatch]) -> Result<()> {
        let r = SnapshotReader::new(snapshot, &["ranked"])?;
        self.state.clear();
        for mut row in r.rows("ranked") {
            let key = row.bytes()?;
            let entry = Entry {
                sort: row.bytes()?,
                row: Arc::from(row.bytes()?),
            };
            self.state.entry(key).or_default().push(entry);
        }
        Ok(())
    }
}
