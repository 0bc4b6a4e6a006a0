//! Flink's `raw` format: the whole message (or, in a file, the whole line)
//! is the value of the table's single physical column.
//!
//! Options: `raw.charset` (`UTF-8`; for STRING columns) and `raw.endianness`
//! (`big-endian` | `little-endian`; for numeric columns). Column types:
//! STRING/CHAR/VARCHAR, BYTES/BINARY/VARBINARY, BOOLEAN (1 byte), TINYINT (1),
//! SMALLINT (2), INT (4), BIGINT (8), FLOAT (4), DOUBLE (8). A null message is
//! a null value and a null value is written as a null message.

mod charset;
mod codec;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use sluice_engine::Result;
use sluice_engine::catalog::ConnectorOptions;

use super::messages::{MessageDecoder, MessageEncoder};
use super::{Format, RecordDecoder, RecordEncoder};
use charset::CHARSET_NAMES;
pub use charset::Charset;

/// How a raw value is laid out in bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawOptions {
    pub charset: Charset,
    pub big_endian: bool,
}

/// A validated raw format for one table.
#[derive(Debug)]
pub struct RawFormat {
    schema: SchemaRef,
    options: RawOptions,
}

/// True when raw can carry `dt`.
fn supported(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8
            | DataType::Binary
            | DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
    )
}

impl RawFormat {
    /// Takes the `raw.*` options; the table must have exactly one physical
    /// column of a supported type.
    pub fn from_options(opts: &mut ConnectorOptions, schema: &SchemaRef) -> Result<Self> {
        let charset = match opts.string("raw.charset") {
            None => Charset::Utf8,
            Some(name) => Charset::from_name(&name).ok_or_else(|| {
                opts.error(
                    "raw.charset",
                    format!("unsupported charset '{name}'; supported: {CHARSET_NAMES}"),
                )
            })?,
        };
        let big_endian = opts
            .one_of("raw.endianness", &["big-endian", "little-endian"])?
            .is_none_or(|e| e == "big-endian");
        if schema.fields().len() != 1 {
            return Err(sluice_engine::SluiceError::Options {
                table: opts.table().to_string(),
                message: format!(
                    "the 'raw' format supports exactly one physical column, but the table has {}",
                    schema.fields().len()
                ),
            });
        }
        let field = &schema.fields()[0];
        if !supported(field.data_type()) {
            return Err(sluice_engine::SluiceError::Options {
                table: opts.table().to_string(),
                message: format!(
                    "column '{}': the 'raw' format does not support type {}; use STRING, \
                     BYTES, BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, FLOAT or DOUBLE",
                    field.name(),
                    field.data_type()
                ),
            });
        }
        Ok(Self {
            schema: schema.clone(),
            options: RawOptions {
                charset,
                big_endian,
            },
        })
    }

    fn projected(&self, projection: Option<&[usize]>) -> Result<SchemaRef> {
        Ok(match projection {
            None => self.schema.clone(),
            Some(p) => std::sync::Arc::new(self.schema.project(p)?),
        })
    }
}

impl Format for RawFormat {
    fn name(&self) -> &'static str {
        "raw"
    }

    fn file_extension(&self) -> &'static str {
        ".raw"
    }

    fn decoder(
        &self,
        projection: Option<&[usize]>,
        batch_size: usize,
    ) -> Result<Box<dyn RecordDecoder>> {
        Ok(Box::new(codec::RawLineDecoder::new(
            self.projected(projection)?,
            self.options,
            batch_size,
        )))
    }

    fn encoder(&self) -> Result<Box<dyn RecordEncoder>> {
        Ok(Box::new(codec::RawEncoder::new(self.options)))
    }

    fn message_decoder(
        &self,
        projection: Option<&[usize]>,
        metadata: &[String],
        _batch_size: usize,
    ) -> Result<Box<dyn MessageDecoder>> {
        super::reject_format_metadata(self.name(), metadata)?;
        Ok(Box::new(codec::RawMessageDecoder::new(
            self.projected(projection)?,
            self.options,
        )))
    }

    fn message_encoder(&self) -> Result<Box<dyn MessageEncoder>> {
        Ok(Box::new(codec::RawEncoder::new(self.options)))
    }
}
