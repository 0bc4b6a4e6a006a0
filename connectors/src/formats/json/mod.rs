//! Flink's `json` format: one JSON object per line, keyed by column name.
//!
//! Options (Flink's names and defaults): `json.fail-on-missing-field`
//! (false), `json.ignore-parse-errors` (false), `json.timestamp-format.standard`
//! (`SQL` | `ISO-8601`, default `SQL`), `json.map-null-key.mode` (`FAIL` |
//! `DROP` | `LITERAL`) and `json.map-null-key.literal` (accepted; Arrow map
//! keys are never null), `json.encode.decimal-as-plain-number` (false),
//! `json.encode.ignore-null-fields` (false), `json.decode.json-parser.enabled`
//! (accepted, no effect).

mod binary;
mod decode;
mod encode;
mod missing;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use sluice_engine::Result;
use sluice_engine::catalog::ConnectorOptions;

use super::{Format, RecordDecoder, RecordEncoder};

/// The json options that shape decoding and encoding.
#[derive(Debug, Clone, Default)]
pub(crate) struct JsonOptions {
    /// A field absent from a record is an error (not a null).
    pub fail_on_missing_field: bool,
    /// Drop (and count) malformed records instead of failing.
    pub ignore_parse_errors: bool,
    /// Write timestamps as `2024-01-02T03:04:05` rather than with a space.
    pub timestamp_iso: bool,
    /// Write DECIMAL as `0.0000001` rather than `1E-7`.
    pub decimal_plain: bool,
    /// Leave null fields out of written objects.
    pub ignore_null_fields: bool,
}

impl JsonOptions {
    /// Takes every `json.*` key from `opts`.
    fn from_options(opts: &mut ConnectorOptions) -> Result<Self> {
        let fail_on_missing_field = opts.bool("json.fail-on-missing-field")?.unwrap_or(false);
        let ignore_parse_errors = opts.bool("json.ignore-parse-errors")?.unwrap_or(false);
        if fail_on_missing_field && ignore_parse_errors {
            return Err(opts.error(
                "json.fail-on-missing-field",
                "'json.fail-on-missing-field' and 'json.ignore-parse-errors' cannot both be true",
            ));
        }
        let standard = opts.one_of("json.timestamp-format.standard", &["SQL", "ISO-8601"])?;
        opts.one_of("json.map-null-key.mode", &["FAIL", "DROP", "LITERAL"])?;
        opts.string("json.map-null-key.literal");
        opts.bool("json.decode.json-parser.enabled")?;
        Ok(Self {
            fail_on_missing_field,
            ignore_parse_errors,
            timestamp_iso: standard.as_deref() == Some("iso-8601"),
            decimal_plain: opts
                .bool("json.encode.decimal-as-plain-number")?
                .unwrap_or(false),
            ignore_null_fields: opts
                .bool("json.encode.ignore-null-fields")?
                .unwrap_or(false),
        })
    }
}

/// What is wrong with `dt` as a JSON column type, if anything.
fn type_problem(dt: &DataType) -> Option<String> {
    match dt {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                if !matches!(
                    kv[0].data_type(),
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                ) {
                    Some(format!(
                        "JSON format doesn't support non-string as key type of map, got {}",
                        kv[0].data_type()
                    ))
                } else {
                    type_problem(kv[1].data_type())
                }
            }
            other => Some(format!("unexpected map entries type {other}")),
        },
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _) => type_problem(f.data_type()),
        DataType::Struct(fields) => fields.iter().find_map(|f| type_problem(f.data_type())),
        DataType::Interval(_) | DataType::Duration(_) | DataType::Union(..) => {
            Some(format!("JSON format does not support type {dt}"))
        }
        _ => None,
    }
}

/// A validated json format for one table.
#[derive(Debug)]
pub struct JsonFormat {
    schema: SchemaRef,
    options: JsonOptions,
}

impl JsonFormat {
    /// Takes the `json.*` options and checks every column type is writable.
    pub fn from_options(opts: &mut ConnectorOptions, schema: &SchemaRef) -> Result<Self> {
        let options = JsonOptions::from_options(opts)?;
        crate::formats::check_column_types(opts, schema, type_problem)?;
        Ok(Self {
            schema: schema.clone(),
            options,
        })
    }
}

impl Format for JsonFormat {
    fn name(&self) -> &'static str {
        "json"
    }

    fn file_extension(&self) -> &'static str {
        ".json"
    }

    fn decoder(
        &self,
        projection: Option<&[usize]>,
        batch_size: usize,
    ) -> Result<Box<dyn RecordDecoder>> {
        let schema = match projection {
            None => self.schema.clone(),
            Some(p) => std::sync::Arc::new(self.schema.project(p)?),
        };
        Ok(Box::new(decode::JsonDecoder::new(
            schema,
            self.options.clone(),
            batch_size,
        )))
    }

    fn encoder(&self) -> Result<Box<dyn RecordEncoder>> {
        Ok(Box::new(encode::JsonEncoder::new(
            self.schema.clone(),
            &self.options,
        )))
    }
}
