//! Kafka's metadata columns (Flink's keys): `topic` STRING, `partition` INT,
//! `headers` MAP<STRING, BYTES>, `leader-epoch` INT, `offset` BIGINT,
//! `timestamp` TIMESTAMP_LTZ(3), `timestamp-type` STRING — and the value
//! format's own keys as `value.<key>` (`value.source.table`, ...). On write,
//! `topic`, `timestamp` and `headers` are writable.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Int32Array, Int64Array, MapArray, StringArray, TimestampMillisecondArray,
    UInt32Array,
};
use datafusion::arrow::compute::{can_cast_types, cast, take};
use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};
use sluice_engine::connector::MetadataColumn;
use sluice_engine::{Result, SluiceError};

use super::batch::FetchedBatch;
use crate::formats::Format;

/// A metadata key of the Kafka record itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKey {
    Topic,
    Partition,
    Headers,
    LeaderEpoch,
    Offset,
    Timestamp,
    TimestampType,
}

const KEYS: &[(&str, RecordKey)] = &[
    ("topic", RecordKey::Topic),
    ("partition", RecordKey::Partition),
    ("headers", RecordKey::Headers),
    ("leader-epoch", RecordKey::LeaderEpoch),
    ("offset", RecordKey::Offset),
    ("timestamp", RecordKey::Timestamp),
    ("timestamp-type", RecordKey::TimestampType),
];

/// MAP<STRING, BYTES>, the type of `headers`.
pub fn headers_type() -> DataType {
    DataType::Map(
        Arc::new(Field::new(
            "entries",
            DataType::Struct(Fields::from(vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("value", DataType::Binary, true),
            ])),
            false,
        )),
        false,
    )
}

impl RecordKey {
    /// The type the value is produced in.
    pub fn natural_type(self) -> DataType {
        match self {
            RecordKey::Topic | RecordKey::TimestampType => DataType::Utf8,
            RecordKey::Partition | RecordKey::LeaderEpoch => DataType::Int32,
            RecordKey::Offset => DataType::Int64,
            RecordKey::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            RecordKey::Headers => headers_type(),
        }
    }

    /// True for the keys a sink can write.
    pub fn writable(self) -> bool {
        matches!(
            self,
            RecordKey::Topic | RecordKey::Timestamp | RecordKey::Headers
        )
    }
}

/// Where a metadata column's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaSource {
    Record(RecordKey),
    /// A key of the value format (without the `value.` prefix).
    Value(String),
}

/// A declared metadata column, resolved.
#[derive(Debug, Clone)]
pub struct KafkaMetadata {
    pub name: String,
    pub source: MetaSource,
    pub data_type: DataType,
    pub is_virtual: bool,
}

impl KafkaMetadata {
    /// Resolves a declared column against the record keys and the value
    /// format's keys, rejecting unknown keys and impossible types.
    pub fn resolve(
        table: &str,
        column: &MetadataColumn,
        value_format: &dyn Format,
    ) -> Result<Self> {
        let error = |message: String| SluiceError::Options {
            table: table.to_string(),
            message: format!("column '{}': {message}", column.name),
        };
        let format_keys = value_format.metadata_keys();
        let (source, natural) = if let Some((_, k)) = KEYS.iter().find(|(k, _)| *k == column.key) {
            (MetaSource::Record(*k), k.natural_type())
        } else if let Some((key, dt)) = column
            .key
            .strip_prefix("value.")
            .and_then(|k| format_keys.iter().find(|(fk, _)| *fk == k))
        {
            (MetaSource::Value(key.to_string()), dt.clone())
        } else {
            let mut keys: Vec<String> = format_keys
                .iter()
                .map(|(k, _)| format!("value.{k}"))
                .collect();
            keys.extend(KEYS.iter().map(|(k, _)| k.to_string()));
            return Err(error(format!(
                "connector 'kafka' has no metadata key '{}'; available keys are: {}",
                column.key,
                keys.join(", ")
            )));
        };
        if !can_cast_types(&natural, &column.data_type) {
            return Err(error(format!(
                "metadata key '{}' is {} and cannot be read as {}",
                column.key, natural, column.data_type
            )));
        }
        Ok(Self {
            name: column.name.clone(),
            source,
            data_type: column.data_type.clone(),
            is_virtual: column.is_virtual,
        })
    }

    /// The key as written in `METADATA FROM`.
    pub fn key(&self) -> String {
        match &self.source {
            MetaSource::Record(k) => KEYS
                .iter()
                .find(|(_, r)| r == k)
                .map_or_else(String::new, |(n, _)| n.to_string()),
            MetaSource::Value(k) => format!("value.{k}"),
        }
    }
}

fn timestamp_type_name(t: u8) -> &'static str {
    match t {
        1 => "CreateTime",
        2 => "LogAppendTime",
        _ => "NoTimestampType",
    }
}

/// The column of record key `key` for the rows whose messages are
/// `origins`, cast to `data_type`.
pub fn record_column(
    key: RecordKey,
    batch: &FetchedBatch,
    topic: &str,
    partition: i32,
    origins: &UInt32Array,
    data_type: &DataType,
) -> Result<ArrayRef> {
    let rows = origins.len();
    let array: ArrayRef = match key {
        RecordKey::Topic => Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
            topic, rows,
        ))),
        RecordKey::Partition => Arc::new(Int32Array::from_value(partition, rows)),
        RecordKey::Offset => {
            let offsets = Int64Array::from(batch.offsets.clone());
            take(&offsets, origins, None)?
        }
        RecordKey::Timestamp => {
            let ts = TimestampMillisecondArray::from(batch.timestamps.clone()).with_timezone("UTC");
            take(&ts, origins, None)?
        }
        RecordKey::TimestampType => {
            Arc::new(StringArray::from_iter_values(origins.values().iter().map(
                |o| timestamp_type_name(batch.timestamp_types[*o as usize]),
            )))
        }
        RecordKey::LeaderEpoch => {
            let epochs = Int32Array::from(batch.leader_epochs.clone().unwrap_or_default());
            if epochs.len() == batch.offsets.len() {
                take(&epochs, origins, None)?
            } else {
                datafusion::arrow::array::new_null_array(&DataType::Int32, rows)
            }
        }
        RecordKey::Headers => match &batch.headers {
            Some(h) => take(h as &MapArray, origins, None)?,
            None => datafusion::arrow::array::new_null_array(&headers_type(), rows),
        },
    };
    if array.data_type() == data_type {
        Ok(array)
    } else {
        Ok(cast(&array, data_type)?)
    }
}

/// The error for a non-virtual metadata column the sink cannot write.
pub fn not_writable(table: &str, m: &KafkaMetadata) -> SluiceError {
    SluiceError::plan(format!(
        "Invalid metadata key '{}' in column '{}' of table '{table}': the kafka sink supports \
         the following metadata keys for writing: headers, timestamp, topic (declare the \
         column VIRTUAL to read it only)",
        m.key(),
        m.name
    ))
}
