//! `sluice-bench kafka`: kafka(json) -> projection -> kafka(json) through
//! librdkafka's in-process mock cluster (or the broker at
//! `KAFKA_BOOTSTRAP_SERVERS`), beside librdkafka's own produce and consume
//! speed on the same machine and broker, so the engine's share is visible.
//!
//! ```sh
//! cargo run --release --bin sluice-bench -- kafka [--rows N] [--partitions P]
//! ```

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rdkafka::ClientContext;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use sluice::{Sluice, StatementResult};

struct Line {
    name: &'static str,
    rows: u64,
    bytes: u64,
    secs: f64,
}

impl Line {
    fn print(&self) {
        println!(
            "| {:<52} | {:>9} | {:>8.3} | {:>10.0} | {:>7.1} |",
            self.name,
            self.rows,
            self.secs,
            self.rows as f64 / self.secs,
            self.bytes as f64 / self.secs / 1e6
        );
    }
}

fn record(i: u64) -> String {
    format!(
        r#"{{"id":{i},"name":"user-{}","price":{}.{:02},"tags":"alpha,beta","ts":"2024-01-02 03:04:{:02}.123"}}"#,
        i % 1000,
        i % 5000,
        i % 100,
        i % 60
    )
}

/// Counts failed deliveries, keeping the first reason.
#[derive(Default)]
struct Failures {
    count: AtomicU64,
    first: std::sync::Mutex<Option<String>>,
}

struct Counting(Arc<Failures>);

impl ClientContext for Counting {}

impl ProducerContext for Counting {
    type DeliveryOpaque = ();
    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = r {
            self.0.count.fetch_add(1, Ordering::Relaxed);
            let mut first = self.0.first.lock().unwrap_or_else(|p| p.into_inner());
            first.get_or_insert_with(|| e.to_string());
        }
    }
}

/// Produces `rows` records round-robin over the partitions; returns bytes
/// and seconds (until every record is acknowledged).
fn produce(bootstrap: &str, topic: &str, rows: u64, partitions: i32) -> (u64, f64) {
    let failures = Arc::new(Failures::default());
    let p: ThreadedProducer<Counting> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "1000000")
        .create_with_context(Counting(Arc::clone(&failures)))
        .expect("producer");
    let start = Instant::now();
    let mut bytes = 0u64;
    for i in 0..rows {
        let v = record(i);
        bytes += v.len() as u64;
        let mut r: BaseRecord<'_, str, str> = BaseRecord::<str, str>::to(topic)
            .payload(&v)
            .partition((i % partitions as u64) as i32);
        loop {
            match p.send(r) {
                Ok(()) => break,
                Err((_, back)) => {
                    r = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
    p.flush(Duration::from_secs(120)).expect("flush");
    let failed = failures.count.load(Ordering::Relaxed);
    assert_eq!(
        failed,
        0,
        "deliveries failed: {:?}",
        failures.first.lock().map(|f| f.clone())
    );
    (bytes, start.elapsed().as_secs_f64())
}

/// Reads every record of `topic`; returns records, bytes and seconds.
fn consume(bootstrap: &str, topic: &str, partitions: i32, rows: u64) -> (u64, u64, f64) {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "sluice-bench")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("tpl");
    }
    c.assign(&tpl).expect("assign");
    drop(tpl);
    let start = Instant::now();
    let (mut n, mut bytes) = (0u64, 0u64);
    while n < rows {
        match c.poll(Duration::from_secs(10)) {
            Some(Ok(m)) => {
                n += 1;
                bytes += rdkafka::Message::payload(&m).map_or(0, |p| p.len() as u64);
            }
            Some(Err(e)) => panic!("consume: {e}"),
            None => panic!("timed out after {n} of {rows} records"),
        }
    }
    (n, bytes, start.elapsed().as_secs_f64())
}

async fn run_job(sluice: &Sluice, sql: &str) -> f64 {
    let start = Instant::now();
    for r in sluice.execute_sql(sql).await.expect("statement failed") {
        if let StatementResult::Job(job) = r {
            job.wait().await.expect("job failed");
        }
    }
    start.elapsed().as_secs_f64()
}

/// The `kafka` subcommand; returns the exit code.
pub async fn main(args: Vec<String>) -> i32 {
    let (mut rows, mut partitions) = (100_000u64, 4i32);
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--rows" => rows = it.next().and_then(|v| v.parse().ok()).unwrap_or(rows),
            "--partitions" => {
                partitions = it.next().and_then(|v| v.parse().ok()).unwrap_or(partitions)
            }
            "--help" | "-h" => {
                println!("sluice-bench kafka [--rows N] [--partitions P]   (build with --release)");
                return 0;
            }
            other => {
                eprintln!("unknown argument {other}");
                return 2;
            }
        }
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: debug build; run with --release for meaningful figures");
    }
    let external = std::env::var("KAFKA_BOOTSTRAP_SERVERS")
        .ok()
        .filter(|b| !b.is_empty());
    let mock = match &external {
        Some(_) => None,
        None => Some(MockCluster::new(1).expect("mock cluster")),
    };
    // The mock keeps at most 5 MB per partition and drops the oldest
    // records beyond that: spread larger runs over more partitions.
    if mock.is_some() {
        let needed = (rows * 130).div_ceil(4 << 20) as i32;
        if needed > partitions {
            eprintln!("note: using {needed} partitions (the mock keeps 5 MB per partition)");
            partitions = needed;
        }
    }
    let bootstrap = external.unwrap_or_else(|| {
        mock.as_ref()
            .map(|m| m.bootstrap_servers())
            .unwrap_or_default()
    });
    let suffix = std::process::id();
    let (input, output) = (format!("bench-in-{suffix}"), format!("bench-out-{suffix}"));
    if let Some(m) = &mock {
        m.create_topic(&input, partitions, 1).expect("topic");
        m.create_topic(&output, partitions, 1).expect("topic");
    }

    let mut lines = Vec::new();
    let (bytes, secs) = produce(&bootstrap, &input, rows, partitions);
    lines.push(Line {
        name: "ceiling: librdkafka produce (json records)",
        rows,
        bytes,
        secs,
    });
    let (n, bytes, secs) = consume(&bootstrap, &input, partitions, rows);
    lines.push(Line {
        name: "ceiling: librdkafka consume",
        rows: n,
        bytes,
        secs,
    });

    let sluice = Sluice::new();
    let ddl = format!(
        "CREATE TABLE src (id BIGINT, name STRING, price DOUBLE, tags STRING, ts TIMESTAMP(3))
         WITH ('connector' = 'kafka', 'topic' = '{input}', 'properties.bootstrap.servers' = '{bootstrap}',
           'format' = 'json', 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset');
         CREATE TABLE dst (id BIGINT, name STRING, price DOUBLE)
         WITH ('connector' = 'kafka', 'topic' = '{output}', 'properties.bootstrap.servers' = '{bootstrap}',
           'format' = 'json');
         CREATE TABLE bh (id BIGINT, name STRING, price DOUBLE) WITH ('connector' = 'blackhole');"
    );
    sluice.execute_sql(&ddl).await.expect("ddl");
    let secs = run_job(
        &sluice,
        "INSERT INTO bh SELECT id, UPPER(name), price * 1.1 FROM src",
    )
    .await;
    lines.push(Line {
        name: "kafka(json) -> projection -> blackhole",
        rows,
        bytes,
        secs,
    });
    let secs = run_job(
        &sluice,
        "INSERT INTO dst SELECT id, UPPER(name), price * 1.1 FROM src",
    )
    .await;
    lines.push(Line {
        name: "kafka(json) -> projection -> kafka(json)",
        rows,
        bytes,
        secs,
    });
    let (written, _, _) = consume(&bootstrap, &output, partitions, rows);
    assert_eq!(written, rows, "every record reached the output topic");

    println!(
        "| {:<52} | {:>9} | {:>8} | {:>10} | {:>7} |",
        "kafka benchmark (input bytes for MB/s)", "records", "seconds", "records/s", "MB/s"
    );
    println!(
        "|{}|{}|{}|{}|{}|",
        "-".repeat(54),
        "-".repeat(11),
        "-".repeat(10),
        "-".repeat(12),
        "-".repeat(9)
    );
    for l in &lines {
        l.print();
    }
    0
}
