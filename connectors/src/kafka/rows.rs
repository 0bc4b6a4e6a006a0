//! Turning a batch of fetched messages into table rows: the value format
//! decodes the value columns (and its own metadata), the key format the key
//! columns when the value does not carry them (`'value.fields-include' =
//! 'EXCEPT_KEY'`), and the record's metadata is taken per row by the index of
//! the message each row came from.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use sluice_engine::runtime::OperatorMetrics;
use sluice_engine::{Result, SluiceError};

use super::batch::FetchedBatch;
use super::codec::KafkaCodec;
use super::metadata::{KafkaMetadata, MetaSource, RecordKey, record_column};
use super::offsets::Split;
use crate::formats::messages::{Decoded, MessageDecoder};

/// Where an output column comes from.
#[derive(Debug, Clone)]
enum Column {
    /// The value decoder's column at this position.
    Value(usize),
    /// The key decoder's column at this position.
    Key(usize),
    /// A metadata column of the record.
    Record(RecordKey, DataType),
}

/// Decodes fetched messages into batches of the projected columns.
pub struct RowAssembler {
    schema: SchemaRef,
    plan: Vec<Column>,
    value: Box<dyn MessageDecoder>,
    key: Option<Box<dyn MessageDecoder>>,
}

/// Rows decoded from one fetched batch.
pub struct Assembled {
    /// The projected columns (no row kind).
    pub batch: RecordBatch,
    /// For each row, the index of its message.
    pub origins: UInt32Array,
    /// Row kinds, from a changelog value format.
    pub kinds: Option<datafusion::arrow::array::Int8Array>,
}

/// Position of `x` in `list`, appending it when absent.
fn slot<T: PartialEq>(list: &mut Vec<T>, x: T) -> usize {
    match list.iter().position(|v| *v == x) {
        Some(p) => p,
        None => {
            list.push(x);
            list.len() - 1
        }
    }
}

impl RowAssembler {
    /// Plans the decoders for `projection` (indices into the physical
    /// columns followed by `metadata`).
    pub fn new(
        schema: SchemaRef,
        physical_len: usize,
        projection: &[usize],
        codec: &KafkaCodec,
        metadata: &[KafkaMetadata],
        batch_size: usize,
    ) -> Result<Self> {
        let mut value_cols: Vec<usize> = Vec::new();
        let mut key_cols: Vec<usize> = Vec::new();
        let mut value_meta: Vec<String> = Vec::new();
        enum Pending {
            Value(usize),
            Key(usize),
            ValueMeta(usize),
            Record(RecordKey, DataType),
        }
        let mut pending = Vec::with_capacity(projection.len());
        for &i in projection {
            if i < physical_len {
                if let Some(v) = codec.value_fields.iter().position(|f| *f == i) {
                    pending.push(Pending::Value(slot(&mut value_cols, v)));
                } else if let Some(k) = codec.key_fields.iter().position(|f| *f == i) {
                    pending.push(Pending::Key(slot(&mut key_cols, k)));
                } else {
                    return Err(SluiceError::plan(format!(
                        "column {i} is neither in the key nor the value"
                    )));
                }
            } else {
                let m = metadata.get(i - physical_len).ok_or_else(|| {
                    SluiceError::plan(format!("projection index {i} out of range"))
                })?;
                pending.push(match &m.source {
                    MetaSource::Record(k) => Pending::Record(*k, m.data_type.clone()),
                    MetaSource::Value(k) => Pending::ValueMeta(slot(&mut value_meta, k.clone())),
                });
            }
        }
        let value =
            codec
                .value_format
                .message_decoder(Some(&value_cols), &value_meta, batch_size)?;
        let key = match (&codec.key_format, key_cols.is_empty()) {
            (Some(f), false) => Some(f.message_decoder(Some(&key_cols), &[], batch_size)?),
            _ => None,
        };
        let plan = pending
            .into_iter()
            .map(|p| match p {
                Pending::Value(v) => Column::Value(v),
                Pending::Key(k) => Column::Key(k),
                Pending::ValueMeta(m) => Column::Value(value_cols.len() + m),
                Pending::Record(k, dt) => Column::Record(k, dt),
            })
            .collect();
        Ok(Self {
            schema,
            plan,
            value,
            key,
        })
    }

    /// Decodes `batch` (messages of `split`).
    pub fn assemble(
        &mut self,
        batch: &FetchedBatch,
        split: &Split,
        metrics: &OperatorMetrics,
    ) -> Result<Assembled> {
        let locate = |i: usize| {
            format!(
                "topic {}, partition {}, offset {}",
                split.topic,
                split.partition,
                batch.offsets.get(i).copied().unwrap_or(-1)
            )
        };
        let Decoded {
            batch: values,
            origins,
            kinds,
        } = self.value.decode(&batch.values, &locate, metrics)?;
        let keys = match &mut self.key {
            None => None,
            Some(k) => {
                let decoded =
                    k.decode(&batch.keys, &|i| format!("{} (key)", locate(i)), metrics)?;
                // Per message, its key row (a null or unreadable key: none).
                let mut row_of = vec![None; batch.len()];
                for (row, m) in decoded.origins.values().iter().enumerate() {
                    row_of[*m as usize] = Some(row as u32);
                }
                let rows: UInt32Array = origins
                    .values()
                    .iter()
                    .map(|m| row_of[*m as usize])
                    .collect();
                Some((decoded.batch, rows))
            }
        };
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.plan.len());
        for c in &self.plan {
            columns.push(match c {
                Column::Value(i) => values.column(*i).clone(),
                Column::Key(i) => match &keys {
                    Some((k, rows)) => take(k.column(*i).as_ref(), rows, None)?,
                    None => {
                        return Err(SluiceError::execution(
                            "key columns requested without a key decoder",
                        ));
                    }
                },
                Column::Record(key, dt) => {
                    record_column(*key, batch, &split.topic, split.partition, &origins, dt)?
                }
            });
        }
        let rows = origins.len();
        let out = RecordBatch::try_new_with_options(
            Arc::clone(&self.schema),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .map_err(|e| {
            SluiceError::Format(format!(
                "records of topic {}, partition {} from offset {}: {e}",
                split.topic,
                split.partition,
                batch.offsets.first().copied().unwrap_or(-1)
            ))
        })?;
        Ok(Assembled {
            batch: out,
            origins,
            kinds,
        })
    }
}
