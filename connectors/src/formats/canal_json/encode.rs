//! Writing Canal events: each row becomes `{"data":[row],"type":..}` with
//! `INSERT` for `+I`/`+U` and `DELETE` for `-U`/`-D` (Flink's
//! `CanalJsonSerializationSchema`). Built column-wise, written by the json
//! encoder.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, ListArray, RecordBatch, StringArray, StructArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use sluice_engine::Result;

use crate::ConnectorError;
use crate::formats::RecordEncoder;
use crate::formats::envelope::{is_after_image, nullable, split_row_kind};

/// The element field of the `data` list.
fn element(physical: &SchemaRef) -> Arc<Field> {
    Arc::new(Field::new(
        "element",
        DataType::Struct(nullable(physical.fields())),
        true,
    ))
}

/// `{data, type}` over the table's physical columns.
pub(crate) fn envelope_schema(physical: &SchemaRef) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("data", DataType::List(element(physical)), true),
        Field::new("type", DataType::Utf8, true),
    ]))
}

/// Writes one Canal event per row.
pub struct CanalEncoder {
    physical: SchemaRef,
    envelope: SchemaRef,
    inner: Box<dyn RecordEncoder>,
}

impl CanalEncoder {
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
                format: "canal-json",
                reason: format!(
                    "expected {} columns, got {}",
                    self.physical.fields().len(),
                    columns.len()
                ),
            }
            .into());
        }
        let rows = batch.num_rows();
        let data = StructArray::try_new_with_length(
            nullable(self.physical.fields()),
            columns,
            None,
            rows,
        )?;
        let list: ArrayRef = Arc::new(ListArray::try_new(
            element(&self.physical),
            OffsetBuffer::from_lengths(std::iter::repeat_n(1, rows)),
            Arc::new(data),
            None,
        )?);
        let kind: StringArray = is_after_image(rows, kinds.as_ref())
            .iter()
            .map(|a| Some(if *a { "INSERT" } else { "DELETE" }))
            .collect();
        Ok(RecordBatch::try_new(
            self.envelope.clone(),
            vec![list, Arc::new(kind)],
        )?)
    }
}

impl RecordEncoder for CanalEncoder {
    fn encode(&mut self, batch: &RecordBatch, out: &mut Vec<u8>) -> Result<()> {
        let envelopes = self.envelopes(batch)?;
        self.inner.encode(&envelopes, out)
    }

    fn encode_rows(&mut self, batch: &RecordBatch) -> Result<Vec<Vec<u8>>> {
        let envelopes = self.envelopes(batch)?;
        self.inner.encode_rows(&envelopes)
    }
}
