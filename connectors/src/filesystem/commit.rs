//! Partition commit: telling downstream readers a partition is complete.
//! Once a partition's trigger fires, the sink finishes that partition's
//! part files and writes the success file (`_SUCCESS`) into its directory.
//! A row arriving later for a committed partition opens it again; it is
//! committed again when its trigger fires again (as in Flink).
//!
//! Options (Flink's): `sink.partition-commit.trigger` (`process-time`,
//! default, or `partition-time`), `sink.partition-commit.delay` (0),
//! `sink.partition-commit.policy.kind` (`success-file`; `metastore` and
//! `custom` are refused), `sink.partition-commit.success-file.name`
//! (`_SUCCESS`), `sink.partition-commit.watermark-time-zone` (UTC only),
//! `partition.time-extractor.kind` (`default`),
//! `partition.time-extractor.timestamp-pattern` and
//! `partition.time-extractor.timestamp-formatter` (`yyyy-MM-dd HH:mm:ss`).

use std::time::{Duration, Instant};

use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::{Result, SluiceError};
use sluice_udf::builtins::datetime::pattern::JavaPattern;

/// When a partition is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// `delay` after the partition was first written (wall clock).
    ProcessTime,
    /// When the watermark passes the partition's time plus `delay`.
    PartitionTime,
}

/// A table's commit policy.
#[derive(Debug, Clone)]
pub struct CommitPolicy {
    pub trigger: Trigger,
    pub delay: Duration,
    /// The success file's name.
    pub success_file: String,
    /// Partition time from partition values (partition-time trigger).
    pub extractor: Option<TimeExtractor>,
}

/// Flink's default time extractor: the pattern with `$key` replaced by the
/// partition's values, parsed by the formatter.
#[derive(Debug, Clone)]
pub struct TimeExtractor {
    /// `None`: the first partition value alone.
    pattern: Option<String>,
    formatter: JavaPattern,
    formatter_text: String,
}

impl CommitPolicy {
    /// The commit policy in `opts`, or `None` when no policy kind is set
    /// (then partitions are written but never committed, as in Flink).
    pub fn from_options(opts: &mut ConnectorOptions, partitioned: bool) -> Result<Option<Self>> {
        const TRIGGER: &str = "sink.partition-commit.trigger";
        const KIND: &str = "sink.partition-commit.policy.kind";
        let trigger = match opts
            .one_of(TRIGGER, &["process-time", "partition-time"])?
            .as_deref()
        {
            Some("partition-time") => Trigger::PartitionTime,
            _ => Trigger::ProcessTime,
        };
        let delay = opts
            .duration("sink.partition-commit.delay")?
            .unwrap_or_default();
        let success_file = opts
            .string("sink.partition-commit.success-file.name")
            .unwrap_or_else(|| "_SUCCESS".to_string());
        if let Some(zone) = opts.string("sink.partition-commit.watermark-time-zone")
            && !matches!(zone.as_str(), "UTC" | "GMT" | "Z" | "+00:00")
        {
            return Err(SluiceError::not_supported(format!(
                "'sink.partition-commit.watermark-time-zone' = '{zone}' (watermarks \
                 are compared with partition times in UTC)"
            )));
        }
        let extractor = TimeExtractor::from_options(opts)?;
        let kinds = opts.string(KIND);
        let Some(kinds) = kinds else {
            return Ok(None);
        };
        for kind in kinds.split(',').map(str::trim) {
            match kind {
                "success-file" => {}
                "metastore" | "custom" => {
                    return Err(SluiceError::not_supported(format!(
                        "'{KIND}' = '{kind}' (Sluice has no metastore or custom \
                         commit policies; 'success-file' works)"
                    )));
                }
                other => {
                    return Err(opts.error(
                        KIND,
                        format!("unknown policy '{other}'; expected success-file"),
                    ));
                }
            }
        }
        if !partitioned {
            return Err(opts.error(KIND, "only a PARTITIONED BY table has partitions to commit"));
        }
        Ok(Some(CommitPolicy {
            trigger,
            delay,
            success_file,
            extractor: (trigger == Trigger::PartitionTime).then_some(extractor),
        }))
    }

    /// Whether a partition first written at `created`, with partition time
    /// `time` (epoch ms, partition-time trigger), is complete at
    /// `watermark`.
    pub fn is_due(&self, created: Instant, time: Option<i64>, watermark: Option<i64>) -> bool {
        match self.trigger {
            Trigger::ProcessTime => created.elapsed() >= self.delay,
            Trigger::PartitionTime => match (time, watermark) {
                (Some(t), Some(w)) => w > t.saturating_add(self.delay.as_millis() as i64),
                _ => false,
            },
        }
    }
}

impl TimeExtractor {
    fn from_options(opts: &mut ConnectorOptions) -> Result<Self> {
        const KIND: &str = "partition.time-extractor.kind";
        const FORMATTER: &str = "partition.time-extractor.timestamp-formatter";
        if let Some(kind) = opts.string(KIND)
            && kind != "default"
        {
            return Err(SluiceError::not_supported(format!(
                "'{KIND}' = '{kind}' (only the default extractor)"
            )));
        }
        opts.string("partition.time-extractor.class");
        let pattern = opts.string("partition.time-extractor.timestamp-pattern");
        let formatter_text = opts
            .string(FORMATTER)
            .unwrap_or_else(|| "yyyy-MM-dd HH:mm:ss".to_string());
        let formatter =
            JavaPattern::compile(&formatter_text).map_err(|e| opts.error(FORMATTER, e))?;
        Ok(TimeExtractor {
            pattern,
            formatter,
            formatter_text,
        })
    }

    /// The partition's time (epoch ms, read as UTC) from its `values`, keyed
    /// by partition column name.
    pub fn extract(&self, values: &[(String, Option<String>)]) -> Result<i64> {
        let text = match &self.pattern {
            Some(p) => {
                // Longest names first, so `$dt` does not eat `$dth`'s prefix.
                let mut sorted: Vec<&(String, Option<String>)> = values.iter().collect();
                sorted.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
                let mut text = p.clone();
                for (k, v) in sorted {
                    text = text.replace(&format!("${k}"), v.as_deref().unwrap_or(""));
                }
                text
            }
            None => values
                .first()
                .and_then(|(_, v)| v.clone())
                .unwrap_or_default(),
        };
        // A bare date is midnight, as in Flink's default extractor.
        let parsed = self
            .formatter
            .parse(&text)
            .and_then(|p| p.datetime())
            .or_else(|| {
                chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            });
        parsed
            .map(|dt| dt.and_utc().timestamp_millis())
            .ok_or_else(|| {
                SluiceError::execution(format!(
                    "partition time '{text}' does not match \
                     'partition.time-extractor.timestamp-formatter' '{}'",
                    self.formatter_text
                ))
            })
    }
}
