//! The table's physical columns: any of the reference schema's four,
//! `event_type INT` and the `person`, `auction` and `bid` ROWs, with
//! exactly the reference's field names, order and types.

use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, TimeUnit};
use sluice_engine::{Result, SluiceError};

/// One of the four columns the generator can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    EventType,
    Person,
    Auction,
    Bid,
}

fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, None)
}

fn row(fields: &[(&str, DataType)]) -> DataType {
    DataType::Struct(Fields::from(
        fields
            .iter()
            .map(|(n, t)| Field::new(*n, t.clone(), true))
            .collect::<Vec<_>>(),
    ))
}

impl Column {
    const ALL: [Column; 4] = [
        Column::EventType,
        Column::Person,
        Column::Auction,
        Column::Bid,
    ];

    fn name(self) -> &'static str {
        match self {
            Column::EventType => "event_type",
            Column::Person => "person",
            Column::Auction => "auction",
            Column::Bid => "bid",
        }
    }

    /// The column's type in the reference's table.
    pub(crate) fn data_type(self) -> DataType {
        use DataType::{Int32, Int64, Utf8};
        match self {
            Column::EventType => Int32,
            Column::Person => row(&[
                ("id", Int64),
                ("name", Utf8),
                ("emailAddress", Utf8),
                ("creditCard", Utf8),
                ("city", Utf8),
                ("state", Utf8),
                ("dateTime", ts()),
                ("extra", Utf8),
            ]),
            Column::Auction => row(&[
                ("id", Int64),
                ("itemName", Utf8),
                ("description", Utf8),
                ("initialBid", Int64),
                ("reserve", Int64),
                ("dateTime", ts()),
                ("expires", ts()),
                ("seller", Int64),
                ("category", Int64),
                ("extra", Utf8),
            ]),
            Column::Bid => row(&[
                ("auction", Int64),
                ("bidder", Int64),
                ("price", Int64),
                ("channel", Utf8),
                ("url", Utf8),
                ("dateTime", ts()),
                ("extra", Utf8),
            ]),
        }
    }

    /// The Flink spelling of the column's type, for error messages.
    fn flink_type(self) -> &'static str {
        match self {
            Column::EventType => "INT",
            Column::Person => {
                "ROW<id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR, \
                 city VARCHAR, state VARCHAR, `dateTime` TIMESTAMP(3), extra VARCHAR>"
            }
            Column::Auction => {
                "ROW<id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT, \
                 reserve BIGINT, `dateTime` TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT, \
                 category BIGINT, extra VARCHAR>"
            }
            Column::Bid => {
                "ROW<auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, \
                 `dateTime` TIMESTAMP(3), extra VARCHAR>"
            }
        }
    }
}

/// The reference table's physical schema (all four columns).
#[cfg(test)]
pub(crate) fn reference_schema() -> std::sync::Arc<Schema> {
    std::sync::Arc::new(Schema::new(
        Column::ALL
            .iter()
            .map(|c| Field::new(c.name(), c.data_type(), true))
            .collect::<Vec<_>>(),
    ))
}

/// Same names and types, nullability aside (NOT NULL is the user's promise).
fn same_type(a: &DataType, b: &DataType) -> bool {
    match (a, b) {
        (DataType::Struct(x), DataType::Struct(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(f, g)| f.name() == g.name() && same_type(f.data_type(), g.data_type()))
        }
        _ => a == b,
    }
}

/// Maps each declared physical column to what the generator produces.
pub(crate) fn columns(table: &str, schema: &Schema) -> Result<Vec<Column>> {
    let mut out = Vec::with_capacity(schema.fields().len());
    for f in schema.fields() {
        let Some(c) = Column::ALL.into_iter().find(|c| c.name() == f.name()) else {
            return Err(SluiceError::Options {
                table: table.to_string(),
                message: format!(
                    "column '{}': the nexmark connector produces only the columns \
                     event_type, person, auction and bid",
                    f.name()
                ),
            });
        };
        if !same_type(f.data_type(), &c.data_type()) {
            return Err(SluiceError::Options {
                table: table.to_string(),
                message: format!(
                    "column '{}' must have type {} for the nexmark connector",
                    f.name(),
                    c.flink_type()
                ),
            });
        }
        out.push(c);
    }
    Ok(out)
}
