//! The connector API: what a source or sink implements, and the registry that
//! maps `'connector' = 'name'` to a factory. The engine never names a concrete
//! connector; `sluice-connectors` registers them.

mod registry;
mod sink;
mod source;

pub use registry::ConnectorRegistry;
pub use sink::{SinkContext, SinkTable, SinkWriter};
pub use source::{ScanContext, SourceReader, SourceTable};

use std::fmt::Debug;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef};

use crate::catalog::ConnectorOptions;
use crate::error::{Result, SluiceError};

/// A metadata column as declared: `c T METADATA [FROM 'key'] [VIRTUAL]`.
#[derive(Debug, Clone)]
pub struct MetadataColumn {
    /// Column name in the table.
    pub name: String,
    /// The connector's metadata key (the column name when `FROM` is absent).
    pub key: String,
    /// Declared type.
    pub data_type: DataType,
    /// `VIRTUAL` columns are read-only: excluded from INSERT.
    pub is_virtual: bool,
}

/// Everything a connector factory sees when a table is created.
pub struct TableContext<'a> {
    /// The table's name, for error messages.
    pub table_name: &'a str,
    /// The physical columns, in declaration order.
    pub physical_schema: SchemaRef,
    /// The metadata columns, in declaration order.
    pub metadata_columns: &'a [MetadataColumn],
    /// `PRIMARY KEY (..) NOT ENFORCED` column names, empty when none.
    pub primary_key: &'a [String],
    /// `PARTITIONED BY (..)` column names (physical columns), empty when
    /// none. Only a connector whose [`Connector::supports_partitioning`]
    /// says so ever sees any.
    pub partition_keys: &'a [String],
    /// The WITH options minus `connector`; take every key you understand.
    pub options: &'a mut ConnectorOptions,
}

impl TableContext<'_> {
    /// Rejects metadata columns for connectors that define no metadata keys.
    pub fn reject_metadata(&self, connector: &str) -> Result<()> {
        match self.metadata_columns.first() {
            None => Ok(()),
            Some(m) => Err(SluiceError::Options {
                table: self.table_name.to_string(),
                message: format!(
                    "column '{}': connector '{connector}' has no metadata key '{}'",
                    m.name, m.key
                ),
            }),
        }
    }
}

/// A connector: validates a table's options once, at CREATE TABLE, and
/// returns the table's runtime half.
pub trait Connector: Send + Sync + Debug {
    /// The value of `'connector'` this factory answers to.
    fn name(&self) -> &'static str;
    /// Validates the options (taking each key it knows) and builds the table.
    fn create(&self, ctx: TableContext<'_>) -> Result<Arc<dyn ConnectorTable>>;
    /// Whether `PARTITIONED BY` means something to this connector. Others
    /// refuse it at CREATE TABLE rather than ignore it (as Flink refuses it
    /// for a sink without partition support).
    fn supports_partitioning(&self) -> bool {
        false
    }
}

/// A validated table: it may be readable, writable, or both.
pub trait ConnectorTable: Send + Sync + Debug {
    /// The table as a source, or `None` when the connector cannot read.
    fn source(&self) -> Option<Arc<dyn SourceTable>>;
    /// The table as a sink, or `None` when the connector cannot write.
    fn sink(&self) -> Option<Arc<dyn SinkTable>>;
}

/// What a stream carries (Flink's changelog mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangelogMode {
    /// Only `+I` rows.
    AppendOnly,
    /// `+I`, `+U`, `-D` keyed by the given columns.
    Upsert(Vec<String>),
    /// `+I`, `-U`, `+U`, `-D`.
    Retract,
}

impl std::fmt::Display for ChangelogMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChangelogMode::AppendOnly => write!(f, "append-only [I]"),
            ChangelogMode::Upsert(k) => write!(f, "upsert [I,UA,D] key=({})", k.join(", ")),
            ChangelogMode::Retract => write!(f, "retract [I,UB,UA,D]"),
        }
    }
}

/// Flink's row kind. In an updating stream it travels as an `Int8` column
/// named [`ROW_KIND_COLUMN`] in the same batch, so retractions stay vectorized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i8)]
pub enum RowKind {
    Insert = 0,
    UpdateBefore = 1,
    UpdateAfter = 2,
    Delete = 3,
}

/// Name of the row-kind column of an updating stream.
pub const ROW_KIND_COLUMN: &str = "__sluice_row_kind";

/// The row-kind column's field.
pub fn row_kind_field() -> datafusion::arrow::datatypes::Field {
    datafusion::arrow::datatypes::Field::new(ROW_KIND_COLUMN, DataType::Int8, false)
}

impl RowKind {
    /// Flink's short string: `+I`, `-U`, `+U`, `-D`.
    pub fn short(self) -> &'static str {
        match self {
            RowKind::Insert => "+I",
            RowKind::UpdateBefore => "-U",
            RowKind::UpdateAfter => "+U",
            RowKind::Delete => "-D",
        }
    }
    /// Decodes the `Int8` column value.
    pub fn from_i8(v: i8) -> Option<RowKind> {
        Some(match v {
            0 => RowKind::Insert,
            1 => RowKind::UpdateBefore,
            2 => RowKind::UpdateAfter,
            3 => RowKind::Delete,
            _ => return None,
        })
    }
}
