//! The `kafka` sink end to end through SQL, against librdkafka's in-process
//! mock cluster (or the broker at `KAFKA_BOOTSTRAP_SERVERS`): keys, the
//! writable timestamp, headers and topic metadata, partitioners, and the
//! planning error for an updating query.

mod kafka_support;

use kafka_support::{Kafka, Rec, run};
use sluice::Sluice;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_json_to_kafka_json_with_keys_and_metadata() {
    let k = Kafka::start();
    let input = k.topic("in", 2).await;
    let output = k.topic("out", 3).await;
    k.produce(
        &input,
        &[
            Rec::value(0, r#"{"id":1,"name":"alice","price":10.5}"#)
                .at(1_000)
                .header("src", Some(b"alice")),
            Rec::value(1, r#"{"id":2,"name":"bob","price":3}"#)
                .at(2_000)
                .header("src", None),
            Rec::value(0, r#"{"id":3,"name":"carol","price":7.25}"#)
                .at(3_000)
                .header("src", Some(b"c")),
        ],
    )
    .await;
    let sluice = Sluice::new();
    let job = run(
        &sluice,
        &format!(
            "CREATE TABLE src (id INT, name STRING, price DOUBLE,
               ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp',
               hs MAP<STRING, BYTES> METADATA FROM 'headers')
             WITH ('connector' = 'kafka', 'topic' = '{input}', 'properties.bootstrap.servers' = '{b}',
               'format' = 'json', 'scan.startup.mode' = 'earliest-offset',
               'scan.bounded.mode' = 'latest-offset');
             CREATE TABLE out (
               id INT, label STRING, total DOUBLE,
               ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp',
               hs MAP<STRING, BYTES> METADATA FROM 'headers')
             WITH ('connector' = 'kafka', 'topic' = '{output}', 'properties.bootstrap.servers' = '{b}',
               'key.format' = 'json', 'key.fields' = 'id', 'value.format' = 'json',
               'value.fields-include' = 'EXCEPT_KEY');
             INSERT INTO out SELECT id, UPPER(name), price * 2, ts, hs FROM src;",
            b = k.bootstrap
        ),
    )
    .await
    .expect("job starts")
    .expect("a job");
    job.wait().await.expect("job succeeds");
    let mut got = k.read_all(&output);
    got.sort_by_key(|g| g.key.clone());
    type Summary = (Option<String>, Option<String>, Option<i64>, usize);
    let summary: Vec<Summary> = got
        .iter()
        .map(|g| (g.key.clone(), g.value.clone(), g.timestamp, g.headers.len()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                Some(r#"{"id":1}"#.into()),
                Some(r#"{"label":"ALICE","total":21.0}"#.into()),
                Some(1_000),
                1
            ),
            (
                Some(r#"{"id":2}"#.into()),
                Some(r#"{"label":"BOB","total":6.0}"#.into()),
                Some(2_000),
                1
            ),
            (
                Some(r#"{"id":3}"#.into()),
                Some(r#"{"label":"CAROL","total":14.5}"#.into()),
                Some(3_000),
                1
            ),
        ]
    );
    assert_eq!(
        got[0].headers[0],
        ("src".to_string(), Some(b"alice".to_vec()))
    );
    assert_eq!(got[1].headers[0], ("src".to_string(), None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_partitioners_and_topic_column() {
    let k = Kafka::start();
    let fixed = k.topic("fixed", 3).await;
    let rr = k.topic("rr", 3).await;
    let routed_a = k.topic("routed-a", 1).await;
    let routed_b = k.topic("routed-b", 1).await;
    let sluice = Sluice::new();
    let b = &k.bootstrap;
    let job = run(
        &sluice,
        &format!(
            "CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '9',
               'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '9');
             CREATE TABLE f (id BIGINT) WITH ('connector' = 'kafka', 'topic' = '{fixed}',
               'properties.bootstrap.servers' = '{b}', 'format' = 'json', 'sink.partitioner' = 'fixed');
             CREATE TABLE r (id BIGINT) WITH ('connector' = 'kafka', 'topic' = '{rr}',
               'properties.bootstrap.servers' = '{b}', 'format' = 'json', 'sink.partitioner' = 'round-robin');
             CREATE TABLE t (id BIGINT, tp STRING METADATA FROM 'topic') WITH ('connector' = 'kafka',
               'topic' = '{routed_a};{routed_b}', 'properties.bootstrap.servers' = '{b}', 'format' = 'json');
             EXECUTE STATEMENT SET BEGIN
               INSERT INTO f SELECT id FROM gen;
               INSERT INTO r SELECT id FROM gen;
               INSERT INTO t SELECT id, CASE WHEN id % 2 = 0 THEN '{routed_a}' ELSE '{routed_b}' END FROM gen;
             END;"
        ),
    )
    .await
    .expect("job starts")
    .expect("a job");
    job.wait().await.expect("job succeeds");
    let f = k.read_all(&fixed);
    assert_eq!(f.len(), 9);
    assert!(
        f.iter().all(|g| g.partition == 0),
        "fixed: instance 0 writes partition 0"
    );
    let r = k.read_all(&rr);
    let per: Vec<usize> = (0..3)
        .map(|p| r.iter().filter(|g| g.partition == p).count())
        .collect();
    assert_eq!(per, vec![3, 3, 3], "round-robin spreads evenly");
    assert_eq!(k.read_all(&routed_a).len(), 4);
    assert_eq!(k.read_all(&routed_b).len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_updating_query_into_plain_kafka_is_a_planning_error() {
    let sluice = Sluice::new();
    run(
        &sluice,
        "CREATE TABLE gen (name STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
         CREATE TABLE out (name STRING, n BIGINT) WITH ('connector' = 'kafka', 'topic' = 'x',
           'format' = 'json', 'properties.bootstrap.servers' = 'localhost:9');",
    )
    .await
    .expect("ddl");
    let err = run(
        &sluice,
        "INSERT INTO out SELECT name, COUNT(*) FROM gen GROUP BY name",
    )
    .await
    .expect_err("updates into an append-only sink")
    .to_string();
    assert!(
        err.contains("doesn't support consuming update changes"),
        "{err}"
    );
}
