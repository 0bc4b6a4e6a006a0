//! The HBase sink — `'connector' = 'hbase-2.2'` (alias `'hbase'`) — with
//! Flink's option keys and schema mapping, written through HBase's Thrift2
//! gateway (`THBaseService`, `hbase thrift2`, TBinaryProtocol) rather than
//! ZooKeeper and the region servers: `'thrift.address'` replaces
//! `'zookeeper.quorum'`.
//!
//! Rows go through the shared buffering layer ([`crate::sink::buffered`]).
//! In `put` mode (the default) each flush is `putMultiple` / `deleteMultiple`
//! keyed by the row key, so the sink takes upserts; with
//! `'sink.write-mode' = 'increment'` every qualifier is a BIGINT counter and
//! rows become `increment` calls (a retraction decrements).
//!
//! See `docs/connectors/hbase.md` for every option and the type encodings.

mod bytes;
mod client;
mod schema;
mod service;
mod thrift;
mod writer;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::datatypes::SchemaRef;
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{
    ChangelogMode, Connector, ConnectorTable, SinkContext, SinkTable, SinkWriter, SourceTable,
    TableContext,
};
use sluice_engine::{Result, SluiceError};

use crate::sink::buffered::{
    BufferDefaults, BufferOptions, BufferedWriter, SinkLabel, take_sink_parallelism,
};
use client::ThriftClient;
use schema::HBaseSchema;
use writer::{HBaseWriter, WriteMode};

/// Flink's HBase sink defaults: 1000 rows, 2 MiB, 1 s; three retries.
const BUFFER_DEFAULTS: BufferDefaults = BufferDefaults {
    max_rows: 1000,
    interval: Duration::from_secs(1),
    max_retries: 3,
    max_size: Some(2 << 20),
};

/// HBase's Thrift server port.
const DEFAULT_THRIFT_PORT: u16 = 9090;
/// Limit for connecting and for one round trip of calls.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Factory for `'connector' = 'hbase-2.2'` and its alias `'hbase'`.
#[derive(Debug, Clone, Copy)]
pub struct HBaseConnector {
    name: &'static str,
}

impl HBaseConnector {
    /// Every name the connector answers to, for the registry.
    pub fn all() -> [HBaseConnector; 2] {
        [
            HBaseConnector { name: "hbase-2.2" },
            HBaseConnector { name: "hbase" },
        ]
    }
}

#[derive(Debug)]
struct HBaseTable {
    sink: Arc<HBaseSink>,
}

impl ConnectorTable for HBaseTable {
    /// Reading (scans and lookup joins) is not supported yet.
    fn source(&self) -> Option<Arc<dyn SourceTable>> {
        None
    }
    fn sink(&self) -> Option<Arc<dyn SinkTable>> {
        Some(self.sink.clone())
    }
}

/// The sink side of an HBase table.
#[derive(Debug)]
pub struct HBaseSink {
    connector: &'static str,
    table: String,
    schema: SchemaRef,
    hbase_table: String,
    address: String,
    framed: bool,
    timeout: Duration,
    mapping: Arc<HBaseSchema>,
    mode: WriteMode,
    null_literal: String,
    ignore_null: bool,
    buffer: BufferOptions,
    parallelism: Option<usize>,
}

impl Connector for HBaseConnector {
    fn name(&self) -> &'static str {
        self.name
    }

    fn create(&self, ctx: TableContext<'_>) -> Result<Arc<dyn ConnectorTable>> {
        let name = self.name;
        ctx.reject_metadata(name)?;
        let schema = ctx.physical_schema.clone();
        let opts = ctx.options;
        for key in ["zookeeper.quorum", "zookeeper.znode.parent"] {
            if opts.string(key).is_some() {
                return Err(opts.error(
                    key,
                    "Sluice writes to HBase through its Thrift gateway (`hbase thrift2`), not \
                     through ZooKeeper; set 'thrift.address' = 'host:9090' instead",
                ));
            }
        }
        let hbase_table = opts.required("table-name")?;
        if hbase_table.trim().is_empty() || hbase_table.matches(':').count() > 1 {
            return Err(opts.error(
                "table-name",
                format!("expected 'table' or 'namespace:table', got '{hbase_table}'"),
            ));
        }
        let address = take_address(opts)?;
        let framed = opts.bool("thrift.framed")?.unwrap_or(false);
        let timeout = opts
            .duration("thrift.timeout")?
            .unwrap_or(DEFAULT_TIMEOUT)
            .max(Duration::from_millis(1));
        let null_literal = opts
            .string("null-string-literal")
            .unwrap_or_else(|| "null".into());
        let ignore_null = opts.bool("sink.ignore-null-value")?.unwrap_or(false);
        let mode = match opts
            .one_of("sink.write-mode", &["put", "increment"])?
            .as_deref()
        {
            Some("increment") => WriteMode::Increment,
            _ => WriteMode::Put,
        };
        let buffer = BufferOptions::take(opts, &BUFFER_DEFAULTS)?;
        let parallelism = take_sink_parallelism(opts)?;
        reject_unsupported(opts)?;
        opts.finish(name)?;

        let table_err = |message: String| SluiceError::Options {
            table: ctx.table_name.to_string(),
            message,
        };
        let mapping = HBaseSchema::new(&schema, mode == WriteMode::Increment).map_err(table_err)?;
        let row_key_name = schema.field(mapping.row_key).name();
        match ctx.primary_key {
            [] => {}
            [pk] if pk == row_key_name => {}
            other => {
                return Err(table_err(format!(
                    "the primary key ({}) must be the row key column '{row_key_name}'",
                    other.join(", ")
                )));
            }
        }
        Ok(Arc::new(HBaseTable {
            sink: Arc::new(HBaseSink {
                connector: name,
                table: ctx.table_name.to_string(),
                schema,
                hbase_table,
                address,
                framed,
                timeout,
                mapping: Arc::new(mapping),
                mode,
                null_literal,
                ignore_null,
                buffer,
                parallelism,
            }),
        }))
    }
}

/// `thrift.address`: `host:port` (port 9090 when left out).
fn take_address(opts: &mut ConnectorOptions) -> Result<String> {
    let Some(text) = opts.string("thrift.address") else {
        return Err(opts.error(
            "thrift.address",
            "missing: the HBase Thrift2 gateway to write to, e.g. 'thrift.address' = 'hbase-host:9090'",
        ));
    };
    let t = text.trim();
    let (host, port) = if let Some(v6) = t.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, rest)) => (h, rest.strip_prefix(':')),
            None => (t, None),
        }
    } else {
        match t.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            Some(_) => (t, None),
            None => (t, None),
        }
    };
    let port = match port {
        None => DEFAULT_THRIFT_PORT,
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| opts.error("thrift.address", format!("invalid port in '{t}'")))?,
    };
    if host.is_empty() || host.contains('/') {
        return Err(opts.error("thrift.address", format!("expected 'host:port', got '{t}'")));
    }
    Ok(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}

/// Flink HBase keys for what Sluice does not do yet.
fn reject_unsupported(opts: &mut ConnectorOptions) -> Result<()> {
    let lookup = opts.prefixed("lookup.", "lookup.*");
    if let Some(key) = lookup.keys().next() {
        return Err(SluiceError::not_supported(format!(
            "'lookup.{key}': lookup joins on HBase tables (the HBase connector only writes)"
        )));
    }
    let properties = opts.prefixed("properties.", "properties.*");
    if let Some(key) = properties.keys().next() {
        return Err(SluiceError::not_supported(format!(
            "'properties.{key}': HBase client properties (Sluice talks to the Thrift gateway, \
             not through the HBase Java client)"
        )));
    }
    Ok(())
}

impl SinkTable for HBaseSink {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// `put`: upserts and deletes keyed by the row key. `increment`: every
    /// change, since a retraction must subtract what its row added.
    fn accepted_changelog(&self) -> ChangelogMode {
        match self.mode {
            WriteMode::Put => {
                ChangelogMode::Upsert(vec![self.schema.field(self.mapping.row_key).name().clone()])
            }
            WriteMode::Increment => ChangelogMode::Retract,
        }
    }

    fn parallelism(&self) -> Option<usize> {
        self.parallelism
    }

    fn open(&self, ctx: SinkContext) -> Result<Box<dyn SinkWriter>> {
        let writer = HBaseWriter {
            client: ThriftClient::new(self.address.clone(), self.framed, self.timeout),
            table: self.hbase_table.as_bytes().to_vec(),
            schema: self.mapping.clone(),
            mode: self.mode,
            null_literal: self.null_literal.as_bytes().to_vec(),
            ignore_null: self.ignore_null,
        };
        let label = SinkLabel {
            connector: self.connector,
            table: self.table.clone(),
            target: format!("{} at {}", self.hbase_table, self.address),
        };
        let buffered = BufferedWriter::new(
            writer,
            self.schema.clone(),
            self.buffer.clone(),
            ctx.metrics,
            label,
        );
        Ok(Box::new(match self.mode {
            WriteMode::Put => buffered.with_upsert_key(vec![self.mapping.row_key]),
            WriteMode::Increment => buffered,
        }))
    }
}
