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

/// Known keys, their defaults and a description of valid values.
const KNOWN: &[(&str, &str, &str)] = &[
    (PARALLELISM, "1", "a positive integer"),
    (BATCH_SIZE, "8192", "a positive integer"),
    (CHANNEL_CAPACITY, "16", "a positive integer"),
    (RESULT_MODE, "tableau", "one of tableau, table, changelog"),
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

    /// `table.exec.batch-size`.
    pub fn batch_size(&self) -> usize {
        self.usize(BATCH_SIZE)
    }

    /// `table.exec.channel-capacity`.
    pub fn channel_capacity(&self) -> usize {
        self.usize(CHANNEL_CAPACITY)
    }
}
