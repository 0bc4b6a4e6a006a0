//! Flink's `csv` format: one line per row, fields by position, no header.
//!
//! Options (Flink's names and defaults): `csv.field-delimiter` (`,`),
//! `csv.quote-character` (`"`), `csv.disable-quote-character` (false),
//! `csv.allow-comments` (false; lines starting with `#`),
//! `csv.ignore-parse-errors` (false), `csv.array-element-delimiter` (`;`),
//! `csv.escape-character` (none), `csv.null-literal` (none),
//! `csv.write-bigdecimal-in-scientific-notation` (true).
//!
//! Single-character options accept Java escapes as Flink does (`'\t'`).

mod convert;
mod decode;
mod encode;
mod scan;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use sluice_engine::Result;
use sluice_engine::catalog::ConnectorOptions;

use super::{Format, RecordDecoder, RecordEncoder};

/// The csv options that shape decoding and encoding.
#[derive(Debug, Clone)]
pub(crate) struct CsvOptions {
    pub delimiter: u8,
    /// `None` when quoting is disabled.
    pub quote: Option<u8>,
    pub escape: Option<u8>,
    /// Skip lines starting with `#`.
    pub allow_comments: bool,
    /// Unparsable fields become null, short rows are padded with nulls and
    /// unparsable rows are dropped (Flink's behaviour), all counted.
    pub ignore_parse_errors: bool,
    /// Separates ARRAY elements and nested ROW fields inside one field.
    pub array_delimiter: String,
    /// The text that stands for null (matched in full, per field).
    pub null_literal: Option<String>,
    /// Write DECIMAL as `0.0000001` rather than `1E-7`.
    pub decimal_plain: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            delimiter: b',',
            quote: Some(b'"'),
            escape: None,
            allow_comments: false,
            ignore_parse_errors: false,
            array_delimiter: ";".to_string(),
            null_literal: None,
            decimal_plain: false,
        }
    }
}

/// Undoes Java-style escapes (`\t`, `\n`, `\\`, `\'`, `\uXXXX`), as Flink
/// does for its single-character csv options.
fn unescape(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            't' => out.push('\t'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            'f' => out.push('\u{c}'),
            'b' => out.push('\u{8}'),
            '0' => out.push('\0'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// Takes a single-ASCII-character option.
fn single_char(opts: &mut ConnectorOptions, key: &str) -> Result<Option<u8>> {
    let Some(raw) = opts.string(key) else {
        return Ok(None);
    };
    match unescape(&raw).as_deref().map(str::as_bytes) {
        Some([b]) if b.is_ascii() => Ok(Some(*b)),
        _ => Err(opts.error(
            key,
            format!("expected a single ASCII character (escapes like '\\t' allowed), got '{raw}'"),
        )),
    }
}

impl CsvOptions {
    /// Takes every `csv.*` key from `opts`.
    fn from_options(opts: &mut ConnectorOptions) -> Result<Self> {
        let d = Self::default();
        let delimiter = single_char(opts, "csv.field-delimiter")?.unwrap_or(d.delimiter);
        let quote = single_char(opts, "csv.quote-character")?;
        let disable_quote = opts.bool("csv.disable-quote-character")?.unwrap_or(false);
        if disable_quote && quote.is_some() {
            return Err(opts.error(
                "csv.quote-character",
                "cannot define a quote character and disable the quote character at the same time",
            ));
        }
        let escape = single_char(opts, "csv.escape-character")?;
        let array_delimiter = match opts.string("csv.array-element-delimiter") {
            Some(s) if s.is_empty() => {
                return Err(opts.error("csv.array-element-delimiter", "must not be empty"));
            }
            Some(s) => unescape(&s).unwrap_or(s),
            None => d.array_delimiter,
        };
        let options = Self {
            delimiter,
            quote: if disable_quote {
                None
            } else {
                Some(quote.unwrap_or(b'"'))
            },
            escape,
            allow_comments: opts.bool("csv.allow-comments")?.unwrap_or(false),
            ignore_parse_errors: opts.bool("csv.ignore-parse-errors")?.unwrap_or(false),
            array_delimiter,
            null_literal: opts.string("csv.null-literal"),
            decimal_plain: !opts
                .bool("csv.write-bigdecimal-in-scientific-notation")?
                .unwrap_or(true),
        };
        if matches!(delimiter, b'\n' | b'\r') || Some(delimiter) == options.quote {
            return Err(opts.error(
                "csv.field-delimiter",
                "must differ from the quote character and the line separator",
            ));
        }
        Ok(options)
    }
}

fn is_simple(dt: &DataType) -> bool {
    dt.is_primitive()
        || matches!(
            dt,
            DataType::Null
                | DataType::Boolean
                | DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
                | DataType::Binary
                | DataType::LargeBinary
                | DataType::BinaryView
        )
}

/// What is wrong with `dt` as a CSV column type, if anything: like Flink,
/// ARRAY and ROW may only hold simple types, and MAP is not supported.
fn type_problem(dt: &DataType) -> Option<String> {
    let nested_ok = |inner: &DataType| {
        (!is_simple(inner)).then(|| {
            format!("CSV format supports only simple types inside ARRAY and ROW, got {inner}")
        })
    };
    match dt {
        d if is_simple(d) => matches!(d, DataType::Interval(_) | DataType::Duration(_))
            .then(|| format!("CSV format does not support type {d}")),
        DataType::List(f) | DataType::LargeList(f) => nested_ok(f.data_type()),
        DataType::Struct(fields) => fields.iter().find_map(|f| nested_ok(f.data_type())),
        other => Some(format!("CSV format does not support type {other}")),
    }
}

/// A validated csv format for one table.
#[derive(Debug)]
pub struct CsvFormat {
    schema: SchemaRef,
    options: CsvOptions,
}

impl CsvFormat {
    /// Takes the `csv.*` options and checks every column type.
    pub fn from_options(opts: &mut ConnectorOptions, schema: &SchemaRef) -> Result<Self> {
        let options = CsvOptions::from_options(opts)?;
        crate::formats::check_column_types(opts, schema, type_problem)?;
        Ok(Self {
            schema: schema.clone(),
            options,
        })
    }
}

impl Format for CsvFormat {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn file_extension(&self) -> &'static str {
        ".csv"
    }

    fn decoder(
        &self,
        projection: Option<&[usize]>,
        batch_size: usize,
    ) -> Result<Box<dyn RecordDecoder>> {
        let projection: Vec<usize> = match projection {
            Some(p) => p.to_vec(),
            None => (0..self.schema.fields().len()).collect(),
        };
        Ok(Box::new(decode::CsvDecoder::new(
            self.schema.clone(),
            projection,
            self.options.clone(),
            batch_size,
        )?))
    }

    fn encoder(&self) -> Result<Box<dyn RecordEncoder>> {
        Ok(Box::new(encode::CsvEncoder::new(
            self.schema.clone(),
            self.options.clone(),
        )))
    }
}
