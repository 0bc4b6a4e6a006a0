//! Top-N over an append-only stream: `ROW_NUMBER() OVER (PARTITION BY k
//! ORDER BY x) <= N`. Each partition keeps its best N rows in order; a row
//! entering at rank r shifts the rows below it, and each shifted rank is
//! emitted as `-U` old / `+U` new (Flink's output with the rank number).
//! N = 1 ordered by a time attribute is deduplication (first or last row).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int8Array, RecordBatch, RecordBatchOptions, UInt64Array};
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::physical_expr::PhysicalExpr;

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
    /// Output: the input's columns, the rank (UInt64), the row kind.
    pub schema: SchemaRef,
}

struct Entry {
    sort: Box<[u8]>,
    row: Box<[u8]>,
}

/// The operator.
pub struct TopNOperator {
    spec: TopNSpec,
    partitions: KeyCodec,
    order: RowConverter,
    rows: RowConverter,
    state: HashMap<Key, Vec<Entry>>,
}

struct Out {
    rows: Vec<Box<[u8]>>,
    ranks: Vec<u64>,
    kinds: Vec<i8>,
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
        let n = spec.schema.fields().len() - 2;
        let rows = RowConverter::new(
            spec.schema.fields()[..n]
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
        let full = self.rows.convert_columns(batch.columns())?;
        let mut o = Out {
            rows: vec![],
            ranks: vec![],
            kinds: vec![],
        };
        let limit = self.spec.limit;
        for (r, g) in grouped.group_of_row.iter().enumerate() {
            let list = self
                .state
                .entry(grouped.keys[*g as usize].clone())
                .or_default();
            let sort: &[u8] = sort_keys.row(r).data();
            // After equal keys: the earlier row keeps its rank.
            let pos = list.partition_point(|e| e.sort.as_ref() <= sort);
            if pos >= limit {
                continue;
            }
            let old_len = list.len();
            list.insert(
                pos,
                Entry {
                    sort: sort.into(),
                    row: full.row(r).data().into(),
                },
            );
            let evicted = (list.len() > limit).then(|| list.pop()).flatten();
            for i in pos..list.len().min(limit) {
                if i < old_len {
                    let before = if i + 1 == list.len() {
                        evicted.as_ref().map_or(&list[i].row, |e| &e.row)
                    } else {
                        &list[i + 1].row
                    };
                    o.rows.push(before.clone());
                    o.ranks.push(i as u64 + 1);
                    o.kinds.push(RowKind::UpdateBefore as i8);
                    o.rows.push(list[i].row.clone());
                    o.ranks.push(i as u64 + 1);
                    o.kinds.push(RowKind::UpdateAfter as i8);
                } else {
                    o.rows.push(list[i].row.clone());
                    o.ranks.push(i as u64 + 1);
                    o.kinds.push(RowKind::Insert as i8);
                }
            }
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

/// One row per ranked row, partition by partition in rank order: the
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
                row: row.bytes()?,
            };
            self.state.entry(key).or_default().push(entry);
        }
        Ok(())
    }
}
