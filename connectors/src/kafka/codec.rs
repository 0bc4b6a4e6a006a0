//! Key and value formats of a Kafka table: `format` (or `value.format`),
//! `key.format`, `key.fields`, `key.fields-prefix`, `value.fields-include`,
//! with Flink's rules and messages. A format's own options follow its key:
//! `json.*` with `format`, `value.json.*` with `value.format`, `key.json.*`
//! with `key.format`.

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::ChangelogMode;
use sluice_engine::{Result, SluiceError};

use super::options::Flavor;
use crate::formats::{Format, format_for};

/// The formats of a table and which physical columns each carries.
#[derive(Debug, Clone)]
pub struct KafkaCodec {
    /// The key format, over [`KafkaCodec::key_fields`] (prefix removed).
    pub key_format: Option<Arc<dyn Format>>,
    /// The value format, over [`KafkaCodec::value_fields`].
    pub value_format: Arc<dyn Format>,
    /// Physical column indices in the key, in key order.
    pub key_fields: Vec<usize>,
    /// Physical column indices in the value, in table order.
    pub value_fields: Vec<usize>,
}

/// `format_for` with the format's keys under `prefix` (`key.`, `value.` or
/// none).
fn prefixed_format(
    opts: &mut ConnectorOptions,
    prefix: &str,
    name: &str,
    schema: &SchemaRef,
) -> Result<Arc<dyn Format>> {
    if prefix.is_empty() {
        return format_for(name, opts, schema);
    }
    let family = format!("{prefix}{name}.");
    let values = opts
        .prefixed(&family, &format!("{family}*"))
        .into_iter()
        .map(|(k, v)| (format!("{name}.{k}"), v))
        .collect();
    let mut sub = ConnectorOptions::new(opts.table(), values);
    let wrap = |e: SluiceError| match e {
        SluiceError::Options { table, message } => SluiceError::Options {
            table,
            message: format!(
                "{prefix}format '{name}': {message} (write these options as '{prefix}{name}.*')"
            ),
        },
        other => other,
    };
    let format = format_for(name, &mut sub, schema).map_err(wrap)?;
    sub.finish(&format!("{prefix}format {name}"))
        .map_err(wrap)?;
    Ok(format)
}

fn schema_of(physical: &SchemaRef, fields: &[usize], strip: &str) -> SchemaRef {
    Arc::new(Schema::new(
        fields
            .iter()
            .map(|i| {
                let f = physical.field(*i);
                let name = f.name().strip_prefix(strip).unwrap_or(f.name());
                Field::new(name, f.data_type().clone(), f.is_nullable())
            })
            .collect::<Vec<_>>(),
    ))
}

impl KafkaCodec {
    /// Takes the format keys and resolves which columns go where.
    pub fn from_options(
        opts: &mut ConnectorOptions,
        physical: &SchemaRef,
        flavor: Flavor,
        primary_key: &[String],
    ) -> Result<Self> {
        let names: Vec<&str> = physical
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        let key_format = opts.string("key.format");
        let prefix = opts.string("key.fields-prefix").unwrap_or_default();
        let include = opts.one_of("value.fields-include", &["ALL", "EXCEPT_KEY"])?;
        let except_key = include.as_deref() == Some("except_key");
        let (value_format, value_prefix) =
            match (opts.string("format"), opts.string("value.format")) {
                (Some(_), Some(_)) => {
                    return Err(opts.error(
                        "format",
                        "'format' and 'value.format' cannot both be set; use 'value.format'",
                    ));
                }
                (Some(f), None) if flavor == Flavor::Kafka => (f, ""),
                (_, Some(f)) => (f, "value."),
                _ => {
                    let key = if flavor == Flavor::Kafka {
                        "format"
                    } else {
                        "value.format"
                    };
                    return Err(opts.error(key, format!("missing required option '{key}'")));
                }
            };

        let key_names: Vec<String> = match flavor {
            Flavor::Kafka => match opts.string("key.fields") {
                Some(list) => list
                    .split(';')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
                None => Vec::new(),
            },
            Flavor::UpsertKafka => {
                if primary_key.is_empty() {
                    return Err(SluiceError::Options {
                        table: opts.table().to_string(),
                        message: "'upsert-kafka' tables require to define a PRIMARY KEY \
                                  constraint. The PRIMARY KEY specifies which columns should be \
                                  read from or write to the Kafka message key. The PRIMARY KEY \
                                  also defines records in the 'upsert-kafka' table should update \
                                  or delete on which keys."
                            .to_string(),
                    });
                }
                if key_format.is_none() {
                    return Err(opts.error("key.format", "missing required option 'key.format'"));
                }
                primary_key.to_vec()
            }
        };
        match (&key_format, key_names.is_empty()) {
            (None, false) => {
                return Err(opts.error(
                    "key.fields",
                    "The option 'key.fields' can only be declared if a key format is defined using 'key.format'.",
                ));
            }
            (Some(_), true) => {
                return Err(opts.error(
                    "key.format",
                    "A key format 'key.format' requires the declaration of one or more of key fields using 'key.fields'.",
                ));
            }
            _ => {}
        }
        let mut key_fields = Vec::with_capacity(key_names.len());
        for k in &key_names {
            let Some(pos) = names.iter().position(|n| n == k) else {
                return Err(opts.error(
                    "key.fields",
                    format!(
                        "Could not find the field '{k}' in the table schema for usage in the key \
                         format. A key field must be a regular, physical column. The following \
                         columns can be selected in the 'key.fields' option: [{}]",
                        names.join(", ")
                    ),
                ));
            };
            if !k.starts_with(&prefix) {
                return Err(opts.error(
                    "key.fields",
                    format!(
                        "All fields in 'key.fields' must be prefixed with '{prefix}' when option \
                         'key.fields-prefix' is set but field '{k}' is not prefixed."
                    ),
                ));
            }
            key_fields.push(pos);
        }
        if !prefix.is_empty() && !except_key {
            return Err(opts.error(
                "key.fields-prefix",
                "A key prefix is not allowed when option 'value.fields-include' is set to 'ALL'. \
                 Set it to 'EXCEPT_KEY' instead to avoid field overlaps.",
            ));
        }
        let value_fields: Vec<usize> = (0..names.len())
            .filter(|i| !except_key || !key_fields.contains(i))
            .collect();

        let key_format = match key_format {
            None => None,
            Some(name) => {
                let f = prefixed_format(
                    opts,
                    "key.",
                    &name,
                    &schema_of(physical, &key_fields, &prefix),
                )?;
                if f.changelog_mode() != ChangelogMode::AppendOnly {
                    return Err(opts.error(
                        "key.format",
                        format!("A key format should only deal with INSERT-only records, but '{name}' is a changelog format."),
                    ));
                }
                Some(f)
            }
        };
        let value_format = prefixed_format(
            opts,
            value_prefix,
            &value_format,
            &schema_of(physical, &value_fields, ""),
        )?;
        if flavor == Flavor::UpsertKafka
            && value_format.changelog_mode() != ChangelogMode::AppendOnly
        {
            let name = value_format.name();
            return Err(opts.error(
                "value.format",
                format!(
                    "'upsert-kafka' connector doesn't support '{name}' as value format, because \
                     '{name}' is not in insert-only mode."
                ),
            ));
        }
        Ok(Self {
            key_format,
            value_format,
            key_fields,
            value_fields,
        })
    }

    /// True when the value format is a changelog format.
    pub fn value_is_changelog(&self) -> bool {
        self.value_format.changelog_mode() != ChangelogMode::AppendOnly
    }
}
