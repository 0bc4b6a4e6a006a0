//! The `sql-examples/kafka-*.sql` jobs run as written (only the broker
//! address and topic names changed) against the mock cluster or the broker
//! at `KAFKA_BOOTSTRAP_SERVERS`, and write what they say they write.

mod kafka_support;

use std::path::Path;
use std::time::Duration;

use kafka_support::{Got, Kafka};
use sluice::{JobHandle, Sluice, StatementResult};

/// The example with its broker and topic names replaced; creates the topics.
/// The example's SQL pointed at fresh topics (name, partitions).
async fn example(k: &Kafka, file: &str, topics: &[(&str, i32)]) -> (String, Vec<String>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sql-examples")
        .join(file);
    let mut sql = std::fs::read_to_string(&path).expect("example exists");
    sql = sql.replace("127.0.0.1:9092", &k.bootstrap);
    sql = sql.replace(
        "'sql-examples/",
        &format!("'{}/sql-examples/", env!("CARGO_MANIFEST_DIR")),
    );
    let mut names = Vec::new();
    for (t, partitions) in topics {
        let name = k.topic(t, *partitions).await;
        sql = sql.replace(&format!("'topic' = '{t}'"), &format!("'topic' = '{name}'"));
        names.push(name);
    }
    (sql, names)
}

/// Starts every statement; returns the jobs.
async fn start(sluice: &Sluice, sql: &str) -> Vec<JobHandle> {
    let mut jobs = Vec::new();
    for r in sluice.execute_sql(sql).await.expect("the example runs") {
        if let StatementResult::Job(j) = r {
            jobs.push(j);
        }
    }
    jobs
}

/// Waits until `topic` holds at least `n` records (or fails after 20 s).
async fn wait_for(k: &Kafka, topic: &str, n: usize, jobs: &[JobHandle]) -> Vec<Got> {
    for _ in 0..100 {
        let got = k.read_all(topic);
        if got.len() >= n {
            return got;
        }
        for j in jobs {
            assert!(
                !j.status().is_terminal() || j.status().name() == "FINISHED",
                "job {} {:?}",
                j.id(),
                j.status()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("fewer than {n} records in {topic}");
}

async fn stop(jobs: Vec<JobHandle>) {
    for j in &jobs {
        j.cancel();
    }
    for j in &jobs {
        j.wait().await.expect("a cancelled job stops cleanly");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_to_sink_example() {
    let k = Kafka::start();
    let (sql, topics) = example(
        &k,
        "kafka-source-to-sink.sql",
        &[("orders", 2), ("big_orders", 2)],
    )
    .await;
    let sluice = Sluice::new();
    let jobs = start(&sluice, &sql).await;
    assert_eq!(jobs.len(), 2);
    let big = wait_for(&k, &topics[1], 5, &jobs).await;
    stop(jobs).await;
    let orders = k.read_all(&topics[0]);
    for g in &big {
        let v: serde_json::Value =
            serde_json::from_str(g.value.as_deref().expect("a value")).expect("json");
        assert!(v["amount_cents"].as_i64().expect("cents") > 5000, "{v}");
        let key: serde_json::Value =
            serde_json::from_str(g.key.as_deref().expect("a key")).expect("json");
        let id = key["order_id"].as_i64().expect("order_id");
        let source = orders
            .iter()
            .find(|o| {
                o.value
                    .as_deref()
                    .is_some_and(|s| s.contains(&format!("\"order_id\":{id},")))
            })
            .expect("the source order");
        assert_eq!(
            g.timestamp, source.timestamp,
            "the record's timestamp is kept"
        );
        assert_eq!(
            v["source_offset"],
            format!("{}/{}", source.partition, source.offset)
        );
        assert_eq!(
            source.key.as_deref().map(str::to_uppercase).as_deref(),
            v["customer"].as_str()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_to_upsert_kafka_example() {
    let k = Kafka::start();
    let (sql, topics) = example(
        &k,
        "kafka-window-to-upsert-kafka.sql",
        &[("clicks", 2), ("clicks_per_user", 2)],
    )
    .await;
    // Ten-second windows: let event time pass one window end quickly.
    let sql = sql.replace("INTERVAL '10' SECOND))", "INTERVAL '1' SECOND))");
    let sluice = Sluice::new();
    let jobs = start(&sluice, &sql).await;
    let got = wait_for(&k, &topics[1], 1, &jobs).await;
    stop(jobs).await;
    for g in &got {
        let key: serde_json::Value =
            serde_json::from_str(g.key.as_deref().expect("keyed")).expect("json");
        assert!(
            key["window_start"].is_string() && key["user_name"].is_string(),
            "{key}"
        );
        let v: serde_json::Value =
            serde_json::from_str(g.value.as_deref().expect("a value")).expect("json");
        assert!(v["clicks"].as_i64().expect("a count") > 0, "{v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canal_changelog_example() {
    let k = Kafka::start();
    let (sql, topics) = example(
        &k,
        "kafka-canal-changelog.sql",
        // One partition: a binlog topic must keep each row's changes in order
        // (Canal writes a table to one partition by default).
        &[("products_binlog", 1), ("category_weights", 2)],
    )
    .await;
    let sluice = Sluice::new();
    let jobs = start(&sluice, &sql).await;
    let expected = vec![
        r#"{"category":"tools","products":1,"total_weight":0.75}"#.to_string(),
        r#"{"category":"vehicles","products":2,"total_weight":13.5}"#.to_string(),
    ];
    // The unbounded jobs never finish: poll the compacted view of the topic
    // until it settles (or give up after a generous bound on a loaded box).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let finals = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut last = std::collections::BTreeMap::new();
        for g in k.read_all(&topics[1]) {
            last.insert(g.key.clone(), g.value.clone());
        }
        let finals = kafka_support::sorted(last.into_values().flatten().collect());
        if finals == expected || std::time::Instant::now() > deadline {
            break finals;
        }
    };
    stop(jobs).await;
    assert_eq!(finals, expected);
}
