//! When a buffered sink flushes, how it retries, and what it does with rows
//! the target rejects: the policy half of the buffering layer, parsed from a
//! table's WITH options.

use std::time::Duration;

use sluice_engine::Result;
use sluice_engine::catalog::ConnectorOptions;

/// When the buffer is written out. A flush also happens on every checkpoint
/// barrier and at the end of input, whatever the policy says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlushPolicy {
    /// Flush once this many rows are buffered; 0 disables the count limit.
    pub max_rows: usize,
    /// Flush once the buffered rows take about this many bytes (the
    /// connector's size limit, e.g. `sink.bulk-flush.max-size`); `None` or 0
    /// disables it.
    pub max_bytes: Option<u64>,
    /// Flush this long after the first row entered an empty buffer; zero
    /// disables the timer.
    pub interval: Duration,
}

/// How failed writes are retried: exponential back-off from
/// `initial_backoff`, doubling up to `max_backoff`, at most `max_retries`
/// times after the first attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (`sink.max-retries`); 0 = no retry.
    pub max_retries: u32,
    /// Wait before the first retry.
    pub initial_backoff: Duration,
    /// Upper bound of one wait.
    pub max_backoff: Duration,
    /// Double the wait on each retry (EXPONENTIAL) or keep it (CONSTANT).
    pub exponential: bool,
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based).
    pub fn backoff(&self, retry: u32) -> Duration {
        if !self.exponential {
            return self.initial_backoff.min(self.max_backoff);
        }
        let factor = 1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

impl Default for RetryPolicy {
    /// Three retries after 1 s, 2 s and 4 s: Flink's JDBC default count, with
    /// its one-second step made exponential.
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            exponential: true,
        }
    }
}

/// Everything the buffering layer needs from a table's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BufferOptions {
    pub flush: FlushPolicy,
    pub retry: RetryPolicy,
    /// Skip (and count) rows the target rejects for their content instead of
    /// failing the job (`sink.ignore-errors`). Connection failures are never
    /// skipped: they are retried, then fail the job.
    pub ignore_errors: bool,
}

/// Defaults for the Flink-style keys (`sink.buffer-flush.*`,
/// `sink.max-retries`); each connector passes its own.
#[derive(Debug, Clone)]
pub struct BufferDefaults {
    pub max_rows: usize,
    pub interval: Duration,
    pub max_retries: u32,
    /// `Some(default)` when the connector has a `sink.buffer-flush.max-size`
    /// key; `None` when it has none.
    pub max_size: Option<u64>,
}

/// `sink.buffer-flush.max-rows`.
pub const MAX_ROWS: &str = "sink.buffer-flush.max-rows";
/// `sink.buffer-flush.max-size`.
pub const MAX_SIZE: &str = "sink.buffer-flush.max-size";
/// `sink.buffer-flush.interval`.
pub const INTERVAL: &str = "sink.buffer-flush.interval";
/// `sink.max-retries`.
pub const MAX_RETRIES: &str = "sink.max-retries";
/// `sink.ignore-errors`.
pub const IGNORE_ERRORS: &str = "sink.ignore-errors";
/// `sink.parallelism`.
pub const PARALLELISM: &str = "sink.parallelism";

impl BufferOptions {
    /// Takes the Flink JDBC/HBase family of keys: `sink.buffer-flush.max-rows`,
    /// `sink.buffer-flush.interval`, `sink.max-retries`, `sink.ignore-errors`
    /// and, when `defaults.max_size` is set, `sink.buffer-flush.max-size`.
    /// Connectors with other key names (Elasticsearch's `sink.bulk-flush.*`)
    /// build [`BufferOptions`] themselves.
    pub fn take(opts: &mut ConnectorOptions, defaults: &BufferDefaults) -> Result<Self> {
        let max_rows = opts
            .parse::<usize>(MAX_ROWS, "a non-negative integer")?
            .unwrap_or(defaults.max_rows);
        let max_bytes = match defaults.max_size {
            Some(default) => Some(opts.memory_size(MAX_SIZE)?.unwrap_or(default)),
            None => None,
        };
        let interval = opts.duration(INTERVAL)?.unwrap_or(defaults.interval);
        let max_retries = opts
            .parse::<u32>(MAX_RETRIES, "a non-negative integer")?
            .unwrap_or(defaults.max_retries);
        let ignore_errors = opts.bool(IGNORE_ERRORS)?.unwrap_or(false);
        Ok(Self {
            flush: FlushPolicy {
                max_rows,
                max_bytes: max_bytes.filter(|b| *b > 0),
                interval,
            },
            retry: RetryPolicy {
                max_retries,
                ..RetryPolicy::default()
            },
            ignore_errors,
        })
    }
}

/// Takes `sink.parallelism` (a positive integer) if set.
pub fn take_sink_parallelism(opts: &mut ConnectorOptions) -> Result<Option<usize>> {
    let parallelism = opts.parse::<usize>(PARALLELISM, "a positive integer")?;
    if parallelism == Some(0) {
        return Err(opts.error(PARALLELISM, "expected a positive integer, got '0'"));
    }
    Ok(parallelism)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            max_retries: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
            exponential: true,
        };
        let waits: Vec<u128> = (0..5).map(|r| p.backoff(r).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 400, 500, 500]);
        let constant = RetryPolicy {
            exponential: false,
            ..p
        };
        assert_eq!(constant.backoff(7), Duration::from_millis(100));
    }

    #[test]
    fn takes_flink_keys_with_connector_defaults() {
        let mut opts = ConnectorOptions::new(
            "t",
            [
                (MAX_ROWS.to_string(), "0".to_string()),
                (INTERVAL.to_string(), "200 ms".to_string()),
                (IGNORE_ERRORS.to_string(), "true".to_string()),
            ]
            .into_iter()
            .collect(),
        );
        let defaults = BufferDefaults {
            max_rows: 100,
            interval: Duration::from_secs(1),
            max_retries: 3,
            max_size: None,
        };
        let o = BufferOptions::take(&mut opts, &defaults).unwrap();
        assert_eq!(o.flush.max_rows, 0);
        assert_eq!(o.flush.interval, Duration::from_millis(200));
        assert_eq!(o.flush.max_bytes, None);
        assert_eq!(o.retry.max_retries, 3);
        assert!(o.ignore_errors);
        opts.finish("x").unwrap();
    }
}
