//! Upsert compaction: of several changes to one key in a buffer, only the
//! last matters to a target that is written by key, so only it is written.

use std::collections::HashSet;

use datafusion::arrow::row::{RowConverter, SortField};
use sluice_engine::Result;

use super::ChangeBatch;

/// Keeps the last row of each key (columns `key` of the rows), in the order
/// those last rows arrived. Keys are compared by value with Arrow's row
/// format, so every key type works.
pub fn last_per_key(batch: &ChangeBatch, key: &[usize]) -> Result<ChangeBatch> {
    let n = batch.num_rows();
    if n <= 1 || key.is_empty() {
        return Ok(batch.clone());
    }
    let columns: Vec<_> = key
        .iter()
        .map(|i| batch.rows().column(*i).clone())
        .collect();
    let converter = RowConverter::new(
        columns
            .iter()
            .map(|c| SortField::new(c.data_type().clone()))
            .collect(),
    )?;
    let rows = converter.convert_columns(&columns)?;
    let mut seen = HashSet::with_capacity(n);
    let mut keep: Vec<u32> = Vec::with_capacity(n);
    for i in (0..n).rev() {
        if seen.insert(rows.row(i)) {
            keep.push(i as u32);
        }
    }
    if keep.len() == n {
        return Ok(batch.clone());
    }
    keep.reverse();
    batch.take(&keep)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Int8Array, Int32Array, RecordBatch, StringArray};
    use sluice_engine::connector::RowKind;

    use super::*;

    #[test]
    fn keeps_the_last_change_per_key_in_arrival_order() {
        let rows = RecordBatch::try_from_iter(vec![
            (
                "k",
                Arc::new(Int32Array::from(vec![1, 2, 1, 3, 2])) as ArrayRef,
            ),
            (
                "v",
                Arc::new(StringArray::from(vec!["a", "b", "c", "d", "e"])) as ArrayRef,
            ),
        ])
        .unwrap();
        let kinds = Int8Array::from(vec![0, 0, 2, 0, 3]);
        let batch = ChangeBatch::new(rows, kinds).unwrap();
        let out = last_per_key(&batch, &[0]).unwrap();
        let rendered: Vec<String> = (0..out.num_rows())
            .map(|i| out.describe_row(i, 100))
            .collect();
        assert_eq!(rendered, vec!["+U[1, c]", "+I[3, d]", "-D[2, e]"]);
        assert_eq!(out.kind(2), RowKind::Delete);
    }
}
