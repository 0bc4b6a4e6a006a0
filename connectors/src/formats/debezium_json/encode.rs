//! Writing Debezium envelopes: the row as `after` with `op` `c` for
//! `+I`/`+U`, as `before` with `op` `d` for `-U`/`-D` (Flink's
//! `DebeziumJsonSerializationSchema`). The envelope is built column-wise and
//! written by the json encoder.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use sluice_engine::Result;

use crate::ConnectorError;
use crate::formats::RecordEncoder;
use crate::formats::envelope::{is_after_image, nullable, split_row_kind};

/// `{before, after, op}` over the table's physical columns.
pub(crate) fn envelope_schema(physical: &SchemaRef) -> SchemaRef {
    let row = DataType::Struct(nullable(physical.fields()));
    Arc::new(Schema::new(vec![
        Field::new("before", row.clone(), true),
        Field::new("after", row, true),
        Field::new("op", DataType::Utf8, true),
    ]))
}

/// Writes one Debezium event per row.
pub struct DebeziumEncoder {
    physical: SchemaRef,
    envelope: SchemaRef,
    inner: Box<dyn RecordEncoder>,
}

impl DebeziumEncoder {
    pub fn new(physical: SchemaRef, envelope: SchemaRef, inner: Box<dyn RecordEncoder>) -> Self {
        Self {
            physical,
            envelope,
            inner,
        }
    }

    fn envelopes(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let (columns, kinds) = split_row_kind(batch)?;
        if columns.len() != self.physical.fields().len() {
            return Err(ConnectorError::Encode {
                format: "debezium-json",
                reason: format!(
                    "expected {} columns, got {}",
                    self.physical.fields().len(),
                    columns.len()
                ),
            }
            .into());
        }
        let after = is_after_image(batch.num_rows(), kinds.as_ref());
        let before: Vec<bool> = after.iter().map(|a| !a).collect();
        let fields = nullable(self.physical.fields());
        let image = |valid: Vec<bool>| -> Result<ArrayRef> {
            Ok(Arc::new(StructArray::try_new_with_length(
                fields.clone(),
                columns.clone(),
                Some(NullBuffer::from(valid)),
                batch.num_rows(),
            )?))
        };
        let op: StringArray = after
            .iter()
            .map(|a| Some(if *a { "c" } else { "d" }))
            .collect();
        Ok(RecordBatch::try_new(
            self.envelope.clone(),
            vec![image(before)?, image(after)?, Arc::new(op)],
        )?)
    }
}

impl RecordEncoder for DebeziumEncoder {
    fn encode(&mut self, batch: &RecordBatch, out: &mut Vec<u8>) -> Result<()> {
        let envelopes = self.envelopes(batch)?;
        self.inner.encode(&envelopes, out)
    }

    fn encode_rows(&mut self, batch: &RecordBatch) -> Result<Vec<Vec<u8>>> {
        let envelopes = self.envelopes(batch)?;
        self.inner.encode_rows(&envelopes)
    }
}
