//! Turning an upsert stream into a correct changelog (what Flink's
//! `ChangelogNormalize` does after an upsert-kafka source): the reader keeps
//! the last row of every key (by the message key's bytes; Kafka puts a key
//! in one partition, so one reader sees all of its records). A value for a
//! new key is `+I`; for a known key `-U` (the old row) then `+U`, or nothing
//! when the row is unchanged; a tombstone `-D` (the old row), or nothing for
//! an unknown key. Rows are kept in Arrow's compact row format and converted
//! back column-wise.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int8Array, RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::row::{OwnedRow, RowConverter, SortField};
use sluice_engine::Result;
use sluice_engine::connector::{ROW_KIND_COLUMN, RowKind};

use crate::formats::messages::Messages;

/// The state and the converter of one reader.
pub struct UpsertNormalizer {
    /// The output: the projected columns and the row kind.
    schema: SchemaRef,
    /// `None` when no column is projected (rows are then empty).
    converter: Option<RowConverter>,
    last: HashMap<Vec<u8>, Option<OwnedRow>>,
}

/// The state key of a message key: a null key is its own key.
fn state_key(key: Option<&[u8]>) -> Vec<u8> {
    match key {
        None => vec![0],
        Some(k) => {
            let mut v = Vec::with_capacity(k.len() + 1);
            v.push(1);
            v.extend_from_slice(k);
            v
        }
    }
}

impl UpsertNormalizer {
    /// A normalizer for batches of `projected` columns.
    pub fn new(projected: &SchemaRef) -> Result<Self> {
        let mut fields: Vec<Field> = projected
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new(
            ROW_KIND_COLUMN,
            datafusion::arrow::datatypes::DataType::Int8,
            false,
        ));
        let converter = if projected.fields().is_empty() {
            None
        } else {
            Some(RowConverter::new(
                projected
                    .fields()
                    .iter()
                    .map(|f| SortField::new(f.data_type().clone()))
                    .collect(),
            )?)
        };
        Ok(Self {
            schema: Arc::new(Schema::new(fields)),
            converter,
            last: HashMap::new(),
        })
    }

    /// Number of keys currently known.
    #[cfg(test)]
    pub fn keys(&self) -> usize {
        self.last.len()
    }

    /// The changelog of one batch: `rows` holds at most one row per message
    /// (`origins[i]` = its message; a message without a row was skipped as
    /// malformed); `keys` and `values` are the messages themselves.
    pub fn normalize(
        &mut self,
        rows: &RecordBatch,
        origins: &[u32],
        keys: &Messages,
        values: &Messages,
    ) -> Result<RecordBatch> {
        let converted = match &self.converter {
            Some(c) => Some(c.convert_columns(rows.columns())?),
            None => None,
        };
        let mut emitted: Vec<Option<OwnedRow>> = Vec::new();
        let mut kinds: Vec<i8> = Vec::new();
        let mut next = 0usize;
        for m in 0..values.len() {
            let key = state_key(keys.get(m));
            if values.get(m).is_none() {
                if let Some(old) = self.last.remove(&key) {
                    emitted.push(old);
                    kinds.push(RowKind::Delete as i8);
                }
                continue;
            }
            if origins.get(next).copied() != Some(m as u32) {
                continue;
            }
            let new = converted.as_ref().map(|c| c.row(next).owned());
            next += 1;
            match self.last.insert(key, new.clone()) {
                None => {
                    emitted.push(new);
                    kinds.push(RowKind::Insert as i8);
                }
                Some(old) if old == new => {}
                Some(old) => {
                    emitted.push(old);
                    kinds.push(RowKind::UpdateBefore as i8);
                    emitted.push(new);
                    kinds.push(RowKind::UpdateAfter as i8);
                }
            }
        }
        let mut columns: Vec<ArrayRef> = match &self.converter {
            Some(c) => c.convert_rows(emitted.iter().flatten().map(|r| r.row()))?,
            None => Vec::new(),
        };
        columns.push(Arc::new(Int8Array::from(kinds)));
        Ok(RecordBatch::try_new_with_options(
            Arc::clone(&self.schema),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(emitted.len())),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{AsArray, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Int8Type, Int64Type};

    #[test]
    fn upserts_become_a_changelog() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("v", DataType::Int64, true),
        ]));
        let mut n = UpsertNormalizer::new(&schema).unwrap();
        let mut keys = Messages::default();
        let mut values = Messages::default();
        // a=1, b=2, a=3, a=3 (unchanged), tombstone b, tombstone c (unknown)
        for (k, v) in [
            ("a", Some("1")),
            ("b", Some("2")),
            ("a", Some("3")),
            ("a", Some("3")),
            ("b", None),
            ("c", None),
        ] {
            keys.push(Some(k.as_bytes()));
            values.push(v.map(str::as_bytes));
        }
        let rows = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["a", "b", "a", "a"])),
                Arc::new(Int64Array::from(vec![1, 2, 3, 3])),
            ],
        )
        .unwrap();
        let out = n.normalize(&rows, &[0, 1, 2, 3], &keys, &values).unwrap();
        let k: Vec<&str> = out.column(0).as_string::<i32>().iter().flatten().collect();
        let v: Vec<i64> = out.column(1).as_primitive::<Int64Type>().values().to_vec();
        let kinds: Vec<i8> = out.column(2).as_primitive::<Int8Type>().values().to_vec();
        assert_eq!(k, ["a", "b", "a", "a", "b"]);
        assert_eq!(v, [1, 2, 1, 3, 2]);
        assert_eq!(kinds, [0, 0, 1, 2, 3]);
        assert_eq!(n.keys(), 1);
    }
}
