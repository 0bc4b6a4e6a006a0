//! Changelogs through Kafka: upsert-kafka round trips (updates written as
//! values and tombstones, read back as a normalized `+I/-U/+U/-D`
//! changelog), and Canal / Debezium events as the tools emit them, consumed
//! by a GROUP BY.

mod kafka_support;

use kafka_support::{Kafka, Rec, run, select, select_n, sorted};
use sluice::Sluice;

const CANAL: &[&str] = &[
    r#"{"data":[{"id":"101","name":"scooter","weight":"3.14"},{"id":"102","name":"car battery","weight":"8.1"}],"database":"inventory","es":1589373515000,"id":3,"isDdl":false,"mysqlType":{"id":"INTEGER","name":"VARCHAR(255)","weight":"FLOAT"},"old":null,"pkNames":["id"],"sql":"","sqlType":{"id":4,"name":12,"weight":7},"table":"products","ts":1589373515477,"type":"INSERT"}"#,
    r#"{"data":[{"id":"103","name":"scooter","weight":"5.1"}],"database":"inventory","es":1589373516000,"id":4,"isDdl":false,"mysqlType":{"id":"INTEGER","name":"VARCHAR(255)","weight":"FLOAT"},"old":null,"pkNames":["id"],"sql":"","sqlType":{"id":4,"name":12,"weight":7},"table":"products","ts":1589373516477,"type":"INSERT"}"#,
    r#"{"data":[{"id":"101","name":"scooter","weight":"4.0"}],"database":"inventory","es":1589373560000,"id":9,"isDdl":false,"mysqlType":{"id":"INTEGER","name":"VARCHAR(255)","weight":"FLOAT"},"old":[{"weight":"3.14"}],"pkNames":["id"],"sql":"","sqlType":{"id":4,"name":12,"weight":7},"table":"products","ts":1589373560798,"type":"UPDATE"}"#,
    r#"{"data":null,"database":"inventory","es":1589373600000,"id":11,"isDdl":true,"mysqlType":null,"old":null,"pkNames":null,"sql":"ALTER TABLE products ADD COLUMN c INT","sqlType":null,"table":"products","ts":1589373600100,"type":"ALTER"}"#,
    r#"{"data":[{"id":"102","name":"car battery","weight":"8.1"}],"database":"inventory","es":1589373566000,"id":10,"isDdl":false,"mysqlType":{"id":"INTEGER","name":"VARCHAR(255)","weight":"FLOAT"},"old":null,"pkNames":["id"],"sql":"","sqlType":{"id":4,"name":12,"weight":7},"table":"products","ts":1589373566798,"type":"DELETE"}"#,
];

fn debezium() -> Vec<String> {
    let source = r#"{"version":"1.9.7.Final","connector":"postgresql","name":"pg","ts_ms":1589362330000,"snapshot":"false","db":"inventory","schema":"public","table":"products","txId":556,"lsn":24023128,"xmin":null}"#;
    let ev = |before: &str, after: &str, op: &str| {
        format!(
            r#"{{"before":{before},"after":{after},"source":{source},"op":"{op}","ts_ms":1589362330904,"transaction":null}}"#
        )
    };
    vec![
        ev("null", r#"{"id":101,"name":"scooter","weight":3.14}"#, "r"),
        ev(
            "null",
            r#"{"id":102,"name":"car battery","weight":8.1}"#,
            "c",
        ),
        ev("null", r#"{"id":103,"name":"scooter","weight":5.1}"#, "c"),
        ev(
            r#"{"id":101,"name":"scooter","weight":3.14}"#,
            r#"{"id":101,"name":"scooter","weight":4.0}"#,
            "u",
        ),
        ev(
            r#"{"id":102,"name":"car battery","weight":8.1}"#,
            "null",
            "d",
        ),
    ]
}

async fn changelog_table(k: &Kafka, format: &str, values: &[String]) -> Sluice {
    let t = k.topic(format, 1).await;
    let recs: Vec<Rec> = values.iter().map(|v| Rec::value(0, v)).collect();
    k.produce(&t, &recs).await;
    // Debezium follows a delete with a tombstone.
    k.produce(&t, &[Rec::keyed(0, "102", None)]).await;
    let sluice = Sluice::new();
    run(
        &sluice,
        &format!(
            "CREATE TABLE products (id INT, name STRING, weight DOUBLE) WITH (
               'connector' = 'kafka', 'topic' = '{t}', 'properties.bootstrap.servers' = '{}',
               'format' = '{format}', 'scan.startup.mode' = 'earliest-offset',
               'scan.bounded.mode' = 'latest-offset')",
            k.bootstrap
        ),
    )
    .await
    .expect("ddl");
    sluice
}

/// The same five changes from either tool: after them, scooters weigh
/// 4.0 + 5.1 and the car battery is gone.
async fn check_group_by(sluice: &Sluice) {
    let rows = select(sluice, "SELECT id, name, weight FROM products")
        .await
        .expect("changelog");
    assert_eq!(
        rows,
        vec![
            "+I[101, scooter, 3.14]",
            "+I[102, car battery, 8.1]",
            "+I[103, scooter, 5.1]",
            "-U[101, scooter, 3.14]",
            "+U[101, scooter, 4.0]",
            "-D[102, car battery, 8.1]",
        ]
    );
    let totals = select(
        sluice,
        "SELECT name, COUNT(*) AS n, SUM(weight) AS w FROM products GROUP BY name",
    )
    .await
    .expect("group by");
    // The last row per group is the final result.
    let mut last = std::collections::BTreeMap::new();
    for r in &totals {
        let body = &r[3..r.len() - 1];
        let name = body.split(", ").next().unwrap_or("").to_string();
        if r.starts_with("-D") {
            last.remove(&name);
        } else if r.starts_with("+I") || r.starts_with("+U") {
            last.insert(name, body.to_string());
        }
    }
    assert_eq!(
        last.into_values().collect::<Vec<_>>(),
        vec!["scooter, 2, 9.1"],
        "{totals:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canal_json_changelog_feeds_a_group_by() {
    let k = Kafka::start();
    let values: Vec<String> = CANAL.iter().map(|s| s.to_string()).collect();
    let sluice = changelog_table(&k, "canal-json", &values).await;
    check_group_by(&sluice).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debezium_json_changelog_feeds_a_group_by() {
    let k = Kafka::start();
    let sluice = changelog_table(&k, "debezium-json", &debezium()).await;
    check_group_by(&sluice).await;
}

/// Runs the updating "latest name per id" query into an upsert-kafka table
/// on topic `t` (with `extra` sink options); returns the records written.
async fn latest_names_into_upsert_kafka(
    k: &Kafka,
    t: &str,
    dir: &str,
    extra: &str,
) -> Vec<(Option<String>, Option<String>)> {
    let sluice = Sluice::new();
    let dir = write_changes(dir);
    run(
        &sluice,
        &format!(
            "CREATE TABLE changes (id INT, name STRING, op STRING) WITH ('connector' = 'filesystem',
               'path' = '{}', 'format' = 'json');
             CREATE TABLE users (id INT, name STRING, PRIMARY KEY (id) NOT ENFORCED) WITH (
               'connector' = 'upsert-kafka', 'topic' = '{t}', 'properties.bootstrap.servers' = '{}',
               'key.format' = 'json', 'value.format' = 'json'{extra});",
            dir.display(),
            k.bootstrap
        ),
    )
    .await
    .expect("ddl");
    let job = run(
        &sluice,
        "INSERT INTO users SELECT id, LAST_VALUE(name) FROM changes GROUP BY id",
    )
    .await
    .expect("insert")
    .expect("a job");
    job.wait().await.expect("job succeeds");
    k.read_all(t)
        .into_iter()
        .map(|g| (g.key, g.value))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_kafka_sink_writes_values_and_keys() {
    let k = Kafka::start();
    let t = k.topic("upsert-sink", 2).await;
    let got: Vec<(Option<String>, Option<String>)> =
        latest_names_into_upsert_kafka(&k, &t, "sink", "")
            .await
            .into_iter()
            .filter(|g| g.0.as_deref() == Some(r#"{"id":1}"#))
            .collect();
    // Every change of a key in one partition, in order; the last is the latest value.
    assert_eq!(
        got.last().and_then(|g| g.1.clone()).as_deref(),
        Some(r#"{"id":1,"name":"anna"}"#),
        "{got:?}"
    );
    assert!(
        got.iter().all(|g| g.1.is_some()),
        "an update writes no tombstone: {got:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_kafka_buffered_sink_keeps_the_last_row_per_key() {
    let k = Kafka::start();
    let t = k.topic("upsert-buffered", 1).await;
    let got = latest_names_into_upsert_kafka(
        &k,
        &t,
        "buffered",
        ", 'sink.buffer-flush.max-rows' = '1000', 'sink.buffer-flush.interval' = '1 min'",
    )
    .await;
    assert_eq!(
        sorted(got.iter().map(|g| format!("{:?}", g)).collect()),
        sorted(vec![
            format!(
                "{:?}",
                (
                    Some(r#"{"id":1}"#.to_string()),
                    Some(r#"{"id":1,"name":"anna"}"#.to_string())
                )
            ),
            format!(
                "{:?}",
                (
                    Some(r#"{"id":2}"#.to_string()),
                    Some(r#"{"id":2,"name":"bob"}"#.to_string())
                )
            ),
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_kafka_reads_a_normalized_changelog() {
    let k = Kafka::start();
    let t = k.topic("upsert", 2).await;
    let sluice = Sluice::new();
    run(
        &sluice,
        &format!(
            "CREATE TABLE users (id INT, name STRING, PRIMARY KEY (id) NOT ENFORCED) WITH (
               'connector' = 'upsert-kafka', 'topic' = '{t}', 'properties.bootstrap.servers' = '{}',
               'key.format' = 'json', 'value.format' = 'json');",
            k.bootstrap
        ),
    )
    .await
    .expect("ddl");
    k.produce(
        &t,
        &[
            Rec::keyed(0, r#"{"id":7}"#, Some(r#"{"id":7,"name":"a"}"#)),
            Rec::keyed(0, r#"{"id":7}"#, Some(r#"{"id":7,"name":"b"}"#)),
            Rec::keyed(0, r#"{"id":7}"#, Some(r#"{"id":7,"name":"b"}"#)),
            Rec::keyed(0, r#"{"id":7}"#, None),
            Rec::keyed(0, r#"{"id":8}"#, None),
        ],
    )
    .await;
    let rows = select_n(&sluice, "SELECT id, name FROM users", 4)
        .await
        .expect("changelog");
    assert_eq!(rows, vec!["+I[7, a]", "-U[7, a]", "+U[7, b]", "-D[7, b]"]);
}

/// A bounded json file of changes for the upsert tests.
fn write_changes(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sluice-upsert-{name}-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    std::fs::write(
        dir.join("c.json"),
        "{\"id\":1,\"name\":\"ann\",\"op\":\"insert\"}\n{\"id\":2,\"name\":\"bob\",\"op\":\"insert\"}\n{\"id\":1,\"name\":\"anna\",\"op\":\"update\"}\n",
    )
    .expect("write changes");
    dir
}
