//! The `filesystem` connector: Flink's bounded file source and rolling
//! part-file sink over a local path, in any format of [`crate::formats`].
//!
//! Options (Flink's names): `path` (required; a file or a directory, read
//! recursively), `format` (required) and the format's own keys,
//! `source.monitor-interval` (continuous monitoring: not supported yet),
//! `sink.rolling-policy.file-size` (128mb), `sink.rolling-policy.rollover-interval`
//! (30 min), `sink.rolling-policy.inactivity-interval` (off),
//! `sink.rolling-policy.check-interval` (1 min), `sink.parallelism`.
//!
//! `PARTITIONED BY (k, ..)` tables are written into and read from `k=v/`
//! directories (see [`partition`]), `partition.default-name`
//! (`__DEFAULT_PARTITION__`) naming NULL values; partitions are committed
//! with a success file as [`commit`] describes.
//!
//! Metadata keys: `file.path`, `file.name`, `file.size`,
//! `file.modification-time`.

mod commit;
mod listing;
mod metadata;
mod partition;
mod sink;
mod source;
mod writer;

#[cfg(test)]
mod partition_tests;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sluice_engine::connector::{Connector, ConnectorTable, SinkTable, SourceTable, TableContext};
use sluice_engine::{Result, SluiceError};

use crate::formats;
use commit::CommitPolicy;
use metadata::FileMetadata;
use partition::Partitioning;
pub use sink::{FilesystemSink, RollingPolicy, SinkPartitions};
pub use source::FilesystemSource;

/// Flink's default `sink.rolling-policy.file-size`: 128 MiB.
const DEFAULT_FILE_SIZE: u64 = 128 << 20;
/// Flink's default `sink.rolling-policy.rollover-interval`.
const DEFAULT_ROLLOVER: Duration = Duration::from_secs(30 * 60);
/// Flink's default `sink.rolling-policy.check-interval`.
const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// Factory for `'connector' = 'filesystem'`.
#[derive(Debug)]
pub struct FilesystemConnector;

/// A filesystem table: readable and writable.
#[derive(Debug)]
pub struct FilesystemTable {
    source: Arc<FilesystemSource>,
    sink: Arc<FilesystemSink>,
}

impl ConnectorTable for FilesystemTable {
    fn source(&self) -> Option<Arc<dyn SourceTable>> {
        Some(self.source.clone())
    }
    fn sink(&self) -> Option<Arc<dyn SinkTable>> {
        Some(self.sink.clone())
    }
}

impl Connector for FilesystemConnector {
    fn name(&self) -> &'static str {
        "filesystem"
    }

    fn supports_partitioning(&self) -> bool {
        true
    }

    fn create(&self, ctx: TableContext<'_>) -> Result<Arc<dyn ConnectorTable>> {
        let opts = ctx.options;
        let path = local_path(&opts.required("path")?).map_err(|m| opts.error("path", m))?;
        let format_name = opts.required("format")?;
        if let Some(interval) = opts.string("source.monitor-interval") {
            return Err(SluiceError::not_supported(format!(
                "continuous file monitoring ('source.monitor-interval' = '{interval}'); \
                 the filesystem source reads the files once and ends"
            )));
        }
        let file_size = opts
            .memory_size("sink.rolling-policy.file-size")?
            .unwrap_or(DEFAULT_FILE_SIZE);
        if file_size == 0 {
            return Err(opts.error("sink.rolling-policy.file-size", "must be positive"));
        }
        let policy = RollingPolicy {
            file_size,
            rollover_interval: opts
                .duration("sink.rolling-policy.rollover-interval")?
                .unwrap_or(DEFAULT_ROLLOVER),
            inactivity_interval: opts.duration("sink.rolling-policy.inactivity-interval")?,
            check_interval: opts
                .duration("sink.rolling-policy.check-interval")?
                .unwrap_or(DEFAULT_CHECK_INTERVAL),
        };
        let default_name = opts
            .string("partition.default-name")
            .unwrap_or_else(|| partition::DEFAULT_PARTITION_NAME.to_string());
        let partitioning = if ctx.partition_keys.is_empty() {
            None
        } else {
            Some(Partitioning::new(
                &ctx.physical_schema,
                ctx.partition_keys,
                default_name,
            )?)
        };
        let commit = CommitPolicy::from_options(opts, partitioning.is_some())?;
        // The files hold every physical column but the partition columns.
        let file_schema = match &partitioning {
            None => ctx.physical_schema.clone(),
            Some(p) => Arc::new(ctx.physical_schema.project(&p.file_columns)?),
        };
        let parallelism = opts.parse::<usize>("sink.parallelism", "a positive integer")?;
        if parallelism == Some(0) {
            return Err(opts.error("sink.parallelism", "expected a positive integer, got '0'"));
        }
        let format = formats::format_for(&format_name, opts, &file_schema)?;

        let metadata = ctx
            .metadata_columns
            .iter()
            .map(|m| FileMetadata::for_column(ctx.table_name, m))
            .collect::<Result<Vec<_>>>()?;
        let metadata_names: Vec<String> = ctx
            .metadata_columns
            .iter()
            .map(|m| m.name.clone())
            .collect();
        let source = FilesystemSource::new(
            path.clone(),
            format.clone(),
            ctx.physical_schema.clone(),
            metadata,
            &metadata_names,
            partitioning.clone(),
        );
        let sink = FilesystemSink::new(
            path,
            format,
            ctx.physical_schema.clone(),
            ctx.metadata_columns,
            policy,
            parallelism,
            SinkPartitions {
                partitioning,
                commit,
            },
        );
        Ok(Arc::new(FilesystemTable {
            source: Arc::new(source),
            sink: Arc::new(sink),
        }))
    }
}

/// The local path a `path` option names: a plain path or a `file:` URI
/// (`file:///tmp/x`, as Flink users write them). Other file systems (HDFS,
/// S3, ..) are refused by name.
fn local_path(path: &str) -> std::result::Result<PathBuf, String> {
    if let Some(rest) = path.strip_prefix("file://") {
        return match rest.strip_prefix("localhost") {
            Some(p) if p.starts_with('/') => Ok(PathBuf::from(p)),
            _ if rest.starts_with('/') => Ok(PathBuf::from(rest)),
            _ => Err(format!(
                "'{path}' is not a local file URI (file:///absolute/path)"
            )),
        };
    }
    if let Some(rest) = path.strip_prefix("file:") {
        return Ok(PathBuf::from(rest));
    }
    match path.split_once("://") {
        Some((scheme, _)) if !scheme.contains('/') => Err(format!(
            "not supported yet: the '{scheme}' file system ('{path}'); local paths and \
             file:// URIs work"
        )),
        _ => Ok(PathBuf::from(path)),
    }
}
