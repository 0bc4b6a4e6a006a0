//! The `kafka` connector end to end through SQL, against librdkafka's
//! in-process mock cluster (or the broker at `KAFKA_BOOTSTRAP_SERVERS`):
//! every startup and bounded mode, partitions over parallel instances,
//! metadata columns, key and value formats, malformed records, committed
//! offsets, partition discovery, per-partition watermarks with an idle
//! partition, and option errors. The sink is in `kafka_sink.rs`.

mod kafka_support;

use kafka_support::{Kafka, Rec, run, select, select_n, sorted};
use sluice::Sluice;

/// Two partitions: p0 holds ids 0..5 at 1000, 2000, .., 5000 ms; p1 holds
/// ids 10..13 at 1500, 2500, 3500 ms.
async fn modes_topic(k: &Kafka) -> String {
    let t = k.topic("modes", 2).await;
    let mut recs = Vec::new();
    for i in 0..5 {
        recs.push(Rec::value(0, &format!(r#"{{"id":{i}}}"#)).at(1000 * (i + 1)));
    }
    for i in 0..3 {
        recs.push(Rec::value(1, &format!(r#"{{"id":{}}}"#, 10 + i)).at(1500 + 1000 * i));
    }
    k.produce(&t, &recs).await;
    t
}

fn src_ddl(k: &Kafka, topic: &str, extra: &str) -> String {
    format!(
        "CREATE TABLE src (id INT) WITH ('connector' = 'kafka', 'topic' = '{topic}',
           'properties.bootstrap.servers' = '{}', 'format' = 'json',
           'scan.bounded.mode' = 'latest-offset'{extra})",
        k.bootstrap
    )
}

/// `SELECT id FROM src` with these hint options, ids sorted numerically.
async fn ids(sluice: &Sluice, hints: &str) -> sluice::Result<Vec<i64>> {
    let sql = if hints.is_empty() {
        "SELECT id FROM src".to_string()
    } else {
        format!("SELECT id FROM src /*+ OPTIONS({hints}) */")
    };
    let mut v: Vec<i64> = select(sluice, &sql)
        .await?
        .iter()
        .map(|r| r.parse().expect("an id"))
        .collect();
    v.sort_unstable();
    Ok(v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_startup_mode() {
    let k = Kafka::start();
    let t = modes_topic(&k).await;
    let sluice = Sluice::new();
    run(&sluice, &src_ddl(&k, &t, "")).await.expect("ddl");
    let group = format!("{t}-g");
    k.commit(&t, 0, &group, 1);
    k.commit(&t, 1, &group, 2);

    let all = vec![0, 1, 2, 3, 4, 10, 11, 12];
    assert_eq!(
        ids(&sluice, "'scan.startup.mode'='earliest-offset'")
            .await
            .unwrap(),
        all
    );
    assert_eq!(
        ids(&sluice, "'scan.startup.mode'='latest-offset'")
            .await
            .unwrap(),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(
            &sluice,
            "'scan.startup.mode'='timestamp', 'scan.startup.timestamp-millis'='2500'"
        )
        .await
        .unwrap(),
        vec![2, 3, 4, 11, 12]
    );
    // Unlisted partitions start from the group's offset, else the earliest.
    assert_eq!(
        ids(&sluice, "'scan.startup.mode'='specific-offsets', 'scan.startup.specific-offsets'='partition:0,offset:3'")
            .await
            .unwrap(),
        vec![3, 4, 10, 11, 12]
    );
    // group-offsets is the default mode.
    assert_eq!(
        ids(&sluice, &format!("'properties.group.id'='{group}'"))
            .await
            .unwrap(),
        vec![1, 2, 3, 4, 12]
    );
    let err = ids(&sluice, &format!("'properties.group.id'='{t}-fresh'"))
        .await
        .expect_err("no committed offsets and no reset policy")
        .to_string();
    assert!(
        err.contains("Undefined offset with no reset policy"),
        "{err}"
    );
    assert_eq!(
        ids(
            &sluice,
            &format!(
                "'properties.group.id'='{t}-fresh', 'properties.auto.offset.reset'='earliest'"
            )
        )
        .await
        .unwrap(),
        all
    );
    let err = ids(&sluice, "")
        .await
        .expect_err("group-offsets needs a group")
        .to_string();
    assert!(err.contains("'properties.group.id' is required"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bounded_mode_and_a_time_range() {
    let k = Kafka::start();
    let t = modes_topic(&k).await;
    let sluice = Sluice::new();
    run(
        &sluice,
        &src_ddl(&k, &t, ", 'scan.startup.mode' = 'earliest-offset'"),
    )
    .await
    .expect("ddl");
    let group = format!("{t}-g");
    k.commit(&t, 0, &group, 3);
    k.commit(&t, 1, &group, 1);

    assert_eq!(
        ids(&sluice, "").await.unwrap(),
        vec![0, 1, 2, 3, 4, 10, 11, 12]
    );
    // Partitions spread over instances: every record read exactly once.
    for p in ["2", "3"] {
        assert_eq!(
            ids(&sluice, &format!("'scan.parallelism'='{p}'"))
                .await
                .unwrap(),
            vec![0, 1, 2, 3, 4, 10, 11, 12]
        );
    }
    assert_eq!(
        ids(
            &sluice,
            "'scan.bounded.mode'='timestamp', 'scan.bounded.timestamp-millis'='3000'"
        )
        .await
        .unwrap(),
        vec![0, 1, 10, 11]
    );
    // A partition without a stop offset is not read.
    assert_eq!(
        ids(&sluice, "'scan.bounded.mode'='specific-offsets', 'scan.bounded.specific-offsets'='partition:0,offset:2'")
            .await
            .unwrap(),
        vec![0, 1]
    );
    assert_eq!(
        ids(
            &sluice,
            &format!("'scan.bounded.mode'='group-offsets', 'properties.group.id'='{group}'")
        )
        .await
        .unwrap(),
        vec![0, 1, 2, 10]
    );
    // "Everything between 2000 and 4000": one bounded job that ends by itself.
    assert_eq!(
        ids(
            &sluice,
            "'scan.startup.mode'='timestamp', 'scan.startup.timestamp-millis'='2000', \
             'scan.bounded.mode'='timestamp', 'scan.bounded.timestamp-millis'='4000'"
        )
        .await
        .unwrap(),
        vec![1, 2, 11, 12]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_offset_reads_only_new_records() {
    let k = Kafka::start();
    let t = modes_topic(&k).await;
    let sluice = Sluice::new();
    run(
        &sluice,
        &format!(
            "CREATE TABLE src (id INT) WITH ('connector' = 'kafka', 'topic' = '{t}',
               'properties.bootstrap.servers' = '{}', 'format' = 'json',
               'scan.startup.mode' = 'latest-offset')",
            k.bootstrap
        ),
    )
    .await
    .expect("ddl");
    let producer = async {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        k.produce(
            &t,
            &[
                Rec::value(0, r#"{"id":100}"#),
                Rec::value(1, r#"{"id":101}"#),
            ],
        )
        .await;
    };
    let (rows, ()) = tokio::join!(select_n(&sluice, "SELECT id FROM src", 2), producer);
    assert_eq!(sorted(rows.expect("query")), vec!["100", "101"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_columns() {
    let k = Kafka::start();
    let t = k.topic("meta", 2).await;
    k.produce(
        &t,
        &[
            Rec::keyed(1, "k1", Some(r#"{"id":1}"#))
                .at(1_704_164_645_123)
                .header("h", Some(b"v1")),
            Rec::value(1, r#"{"id":2}"#).at(1_704_164_646_000),
        ],
    )
    .await;
    let sluice = Sluice::new();
    run(
        &sluice,
        &format!(
            "CREATE TABLE src (
               id INT,
               `topic` STRING METADATA VIRTUAL,
               `partition` INT METADATA VIRTUAL,
               `offset` BIGINT METADATA VIRTUAL,
               ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp',
               tt STRING METADATA FROM 'timestamp-type' VIRTUAL,
               hs MAP<STRING, BYTES> METADATA FROM 'headers',
               le INT METADATA FROM 'leader-epoch' VIRTUAL
             ) WITH ('connector' = 'kafka', 'topic' = '{t}',
               'properties.bootstrap.servers' = '{}', 'format' = 'json',
               'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset')",
            k.bootstrap
        ),
    )
    .await
    .expect("ddl");
    let rows = select(
        &sluice,
        "SELECT id, `topic`, `partition`, `offset`, ts, tt, CARDINALITY(hs), hs['h'], COALESCE(le, 0) >= 0 FROM src",
    )
    .await
    .expect("select");
    assert_eq!(
        rows,
        vec![
            format!("1, {t}, 1, 0, 2024-01-02 03:04:05.123, CreateTime, 1, x'7631', TRUE"),
            format!("2, {t}, 1, 1, 2024-01-02 03:04:06.000, CreateTime, 0, null, TRUE"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_and_value_formats() {
    let k = Kafka::start();
    let t = k.topic("kv", 1).await;
    k.produce(
        &t,
        &[
            Rec::keyed(0, "user-1", Some(r#"{"v":1,"name":"a"}"#)),
            Rec::keyed(0, "user-2", Some(r#"{"v":2,"name":"b"}"#)),
            Rec::value(0, r#"{"v":3,"name":"c"}"#),
        ],
    )
    .await;
    let sluice = Sluice::new();
    run(
        &sluice,
        &format!(
            "CREATE TABLE src (k_user STRING, v INT, name STRING) WITH (
               'connector' = 'kafka', 'topic' = '{t}', 'properties.bootstrap.servers' = '{}',
               'key.format' = 'raw', 'key.fields' = 'k_user', 'key.fields-prefix' = 'k_',
               'value.format' = 'json', 'value.fields-include' = 'EXCEPT_KEY',
               'value.json.fail-on-missing-field' = 'false',
               'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset')",
            k.bootstrap
        ),
    )
    .await
    .expect("ddl");
    assert_eq!(
        select(&sluice, "SELECT k_user, v, name FROM src")
            .await
            .expect("select"),
        vec!["user-1, 1, a", "user-2, 2, b", "null, 3, c"]
    );
    // Only the value columns: the key is not decoded at all.
    assert_eq!(
        select(&sluice, "SELECT v FROM src").await.expect("select"),
        vec!["1", "2", "3"]
    );

    let err = run(
        &sluice,
        &format!(
            "CREATE TABLE bad (k_user STRING, v INT) WITH ('connector' = 'kafka', 'topic' = '{t}',
               'properties.bootstrap.servers' = '{}', 'key.format' = 'raw', 'key.fields' = 'k_user',
               'key.fields-prefix' = 'k_', 'value.format' = 'json')",
            k.bootstrap
        ),
    )
    .await
    .expect_err("a prefix needs EXCEPT_KEY")
    .to_string();
    assert!(err.contains("Set it to 'EXCEPT_KEY'"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_records_fail_with_their_offset_or_are_skipped() {
    let k = Kafka::start();
    let t = k.topic("bad", 2).await;
    k.produce(
        &t,
        &[
            Rec::value(1, r#"{"id":1}"#),
            Rec::value(1, r#"{"id":2}"#),
            Rec::value(1, r#"{"id":"three"#),
            Rec::value(1, r#"{"id":4}"#),
        ],
    )
    .await;
    let sluice = Sluice::new();
    run(
        &sluice,
        &src_ddl(&k, &t, ", 'scan.startup.mode' = 'earliest-offset'"),
    )
    .await
    .expect("ddl");
    let err = select(&sluice, "SELECT id FROM src")
        .await
        .expect_err("bad record")
        .to_string();
    assert!(
        err.contains(&format!("topic {t}, partition 1, offset 2")),
        "{err}"
    );

    let mut results = sluice
        .execute_sql("SELECT id FROM src /*+ OPTIONS('json.ignore-parse-errors'='true') */")
        .await
        .expect("query");
    let Some(sluice::StatementResult::Query(mut q)) = results.pop() else {
        panic!("a query");
    };
    let mut rows = Vec::new();
    while let Some(b) = q.batches.recv().await {
        rows.extend(kafka_support::render(&b.expect("batch"), false));
    }
    q.job.wait().await.expect("job succeeds");
    assert_eq!(rows, vec!["1", "2", "4"]);
    let skipped: u64 = q
        .job
        .info
        .operators
        .lock()
        .expect("operators")
        .iter()
        .map(|o| o.metrics.snapshot().records_skipped)
        .sum();
    assert_eq!(skipped, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumed_offsets_are_committed_to_the_group() {
    let k = Kafka::start();
    let t = modes_topic(&k).await;
    let group = format!("{t}-commit");
    let sluice = Sluice::new();
    run(
        &sluice,
        &src_ddl(
            &k,
            &t,
            &format!(
                ", 'properties.group.id' = '{group}', 'properties.auto.offset.reset' = 'earliest'"
            ),
        ),
    )
    .await
    .expect("ddl");
    assert_eq!(ids(&sluice, "").await.unwrap().len(), 8);
    assert_eq!(k.committed(&t, 2, &group), vec![Some(5), Some(3)]);
    // The next job of the group starts where the last one stopped.
    k.produce(&t, &[Rec::value(0, r#"{"id":99}"#)]).await;
    assert_eq!(ids(&sluice, "").await.unwrap(), vec![99]);
}

/// The error of creating a json kafka table with one `extra` option.
async fn create_error(sluice: &Sluice, extra: &str) -> String {
    run(
        sluice,
        &format!(
            "CREATE TABLE t (id INT) WITH ('connector' = 'kafka', 'topic' = 'x', 'format' = 'json',
               'properties.bootstrap.servers' = 'localhost:9', {extra})"
        ),
    )
    .await
    .expect_err(extra)
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_are_validated_at_create_table() {
    let sluice = Sluice::new();
    let err = create_error(&sluice, "'scan.startup.mod' = 'earliest-offset'").await;
    assert!(
        err.contains("'scan.startup.mod'") && err.contains("scan.startup.mode"),
        "{err}"
    );
    let err = run(
        &sluice,
        "CREATE TABLE t (id INT, PRIMARY KEY (id) NOT ENFORCED) WITH ('connector' = 'kafka',
           'topic' = 'x', 'format' = 'json', 'properties.bootstrap.servers' = 'localhost:9')",
    )
    .await
    .expect_err("a key on an append-only format")
    .to_string();
    assert!(
        err.contains("doesn't support defining PRIMARY KEY"),
        "{err}"
    );
    // librdkafka itself rejects it.
    let err = create_error(&sluice, "'properties.no.such.property' = '1'").await;
    assert!(err.contains("no.such.property"), "{err}");
    // No transactions yet.
    let err = create_error(&sluice, "'sink.delivery-guarantee' = 'exactly-once'").await;
    assert!(err.contains("not supported yet"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_partition_does_not_stall_windows() {
    let k = Kafka::start();
    let t = k.topic("clicks", 2).await;
    let at = |s: &str| format!(r#"{{"user_name":"u","ts":"2024-01-01 00:{s}"}}"#);
    let sluice = Sluice::new();
    run(
        &sluice,
        &format!(
            "CREATE TABLE clicks (user_name STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
             WITH ('connector' = 'kafka', 'topic' = '{t}', 'properties.bootstrap.servers' = '{}',
               'format' = 'json', 'scan.startup.mode' = 'earliest-offset',
               'scan.watermark.idle-timeout' = '300 ms')",
            k.bootstrap
        ),
    )
    .await
    .expect("ddl");
    // Partition 1 never receives anything; partition 0 keeps moving event
    // time on after partition 1 has gone idle.
    let producer = async {
        k.produce(
            &t,
            &[
                Rec::value(0, &at("00:10")),
                Rec::value(0, &at("00:20")),
                Rec::value(0, &at("01:10")),
            ],
        )
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
        k.produce(&t, &[Rec::value(0, &at("02:10"))]).await;
    };
    let (rows, ()) = tokio::join!(
        select_n(
            &sluice,
            "SELECT window_start, window_end, COUNT(*) FROM TABLE(
               TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
             GROUP BY window_start, window_end",
            2,
        ),
        producer
    );
    assert_eq!(
        rows.expect("windows fire"),
        vec![
            "2024-01-01 00:00:00.000, 2024-01-01 00:01:00.000, 2",
            "2024-01-01 00:01:00.000, 2024-01-01 00:02:00.000, 1",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_pattern_discovers_new_topics() {
    let k = Kafka::start();
    let first = k.topic("logs-a", 1).await;
    k.produce(&first, &[Rec::value(0, r#"{"id":1}"#)]).await;
    let prefix = first.trim_end_matches("logs-a").to_string();
    let sluice = Sluice::new();
    run(
        &sluice,
        &format!(
            "CREATE TABLE logs (id INT, `topic` STRING METADATA VIRTUAL) WITH ('connector' = 'kafka',
               'topic-pattern' = '{prefix}logs-.*', 'properties.bootstrap.servers' = '{}',
               'format' = 'json', 'scan.startup.mode' = 'earliest-offset',
               'scan.topic-partition-discovery.interval' = '200 ms')",
            k.bootstrap
        ),
    )
    .await
    .expect("ddl");
    let late = async {
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
        let second = k.topic("logs-b", 2).await;
        k.produce(&second, &[Rec::value(1, r#"{"id":2}"#)]).await;
        second
    };
    let (rows, second) = tokio::join!(select_n(&sluice, "SELECT id, `topic` FROM logs", 2), late);
    assert_eq!(
        sorted(rows.expect("rows")),
        vec![format!("1, {first}"), format!("2, {second}")]
    );
}
