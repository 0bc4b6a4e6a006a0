//! The HBase sink end to end against a stand-in Thrift2 gateway that
//! decodes the real `THBaseService` binary protocol
//! (tests/hbase/server.rs): SQL jobs through the `sluice` facade, and the
//! sink opened directly where a test needs exact row kinds. Every call the
//! server receives is checked.

#[path = "hbase/server.rs"]
mod server;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{
    ArrayRef, Int8Array, Int64Array, RecordBatch, StringArray, StructArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema};
use server::{Call, HBaseServer};
use sluice::{JobHandle, ROW_KIND_COLUMN, Sluice, StatementResult};
use sluice_connectors::hbase::HBaseConnector;
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{Connector, SinkContext, SinkWriter, TableContext};
use sluice_engine::runtime::OperatorMetrics;

async fn run(sluice: &Sluice, sql: &str) -> sluice::Result<Option<JobHandle>> {
    let mut job = None;
    for r in sluice.execute_sql(sql).await? {
        if let StatementResult::Job(j) = r {
            job = Some(j);
        }
    }
    Ok(job)
}

async fn job(sluice: &Sluice, sql: &str) -> sluice::Result<()> {
    run(sluice, sql).await?.expect("a job").wait().await
}

/// A JSON-lines file with `lines`, kept alive by the returned dir.
fn json_file(lines: &[&str]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("in.json");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    (dir, path.display().to_string())
}

fn puts(calls: &[Call]) -> Vec<usize> {
    calls
        .iter()
        .filter_map(|c| match c {
            Call::PutMultiple { puts, .. } => Some(puts.len()),
            _ => None,
        })
        .collect()
}

const TYPES: &str = "s STRING, i INT, b BIGINT, d DOUBLE, f FLOAT, bo BOOLEAN, dec DECIMAL(10, 2),
    dt DATE, t TIME(0), ts TIMESTAMP(3), lt TIMESTAMP_LTZ(3), ti TINYINT, si SMALLINT, raw BYTES";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_is_written_with_hbase_bytes_encodings() {
    let hb = HBaseServer::start("ns:all", &["cf", "meta"], false).await;
    let (_dir, path) = json_file(&[
        r#"{"rk": "r1", "cf": {"s": "héllo", "i": 7, "b": 1234567890123, "d": 1.5, "f": 2.5, "bo": true, "dec": 12.34, "dt": "2024-03-01", "t": "12:34:56", "ts": "2024-03-01 10:00:00.123", "lt": "2024-03-01 10:00:00.123Z", "ti": 5, "si": 300, "raw": "AQI="}, "meta": {"note": "x"}}"#,
        r#"{"rk": "r2", "cf": {"s": null, "i": null, "b": -1, "d": null, "f": null, "bo": false, "dec": -0.01, "dt": null, "t": null, "ts": null, "lt": null, "ti": null, "si": null, "raw": null}, "meta": {"note": null}}"#,
    ]);
    let s = Sluice::new();
    job(
        &s,
        &format!(
            "CREATE TABLE src (rk STRING, cf ROW<{TYPES}>, meta ROW<note STRING>)
               WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');
             CREATE TABLE h (cf ROW<{TYPES}>, rk STRING, meta ROW<note STRING>,
               PRIMARY KEY (rk) NOT ENFORCED)
               WITH ('connector' = 'hbase-2.2', 'table-name' = 'ns:all',
                 'thrift.address' = '{}', 'null-string-literal' = '<null>');
             INSERT INTO h SELECT cf, rk, meta FROM src",
            hb.address()
        ),
    )
    .await
    .expect("job succeeds");
    hb.assert_no_violations();
    let cell = |row: &str, f: &str, q: &str| hb.cell("ns:all", row.as_bytes(), f, q);
    let some = |v: &[u8]| Some(v.to_vec());
    assert_eq!(cell("r1", "cf", "s"), some("héllo".as_bytes()));
    assert_eq!(cell("r1", "cf", "i"), some(&7i32.to_be_bytes()));
    assert_eq!(cell("r1", "cf", "b"), some(&1234567890123i64.to_be_bytes()));
    assert_eq!(cell("r1", "cf", "d"), some(&1.5f64.to_bits().to_be_bytes()));
    assert_eq!(cell("r1", "cf", "f"), some(&2.5f32.to_bits().to_be_bytes()));
    assert_eq!(cell("r1", "cf", "bo"), some(&[0xff]));
    // BigDecimal: scale 2, unscaled 1234 = 0x04d2.
    assert_eq!(cell("r1", "cf", "dec"), some(&[0, 0, 0, 2, 0x04, 0xd2]));
    // 2024-03-01 is day 19783; 12:34:56 is 45 296 000 ms.
    assert_eq!(cell("r1", "cf", "dt"), some(&19783i32.to_be_bytes()));
    assert_eq!(cell("r1", "cf", "t"), some(&45_296_000i32.to_be_bytes()));
    assert_eq!(
        cell("r1", "cf", "ts"),
        some(&1_709_287_200_123i64.to_be_bytes())
    );
    assert_eq!(
        cell("r1", "cf", "lt"),
        some(&1_709_287_200_123i64.to_be_bytes())
    );
    assert_eq!(cell("r1", "cf", "ti"), some(&[5]));
    assert_eq!(cell("r1", "cf", "si"), some(&[0x01, 0x2c]));
    assert_eq!(cell("r1", "cf", "raw"), some(&[1, 2]));
    assert_eq!(cell("r1", "meta", "note"), some(b"x"));
    // NULL: the null-string-literal for strings, empty bytes otherwise.
    assert_eq!(cell("r2", "cf", "s"), some(b"<null>"));
    assert_eq!(cell("r2", "meta", "note"), some(b"<null>"));
    for q in ["i", "d", "f", "dt", "t", "ts", "lt", "ti", "si", "raw"] {
        assert_eq!(cell("r2", "cf", q), some(&[]), "qualifier {q}");
    }
    assert_eq!(cell("r2", "cf", "b"), some(&(-1i64).to_be_bytes()));
    assert_eq!(cell("r2", "cf", "bo"), some(&[0x00]));
    assert_eq!(cell("r2", "cf", "dec"), some(&[0, 0, 0, 2, 0xff]));
    // One putMultiple: every family and qualifier of each row in one TPut.
    let calls = hb.calls();
    assert_eq!(puts(&calls), vec![2]);
    let Call::PutMultiple { table, puts } = &calls[0] else {
        panic!("{calls:?}")
    };
    assert_eq!(table, b"ns:all");
    assert_eq!(puts[0].row, b"r1");
    let columns: Vec<String> = puts[0]
        .cells
        .iter()
        .map(|(f, q, _)| {
            format!(
                "{}:{}",
                String::from_utf8_lossy(f),
                String::from_utf8_lossy(q)
            )
        })
        .collect();
    assert_eq!(columns.len(), 15);
    assert_eq!(columns[0], "cf:s");
    assert_eq!(columns[14], "meta:note");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn puts_are_batched_by_max_rows() {
    let hb = HBaseServer::start("t", &["cf"], false).await;
    let s = Sluice::new();
    job(
        &s,
        &format!(
            "CREATE TABLE gen (rk BIGINT, cf ROW<v INT>) WITH ('connector' = 'datagen',
               'fields.rk.kind' = 'sequence', 'fields.rk.start' = '1', 'fields.rk.end' = '7');
             CREATE TABLE h (rk BIGINT, cf ROW<v INT>) WITH ('connector' = 'hbase',
               'table-name' = 't', 'thrift.address' = '{}',
               'sink.buffer-flush.max-rows' = '3', 'sink.buffer-flush.interval' = '0');
             INSERT INTO h SELECT rk, cf FROM gen",
            hb.address()
        ),
    )
    .await
    .expect("job succeeds");
    hb.assert_no_violations();
    assert_eq!(puts(&hb.calls()), vec![3, 3, 1]);
    let rows = hb.rows();
    assert_eq!(rows.len(), 7);
    // BIGINT row keys are 8 big-endian bytes.
    assert!(rows.contains(&7i64.to_be_bytes().to_vec()));
    assert_eq!(hb.connections(), 1, "one connection for every flush");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_updating_query_upserts_and_increment_mode_counts() {
    let hb = HBaseServer::start("t", &["c"], true).await;
    let (_dir, path) = json_file(&[
        r#"{"k": "a"}"#,
        r#"{"k": "b"}"#,
        r#"{"k": "a"}"#,
        r#"{"k": "a"}"#,
    ]);
    let s = Sluice::new();
    job(
        &s,
        &format!(
            "CREATE TABLE src (k STRING) WITH ('connector' = 'filesystem', 'path' = '{path}',
               'format' = 'json');
             CREATE TABLE latest (rk STRING, c ROW<n BIGINT>, PRIMARY KEY (rk) NOT ENFORCED)
               WITH ('connector' = 'hbase-2.2', 'table-name' = 't', 'thrift.address' = '{a}',
                 'thrift.framed' = 'true', 'sink.buffer-flush.max-rows' = '1');
             CREATE TABLE counters (rk STRING, c ROW<hits BIGINT>)
               WITH ('connector' = 'hbase-2.2', 'table-name' = 't', 'thrift.address' = '{a}',
                 'thrift.framed' = 'true', 'sink.write-mode' = 'increment',
                 'sink.buffer-flush.max-rows' = '1');
             EXECUTE STATEMENT SET BEGIN
             INSERT INTO latest SELECT k, named_struct('n', COUNT(*)) FROM src GROUP BY k;
             INSERT INTO counters SELECT k, named_struct('hits', COUNT(*)) FROM src GROUP BY k;
             END",
            a = hb.address()
        ),
    )
    .await
    .expect("job succeeds");
    hb.assert_no_violations();
    let long = |v: i64| Some(v.to_be_bytes().to_vec());
    // Put mode: the last count per key.
    assert_eq!(hb.cell("t", b"a", "c", "n"), long(3));
    assert_eq!(hb.cell("t", b"b", "c", "n"), long(1));
    // Increment mode: +1, then -1/+2, then -2/+3 sum to 3.
    assert_eq!(hb.cell("t", b"a", "c", "hits"), long(3));
    assert_eq!(hb.cell("t", b"b", "c", "hits"), long(1));
    let increments: Vec<i64> = hb
        .calls()
        .iter()
        .filter_map(|c| match c {
            Call::Increment { increment, .. } => {
                assert_eq!(increment.return_results, Some(false));
                assert_eq!(increment.columns.len(), 1);
                assert_eq!(increment.columns[0].1, b"hits");
                Some(increment.columns[0].2)
            }
            _ => None,
        })
        .collect();
    assert_eq!(increments.iter().sum::<i64>(), 4, "{increments:?}");
    assert!(
        increments.iter().any(|a| *a < 0),
        "retractions decrement: {increments:?}"
    );
}

/// The sink of an HBase table `t (rk STRING, cf ROW<a STRING, n BIGINT>)`
/// opened as the runtime opens it.
fn writer(hb: &HBaseServer, options: &[(&str, &str)]) -> Box<dyn SinkWriter> {
    let mut values: BTreeMap<String, String> = [
        ("table-name", "t".to_string()),
        ("thrift.address", hb.address()),
        ("sink.buffer-flush.interval", "0".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in options {
        values.insert(k.to_string(), v.to_string());
    }
    let mut opts = ConnectorOptions::new("t", values);
    HBaseConnector::all()[0]
        .create(TableContext {
            table_name: "t",
            physical_schema: Arc::new(Schema::new(vec![
                Field::new("rk", DataType::Utf8, true),
                Field::new("cf", DataType::Struct(family_fields()), true),
            ])),
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

fn family_fields() -> Fields {
    Fields::from(vec![
        Field::new("a", DataType::Utf8, true),
        Field::new("n", DataType::Int64, true),
    ])
}

/// Rows `(rk, a, n)` with row kinds (0 = +I, 2 = +U, 3 = -D).
fn changes(rows: &[(Option<&str>, Option<&str>, Option<i64>)], kinds: &[i8]) -> RecordBatch {
    let cf = StructArray::new(
        family_fields(),
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )) as ArrayRef,
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            )),
        ],
        None,
    );
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("rk", DataType::Utf8, true),
            Field::new("cf", DataType::Struct(family_fields()), true),
            Field::new(ROW_KIND_COLUMN, DataType::Int8, false),
        ])),
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            Arc::new(cf),
            Arc::new(Int8Array::from(kinds.to_vec())),
        ],
    )
    .expect("valid batch")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_remove_the_rows_declared_cells() {
    let hb = HBaseServer::start("t", &["cf"], false).await;
    let mut w = writer(&hb, &[]);
    w.write(changes(
        &[
            (Some("r1"), Some("x"), Some(1)),
            (Some("r2"), Some("y"), Some(2)),
        ],
        &[0, 0],
    ))
    .await
    .expect("write");
    w.flush().await.expect("flush");
    w.write(changes(
        &[
            (Some("r1"), Some("x"), Some(1)),
            (Some("r2"), Some("z"), None),
        ],
        &[3, 2],
    ))
    .await
    .expect("write");
    w.finish().await.expect("finish");
    hb.assert_no_violations();
    assert_eq!(hb.rows(), vec![b"r2".to_vec()]);
    assert_eq!(hb.cell("t", b"r2", "cf", "a"), Some(b"z".to_vec()));
    assert_eq!(hb.cell("t", b"r2", "cf", "n"), Some(vec![]));
    let calls = hb.calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    let Call::DeleteMultiple { deletes, .. } = &calls[2] else {
        panic!("{calls:?}")
    };
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].row, b"r1");
    assert_eq!(
        deletes[0].delete_type,
        Some(0),
        "DELETE_COLUMN, as Flink's Delete.addColumn"
    );
    assert_eq!(
        deletes[0].columns,
        vec![
            (b"cf".to_vec(), Some(b"a".to_vec())),
            (b"cf".to_vec(), Some(b"n".to_vec()))
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignore_null_value_leaves_null_qualifiers_out() {
    let hb = HBaseServer::start("t", &["cf"], true).await;
    let mut w = writer(
        &hb,
        &[
            ("sink.ignore-null-value", "true"),
            ("thrift.framed", "true"),
        ],
    );
    w.write(changes(
        &[(Some("r1"), None, Some(5)), (Some("r2"), None, None)],
        &[0, 0],
    ))
    .await
    .expect("write");
    w.finish().await.expect("finish");
    hb.assert_no_violations();
    let calls = hb.calls();
    let Call::PutMultiple { puts, .. } = &calls[0] else {
        panic!("{calls:?}")
    };
    // r2 has nothing to write: no empty TPut is sent.
    assert_eq!(puts.len(), 1);
    assert_eq!(
        puts[0].cells,
        vec![(b"cf".to_vec(), b"n".to_vec(), 5i64.to_be_bytes().to_vec())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tioerror_is_retried_and_the_write_then_succeeds() {
    let hb = HBaseServer::start("t", &["cf"], false).await;
    hb.fail_next("org.apache.hadoop.hbase.RegionTooBusyException: Over memstore limit");
    let mut w = writer(&hb, &[]);
    w.write(changes(&[(Some("r1"), Some("x"), Some(1))], &[0]))
        .await
        .expect("write");
    w.finish().await.expect("retried after the TIOError");
    hb.assert_no_violations();
    let calls = hb.calls();
    assert_eq!(calls.len(), 2, "the same putMultiple twice");
    assert_eq!(calls[0], calls[1]);
    assert_eq!(hb.cell("t", b"r1", "cf", "a"), Some(b"x".to_vec()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rows_and_missing_tables_fail_clearly() {
    let hb = HBaseServer::start("t", &["cf"], false).await;
    // A NULL row key names the row and column.
    let mut w = writer(&hb, &[]);
    w.write(changes(
        &[(Some("ok"), Some("x"), Some(1)), (None, Some("y"), Some(2))],
        &[0, 0],
    ))
    .await
    .expect("buffered");
    let err = w
        .finish()
        .await
        .expect_err("a NULL row key fails")
        .to_string();
    assert!(
        err.contains("+I[null, +I[y, 2]]") && err.contains("column 'rk'"),
        "{err}"
    );
    assert!(err.contains("row key is NULL"), "{err}");
    assert_eq!(hb.cell("t", b"ok", "cf", "a"), Some(b"x".to_vec()));
    // ... or is skipped and counted with sink.ignore-errors.
    let mut w = writer(&hb, &[("sink.ignore-errors", "true")]);
    w.write(changes(&[(None, Some("y"), Some(2))], &[0]))
        .await
        .expect("buffered");
    w.finish().await.expect("skipped");

    // A missing table fails at once (no retries).
    let s = Sluice::new();
    let started = std::time::Instant::now();
    let err = job(
        &s,
        &format!(
            "CREATE TABLE h (rk STRING, cf ROW<a STRING>) WITH ('connector' = 'hbase',
               'table-name' = 'ns:nope', 'thrift.address' = '{}');
             INSERT INTO h SELECT 'r', named_struct('a', 'v')",
            hb.address()
        ),
    )
    .await
    .expect_err("the job fails")
    .to_string();
    assert!(err.contains("TableNotFoundException: ns:nope"), "{err}");
    assert!(err.contains("connector 'hbase'"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "no retry for a missing table"
    );
    hb.assert_no_violations();
}
