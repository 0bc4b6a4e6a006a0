//! The `jdbc` connector: MySQL/MariaDB and PostgreSQL tables as sources
//! and sinks, with Flink's option keys. Sluice speaks the databases' wire
//! protocols through sqlx (async); the `jdbc:` URL only picks the database.
//!
//! * Sink: buffered through [`crate::sink::buffered`]; each flush is one
//!   transaction of multi-row INSERTs with bound parameters. With a
//!   `PRIMARY KEY ... NOT ENFORCED` the INSERTs are upserts (`ON DUPLICATE
//!   KEY UPDATE` / `ON CONFLICT (..) DO UPDATE`) and `-D` rows become
//!   `DELETE ... WHERE key IN (..)`.
//! * Source: a bounded scan, split into ranges read in parallel with
//!   `scan.partition.*`, or incremental with `scan.incremental.*`.
//!
//! See `docs/connectors/jdbc.md` for every option and the type mapping.

mod bind;
mod decode;
mod diagnose;
mod dialect;
mod incremental;
mod pool;
mod sink;
mod source;
mod url;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::datatypes::DataType;
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{Connector, ConnectorTable, SinkTable, SourceTable, TableContext};
use sluice_engine::sql::types::FlinkType;
use sluice_engine::{Result, SluiceError};

use crate::sink::buffered::{BufferDefaults, BufferOptions, take_sink_parallelism};
use dialect::Dialect;
use incremental::{Bound, StateFile};
use pool::ConnectConfig;
pub use sink::JdbcSink;
pub use source::JdbcSource;
use source::{Incremental, Partitioning};
use url::JdbcUrl;

/// Flink's JDBC sink defaults: 100 rows, 1 s, 3 retries.
const BUFFER_DEFAULTS: BufferDefaults = BufferDefaults {
    max_rows: 100,
    interval: Duration::from_secs(1),
    max_retries: 3,
    max_size: None,
};

/// Flink's `connection.max-retry-timeout` default.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// Factory for `'connector' = 'jdbc'`.
#[derive(Debug)]
pub struct JdbcConnector;

/// A JDBC table: readable and writable.
#[derive(Debug)]
struct JdbcTable {
    source: Arc<JdbcSource>,
    sink: Arc<JdbcSink>,
}

impl ConnectorTable for JdbcTable {
    fn source(&self) -> Option<Arc<dyn SourceTable>> {
        Some(self.source.clone())
    }
    fn sink(&self) -> Option<Arc<dyn SinkTable>> {
        Some(self.sink.clone())
    }
}

impl Connector for JdbcConnector {
    fn name(&self) -> &'static str {
        "jdbc"
    }

    fn create(&self, ctx: TableContext<'_>) -> Result<Arc<dyn ConnectorTable>> {
        ctx.reject_metadata("jdbc")?;
        let schema = ctx.physical_schema.clone();
        let opts = ctx.options;
        let url_text = opts.required("url")?;
        let url = JdbcUrl::parse(&url_text).map_err(|e| opts.error("url", e))?;
        let table_name = opts.required("table-name")?;
        // The driver follows from the URL; Flink's class name is accepted.
        opts.string("driver");
        let config = ConnectConfig {
            url: url.clone(),
            username: opts.string("username"),
            password: opts.string("password"),
            connect_timeout: opts
                .duration("connection.max-retry-timeout")?
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT)
                .max(Duration::from_secs(1)),
        };
        reject_lookup(opts)?;
        check_types(ctx.table_name, &schema, url.dialect)?;

        let column = |opts: &ConnectorOptions, key: &str, name: &str| {
            schema
                .index_of(name)
                .map_err(|_| opts.error(key, format!("no column '{name}' in the table")))
        };

        // Source options.
        let partitioning = take_partitioning(opts, &schema, &column)?;
        let fetch_size = opts
            .parse::<usize>("scan.fetch-size", "a non-negative integer")?
            .filter(|n| *n > 0);
        // Flink's PostgreSQL cursors need auto-commit off; sqlx streams rows
        // either way, so the key is accepted and has no effect.
        opts.bool("scan.auto-commit")?;
        let incremental = match opts.string("scan.incremental.column") {
            None => {
                for k in ["scan.incremental.start", "scan.incremental.state-dir"] {
                    if opts.contains(k) {
                        return Err(opts.error(k, "requires 'scan.incremental.column'"));
                    }
                }
                None
            }
            Some(name) => {
                let index = column(opts, "scan.incremental.column", &name)?;
                if partitioning.is_some() {
                    return Err(SluiceError::not_supported(
                        "'scan.incremental.column' together with 'scan.partition.column'",
                    ));
                }
                let data_type = schema.field(index).data_type().clone();
                if !incremental_type(&data_type) {
                    return Err(opts.error(
                        "scan.incremental.column",
                        format!(
                            "column '{name}' is {}; it must be a number, string, date or timestamp",
                            FlinkType::from_arrow(&data_type, true)
                        ),
                    ));
                }
                let start = opts
                    .string("scan.incremental.start")
                    .map(|s| Bound::parse(&s, &data_type))
                    .transpose()
                    .map_err(|e| opts.error("scan.incremental.start", e))?;
                let dir = opts
                    .string("scan.incremental.state-dir")
                    .map(PathBuf::from)
                    .unwrap_or_else(incremental::default_state_dir);
                Some(Incremental {
                    column: index,
                    start,
                    state: StateFile::new(&dir, ctx.table_name, &url.display(), &table_name, &name),
                })
            }
        };

        // Sink options.
        let buffer = BufferOptions::take(opts, &BUFFER_DEFAULTS)?;
        let parallelism = take_sink_parallelism(opts)?;
        let key = ctx
            .primary_key
            .iter()
            .map(|k| {
                schema.index_of(k).map_err(|_| SluiceError::Options {
                    table: ctx.table_name.to_string(),
                    message: format!("primary key column '{k}' is not a column"),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        opts.finish("jdbc")?;

        Ok(Arc::new(JdbcTable {
            source: Arc::new(JdbcSource {
                table: ctx.table_name.to_string(),
                table_name: table_name.clone(),
                config: config.clone(),
                schema: schema.clone(),
                partitioning,
                incremental,
                fetch_size,
            }),
            sink: Arc::new(JdbcSink {
                table: ctx.table_name.to_string(),
                table_name,
                config,
                schema,
                key,
                buffer,
                parallelism,
            }),
        }))
    }
}

/// `lookup.*` keys belong to lookup joins, which Sluice does not run yet.
fn reject_lookup(opts: &mut ConnectorOptions) -> Result<()> {
    let lookup = opts.prefixed("lookup.", "lookup.*");
    match lookup.keys().next() {
        Some(k) => Err(SluiceError::not_supported(format!(
            "JDBC lookup joins ('lookup.{k}')"
        ))),
        None => Ok(()),
    }
}

/// Every column must have a type the connector binds and reads.
fn check_types(
    table: &str,
    schema: &datafusion::arrow::datatypes::SchemaRef,
    dialect: Dialect,
) -> Result<()> {
    for f in schema.fields() {
        if !bind::bindable(f.data_type(), dialect == Dialect::Postgres) {
            return Err(SluiceError::Options {
                table: table.to_string(),
                message: format!(
                    "column '{}': the jdbc connector does not support type {} for {}",
                    f.name(),
                    FlinkType::from_arrow(f.data_type(), f.is_nullable()),
                    dialect.name()
                ),
            });
        }
    }
    Ok(())
}

fn incremental_type(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal128(..)
            | DataType::Utf8
            | DataType::Date32
            | DataType::Timestamp(..)
    )
}

/// `scan.partition.column`, `.num`, `.lower-bound`, `.upper-bound`: all or
/// none, as in Flink.
fn take_partitioning(
    opts: &mut ConnectorOptions,
    schema: &datafusion::arrow::datatypes::SchemaRef,
    column: &dyn Fn(&ConnectorOptions, &str, &str) -> Result<usize>,
) -> Result<Option<Partitioning>> {
    let name = opts.string("scan.partition.column");
    let num = opts.parse::<usize>("scan.partition.num", "a positive integer")?;
    let lower = opts.parse::<i64>("scan.partition.lower-bound", "an integer")?;
    let upper = opts.parse::<i64>("scan.partition.upper-bound", "an integer")?;
    let (name, num, lower, upper) = match (name, num, lower, upper) {
        (None, None, None, None) => return Ok(None),
        (Some(c), Some(n), Some(l), Some(u)) => (c, n, l, u),
        _ => {
            return Err(SluiceError::Options {
                table: opts.table().to_string(),
                message: "'scan.partition.column', 'scan.partition.num', \
                          'scan.partition.lower-bound' and 'scan.partition.upper-bound' \
                          must all be set, or none"
                    .into(),
            });
        }
    };
    let index = column(opts, "scan.partition.column", &name)?;
    let dt = schema.field(index).data_type();
    if !matches!(
        dt,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
    ) {
        return Err(SluiceError::not_supported(format!(
            "partitioned scans on a {} column ('scan.partition.column' = '{name}'); \
             use an integer column",
            FlinkType::from_arrow(dt, true)
        )));
    }
    if num == 0 {
        return Err(opts.error("scan.partition.num", "expected a positive integer, got '0'"));
    }
    if lower > upper {
        return Err(opts.error(
            "scan.partition.lower-bound",
            format!("{lower} is greater than 'scan.partition.upper-bound' {upper}"),
        ));
    }
    let span = i128::from(upper) - i128::from(lower) + 1;
    if (num as i128) > span {
        return Err(opts.error(
            "scan.partition.num",
            format!("{num} partitions do not fit the {span} values between the bounds"),
        ));
    }
    Ok(Some(Partitioning {
        column: index,
        num,
        lower,
        upper,
    }))
}
