//! Partition listing and the start and stop offsets of each partition, from
//! `scan.startup.*` and `scan.bounded.*`, resolved once when a source
//! instance opens (as Flink's offsets initializers do). Every
//! `TopicPartitionList` librdkafka returns is turned into plain values at
//! once: a list still alive when its consumer is dropped hangs the drop.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::Offset;
use rdkafka::TopicPartitionList;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;
use sluice_engine::{Result, SluiceError};

use super::client::describe;
use super::options::{BoundedMode, StartupMode, Topics};

/// How long a metadata or offsets request may take before the job fails.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One partition of one topic: a split of the source.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Split {
    pub topic: String,
    pub partition: i32,
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

fn kafka_error(what: &str, e: &rdkafka::error::KafkaError) -> SluiceError {
    SluiceError::connector("kafka", format!("{what}: {}", describe(e)))
}

/// Every partition of the table's topics, sorted. A listed topic the
/// broker does not know is an error when `must_exist`, else skipped (it may
/// appear later and be discovered).
pub fn list_partitions(
    consumer: &BaseConsumer,
    topics: &Topics,
    must_exist: bool,
) -> Result<Vec<Split>> {
    let mut out = Vec::new();
    let mut add = |metadata: &rdkafka::metadata::Metadata| -> Result<()> {
        for t in metadata.topics() {
            if !topics.matches(t.name()) {
                continue;
            }
            match t.error() {
                None => out.extend(t.partitions().iter().map(|p| Split {
                    topic: t.name().to_string(),
                    partition: p.id(),
                })),
                Some(e) if must_exist => {
                    return Err(SluiceError::connector(
                        "kafka",
                        format!("topic '{}' cannot be read: {:?}", t.name(), e),
                    ));
                }
                Some(e) => log::warn!("topic '{}' is not readable yet: {e:?}", t.name()),
            }
        }
        Ok(())
    };
    match topics {
        Topics::List(list) => {
            for topic in list {
                let m = consumer
                    .fetch_metadata(Some(topic), REQUEST_TIMEOUT)
                    .map_err(|e| {
                        kafka_error(&format!("fetching metadata of topic '{topic}'"), &e)
                    })?;
                add(&m)?;
            }
        }
        Topics::Pattern(_) => {
            let m = consumer
                .fetch_metadata(None, REQUEST_TIMEOUT)
                .map_err(|e| kafka_error("fetching the topic list", &e))?;
            add(&m)?;
        }
    }
    out.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    out.dedup();
    Ok(out)
}

fn tpl(splits: &[Split], offset: impl Fn(&Split) -> Offset) -> Result<TopicPartitionList> {
    let mut tpl = TopicPartitionList::with_capacity(splits.len());
    for s in splits {
        tpl.add_partition_offset(&s.topic, s.partition, offset(s))
            .map_err(|e| kafka_error("building a partition list", &e))?;
    }
    Ok(tpl)
}

/// The group's committed offset per split (`Offset::Invalid` when none).
fn committed(
    consumer: &BaseConsumer,
    splits: &[Split],
    group: Option<&str>,
    why: &str,
) -> Result<Vec<Offset>> {
    if splits.is_empty() {
        return Ok(Vec::new());
    }
    let Some(group) = group else {
        return Err(SluiceError::connector(
            "kafka",
            format!("option 'properties.group.id' is required {why}"),
        ));
    };
    let list = tpl(splits, |_| Offset::Invalid)?;
    let map: HashMap<(String, i32), Offset> = consumer
        .committed_offsets(list, REQUEST_TIMEOUT)
        .map_err(|e| {
            kafka_error(
                &format!("fetching the committed offsets of group '{group}'"),
                &e,
            )
        })?
        .to_topic_map();
    Ok(splits
        .iter()
        .map(|s| {
            map.get(&(s.topic.clone(), s.partition))
                .copied()
                .unwrap_or(Offset::Invalid)
        })
        .collect())
}

/// The first offset whose timestamp is at or after `ts` (`Offset::End`
/// when there is none).
fn for_timestamp(consumer: &BaseConsumer, splits: &[Split], ts: i64) -> Result<Vec<Offset>> {
    if splits.is_empty() {
        return Ok(Vec::new());
    }
    let list = tpl(splits, |_| Offset::Offset(ts))?;
    let map = consumer
        .offsets_for_times(list, REQUEST_TIMEOUT)
        .map_err(|e| kafka_error(&format!("looking up offsets for timestamp {ts}"), &e))?
        .to_topic_map();
    Ok(splits
        .iter()
        .map(|s| match map.get(&(s.topic.clone(), s.partition)) {
            Some(Offset::Offset(o)) if *o >= 0 => Offset::Offset(*o),
            _ => Offset::End,
        })
        .collect())
}

/// Low and high watermark of a split.
pub fn watermarks(consumer: &BaseConsumer, s: &Split) -> Result<(i64, i64)> {
    consumer
        .fetch_watermarks(&s.topic, s.partition, REQUEST_TIMEOUT)
        .map_err(|e| kafka_error(&format!("fetching the offsets of partition {s}"), &e))
}

/// What `auto.offset.reset` says to do where a group has no offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reset {
    Earliest,
    Latest,
    /// Fail (Flink's default for `group-offsets`).
    None,
}

impl Reset {
    /// From the `auto.offset.reset` property (absent: `None`, as in Flink).
    pub fn from_property(v: Option<&str>) -> Reset {
        match v.map(str::to_ascii_lowercase).as_deref() {
            Some("earliest" | "smallest" | "beginning") => Reset::Earliest,
            Some("latest" | "largest" | "end") => Reset::Latest,
            _ => Reset::None,
        }
    }
}

/// The start offset of every split.
pub fn start_offsets(
    consumer: &BaseConsumer,
    splits: &[Split],
    mode: &StartupMode,
    group: Option<&str>,
    reset: Reset,
) -> Result<Vec<Offset>> {
    let from_group = |offsets: Vec<Offset>, fallback: Reset| -> Result<Vec<Offset>> {
        let missing: Vec<String> = splits
            .iter()
            .zip(&offsets)
            .filter(|(_, o)| !matches!(o, Offset::Offset(_)))
            .map(|(s, _)| s.to_string())
            .collect();
        if fallback == Reset::None && !missing.is_empty() {
            return Err(SluiceError::connector(
                "kafka",
                format!(
                    "Undefined offset with no reset policy for partitions: [{}]; group '{}' has \
                     no committed offset there. Set 'properties.auto.offset.reset' to 'earliest' \
                     or 'latest', or choose another 'scan.startup.mode'",
                    missing.join(", "),
                    group.unwrap_or("")
                ),
            ));
        }
        Ok(offsets
            .into_iter()
            .map(|o| match o {
                Offset::Offset(_) => o,
                _ if fallback == Reset::Latest => Offset::End,
                _ => Offset::Beginning,
            })
            .collect())
    };
    match mode {
        StartupMode::Earliest => Ok(vec![Offset::Beginning; splits.len()]),
        StartupMode::Latest => Ok(vec![Offset::End; splits.len()]),
        StartupMode::Timestamp(ts) => for_timestamp(consumer, splits, *ts),
        StartupMode::GroupOffsets => from_group(
            committed(
                consumer,
                splits,
                group,
                "for 'scan.startup.mode' = 'group-offsets' (the default mode); set it or choose \
                 'earliest-offset', 'latest-offset', 'timestamp' or 'specific-offsets'",
            )?,
            reset,
        ),
        StartupMode::SpecificOffsets(map) => {
            // Unlisted partitions: the committed offset, else the earliest.
            let unlisted: Vec<Split> = splits
                .iter()
                .filter(|s| !map.contains_key(&s.partition))
                .cloned()
                .collect();
            let from_group_offsets = match group {
                Some(_) if !unlisted.is_empty() => {
                    from_group(committed(consumer, &unlisted, group, "")?, Reset::Earliest)?
                }
                _ => vec![Offset::Beginning; unlisted.len()],
            };
            let mut rest = from_group_offsets.into_iter();
            Ok(splits
                .iter()
                .map(|s| match map.get(&s.partition) {
                    Some(o) => Offset::Offset(*o),
                    None => rest.next().unwrap_or(Offset::Beginning),
                })
                .collect())
        }
    }
}

/// The offset before which each split stops (`None`: never). A split not
/// to be read at all gets `Some(i64::MIN)`.
pub fn stop_offsets(
    consumer: &BaseConsumer,
    splits: &[Split],
    mode: &BoundedMode,
    group: Option<&str>,
) -> Result<Vec<Option<i64>>> {
    let high = |s: &Split| watermarks(consumer, s).map(|(_, h)| Some(h));
    match mode {
        BoundedMode::Unbounded => Ok(vec![None; splits.len()]),
        BoundedMode::Latest => splits.iter().map(high).collect(),
        // The reader ends each split at its first record at or after the
        // time (what the broker's offset-for-time lookup would answer, but
        // not every Kafka-compatible broker answers it right), and at the
        // latest where the partition ended when the job started.
        BoundedMode::Timestamp(_) => splits.iter().map(high).collect(),
        BoundedMode::GroupOffsets => {
            let offsets = committed(
                consumer,
                splits,
                group,
                "for 'scan.bounded.mode' = 'group-offsets'",
            )?;
            splits
                .iter()
                .zip(offsets)
                .map(|(s, o)| match o {
                    Offset::Offset(o) => Ok(Some(o)),
                    _ => Err(SluiceError::connector(
                        "kafka",
                        format!(
                            "'scan.bounded.mode' = 'group-offsets': group '{}' has no committed \
                             offset for partition {s}",
                            group.unwrap_or("")
                        ),
                    )),
                })
                .collect()
        }
        BoundedMode::SpecificOffsets(map) => Ok(splits
            .iter()
            .map(|s| Some(map.get(&s.partition).copied().unwrap_or(i64::MIN)))
            .collect()),
    }
}

/// A start offset as a number, for comparing with a stop offset.
pub fn concrete(consumer: &BaseConsumer, s: &Split, start: Offset) -> Result<i64> {
    Ok(match start {
        Offset::Offset(o) => o,
        Offset::End => watermarks(consumer, s)?.1,
        _ => watermarks(consumer, s)?.0,
    })
}

/// True for consumer errors after which reading cannot go on; the others
/// (a broker restarting, a leader moving) librdkafka retries by itself.
pub fn is_fatal(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode::*;
    matches!(
        code,
        Fatal
            | AutoOffsetReset
            | TopicAuthorizationFailed
            | GroupAuthorizationFailed
            | ClusterAuthorizationFailed
            | SaslAuthenticationFailed
            | Authentication
    )
}
