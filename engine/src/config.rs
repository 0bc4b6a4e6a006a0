//! Session configuration: what `SET 'k' = 'v'` changes. Like Flink, any key
//! may be set; the keys Sluice reads are validated when set.

use std::collections::BTreeMap;

use crate::error::{Result, SluiceError};

/// Default number of parallel instances per operator.
pub const PARALLELISM: &str = "parallelism.default";
/// Rows per batch produced by sources.
pub const BATCH_SIZE: &str = "table.exec.batch-size";
/// Batches buffered on each channel between operators (back-pressure depth).
pub const CHANNEL_CAPACITY: &str = "table.exec.channel-capacity";
/// How the shell shows SELECT results: tableau, table or changelog.
pub const RESULT_MODE: &str = "sql-client.execution.result-mode";
/// Name of jobs submitted by this session.
pub const PIPELINE_NAME: &str = "pipeline.name";
/// How often sources emit watermarks (0 = after every batch).
pub const WATERMARK_INTERVAL: &str = "pipeline.auto-watermark-interval";
/// A source split silent this long is idle and stops holding watermarks back (0 = never).
pub const IDLE_TIMEOUT: &str = "table.exec.source.idle-timeout";
/// Keyed state untouched this long is dropped (0 = kept forever).
pub const STATE_TTL: &str = "table.exec.state.ttl";
/// Mini-batch: buffer updating input and emit once per key.
pub const MINI_BATCH_ENABLED: &str = "table.exec.mini-batch.enabled";
/// Mini-batch: the longest a row is buffered.
pub const MINI_BATCH_LATENCY: &str = "table.exec.mini-batch.allow-latency";
/// Mini-batch: the most rows buffered.
pub const MINI_BATCH_SIZE: &str = "table.exec.mini-batch.size";

/// The session time zone: how TIMESTAMP_LTZ values are read and written by
/// functions, and how strings without an offset are interpreted.
pub const LOCAL_TIME_ZONE: &str = "table.local-time-zone";

/// Directories `CREATE FUNCTION` loads plugin libraries from when
/// `USING LIBRARY` names a bare file, or is left out (`;`-separated).
pub const PLUGIN_DIRS: &str = "sluice.udf.plugin-dirs";

/// Known keys, their defaults and a description of valid values.
const KNOWN: &[(&str, &str, &str)] = &[
    (PARALLELISM, "1", "a positive integer"),
    (BATCH_SIZE, "8192", "a positive integer"),
    (CHANNEL_CAPACITY, "16", "a positive integer"),
    (RESULT_MODE, "tableau", "one of tableau, table, changelog"),
    (
        WATERMARK_INTERVAL,
        "200 ms",
        "a duration such as '200 ms' or '0'",
    ),
    (
        IDLE_TIMEOUT,
        "0 ms",
        "a duration such as '5 s' (0 disables)",
    ),
    (
        STATE_TTL,
        "0 ms",
        "a duration such as '1 h' (0 keeps state forever)",
    ),
    (MINI_BATCH_ENABLED, "false", "true or false"),
    (MINI_BATCH_LATENCY, "0 ms", "a duration such as '2 s'"),
    (MINI_BATCH_SIZE, "-1", "a positive integer (or -1)"),
    (
        PLUGIN_DIRS,
        "",
        "directories separated by ';' such as '/opt/udfs;/home/me/udfs'",
    ),
    (
        LOCAL_TIME_ZONE,
        "UTC",
        "a time zone id such as 'UTC', 'Asia/Shanghai' or 'GMT+08:00'",
    ),
];

/// The `SET` options of a session.
#[derive(Debug, Clone, Default)]
pub struct SessionConfig {
    values: BTreeMap<String, String>,
}

impl SessionConfig {
    /// Sets `key`, validating the value of keys Sluice reads.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        if let Some((_, _, expected)) = KNOWN.iter().find(|(k, _, _)| *k == key) {
            let ok = match key {
                PARALLELISM | BATCH_SIZE | CHANNEL_CAPACITY => {
                    value.trim().parse::<usize>().is_ok_and(|n| n > 0)
                }
                WATERMARK_INTERVAL | IDLE_TIMEOUT | STATE_TTL | MINI_BATCH_LATENCY => {
                    crate::catalog::parse_duration(value).is_some()
                }
                MINI_BATCH_ENABLED => value.trim().parse::<bool>().is_ok(),
                LOCAL_TIME_ZONE => {
                    sluice_udf::builtins::datetime::zone::Zone::parse(value.trim()).is_some()
                }
                MINI_BATCH_SIZE => value.trim().parse::<i64>().is_ok_and(|n| n > 0 || n == -1),
                RESULT_MODE => matches!(
                    value.trim().to_ascii_lowercase().as_str(),
                    "tableau" | "table" | "changelog"
                ),
                _ => true,
            };
            if !ok {
                return Err(SluiceError::plan(format!(
                    "invalid value '{value}' for option '{key}': expected {expected}"
                )));
            }
        }
        self.values
            .insert(key.to_string(), value.trim().to_string());
        Ok(())
    }

    /// Removes `key` (back to its default), or every key.
    pub fn reset(&mut self, key: Option<&str>) {
        match key {
            Some(k) => {
                self.values.remove(k);
            }
            None => self.values.clear(),
        }
    }

    /// The value of `key`, or its default for known keys.
    pub fn get(&self, key: &str) -> Option<String> {
        self.values.get(key).cloned().or_else(|| {
            KNOWN
                .iter()
                .find(|(k, _, _)| *k == key)
                .map(|(_, d, _)| d.to_string())
        })
    }

    /// Every explicitly set option, sorted.
    pub fn entries(&self) -> Vec<(String, String)> {
        self.values
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn usize(&self, key: &str) -> usize {
        self.get(key).and_then(|v| v.parse().ok()).unwrap_or(1)
    }

    /// `parallelism.default`.
    pub fn parallelism(&self) -> usize {
        self.usize(PARALLELISM)
    }

    /// `sluice.udf.plugin-dirs`, as paths.
    pub fn plugin_dirs(&self) -> Vec<std::path::PathBuf> {
        self.get(PLUGIN_DIRS)
            .unwrap_or_default()
            .split([';', ','])
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(std::path::PathBuf::from)
            .collect()
    }

    /// `table.exec.batch-size`.
    pub fn batch_size(&self) -> usize {
        self.usize(BATCH_SIZE)
    }

    fn duration(&self, key: &str) -> std::time::Duration {
        self.get(key)
            .and_then(|v| crate::catalog::parse_duration(&v))
            .unwrap_or_default()
    }

    /// `pipeline.auto-watermark-interval`.
    pub fn watermark_interval(&self) -> std::time::Duration {
        self.duration(WATERMARK_INTERVAL)
    }

    /// `table.exec.source.idle-timeout`, `None` when disabled.
    pub fn idle_timeout(&self) -> Option<std::time::Duration> {
        Some(self.duration(IDLE_TIMEOUT)).filter(|d| !d.is_zero())
    }

    /// `table.exec.state.ttl`, `None` when state is kept forever.
    pub fn state_ttl(&self) -> Option<std::time::Duration> {
        Some(self.duration(STATE_TTL)).filter(|d| !d.is_zero())
    }

    /// Mini-batch settings `(allow-latency, size)` when enabled.
    pub fn mini_batch(&self) -> Option<(std::time::Duration, usize)> {
        let on = self
            .get(MINI_BATCH_ENABLED)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let size = self
            .get(MINI_BATCH_SIZE)
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|n| *n > 0)
            .map_or(usize::MAX, |n| n as usize);
        on.then(|| (self.duration(MINI_BATCH_LATENCY), size))
    }

    /// `table.exec.channel-capacity`.
    pub fn channel_capacity(&self) -> usize {
        self.usize(CHANNEL_CAPACITY)
    }
}
