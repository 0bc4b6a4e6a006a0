//! The filesystem source's metadata columns (Flink's `file.path`,
//! `file.name`, `file.size`, `file.modification-time`). Each is constant per
//! file, so it costs one scalar broadcast per batch.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::{can_cast_types, cast};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use sluice_engine::connector::MetadataColumn;
use sluice_engine::{Result, SluiceError};

use super::listing::FileEntry;

/// A metadata key of the filesystem source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKey {
    /// `file.path`: the full path of the file, STRING.
    Path,
    /// `file.name`: the file's name, STRING.
    Name,
    /// `file.size`: the file's size in bytes, BIGINT.
    Size,
    /// `file.modification-time`: TIMESTAMP_LTZ(3).
    ModificationTime,
}

const KEYS: &[(&str, FileKey)] = &[
    ("file.path", FileKey::Path),
    ("file.name", FileKey::Name),
    ("file.size", FileKey::Size),
    ("file.modification-time", FileKey::ModificationTime),
];

impl FileKey {
    /// The type the value is produced in, before casting to the declared type.
    fn natural_type(self) -> DataType {
        match self {
            FileKey::Path | FileKey::Name => DataType::Utf8,
            FileKey::Size => DataType::Int64,
            FileKey::ModificationTime => {
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
            }
        }
    }

    fn value(self, file: &FileEntry) -> ScalarValue {
        match self {
            FileKey::Path => ScalarValue::Utf8(Some(file.path.display().to_string())),
            FileKey::Name => ScalarValue::Utf8(
                file.path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned()),
            ),
            FileKey::Size => ScalarValue::Int64(i64::try_from(file.size).ok()),
            FileKey::ModificationTime => {
                ScalarValue::TimestampMillisecond(file.modified_millis, Some("UTC".into()))
            }
        }
    }
}

/// A declared metadata column of a filesystem table.
#[derive(Debug, Clone)]
pub struct FileMetadata {
    pub key: FileKey,
    pub data_type: DataType,
}

impl FileMetadata {
    /// Resolves a declared column, rejecting unknown keys and types the value
    /// cannot be cast to.
    pub fn for_column(table: &str, column: &MetadataColumn) -> Result<Self> {
        let error = |message: String| SluiceError::Options {
            table: table.to_string(),
            message: format!("column '{}': {message}", column.name),
        };
        let Some((_, key)) = KEYS.iter().find(|(k, _)| *k == column.key) else {
            let keys: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
            return Err(error(format!(
                "connector 'filesystem' has no metadata key '{}'; available keys are: {}",
                column.key,
                keys.join(", ")
            )));
        };
        if !can_cast_types(&key.natural_type(), &column.data_type) {
            return Err(error(format!(
                "metadata key '{}' is {} and cannot be read as {}",
                column.key,
                key.natural_type(),
                column.data_type
            )));
        }
        Ok(Self {
            key: *key,
            data_type: column.data_type.clone(),
        })
    }

    /// The column for `rows` rows read from `file`.
    pub fn column(&self, file: &FileEntry, rows: usize) -> Result<ArrayRef> {
        let array = self.key.value(file).to_array_of_size(rows)?;
        if array.data_type() == &self.data_type {
            Ok(array)
        } else {
            Ok(cast(&array, &self.data_type)?)
        }
    }
}
