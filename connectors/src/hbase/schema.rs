//! Flink's HBase schema mapping: exactly one atomic column is the row key;
//! every `ROW<...>` column is a column family (the column's name) whose
//! fields are its qualifiers.

use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use sluice_engine::sql::types::FlinkType;

/// One qualifier of a family.
#[derive(Debug, Clone)]
pub struct Qualifier {
    pub name: Vec<u8>,
    /// Field index inside the family's struct.
    pub field: usize,
}

/// One column family: a `ROW<...>` column.
#[derive(Debug, Clone)]
pub struct Family {
    pub name: Vec<u8>,
    /// The column's index in the table.
    pub column: usize,
    pub qualifiers: Vec<Qualifier>,
}

/// Where each column of the table goes.
#[derive(Debug, Clone)]
pub struct HBaseSchema {
    /// The row key column's index.
    pub row_key: usize,
    pub families: Vec<Family>,
}

impl HBaseSchema {
    /// Reads the mapping from the table's columns; `counters` requires
    /// every qualifier to be BIGINT (`'sink.write-mode' = 'increment'`).
    pub fn new(schema: &Schema, counters: bool) -> Result<Self, String> {
        let mut row_key = None;
        let mut families = Vec::new();
        for (i, f) in schema.fields().iter().enumerate() {
            match f.data_type() {
                DataType::Struct(fields) => {
                    let mut qualifiers = Vec::with_capacity(fields.len());
                    for (q, qf) in fields.iter().enumerate() {
                        check_type(qf, &format!("{}.{}", f.name(), qf.name()))?;
                        if counters && qf.data_type() != &DataType::Int64 {
                            return Err(format!(
                                "qualifier '{}.{}' is {}; with 'sink.write-mode' = 'increment' \
                                 every qualifier is a counter and must be BIGINT",
                                f.name(),
                                qf.name(),
                                flink_type(qf)
                            ));
                        }
                        qualifiers.push(Qualifier {
                            name: qf.name().as_bytes().to_vec(),
                            field: q,
                        });
                    }
                    if qualifiers.is_empty() {
                        return Err(format!("column family '{}' has no qualifiers", f.name()));
                    }
                    families.push(Family {
                        name: f.name().as_bytes().to_vec(),
                        column: i,
                        qualifiers,
                    });
                }
                _ => {
                    check_type(f, f.name())?;
                    if let Some(prev) = row_key {
                        let prev: &Field = schema.field(prev);
                        return Err(format!(
                            "row key can't be set multiple times: '{}' and '{}' are both atomic \
                             columns; every column but the row key must be a ROW<...> column family",
                            prev.name(),
                            f.name()
                        ));
                    }
                    row_key = Some(i);
                }
            }
        }
        let row_key = row_key.ok_or_else(|| {
            "an HBase table needs exactly one atomic column as its row key".to_string()
        })?;
        if families.is_empty() {
            return Err(
                "an HBase table needs at least one column family (a ROW<...> column)".to_string(),
            );
        }
        Ok(Self { row_key, families })
    }

    /// Number of qualifiers over all families.
    pub fn cells(&self) -> usize {
        self.families.iter().map(|f| f.qualifiers.len()).sum()
    }
}

fn flink_type(f: &Field) -> FlinkType {
    FlinkType::from_arrow(f.data_type(), f.is_nullable())
}

/// The types Flink's `HBaseSerde` encodes: TIMESTAMP and TIME only up to
/// millisecond precision (the value is stored as a Java long/int).
fn check_type(f: &Field, what: &str) -> Result<(), String> {
    let ok = match f.data_type() {
        DataType::Utf8
        | DataType::Boolean
        | DataType::Binary
        | DataType::Decimal128(..)
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::Date32 => true,
        DataType::Time32(_) => true,
        DataType::Timestamp(TimeUnit::Second | TimeUnit::Millisecond, _) => true,
        DataType::Time64(_) => {
            return Err(format!(
                "column '{what}' is {}: the precision of TIME is out of the range [0, 3] \
                 supported by the HBase connector",
                flink_type(f)
            ));
        }
        DataType::Timestamp(..) => {
            return Err(format!(
                "column '{what}' is {}: the precision of TIMESTAMP is out of the range [0, 3] \
                 supported by the HBase connector; declare it TIMESTAMP(3)",
                flink_type(f)
            ));
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "column '{what}' is {}, which the HBase connector does not support \
             (nested ROW, ARRAY and MAP cannot be stored in a cell)",
            flink_type(f)
        ))
    }
}
