//! The Elasticsearch sinks — `'connector' = 'elasticsearch-6'`,
//! `'elasticsearch-7'` and `'elasticsearch-8'` — with Flink's option keys.
//! Rows go through the shared buffering layer ([`crate::sink::buffered`]);
//! each flush is one `_bulk` request over plain HTTP/1.1 to the first
//! reachable host of `hosts`.
//!
//! With a `PRIMARY KEY ... NOT ENFORCED` the document id is the key columns
//! joined by `document-id.key-delimiter`; `+I`/`+U` rows are `update`
//! actions with `doc_as_upsert` (Flink's upsert) and `-D` rows `delete`
//! actions. Without a key the table is append-only and Elasticsearch
//! generates the ids.
//!
//! See `docs/connectors/elasticsearch.md` for every option.

mod bulk;
mod http;
mod index;
mod writer;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{
    ChangelogMode, Connector, ConnectorTable, SinkContext, SinkTable, SinkWriter, SourceTable,
    TableContext,
};
use sluice_engine::sql::types::FlinkType;
use sluice_engine::{Result, SluiceError};

use crate::formats::{self, Format};
use crate::sink::buffered::{
    BufferOptions, BufferedWriter, FlushPolicy, RetryPolicy, SinkLabel, take_sink_parallelism,
};
use bulk::Settings;
use http::{BasicAuth, ClientConfig, Host, HttpClient};
use index::IndexGenerator;
use writer::EsWriter;

/// Flink's defaults: 1000 actions, 2 MiB, 1 s.
const DEFAULT_MAX_ACTIONS: usize = 1000;
const DEFAULT_MAX_SIZE: u64 = 2 << 20;
const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// The BulkProcessor back-off Flink falls back on when a strategy is set
/// without `max-retries` / `delay`.
const DEFAULT_BACKOFF_RETRIES: u32 = 8;
const DEFAULT_BACKOFF_DELAY: Duration = Duration::from_millis(50);
/// Longest single wait of the exponential back-off.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The Elasticsearch REST client's connect and socket timeouts.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const DEFAULT_SOCKET_TIMEOUT: Duration = Duration::from_secs(30);

/// Which Elasticsearch major version a table targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V6,
    V7,
    V8,
}

/// Factory for `'connector' = 'elasticsearch-6' | 'elasticsearch-7' |
/// 'elasticsearch-8'`.
#[derive(Debug, Clone, Copy)]
pub struct ElasticsearchConnector {
    version: Version,
}

impl ElasticsearchConnector {
    /// One factory per supported version, for the registry.
    pub fn all() -> [ElasticsearchConnector; 3] {
        [Version::V6, Version::V7, Version::V8].map(|version| ElasticsearchConnector { version })
    }
}

#[derive(Debug)]
struct EsTable {
    sink: Arc<EsSink>,
}

impl ConnectorTable for EsTable {
    fn source(&self) -> Option<Arc<dyn SourceTable>> {
        None
    }
    fn sink(&self) -> Option<Arc<dyn SinkTable>> {
        Some(self.sink.clone())
    }
}

/// The sink side of an Elasticsearch table.
#[derive(Debug)]
pub struct EsSink {
    connector: &'static str,
    table: String,
    schema: SchemaRef,
    client: ClientConfig,
    settings: Arc<Settings>,
    format: Arc<dyn Format>,
    buffer: BufferOptions,
    retry_rejected: Option<RetryPolicy>,
    parallelism: Option<usize>,
}

impl Connector for ElasticsearchConnector {
    fn name(&self) -> &'static str {
        match self.version {
            Version::V6 => "elasticsearch-6",
            Version::V7 => "elasticsearch-7",
            Version::V8 => "elasticsearch-8",
        }
    }

    fn create(&self, ctx: TableContext<'_>) -> Result<Arc<dyn ConnectorTable>> {
        let name = self.name();
        ctx.reject_metadata(name)?;
        let schema = ctx.physical_schema.clone();
        let opts = ctx.options;
        let hosts = take_hosts(opts)?;
        let index_text = opts.required("index")?;
        let index =
            IndexGenerator::new(&index_text, &schema).map_err(|e| opts.error("index", e))?;
        let document_type = match self.version {
            Version::V6 => Some(opts.required("document-type")?),
            Version::V7 | Version::V8 => None,
        };
        let delimiter = opts
            .string("document-id.key-delimiter")
            .unwrap_or_else(|| "_".into());
        let auth = take_auth(opts)?;
        let handler = take_failure_handler(opts)?;
        // Sluice always flushes on checkpoints; 'false' only allowed Flink
        // to skip that, so it is accepted and changes nothing.
        opts.bool("sink.flush-on-checkpoint")?;
        if opts.one_of(
            "sink.delivery-guarantee",
            &["at-least-once", "none", "exactly-once"],
        )? == Some("exactly-once".into())
        {
            return Err(SluiceError::not_supported(
                "'sink.delivery-guarantee' = 'exactly-once' for Elasticsearch (at-least-once is)",
            ));
        }
        let flush = FlushPolicy {
            max_rows: opts
                .parse::<usize>("sink.bulk-flush.max-actions", "a non-negative integer")?
                .unwrap_or(DEFAULT_MAX_ACTIONS),
            max_bytes: Some(
                opts.memory_size("sink.bulk-flush.max-size")?
                    .unwrap_or(DEFAULT_MAX_SIZE),
            )
            .filter(|b| *b > 0),
            interval: opts
                .duration("sink.bulk-flush.interval")?
                .unwrap_or(DEFAULT_INTERVAL),
        };
        let backoff = take_backoff(opts)?;
        let path_prefix = normalize_prefix(opts.string("connection.path-prefix"));
        let request_timeout = opts.duration("connection.request-timeout")?;
        let connect_timeout = opts
            .duration("connection.timeout")?
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let socket_timeout = opts
            .duration("socket.timeout")?
            .unwrap_or(DEFAULT_SOCKET_TIMEOUT);
        // The legacy REST client's retry timeout: every host is tried once
        // per attempt, so there is nothing to bound.
        opts.duration("connection.max-retry-timeout")?;
        let format_name = opts.string("format").unwrap_or_else(|| "json".into());
        if !format_name.trim().eq_ignore_ascii_case("json") {
            return Err(SluiceError::not_supported(format!(
                "'format' = '{format_name}' for Elasticsearch; documents are written with 'json'"
            )));
        }
        let format = formats::format_for("json", opts, &schema)?;
        let parallelism = take_sink_parallelism(opts)?;
        opts.finish(name)?;

        let key = primary_key(ctx.table_name, &schema, ctx.primary_key)?;
        let (retry, retry_rejected) = match handler {
            Handler::RetryRejected => {
                // Rejected items are resent until taken (Flink re-adds them);
                // the back-off strategy still bounds connection failures.
                let resend = RetryPolicy {
                    max_retries: u32::MAX,
                    initial_backoff: backoff.initial_backoff.max(DEFAULT_BACKOFF_DELAY),
                    max_backoff: MAX_BACKOFF,
                    exponential: true,
                };
                (backoff, Some(resend))
            }
            _ => (backoff, None),
        };
        let buffer = BufferOptions {
            flush,
            retry,
            ignore_errors: handler == Handler::Ignore,
        };
        let client = ClientConfig {
            hosts,
            auth,
            path_prefix,
            connect_timeout,
            request_timeout: request_timeout
                .map_or(socket_timeout, |r| r.min(socket_timeout))
                .max(Duration::from_millis(1)),
        };
        Ok(Arc::new(EsTable {
            sink: Arc::new(EsSink {
                connector: name,
                table: ctx.table_name.to_string(),
                schema,
                client,
                settings: Arc::new(Settings {
                    index,
                    document_type,
                    key,
                    delimiter,
                }),
                format,
                buffer,
                retry_rejected,
                parallelism,
            }),
        }))
    }
}

impl SinkTable for EsSink {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// With a primary key: upserts and deletes by document id; without:
    /// appends only (ids are generated by Elasticsearch).
    fn accepted_changelog(&self) -> ChangelogMode {
        if self.settings.key.is_empty() {
            ChangelogMode::AppendOnly
        } else {
            ChangelogMode::Upsert(
                self.settings
                    .key
                    .iter()
                    .map(|i| self.schema.field(*i).name().clone())
                    .collect(),
            )
        }
    }

    fn parallelism(&self) -> Option<usize> {
        self.parallelism
    }

    fn open(&self, ctx: SinkContext) -> Result<Box<dyn SinkWriter>> {
        let writer = EsWriter {
            client: HttpClient::new(self.client.clone()),
            settings: self.settings.clone(),
            encoder: self.format.encoder()?,
            retry_rejected: self.retry_rejected.clone(),
        };
        let index = self
            .settings
            .index
            .static_name()
            .map(|s| format!("index '{s}'"))
            .unwrap_or_else(|| "a dynamic index".into());
        let hosts: Vec<String> = self.client.hosts.iter().map(|h| h.to_string()).collect();
        let label = SinkLabel {
            connector: self.connector,
            table: self.table.clone(),
            target: format!("{index} at {}", hosts.join(";")),
        };
        let buffered = BufferedWriter::new(
            writer,
            self.schema.clone(),
            self.buffer.clone(),
            ctx.metrics,
            label,
        )
        .with_upsert_key(self.settings.key.clone());
        Ok(Box::new(buffered))
    }
}

fn take_hosts(opts: &mut ConnectorOptions) -> Result<Vec<Host>> {
    let text = opts.required("hosts")?;
    let mut hosts = Vec::new();
    for part in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        match Host::parse(part) {
            Ok(h) => hosts.push(h),
            Err(e) => {
                return Err(match e.strip_prefix("not supported yet: ") {
                    Some(what) => SluiceError::not_supported(what),
                    None => opts.error("hosts", e),
                });
            }
        }
    }
    if hosts.is_empty() {
        return Err(opts.error("hosts", "expected at least one 'http://host:port'"));
    }
    Ok(hosts)
}

fn take_auth(opts: &mut ConnectorOptions) -> Result<Option<BasicAuth>> {
    let username = opts.string("username").filter(|u| !u.is_empty());
    let password = opts.string("password").filter(|p| !p.is_empty());
    match (username, password) {
        (None, None) => Ok(None),
        (Some(u), Some(p)) => Ok(Some(BasicAuth::new(&u, &p))),
        (Some(_), None) => Err(opts.error(
            "password",
            "'username' and 'password' must be set or unset together",
        )),
        (None, Some(_)) => Err(opts.error(
            "username",
            "'username' and 'password' must be set or unset together",
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handler {
    Fail,
    Ignore,
    RetryRejected,
}

fn take_failure_handler(opts: &mut ConnectorOptions) -> Result<Handler> {
    let Some(text) = opts.string("failure-handler") else {
        return Ok(Handler::Fail);
    };
    match text.trim().to_ascii_lowercase().as_str() {
        "fail" => Ok(Handler::Fail),
        "ignore" => Ok(Handler::Ignore),
        "retry-rejected" => Ok(Handler::RetryRejected),
        other if other.contains('.') => Err(SluiceError::not_supported(format!(
            "'failure-handler' = '{}': custom ActionRequestFailureHandler classes \
             (use 'fail', 'ignore' or 'retry-rejected')",
            text.trim()
        ))),
        _ => Err(opts.error(
            "failure-handler",
            format!("expected one of fail, ignore, retry-rejected, got '{text}'"),
        )),
    }
}

/// `sink.bulk-flush.backoff.*` as the buffering layer's retry policy:
/// DISABLED (Flink's default; also NONE) retries nothing.
fn take_backoff(opts: &mut ConnectorOptions) -> Result<RetryPolicy> {
    let strategy = opts.one_of(
        "sink.bulk-flush.backoff.strategy",
        &["DISABLED", "NONE", "CONSTANT", "EXPONENTIAL"],
    )?;
    let max_retries =
        opts.parse::<u32>("sink.bulk-flush.backoff.max-retries", "a positive integer")?;
    if max_retries == Some(0) {
        return Err(opts.error(
            "sink.bulk-flush.backoff.max-retries",
            "must be at least 1 (use strategy 'DISABLED' for no retries)",
        ));
    }
    let delay = opts
        .duration("sink.bulk-flush.backoff.delay")?
        .unwrap_or(DEFAULT_BACKOFF_DELAY);
    let enabled = matches!(strategy.as_deref(), Some("constant" | "exponential"));
    Ok(RetryPolicy {
        max_retries: if enabled {
            max_retries.unwrap_or(DEFAULT_BACKOFF_RETRIES)
        } else {
            0
        },
        initial_backoff: delay,
        max_backoff: MAX_BACKOFF.max(delay),
        exponential: strategy.as_deref() != Some("constant"),
    })
}

/// `connection.path-prefix` as `/prefix` (or empty).
fn normalize_prefix(prefix: Option<String>) -> String {
    let p = prefix.unwrap_or_default();
    let p = p.trim().trim_end_matches('/');
    if p.is_empty() {
        String::new()
    } else if p.starts_with('/') {
        p.to_string()
    } else {
        format!("/{p}")
    }
}

/// The primary key's column indices; Flink refuses binary and nested
/// key columns, which have no sensible text form for a document id.
fn primary_key(table: &str, schema: &SchemaRef, key: &[String]) -> Result<Vec<usize>> {
    key.iter()
        .map(|name| {
            let i = schema.index_of(name).map_err(|_| SluiceError::Options {
                table: table.to_string(),
                message: format!("primary key column '{name}' is not a physical column"),
            })?;
            let f = schema.field(i);
            if matches!(
                f.data_type(),
                DataType::Binary
                    | DataType::LargeBinary
                    | DataType::FixedSizeBinary(_)
                    | DataType::List(_)
                    | DataType::Map(..)
                    | DataType::Struct(_)
            ) {
                return Err(SluiceError::Options {
                    table: table.to_string(),
                    message: format!(
                        "primary key column '{name}' is {}; an Elasticsearch document id \
                         cannot be built from BINARY, VARBINARY, ARRAY, MAP or ROW columns",
                        FlinkType::from_arrow(f.data_type(), f.is_nullable())
                    ),
                });
            }
            Ok(i)
        })
        .collect()
}
