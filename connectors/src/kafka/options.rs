//! The WITH options of `kafka` and `upsert-kafka` tables, with Flink's keys,
//! defaults and error messages.

use std::collections::BTreeMap;
use std::time::Duration;

use regex::Regex;
use sluice_engine::Result;
use sluice_engine::catalog::ConnectorOptions;

use super::client::Properties;

/// Flink's default `scan.topic-partition-discovery.interval`.
pub const DEFAULT_DISCOVERY_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// Where the source starts in each partition (`scan.startup.mode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartupMode {
    Earliest,
    Latest,
    /// The group's committed offsets; `auto.offset.reset` where there are
    /// none (Flink's default mode).
    GroupOffsets,
    /// The first record at or after this timestamp (ms).
    Timestamp(i64),
    /// Per partition of the single topic; unlisted partitions start from the
    /// group's committed offset, else the earliest.
    SpecificOffsets(BTreeMap<i32, i64>),
}

/// Where the source stops in each partition (`scan.bounded.mode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoundedMode {
    Unbounded,
    /// The end of each partition when the job starts.
    Latest,
    /// The group's committed offsets when the job starts.
    GroupOffsets,
    /// Before the first record at or after this timestamp (ms).
    Timestamp(i64),
    /// Before these offsets; an unlisted partition is not read.
    SpecificOffsets(BTreeMap<i32, i64>),
}

/// `sink.partitioner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionerKind {
    /// Kafka's: by key hash (murmur2, like the Java client), else spread.
    Default,
    /// Each sink instance writes to one partition: `instance % partitions`.
    Fixed,
    /// Rows spread over all partitions in turn.
    RoundRobin,
}

/// `sink.delivery-guarantee`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryGuarantee {
    /// Do not wait for acknowledgements at flushes.
    None,
    /// Every record is acknowledged before a flush completes.
    AtLeastOnce,
}

/// `sink.buffer-flush.max-rows` + `sink.buffer-flush.interval` (upsert-kafka).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferFlush {
    pub max_rows: usize,
    pub interval: Duration,
}

/// The topics a table names.
#[derive(Debug, Clone)]
pub enum Topics {
    /// `topic` = `'a'` or `'a;b'`.
    List(Vec<String>),
    /// `topic-pattern`, matched against whole topic names.
    Pattern(Regex),
}

impl Topics {
    /// True when `topic` belongs to the table.
    pub fn matches(&self, topic: &str) -> bool {
        match self {
            Topics::List(l) => l.iter().any(|t| t == topic),
            Topics::Pattern(p) => p.is_match(topic),
        }
    }

    /// The single topic, if the table names exactly one.
    pub fn single(&self) -> Option<&str> {
        match self {
            Topics::List(l) if l.len() == 1 => Some(&l[0]),
            _ => None,
        }
    }
}

/// Everything but the formats.
#[derive(Debug, Clone)]
pub struct KafkaOptions {
    pub topics: Option<Topics>,
    pub properties: Properties,
    pub startup: StartupMode,
    pub bounded: BoundedMode,
    /// `None` when discovery is off (`0`).
    pub discovery_interval: Option<Duration>,
    pub scan_parallelism: Option<usize>,
    pub sink_parallelism: Option<usize>,
    pub partitioner: PartitionerKind,
    pub delivery: DeliveryGuarantee,
    pub buffer: Option<BufferFlush>,
}

/// Which connector's option set to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Kafka,
    UpsertKafka,
}

/// Parses `partition:0,offset:42;partition:1,offset:300`.
pub fn parse_specific_offsets(
    key: &str,
    value: &str,
    opts: &ConnectorOptions,
) -> Result<BTreeMap<i32, i64>> {
    let bad = || {
        opts.error(
            key,
            format!(
                "Invalid properties '{key}' should follow the format \
                 'partition:0,offset:42;partition:1,offset:300', but is '{value}'."
            ),
        )
    };
    let mut out = BTreeMap::new();
    for pair in value.split(';') {
        let mut kv = pair.split(',');
        let (Some(p), Some(o), None) = (kv.next(), kv.next(), kv.next()) else {
            return Err(bad());
        };
        let partition = p.trim().strip_prefix("partition:").ok_or_else(bad)?;
        let offset = o.trim().strip_prefix("offset:").ok_or_else(bad)?;
        let partition: i32 = partition.trim().parse().map_err(|_| bad())?;
        let offset: i64 = offset.trim().parse().map_err(|_| bad())?;
        out.insert(partition, offset);
    }
    Ok(out)
}

fn positive(opts: &mut ConnectorOptions, key: &str) -> Result<Option<usize>> {
    let v = opts.parse::<usize>(key, "a positive integer")?;
    if v == Some(0) {
        return Err(opts.error(key, "expected a positive integer, got '0'"));
    }
    Ok(v)
}

fn topics(opts: &mut ConnectorOptions, flavor: Flavor) -> Result<Option<Topics>> {
    let topic = opts.string("topic");
    let pattern = match flavor {
        Flavor::Kafka => opts.string("topic-pattern"),
        Flavor::UpsertKafka => None,
    };
    match (topic, pattern) {
        (Some(_), Some(_)) => Err(opts.error(
            "topic-pattern",
            "Option 'topic' and 'topic-pattern' shouldn't be set together.",
        )),
        (Some(t), None) => {
            let list: Vec<String> = t
                .split(';')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            if list.is_empty() {
                return Err(opts.error("topic", "must name at least one topic"));
            }
            Ok(Some(Topics::List(list)))
        }
        (None, Some(p)) => Regex::new(&format!("^(?:{p})$"))
            .map(|r| Some(Topics::Pattern(r)))
            .map_err(|e| {
                opts.error(
                    "topic-pattern",
                    format!("invalid regular expression '{p}': {e}"),
                )
            }),
        (None, None) => Ok(None),
    }
}

/// A position in every partition, as `scan.startup.*` and `scan.bounded.*`
/// both name it.
enum Position {
    /// `earliest-offset` (startup) or `unbounded` (bounded).
    Open,
    Latest,
    GroupOffsets,
    Timestamp(i64),
    Specific(BTreeMap<i32, i64>),
}

/// Reads `scan.<kind>.mode` with its `.timestamp-millis` and
/// `.specific-offsets` companions; `open` is the mode word that means
/// "no position" (`earliest-offset` for startup, `unbounded` for bounded).
fn position(
    opts: &mut ConnectorOptions,
    topics: &Option<Topics>,
    kind: &str,
    open: &str,
    default: &str,
) -> Result<Position> {
    let mode_key = format!("scan.{kind}.mode");
    let ts_key = format!("scan.{kind}.timestamp-millis");
    let offsets_key = format!("scan.{kind}.specific-offsets");
    let mode = opts.one_of(
        &mode_key,
        &[
            open,
            "latest-offset",
            "group-offsets",
            "timestamp",
            "specific-offsets",
        ],
    )?;
    let ts = opts.parse::<i64>(&ts_key, "a timestamp in milliseconds")?;
    let specific = opts.string(&offsets_key);
    let mode = mode.unwrap_or_else(|| default.to_string());
    Ok(match mode.as_str() {
        "latest-offset" => Position::Latest,
        "group-offsets" => Position::GroupOffsets,
        "timestamp" => Position::Timestamp(ts.ok_or_else(|| {
            opts.error(
                &ts_key,
                format!("'{ts_key}' is required in 'timestamp' {kind} mode but missing."),
            )
        })?),
        "specific-offsets" => {
            let Some(s) = specific else {
                return Err(opts.error(
                    &offsets_key,
                    format!(
                        "'{offsets_key}' is required in 'specific-offsets' {kind} mode but missing."
                    ),
                ));
            };
            if topics.as_ref().and_then(Topics::single).is_none() {
                return Err(opts.error(
                    &offsets_key,
                    "Currently Kafka source only supports specific offset for single topic.",
                ));
            }
            Position::Specific(parse_specific_offsets(&offsets_key, &s, opts)?)
        }
        _ => Position::Open,
    })
}

fn startup(opts: &mut ConnectorOptions, topics: &Option<Topics>) -> Result<StartupMode> {
    Ok(
        match position(opts, topics, "startup", "earliest-offset", "group-offsets")? {
            Position::Open => StartupMode::Earliest,
            Position::Latest => StartupMode::Latest,
            Position::GroupOffsets => StartupMode::GroupOffsets,
            Position::Timestamp(t) => StartupMode::Timestamp(t),
            Position::Specific(o) => StartupMode::SpecificOffsets(o),
        },
    )
}

fn bounded(opts: &mut ConnectorOptions, topics: &Option<Topics>) -> Result<BoundedMode> {
    Ok(
        match position(opts, topics, "bounded", "unbounded", "unbounded")? {
            Position::Open => BoundedMode::Unbounded,
            Position::Latest => BoundedMode::Latest,
            Position::GroupOffsets => BoundedMode::GroupOffsets,
            Position::Timestamp(t) => BoundedMode::Timestamp(t),
            Position::Specific(o) => BoundedMode::SpecificOffsets(o),
        },
    )
}

fn buffer_flush(opts: &mut ConnectorOptions) -> Result<Option<BufferFlush>> {
    let max_rows = opts.parse::<usize>("sink.buffer-flush.max-rows", "a non-negative integer")?;
    let interval = opts.duration("sink.buffer-flush.interval")?;
    let max_rows = max_rows.unwrap_or(0);
    let interval = interval.unwrap_or(Duration::ZERO);
    match (max_rows > 0, !interval.is_zero()) {
        (true, true) => Ok(Some(BufferFlush { max_rows, interval })),
        (false, false) => Ok(None),
        _ => Err(opts.error(
            "sink.buffer-flush.max-rows",
            "'sink.buffer-flush.max-rows' and 'sink.buffer-flush.interval' must be set to be \
             greater than zero together to enable sink buffer flushing.",
        )),
    }
}

impl KafkaOptions {
    /// Takes every connector key of `flavor` (not the format keys).
    pub fn from_options(opts: &mut ConnectorOptions, flavor: Flavor) -> Result<Self> {
        let topics = topics(opts, flavor)?;
        let properties = Properties::from_options(opts)?;
        let (startup, bounded) = match flavor {
            Flavor::Kafka => (startup(opts, &topics)?, bounded(opts, &topics)?),
            // upsert-kafka always reads the whole topic, unbounded.
            Flavor::UpsertKafka => (StartupMode::Earliest, BoundedMode::Unbounded),
        };
        let discovery_interval = match flavor {
            Flavor::Kafka => opts
                .duration("scan.topic-partition-discovery.interval")?
                .unwrap_or(DEFAULT_DISCOVERY_INTERVAL),
            Flavor::UpsertKafka => DEFAULT_DISCOVERY_INTERVAL,
        };
        // The engine reads the idle timeout from the table options; this
        // validates it.
        opts.duration("scan.watermark.idle-timeout")?;
        let scan_parallelism = positive(opts, "scan.parallelism")?;
        let sink_parallelism = positive(opts, "sink.parallelism")?;
        let partitioner = match flavor {
            Flavor::Kafka => match opts
                .one_of("sink.partitioner", &["default", "fixed", "round-robin"])?
                .as_deref()
            {
                Some("fixed") => PartitionerKind::Fixed,
                Some("round-robin") => {
                    if opts.contains("key.fields") {
                        return Err(opts.error(
                            "sink.partitioner",
                            "Currently 'round-robin' partitioner only works when option \
                             'key.fields' is not specified.",
                        ));
                    }
                    PartitionerKind::RoundRobin
                }
                _ => PartitionerKind::Default,
            },
            Flavor::UpsertKafka => PartitionerKind::Default,
        };
        let delivery = match opts
            .one_of(
                "sink.delivery-guarantee",
                &["none", "at-least-once", "exactly-once"],
            )?
            .as_deref()
        {
            Some("none") => DeliveryGuarantee::None,
            Some("exactly-once") => {
                return Err(sluice_engine::SluiceError::not_supported(
                    "'sink.delivery-guarantee' = 'exactly-once' (Kafka transactions are \
                     committed on checkpoints, which Sluice does not have yet); use \
                     'at-least-once'",
                ));
            }
            _ => DeliveryGuarantee::AtLeastOnce,
        };
        opts.string("sink.transactional-id-prefix");
        let buffer = match flavor {
            Flavor::UpsertKafka => buffer_flush(opts)?,
            Flavor::Kafka => None,
        };
        Ok(Self {
            topics,
            properties,
            startup,
            bounded,
            discovery_interval: Some(discovery_interval).filter(|d| !d.is_zero()),
            scan_parallelism,
            sink_parallelism,
            partitioner,
            delivery,
            buffer,
        })
    }

    /// True when the source ends by itself.
    pub fn is_bounded(&self) -> bool {
        self.bounded != BoundedMode::Unbounded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> ConnectorOptions {
        ConnectorOptions::new(
            "t",
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn specific_offsets_follow_flink() {
        let o = opts(&[]);
        let m = parse_specific_offsets("k", "partition:0,offset:42;partition:1,offset:300", &o)
            .unwrap();
        assert_eq!(m, BTreeMap::from([(0, 42), (1, 300)]));
        let err = parse_specific_offsets("k", "partition:0", &o)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("partition:0,offset:42;partition:1,offset:300"),
            "{err}"
        );
    }

    #[test]
    fn modes_and_defaults() {
        let mut o = opts(&[("topic", "a;b"), ("properties.bootstrap.servers", "x:1")]);
        let k = KafkaOptions::from_options(&mut o, Flavor::Kafka).unwrap();
        assert_eq!(k.startup, StartupMode::GroupOffsets);
        assert_eq!(k.bounded, BoundedMode::Unbounded);
        assert_eq!(k.discovery_interval, Some(DEFAULT_DISCOVERY_INTERVAL));
        assert!(matches!(k.topics, Some(Topics::List(ref l)) if l == &["a", "b"]));

        let mut o = opts(&[
            ("topic", "a;b"),
            ("scan.startup.mode", "specific-offsets"),
            ("scan.startup.specific-offsets", "partition:0,offset:1"),
        ]);
        let err = KafkaOptions::from_options(&mut o, Flavor::Kafka)
            .unwrap_err()
            .to_string();
        assert!(err.contains("single topic"), "{err}");

        let mut o = opts(&[("topic", "a"), ("scan.bounded.mode", "timestamp")]);
        let err = KafkaOptions::from_options(&mut o, Flavor::Kafka)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'scan.bounded.timestamp-millis' is required"),
            "{err}"
        );

        let mut o = opts(&[("topic", "a"), ("sink.buffer-flush.max-rows", "10")]);
        let err = KafkaOptions::from_options(&mut o, Flavor::UpsertKafka)
            .unwrap_err()
            .to_string();
        assert!(err.contains("together"), "{err}");
    }
}
