//! Group keys: key columns are encoded with Arrow's row format (one
//! comparable byte string per row, computed for a whole batch at once), and a
//! batch is laid out group by group so each group's rows are one contiguous
//! slice for its accumulators.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, UInt32Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::physical_expr::PhysicalExpr;

use crate::error::Result;

/// An encoded group key.
pub type Key = Box<[u8]>;

/// Encodes and decodes the keys of one operator.
pub struct KeyCodec {
    exprs: Vec<Arc<dyn PhysicalExpr>>,
    converter: RowConverter,
}

/// A batch's rows grouped by key.
pub struct Grouped {
    /// Distinct keys in order of first appearance.
    pub keys: Vec<Key>,
    /// Row indices, group after group, each group in input order.
    pub order: UInt32Array,
    /// `(offset, len)` of each group in `order`.
    pub ranges: Vec<(usize, usize)>,
    /// Group number of every input row.
    pub group_of_row: Vec<u32>,
}

impl KeyCodec {
    pub fn new(exprs: Vec<Arc<dyn PhysicalExpr>>, types: &[DataType]) -> Result<Self> {
        let fields = types.iter().map(|t| SortField::new(t.clone())).collect();
        Ok(KeyCodec {
            exprs,
            converter: RowConverter::new(fields)?,
        })
    }

    /// The encoded key of every row.
    pub fn encode(&self, batch: &RecordBatch) -> Result<Rows> {
        let n = batch.num_rows();
        let cols = self
            .exprs
            .iter()
            .map(|e| e.evaluate(batch).and_then(|v| v.into_array(n)))
            .collect::<datafusion::error::Result<Vec<ArrayRef>>>()?;
        if cols.is_empty() {
            // Global aggregation: every row has the same (empty) key.
            return Ok(self.converter.empty_rows(n, 0));
        }
        Ok(self.converter.convert_columns(&cols)?)
    }

    /// Groups the rows of `batch` by key.
    pub fn group(&self, batch: &RecordBatch) -> Result<Grouped> {
        let n = batch.num_rows();
        if self.exprs.is_empty() {
            return Ok(Grouped {
                keys: vec![Key::default()],
                order: UInt32Array::from_iter_values(0..n as u32),
                ranges: vec![(0, n)],
                group_of_row: vec![0; n],
            });
        }
        let rows = self.encode(batch)?;
        let mut ids: HashMap<&[u8], u32> = HashMap::new();
        let mut keys = Vec::new();
        let mut group_of_row = Vec::with_capacity(n);
        let mut counts: Vec<usize> = Vec::new();
        for r in rows.iter() {
            let bytes: &[u8] = r.data();
            let next = ids.len() as u32;
            let g = *ids.entry(bytes).or_insert_with(|| {
                keys.push(Key::from(bytes));
                counts.push(0);
                next
            });
            counts[g as usize] += 1;
            group_of_row.push(g);
        }
        let mut ranges = Vec::with_capacity(counts.len());
        let mut offset = 0;
        for c in &counts {
            ranges.push((offset, *c));
            offset += c;
        }
        let mut fill: Vec<usize> = ranges.iter().map(|r| r.0).collect();
        let mut order = vec![0u32; n];
        for (row, g) in group_of_row.iter().enumerate() {
            order[fill[*g as usize]] = row as u32;
            fill[*g as usize] += 1;
        }
        Ok(Grouped {
            keys,
            order: UInt32Array::from(order),
            ranges,
            group_of_row,
        })
    }

    /// Decodes keys back into key columns.
    pub fn decode<'a>(&self, keys: impl IntoIterator<Item = &'a Key>) -> Result<Vec<ArrayRef>> {
        let parser = self.converter.parser();
        let rows: Vec<_> = keys.into_iter().map(|k| parser.parse(k)).collect();
        if self.exprs.is_empty() {
            return Ok(vec![]);
        }
        Ok(self.converter.convert_rows(rows)?)
    }
}
