//! Flink's SQL types, as written in DDL, and their Arrow representation.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};

/// Time zone used for `TIMESTAMP_LTZ` values: an instant, shown in UTC until
/// `table.local-time-zone` is wired.
pub const LTZ_TIMEZONE: &str = "UTC";

/// A Flink logical type with its nullability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlinkType {
    pub kind: FlinkTypeKind,
    pub nullable: bool,
}

/// The Flink type families Sluice supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlinkTypeKind {
    Char(u32),
    /// `VARCHAR(n)`; `STRING` is `VARCHAR(2147483647)`.
    Varchar(u32),
    Boolean,
    Binary(u32),
    /// `VARBINARY(n)`; `BYTES` is `VARBINARY(2147483647)`.
    Varbinary(u32),
    Decimal(u8, i8),
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Float,
    Double,
    Date,
    Time(u8),
    Timestamp(u8),
    TimestampLtz(u8),
    Array(Box<FlinkType>),
    Map(Box<FlinkType>, Box<FlinkType>),
    Row(Vec<RowField>),
}

/// One field of a `ROW<..>` type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowField {
    pub name: String,
    pub data_type: FlinkType,
    pub comment: Option<String>,
}

/// `VARCHAR(MAX)`: Flink's `STRING`.
pub const MAX_LENGTH: u32 = i32::MAX as u32;

impl FlinkType {
    /// A nullable type of this kind.
    pub fn nullable(kind: FlinkTypeKind) -> Self {
        FlinkType {
            kind,
            nullable: true,
        }
    }

    /// The Arrow type values of this type are stored as.
    pub fn to_arrow(&self) -> DataType {
        use FlinkTypeKind::*;
        match &self.kind {
            Char(_) | Varchar(_) => DataType::Utf8,
            Boolean => DataType::Boolean,
            Binary(_) | Varbinary(_) => DataType::Binary,
            Decimal(p, s) => DataType::Decimal128(*p, *s),
            TinyInt => DataType::Int8,
            SmallInt => DataType::Int16,
            Int => DataType::Int32,
            BigInt => DataType::Int64,
            Float => DataType::Float32,
            Double => DataType::Float64,
            Date => DataType::Date32,
            Time(p) => match p {
                0..=3 => DataType::Time32(TimeUnit::Millisecond),
                4..=6 => DataType::Time64(TimeUnit::Microsecond),
                _ => DataType::Time64(TimeUnit::Nanosecond),
            },
            Timestamp(p) => DataType::Timestamp(time_unit(*p), None),
            TimestampLtz(p) => DataType::Timestamp(time_unit(*p), Some(LTZ_TIMEZONE.into())),
            Array(e) => DataType::List(Arc::new(Field::new("element", e.to_arrow(), e.nullable))),
            Map(k, v) => {
                let entries = Field::new(
                    "entries",
                    DataType::Struct(Fields::from(vec![
                        Field::new("key", k.to_arrow(), false),
                        Field::new("value", v.to_arrow(), v.nullable),
                    ])),
                    false,
                );
                DataType::Map(Arc::new(entries), false)
            }
            Row(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|f| Field::new(&f.name, f.data_type.to_arrow(), f.data_type.nullable))
                    .collect::<Vec<_>>()
                    .into(),
            ),
        }
    }

    /// The Flink type that best describes an Arrow type (for views and query
    /// results, which have no declared Flink type).
    pub fn from_arrow(dt: &DataType, nullable: bool) -> FlinkType {
        use FlinkTypeKind as K;
        let kind = match dt {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => K::Varchar(MAX_LENGTH),
            DataType::Boolean => K::Boolean,
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
                K::Varbinary(MAX_LENGTH)
            }
            DataType::FixedSizeBinary(n) => K::Binary(*n as u32),
            DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => K::Decimal(*p, *s),
            DataType::Int8 | DataType::UInt8 => K::TinyInt,
            DataType::Int16 | DataType::UInt16 => K::SmallInt,
            DataType::Int32 | DataType::UInt32 => K::Int,
            DataType::Int64 | DataType::UInt64 => K::BigInt,
            DataType::Float16 | DataType::Float32 => K::Float,
            DataType::Float64 => K::Double,
            DataType::Date32 | DataType::Date64 => K::Date,
            DataType::Time32(u) | DataType::Time64(u) => K::Time(precision(u)),
            DataType::Timestamp(u, None) => K::Timestamp(precision(u)),
            DataType::Timestamp(u, Some(_)) => K::TimestampLtz(precision(u)),
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => K::Array(
                Box::new(FlinkType::from_arrow(f.data_type(), f.is_nullable())),
            ),
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(kv) if kv.len() == 2 => K::Map(
                    Box::new(FlinkType::from_arrow(
                        kv[0].data_type(),
                        kv[0].is_nullable(),
                    )),
                    Box::new(FlinkType::from_arrow(
                        kv[1].data_type(),
                        kv[1].is_nullable(),
                    )),
                ),
                _ => K::Varchar(MAX_LENGTH),
            },
            DataType::Struct(fields) => K::Row(
                fields
                    .iter()
                    .map(|f| RowField {
                        name: f.name().clone(),
                        data_type: FlinkType::from_arrow(f.data_type(), f.is_nullable()),
                        comment: None,
                    })
                    .collect(),
            ),
            DataType::Dictionary(_, v) => return FlinkType::from_arrow(v, nullable),
            // NULL literals and anything exotic print as STRING; no Flink DDL
            // can declare them.
            _ => K::Varchar(MAX_LENGTH),
        };
        FlinkType { kind, nullable }
    }
}

fn time_unit(precision: u8) -> TimeUnit {
    match precision {
        0..=3 => TimeUnit::Millisecond,
        4..=6 => TimeUnit::Microsecond,
        _ => TimeUnit::Nanosecond,
    }
}

fn precision(unit: &TimeUnit) -> u8 {
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    }
}

impl std::fmt::Display for FlinkType {
    /// Flink's own spelling, as `DESCRIBE` and `SHOW CREATE TABLE` print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use FlinkTypeKind::*;
        match &self.kind {
            Char(n) => write!(f, "CHAR({n})")?,
            Varchar(n) if *n == MAX_LENGTH => write!(f, "STRING")?,
            Varchar(n) => write!(f, "VARCHAR({n})")?,
            Boolean => write!(f, "BOOLEAN")?,
            Binary(n) => write!(f, "BINARY({n})")?,
            Varbinary(n) if *n == MAX_LENGTH => write!(f, "BYTES")?,
            Varbinary(n) => write!(f, "VARBINARY({n})")?,
            Decimal(p, s) => write!(f, "DECIMAL({p}, {s})")?,
            TinyInt => write!(f, "TINYINT")?,
            SmallInt => write!(f, "SMALLINT")?,
            Int => write!(f, "INT")?,
            BigInt => write!(f, "BIGINT")?,
            Float => write!(f, "FLOAT")?,
            Double => write!(f, "DOUBLE")?,
            Date => write!(f, "DATE")?,
            Time(p) => write!(f, "TIME({p})")?,
            Timestamp(p) => write!(f, "TIMESTAMP({p})")?,
            TimestampLtz(p) => write!(f, "TIMESTAMP_LTZ({p})")?,
            Array(e) => write!(f, "ARRAY<{e}>")?,
            Map(k, v) => write!(f, "MAP<{k}, {v}>")?,
            Row(fields) => {
                write!(f, "ROW<")?;
                for (i, fld) in fields.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "`{}` {}", fld.name, fld.data_type)?;
                    if let Some(c) = &fld.comment {
                        write!(f, " '{}'", c.replace('\'', "''"))?;
                    }
                }
                write!(f, ">")?;
            }
        }
        if !self.nullable {
            write!(f, " NOT NULL")?;
        }
        Ok(())
    }
}
