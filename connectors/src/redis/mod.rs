//! The `redis` sink, with the option keys and column-order mapping of the
//! community Flink Redis SQL connector: `host`, `port`, `password`,
//! `database`, `redis-mode`, `command`, `ttl`, plus `key.fields`,
//! `key.delimiter` and `key.prefix` to build keys from named columns. Rows
//! go through the shared buffering layer ([`crate::sink::buffered`]); each
//! flush is one pipeline.
//!
//! See `docs/connectors/redis.md` for every option and command.

mod command;
mod mapping;
mod writer;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use ::redis::{ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};
use datafusion::arrow::datatypes::SchemaRef;
use sluice_engine::connector::{
    ChangelogMode, Connector, ConnectorTable, SinkContext, SinkTable, SinkWriter, SourceTable,
    TableContext,
};
use sluice_engine::sql::types::FlinkType;
use sluice_engine::{Result, SluiceError};

use crate::sink::buffered::{
    BufferDefaults, BufferOptions, BufferedWriter, SinkLabel, take_sink_parallelism,
};
use command::{Arg, Command};
use mapping::Mapping;
use writer::RedisWriter;

/// Buffering defaults: the JDBC sink's (100 rows, 1 s, 3 retries).
const BUFFER_DEFAULTS: BufferDefaults = BufferDefaults {
    max_rows: 100,
    interval: Duration::from_secs(1),
    max_retries: 3,
    max_size: None,
};

/// The community connector's `timeout` default (milliseconds).
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(2000);

/// Factory for `'connector' = 'redis'`.
#[derive(Debug)]
pub struct RedisConnector;

#[derive(Debug)]
struct RedisTable {
    sink: Arc<RedisSink>,
}

impl ConnectorTable for RedisTable {
    fn source(&self) -> Option<Arc<dyn SourceTable>> {
        None
    }
    fn sink(&self) -> Option<Arc<dyn SinkTable>> {
        Some(self.sink.clone())
    }
}

/// A password: kept out of `Debug` output (plans, logs).
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("******")
    }
}

/// The sink side of a Redis table.
#[derive(Debug)]
pub struct RedisSink {
    table: String,
    schema: SchemaRef,
    host: String,
    port: u16,
    database: i64,
    password: Option<Secret>,
    connect_timeout: Duration,
    mapping: Arc<Mapping>,
    /// The upsert key (compaction) for `set`/`hset`; `None` otherwise.
    upsert_key: Option<Vec<usize>>,
    buffer: BufferOptions,
    parallelism: Option<usize>,
}

impl Connector for RedisConnector {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn create(&self, ctx: TableContext<'_>) -> Result<Arc<dyn ConnectorTable>> {
        ctx.reject_metadata("redis")?;
        let schema = ctx.physical_schema.clone();
        let opts = ctx.options;
        let host = opts.string("host").unwrap_or_else(|| "127.0.0.1".into());
        let port = opts.parse::<u16>("port", "a port number")?.unwrap_or(6379);
        let password = opts.string("password").map(Secret);
        let database = opts
            .parse::<i64>("database", "a database number")?
            .unwrap_or(0);
        match opts
            .one_of("redis-mode", &["single", "cluster", "sentinel"])?
            .as_deref()
        {
            None | Some("single") => {}
            Some(mode) => {
                return Err(SluiceError::not_supported(format!(
                    "'redis-mode' = '{mode}'; only 'single' is supported"
                )));
            }
        }
        let connect_timeout = opts
            .parse::<u64>("timeout", "milliseconds")?
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_TIMEOUT);
        let name = opts
            .one_of("command", Command::NAMES)?
            .ok_or_else(|| SluiceError::Options {
                table: ctx.table_name.to_string(),
                message: format!(
                    "missing required option 'command' (one of {})",
                    Command::NAMES.join(", ")
                ),
            })?;
        let command = Command::parse(&name)
            .ok_or_else(|| opts.error("command", format!("unknown command '{name}'")))?;
        let ttl = opts.parse::<u64>("ttl", "a number of seconds")?;
        if ttl == Some(0) {
            return Err(opts.error(
                "ttl",
                "must be positive (seconds); leave it out for no expiry",
            ));
        }
        let key_fields = opts.string("key.fields");
        let delimiter = opts.string("key.delimiter").unwrap_or_else(|| ":".into());
        let prefix = opts.string("key.prefix").unwrap_or_default();
        let buffer = BufferOptions::take(opts, &BUFFER_DEFAULTS)?;
        let parallelism = take_sink_parallelism(opts)?;
        opts.finish("redis")?;

        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let table_err = |message: String| SluiceError::Options {
            table: ctx.table_name.to_string(),
            message,
        };
        let key_columns: Vec<usize> = match &key_fields {
            Some(list) => list
                .split([',', ';'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|f| {
                    schema.index_of(f).map_err(|_| {
                        table_err(format!("option 'key.fields': no column '{f}' in the table"))
                    })
                })
                .collect::<Result<_>>()?,
            None => vec![0],
        };
        if key_columns.is_empty() || schema.fields().is_empty() {
            return Err(table_err("a Redis table needs a key column".into()));
        }
        let arg_columns: Vec<usize> = (0..names.len())
            .filter(|i| match key_fields {
                Some(_) => !key_columns.contains(i),
                None => *i != 0,
            })
            .collect();
        if arg_columns.len() != command.args().len() {
            return Err(table_err(format!(
                "command '{name}' writes columns ({}){}; the table has {} value column(s) after the key: {}",
                command.shape(),
                if key_fields.is_some() {
                    " with the key from 'key.fields'"
                } else {
                    ""
                },
                arg_columns.len(),
                arg_columns
                    .iter()
                    .map(|i| names[*i].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        for (i, c) in key_columns.iter().chain(&arg_columns).enumerate() {
            let f = schema.field(*c);
            let arg = i.checked_sub(key_columns.len()).map(|a| command.args()[a]);
            let ok = match arg {
                Some(Arg::Integer) => mapping::is_integer(f.data_type()),
                Some(Arg::Number) => mapping::is_number(f.data_type()),
                _ => mapping::is_scalar(f.data_type()),
            };
            if !ok {
                let expected = match arg {
                    Some(Arg::Integer) => "an integer type (TINYINT .. BIGINT)",
                    Some(Arg::Number) => "a numeric type",
                    _ => "a scalar type (not ARRAY, MAP or ROW)",
                };
                return Err(table_err(format!(
                    "column '{}' is {}; command '{name}' needs {expected} there",
                    f.name(),
                    FlinkType::from_arrow(f.data_type(), f.is_nullable())
                )));
            }
        }
        let upsert_key = command.is_idempotent_by_key().then(|| {
            if ctx.primary_key.is_empty() {
                let mut k = key_columns.clone();
                if command == Command::Hset {
                    k.push(arg_columns[0]);
                }
                k
            } else {
                ctx.primary_key
                    .iter()
                    .filter_map(|p| schema.index_of(p).ok())
                    .collect()
            }
        });
        let mapping = Mapping {
            command,
            key_columns,
            delimiter,
            prefix,
            arg_columns,
            ttl,
            names,
        };
        Ok(Arc::new(RedisTable {
            sink: Arc::new(RedisSink {
                table: ctx.table_name.to_string(),
                schema,
                host,
                port,
                database,
                password,
                connect_timeout,
                mapping: Arc::new(mapping),
                upsert_key,
                buffer,
                parallelism,
            }),
        }))
    }
}

impl SinkTable for RedisSink {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// `set`/`hset` take upserts keyed by the Redis key (and hash field);
    /// every other command takes all changes in order, applying the
    /// inverse command for `-U`/`-D`.
    fn accepted_changelog(&self) -> ChangelogMode {
        match &self.upsert_key {
            Some(k) => ChangelogMode::Upsert(
                k.iter()
                    .map(|i| self.schema.field(*i).name().clone())
                    .collect(),
            ),
            None => ChangelogMode::Retract,
        }
    }

    fn parallelism(&self) -> Option<usize> {
        self.parallelism
    }

    fn open(&self, ctx: SinkContext) -> Result<Box<dyn SinkWriter>> {
        let mut redis = RedisConnectionInfo::default().set_db(self.database);
        if let Some(Secret(p)) = &self.password {
            redis = redis.set_password(p);
        }
        let info = ConnectionAddr::Tcp(self.host.clone(), self.port)
            .into_connection_info()
            .map_err(|e| SluiceError::connector("redis", e.to_string()))?
            .set_redis_settings(redis);
        let client = ::redis::Client::open(info)
            .map_err(|e| SluiceError::connector("redis", e.to_string()))?;
        let writer = RedisWriter {
            client,
            connect_timeout: self.connect_timeout,
            conn: None,
            mapping: self.mapping.clone(),
        };
        let label = SinkLabel {
            connector: "redis",
            table: self.table.clone(),
            target: format!(
                "{} at {}:{}/{}",
                self.mapping.command.name(),
                self.host,
                self.port,
                self.database
            ),
        };
        let buffered = BufferedWriter::new(
            writer,
            self.schema.clone(),
            self.buffer.clone(),
            ctx.metrics,
            label,
        );
        Ok(Box::new(match &self.upsert_key {
            Some(k) => buffered.with_upsert_key(k.clone()),
            None => buffered,
        }))
    }
}
