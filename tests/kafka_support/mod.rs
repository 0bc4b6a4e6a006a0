//! Shared by the Kafka tests: a broker (librdkafka's in-process mock
//! cluster, or the real one at `KAFKA_BOOTSTRAP_SERVERS`), topics with
//! unique names, and plain librdkafka producing and reading, so the tests
//! check Sluice against what is really in the topics.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int8Type;
use datafusion::arrow::record_batch::RecordBatch;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{DefaultProducerContext, FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, Timestamp, TopicPartitionList};
use sluice::{JobHandle, Sluice, StatementResult};

/// A broker for one test.
pub struct Kafka {
    pub bootstrap: String,
    mock: Option<MockCluster<'static, DefaultProducerContext>>,
    prefix: String,
}

/// A record to produce.
#[derive(Debug, Clone, Default)]
pub struct Rec {
    pub partition: Option<i32>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub timestamp: Option<i64>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Rec {
    /// A value-only record in `partition`.
    pub fn value(partition: i32, value: &str) -> Self {
        Rec {
            partition: Some(partition),
            value: Some(value.as_bytes().to_vec()),
            ..Rec::default()
        }
    }

    /// A keyed record in `partition` (`None` value: a tombstone).
    pub fn keyed(partition: i32, key: &str, value: Option<&str>) -> Self {
        Rec {
            partition: Some(partition),
            key: Some(key.as_bytes().to_vec()),
            value: value.map(|v| v.as_bytes().to_vec()),
            ..Rec::default()
        }
    }

    pub fn at(mut self, ts: i64) -> Self {
        self.timestamp = Some(ts);
        self
    }

    pub fn header(mut self, k: &str, v: Option<&[u8]>) -> Self {
        self.headers.push((k.to_string(), v.map(<[u8]>::to_vec)));
        self
    }
}

/// A record read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Got {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub value: Option<String>,
    pub timestamp: Option<i64>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Kafka {
    /// The real broker at `KAFKA_BOOTSTRAP_SERVERS`, else a fresh mock.
    pub fn start() -> Kafka {
        let unique = format!(
            "t{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        );
        match std::env::var("KAFKA_BOOTSTRAP_SERVERS") {
            Ok(b) if !b.is_empty() => Kafka {
                bootstrap: b,
                mock: None,
                prefix: unique,
            },
            _ => {
                let mock = MockCluster::new(1).expect("mock cluster");
                Kafka {
                    bootstrap: mock.bootstrap_servers(),
                    mock: Some(mock),
                    prefix: unique,
                }
            }
        }
    }

    /// The broker at `bootstrap` (an external one the test started).
    pub fn at(bootstrap: &str) -> Kafka {
        Kafka {
            bootstrap: bootstrap.to_string(),
            mock: None,
            prefix: format!("t{}", std::process::id()),
        }
    }

    /// True when running against the in-process mock.
    pub fn is_mock(&self) -> bool {
        self.mock.is_some()
    }

    /// Creates a topic with a name unique to this test run.
    pub async fn topic(&self, name: &str, partitions: i32) -> String {
        let topic = format!("{}-{name}", self.prefix);
        match &self.mock {
            Some(m) => m.create_topic(&topic, partitions, 1).expect("create topic"),
            None => {
                let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
                    .set("bootstrap.servers", &self.bootstrap)
                    .create()
                    .expect("admin client");
                let results = admin
                    .create_topics(
                        &[NewTopic::new(
                            &topic,
                            partitions,
                            TopicReplication::Fixed(1),
                        )],
                        &AdminOptions::new(),
                    )
                    .await
                    .expect("create topics");
                for r in results {
                    r.expect("topic created");
                }
                // Let the new topic's metadata reach every broker.
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        topic
    }

    /// Produces `records` in order, waiting for each acknowledgement.
    pub async fn produce(&self, topic: &str, records: &[Rec]) {
        let p: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("linger.ms", "0")
            .create()
            .expect("producer");
        for r in records {
            let mut fr: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic);
            if let Some(k) = &r.key {
                fr = fr.key(k);
            }
            if let Some(v) = &r.value {
                fr = fr.payload(v);
            }
            if let Some(p) = r.partition {
                fr = fr.partition(p);
            }
            if let Some(t) = r.timestamp {
                fr = fr.timestamp(t);
            }
            if !r.headers.is_empty() {
                let mut h = OwnedHeaders::new();
                for (k, v) in &r.headers {
                    h = h.insert(Header {
                        key: k,
                        value: v.as_deref(),
                    });
                }
                fr = fr.headers(h);
            }
            p.send(fr, Duration::from_secs(10)).await.expect("produce");
        }
    }

    /// Every record of `topic` at this moment, by partition then offset.
    pub fn read_all(&self, topic: &str) -> Vec<Got> {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("enable.auto.commit", "false")
            .set("group.id", format!("{}-reader", self.prefix))
            .create()
            .expect("consumer");
        let m = c
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .expect("metadata");
        let partitions: Vec<i32> = m.topics()[0].partitions().iter().map(|p| p.id()).collect();
        let mut ends = BTreeMap::new();
        let mut tpl = TopicPartitionList::new();
        for p in &partitions {
            let (lo, hi) = c
                .fetch_watermarks(topic, *p, Duration::from_secs(10))
                .expect("watermarks");
            if hi > lo {
                ends.insert(*p, hi);
                tpl.add_partition_offset(topic, *p, Offset::Beginning)
                    .expect("tpl");
            }
        }
        let mut out = Vec::new();
        if ends.is_empty() {
            return out;
        }
        c.assign(&tpl).expect("assign");
        drop(tpl);
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        // Past the high watermark, keep reading until the partition is quiet:
        // tansu 0.6 counts a batch of records as one offset in its watermark.
        let mut quiet = 0;
        while (!ends.is_empty() || (!self.is_mock() && quiet < 5))
            && std::time::Instant::now() < deadline
        {
            let Some(r) = c.poll(Duration::from_millis(100)) else {
                quiet += 1;
                continue;
            };
            quiet = 0;
            let Ok(msg) = r else { continue };
            let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
            let headers = msg
                .headers()
                .map(|h| {
                    h.iter()
                        .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                        .collect()
                })
                .unwrap_or_default();
            out.push(Got {
                partition: msg.partition(),
                offset: msg.offset(),
                key: text(msg.key()),
                value: text(msg.payload()),
                timestamp: match msg.timestamp() {
                    Timestamp::NotAvailable => None,
                    Timestamp::CreateTime(t) | Timestamp::LogAppendTime(t) => Some(t),
                },
                headers,
            });
            if ends
                .get(&msg.partition())
                .is_some_and(|e| msg.offset() + 1 >= *e)
            {
                ends.remove(&msg.partition());
            }
        }
        assert!(ends.is_empty(), "timed out reading {topic}");
        out.sort_by_key(|g| (g.partition, g.offset));
        out
    }

    /// The committed offset of `group` for each partition of `topic`.
    pub fn committed(&self, topic: &str, partitions: i32, group: &str) -> Vec<Option<i64>> {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition(topic, p);
        }
        let map = c
            .committed_offsets(tpl, Duration::from_secs(10))
            .expect("committed")
            .to_topic_map();
        (0..partitions)
            .map(|p| match map.get(&(topic.to_string(), p)) {
                Some(Offset::Offset(o)) => Some(*o),
                _ => None,
            })
            .collect()
    }

    /// Commits `offset` for `group` on partition `partition` of `topic`.
    pub fn commit(&self, topic: &str, partition: i32, group: &str, offset: i64) {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, partition, Offset::Offset(offset))
            .expect("tpl");
        c.commit(&tpl, rdkafka::consumer::CommitMode::Sync)
            .expect("commit");
    }
}

/// Runs every statement of `sql`, returning the last job started.
pub async fn run(sluice: &Sluice, sql: &str) -> sluice::Result<Option<JobHandle>> {
    let mut job = None;
    for r in sluice.execute_sql(sql).await? {
        if let StatementResult::Job(j) = r {
            job = Some(j);
        }
    }
    Ok(job)
}

/// Runs a bounded SELECT to its end; each row as `a, b, c` (with the row
/// kind in front, `+I[a, b]`, when the result is a changelog).
pub async fn select(sluice: &Sluice, sql: &str) -> sluice::Result<Vec<String>> {
    let mut results = sluice.execute_sql(sql).await?;
    let Some(StatementResult::Query(mut q)) = results.pop() else {
        panic!("a SELECT returns a query result");
    };
    let mut out = Vec::new();
    while let Some(b) = q.batches.recv().await {
        out.extend(render(&b?, q.is_changelog));
    }
    q.job.wait().await?;
    Ok(out)
}

/// Reads the first `n` rows of an unbounded SELECT, then cancels it.
pub async fn select_n(sluice: &Sluice, sql: &str, n: usize) -> sluice::Result<Vec<String>> {
    let mut results = sluice.execute_sql(sql).await?;
    let Some(StatementResult::Query(mut q)) = results.pop() else {
        panic!("a SELECT returns a query result");
    };
    let mut out = Vec::new();
    while out.len() < n {
        match tokio::time::timeout(Duration::from_secs(20), q.batches.recv()).await {
            Ok(Some(b)) => out.extend(render(&b?, q.is_changelog)),
            Ok(None) => break,
            Err(_) => panic!("timed out after {} of {n} rows: {out:?}", out.len()),
        }
    }
    q.job.cancel();
    Ok(out)
}

/// Rows of a batch as text.
pub fn render(b: &RecordBatch, changelog: bool) -> Vec<String> {
    let n = b.num_columns() - usize::from(changelog);
    (0..b.num_rows())
        .map(|i| {
            let row = sluice_engine::display::format_row(&b.columns()[..n], i);
            if changelog {
                let k = b.column(n).as_primitive::<Int8Type>();
                let kind = sluice::RowKind::from_i8(k.value(i)).map_or("?", sluice::RowKind::short);
                format!("{kind}[{row}]")
            } else {
                row
            }
        })
        .collect()
}

/// `rows` sorted, for comparing results read from several partitions.
pub fn sorted(mut rows: Vec<String>) -> Vec<String> {
    rows.sort();
    rows
}

/// A column's null count (for asserting on metadata columns).
pub fn nulls(a: &dyn Array) -> usize {
    a.null_count()
}
