//! The Redis sink against the machine's Redis: every command, the TTL on
//! every write, the inverse command for retractions, and a lost connection.
//! Keys carry a per-process prefix so tests run in parallel.

// Shared with tests/jdbc.rs; not every helper is used here.
#[allow(dead_code)]
#[path = "jdbc/proxy.rs"]
mod proxy;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int8Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use sluice::{JobHandle, ROW_KIND_COLUMN, Sluice, StatementResult};
use sluice_connectors::redis::RedisConnector;
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{Connector, SinkContext, SinkWriter, TableContext};
use sluice_engine::runtime::OperatorMetrics;

const TTL: u64 = 300;

/// Runs a redis-cli command; returns its output lines.
fn cli(args: &[&str]) -> Vec<String> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", "6379"])
        .args(args)
        .output()
        .expect("redis-cli runs");
    assert!(
        out.status.success(),
        "redis-cli {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// A key prefix unique to this test and process; its keys are deleted.
fn prefix(test: &str) -> String {
    let p = format!("sluice-test:{}:{test}:", std::process::id());
    for k in cli(&["--scan", "--pattern", &format!("{p}*")]) {
        cli(&["DEL", &k]);
    }
    p
}

/// Asserts that `key` expires within the configured TTL.
fn assert_ttl(key: &str) {
    let ttl: i64 = cli(&["TTL", key])[0].parse().expect("a TTL");
    assert!(ttl > 0 && ttl <= TTL as i64, "TTL of {key} is {ttl}");
}

async fn run(sluice: &Sluice, sql: &str) -> Option<JobHandle> {
    let mut job = None;
    for r in sluice.execute_sql(sql).await.expect("statement runs") {
        if let StatementResult::Job(j) = r {
            job = Some(j);
        }
    }
    job
}

/// Creates a redis table `name` and runs `INSERT INTO name VALUES values`.
async fn write(sluice: &Sluice, name: &str, columns: &str, options: &str, values: &str) {
    run(
        sluice,
        &format!(
            "CREATE TABLE {name} ({columns}) WITH ('connector' = 'redis', 'host' = '127.0.0.1',
               'port' = '6379', 'ttl' = '{TTL}', {options})"
        ),
    )
    .await;
    let job = run(sluice, &format!("INSERT INTO {name} VALUES {values}"))
        .await
        .expect("a job");
    job.wait().await.expect("the job succeeds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_writes_with_a_ttl() {
    let p = prefix("commands");
    let s = Sluice::new();
    let k = |name: &str| format!("{p}{name}");
    write(
        &s,
        "t_set",
        "k STRING, v STRING",
        "'command' = 'set'",
        &format!(
            "('{}', 'one'), ('{}', 'two'), ('{}', 'v2')",
            k("s1"),
            k("s2"),
            k("s1")
        ),
    )
    .await;
    assert_eq!(cli(&["GET", &k("s1")]), vec!["v2"]);
    assert_eq!(cli(&["GET", &k("s2")]), vec!["two"]);
    write(
        &s,
        "t_hset",
        "k STRING, f STRING, v INT",
        "'command' = 'hset'",
        &format!("('{}', 'a', 1), ('{}', 'b', 2)", k("h"), k("h")),
    )
    .await;
    assert_eq!(cli(&["HGETALL", &k("h")]), vec!["a", "1", "b", "2"]);
    write(
        &s,
        "t_incrby",
        "k STRING, n BIGINT",
        "'command' = 'incrby'",
        &format!("('{}', 5), ('{}', 7)", k("i"), k("i")),
    )
    .await;
    assert_eq!(cli(&["GET", &k("i")]), vec!["12"]);
    write(
        &s,
        "t_incrbyfloat",
        "k STRING, n DOUBLE",
        "'command' = 'incrbyfloat'",
        &format!("('{}', 1.5), ('{}', 2.25)", k("f"), k("f")),
    )
    .await;
    assert_eq!(cli(&["GET", &k("f")]), vec!["3.75"]);
    write(
        &s,
        "t_hincrby",
        "k STRING, f STRING, n INT",
        "'command' = 'hincrby'",
        &format!(
            "('{}', 'x', 3), ('{}', 'x', 4), ('{}', 'y', 1)",
            k("hi"),
            k("hi"),
            k("hi")
        ),
    )
    .await;
    assert_eq!(cli(&["HGETALL", &k("hi")]), vec!["x", "7", "y", "1"]);
    write(
        &s,
        "t_sadd",
        "k STRING, m STRING",
        "'command' = 'sadd'",
        &format!(
            "('{}', 'm1'), ('{}', 'm2'), ('{}', 'm1')",
            k("set"),
            k("set"),
            k("set")
        ),
    )
    .await;
    let mut members = cli(&["SMEMBERS", &k("set")]);
    members.sort();
    assert_eq!(members, vec!["m1", "m2"]);
    write(
        &s,
        "t_zadd",
        "k STRING, score DOUBLE, m STRING",
        "'command' = 'zadd'",
        &format!("('{}', 2.5, 'b'), ('{}', 1.0, 'a')", k("z"), k("z")),
    )
    .await;
    assert_eq!(
        cli(&["ZRANGE", &k("z"), "0", "-1", "WITHSCORES"]),
        vec!["a", "1", "b", "2.5"]
    );
    write(
        &s,
        "t_zincrby",
        "k STRING, inc INT, m STRING",
        "'command' = 'zincrby'",
        &format!("('{}', 1, 'a'), ('{}', 2, 'a')", k("zi"), k("zi")),
    )
    .await;
    assert_eq!(cli(&["ZSCORE", &k("zi"), "a"]), vec!["3"]);
    write(
        &s,
        "t_rpush",
        "k STRING, v STRING",
        "'command' = 'rpush'",
        &format!("('{}', 'a'), ('{}', 'b')", k("r"), k("r")),
    )
    .await;
    assert_eq!(cli(&["LRANGE", &k("r"), "0", "-1"]), vec!["a", "b"]);
    write(
        &s,
        "t_lpush",
        "k STRING, v STRING",
        "'command' = 'lpush'",
        &format!("('{}', 'a'), ('{}', 'b')", k("l"), k("l")),
    )
    .await;
    assert_eq!(cli(&["LRANGE", &k("l"), "0", "-1"]), vec!["b", "a"]);
    // key.fields joined by key.delimiter after key.prefix.
    write(&s, "t_named", "n BIGINT, usr STRING, day DATE", &format!(
        "'command' = 'incrby', 'key.fields' = 'usr;day', 'key.delimiter' = '|', 'key.prefix' = '{p}clicks|'"),
        "(2, 'u1', DATE '2024-05-01'), (3, 'u1', DATE '2024-05-01')").await;
    let named = format!("{p}clicks|u1|2024-05-01");
    assert_eq!(cli(&["GET", &named]), vec!["5"]);
    for key in ["s1", "s2", "h", "i", "f", "hi", "set", "z", "zi", "r", "l"] {
        assert_ttl(&k(key));
    }
    assert_ttl(&named);
    // del removes keys (and sets no TTL).
    cli(&["SET", &k("gone"), "x"]);
    write(
        &s,
        "t_del",
        "k STRING",
        "'command' = 'del'",
        &format!("('{}')", k("gone")),
    )
    .await;
    assert_eq!(cli(&["EXISTS", &k("gone")]), vec!["0"]);
}

/// A writer of a redis table with `columns` and `options`, as the runtime
/// opens it.
fn writer(fields: Vec<Field>, options: &[(&str, &str)]) -> Box<dyn SinkWriter> {
    let mut values: BTreeMap<String, String> = [("ttl", TTL.to_string())]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    for (k, v) in options {
        values.insert(k.to_string(), v.to_string());
    }
    let mut opts = ConnectorOptions::new("r", values);
    RedisConnector
        .create(TableContext {
            table_name: "r",
            physical_schema: Arc::new(Schema::new(fields)),
            metadata_columns: &[],
            primary_key: &[],
            partition_keys: &[],
            options: &mut opts,
        })
        .expect("valid table")
        .sink()
        .expect("a sink")
        .open(SinkContext {
            job_id: "test".into(),
            instance: 0,
            parallelism: 1,
            metrics: Arc::new(OperatorMetrics::default()),
        })
        .expect("opens")
}

/// A batch of `columns` plus the row kinds.
fn changes(columns: Vec<(&str, ArrayRef)>, kinds: &[i8]) -> RecordBatch {
    let mut columns = columns;
    columns.push((ROW_KIND_COLUMN, Arc::new(Int8Array::from(kinds.to_vec()))));
    RecordBatch::try_new(
        Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        )),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .expect("valid batch")
}

fn strings(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retractions_apply_the_inverse_command() {
    let p = prefix("retract");
    let k = |name: &str| format!("{p}{name}");
    let s = DataType::Utf8;
    let (k1, k2) = (k("a"), k("b"));

    // set: -D deletes the key; an update keeps the last value.
    let mut w = writer(
        vec![
            Field::new("k", s.clone(), true),
            Field::new("v", s.clone(), true),
        ],
        &[("command", "set")],
    );
    w.write(changes(
        vec![
            ("k", strings(&[&k1, &k2, &k1])),
            ("v", strings(&["x", "y", "z"])),
        ],
        &[0, 0, 2],
    ))
    .await
    .expect("write");
    w.flush().await.expect("flush");
    w.write(changes(
        vec![("k", strings(&[&k2])), ("v", strings(&["y"]))],
        &[3],
    ))
    .await
    .expect("write");
    w.finish().await.expect("finish");
    assert_eq!(cli(&["GET", &k1]), vec!["z"]);
    assert_eq!(cli(&["EXISTS", &k2]), vec!["0"]);

    // hset: -D deletes the field.
    let h = k("h");
    let mut w = writer(
        vec![
            Field::new("k", s.clone(), true),
            Field::new("f", s.clone(), true),
            Field::new("v", s.clone(), true),
        ],
        &[("command", "hset")],
    );
    w.write(changes(
        vec![
            ("k", strings(&[&h, &h])),
            ("f", strings(&["f1", "f2"])),
            ("v", strings(&["1", "2"])),
        ],
        &[0, 0],
    ))
    .await
    .expect("write");
    w.flush().await.expect("flush");
    w.write(changes(
        vec![
            ("k", strings(&[&h])),
            ("f", strings(&["f1"])),
            ("v", strings(&["1"])),
        ],
        &[3],
    ))
    .await
    .expect("write");
    w.finish().await.expect("finish");
    assert_eq!(cli(&["HGETALL", &h]), vec!["f2", "2"]);

    // incrby on a retract stream: -U subtracts, +U adds (a count going 1 -> 2 -> 3).
    let c = k("count");
    let mut w = writer(
        vec![
            Field::new("k", s.clone(), true),
            Field::new("n", DataType::Int64, true),
        ],
        &[("command", "incrby")],
    );
    w.write(changes(
        vec![
            ("k", strings(&[&c, &c, &c, &c, &c])),
            ("n", Arc::new(Int64Array::from(vec![1, 1, 2, 2, 3]))),
        ],
        &[0, 1, 2, 1, 2],
    ))
    .await
    .expect("write");
    w.finish().await.expect("finish");
    assert_eq!(cli(&["GET", &c]), vec!["3"]);

    // sadd / zadd / rpush: -D removes the member / element.
    let (set, zset, list) = (k("set"), k("zset"), k("list"));
    let mut w = writer(
        vec![
            Field::new("k", s.clone(), true),
            Field::new("m", s.clone(), true),
        ],
        &[("command", "sadd")],
    );
    w.write(changes(
        vec![
            ("k", strings(&[&set, &set, &set])),
            ("m", strings(&["a", "b", "a"])),
        ],
        &[0, 0, 3],
    ))
    .await
    .expect("write");
    w.finish().await.expect("finish");
    assert_eq!(cli(&["SMEMBERS", &set]), vec!["b"]);
    let mut w = writer(
        vec![
            Field::new("k", s.clone(), true),
            Field::new("score", DataType::Float64, true),
            Field::new("m", s.clone(), true),
        ],
        &[("command", "zadd")],
    );
    w.write(changes(
        vec![
            ("k", strings(&[&zset, &zset, &zset])),
            ("score", Arc::new(Float64Array::from(vec![1.0, 2.0, 1.0]))),
            ("m", strings(&["a", "b", "a"])),
        ],
        &[0, 0, 3],
    ))
    .await
    .expect("write");
    w.finish().await.expect("finish");
    assert_eq!(cli(&["ZRANGE", &zset, "0", "-1"]), vec!["b"]);
    let mut w = writer(
        vec![
            Field::new("k", s.clone(), true),
            Field::new("v", s.clone(), true),
        ],
        &[("command", "rpush")],
    );
    w.write(changes(
        vec![
            ("k", strings(&[&list, &list, &list, &list])),
            ("v", strings(&["a", "b", "a", "a"])),
        ],
        &[0, 0, 0, 3],
    ))
    .await
    .expect("write");
    w.finish().await.expect("finish");
    assert_eq!(cli(&["LRANGE", &list, "0", "-1"]), vec!["a", "b"]);
    for key in [&k1, &h, &c, &set, &zset, &list] {
        assert_ttl(key);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_type_names_the_row_and_a_lost_connection_is_retried() {
    let p = prefix("faults");
    let k = format!("{p}list");
    cli(&["RPUSH", &k, "x"]);
    let s = Sluice::new();
    run(
        &s,
        "CREATE TABLE t (k STRING, v STRING) WITH ('connector' = 'redis', 'command' = 'set')",
    )
    .await;
    let job = run(
        &s,
        &format!("INSERT INTO t VALUES ('{p}ok', 'v'), ('{k}', 'v')"),
    )
    .await
    .expect("a job");
    job.wait().await.expect("SET replaces a list");
    // INCRBY on a non-integer value is refused by the server, for that row.
    run(
        &s,
        "CREATE TABLE c (k STRING, n INT) WITH ('connector' = 'redis', 'command' = 'incrby')",
    )
    .await;
    let job = run(&s, &format!("INSERT INTO c VALUES ('{p}n', 1), ('{k}', 2)"))
        .await
        .expect("a job");
    let err = job.wait().await.expect_err("the job fails").to_string();
    assert!(
        err.contains(&format!("connector 'redis': table 'c' (INCRBY at 127.0.0.1:6379/0): row +I[{k}, 2] was rejected: ")),
        "{err}"
    );
    assert!(err.contains("not an integer"), "{err}");
    assert_eq!(
        cli(&["GET", &format!("{p}n")]),
        vec!["1"],
        "the good row was written"
    );

    // The server goes away for a moment: the flush is retried.
    let proxy = proxy::Proxy::start(6379).await;
    run(&s, &format!(
        "CREATE TABLE gen (k STRING, v STRING) WITH ('connector' = 'datagen', 'rows-per-second' = '200',
           'fields.k.kind' = 'sequence', 'fields.k.start' = '1', 'fields.k.end' = '400');
         CREATE TABLE r (k STRING, v STRING) WITH ('connector' = 'redis', 'port' = '{}',
           'command' = 'set', 'key.prefix' = '{p}gen:', 'sink.buffer-flush.interval' = '50ms')",
        proxy.port()
    )).await;
    let job = run(&s, "INSERT INTO r SELECT k, v FROM gen")
        .await
        .expect("a job");
    tokio::time::sleep(Duration::from_millis(700)).await;
    proxy.set_down(true);
    tokio::time::sleep(Duration::from_millis(800)).await;
    proxy.set_down(false);
    job.wait().await.expect("the job recovers");
    let keys = cli(&["--scan", "--pattern", &format!("{p}gen:*")]);
    assert_eq!(keys.len(), 400, "every key written");
}
