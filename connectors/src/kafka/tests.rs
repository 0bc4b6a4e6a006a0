//! The Kafka source's readers against librdkafka's in-process mock cluster:
//! what the runtime receives from a changelog source (the row kind as the
//! last column, every batch from one split) and from upsert-kafka (upserts
//! and tombstones normalized into `+I/-U/+U/-D`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Int8Type, Schema};
use rdkafka::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{
    ChangelogMode, Connector, ROW_KIND_COLUMN, RowKind, ScanContext, SourceReader, TableContext,
};
use sluice_engine::display::format_row;
use sluice_engine::runtime::OperatorMetrics;

use super::KafkaConnector;
use crate::upsert_kafka::UpsertKafkaConnector;

async fn produce(bootstrap: &str, topic: &str, records: &[(i32, Option<&str>, Option<&str>)]) {
    let p: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "0")
        .create()
        .expect("producer");
    for (partition, key, value) in records {
        let mut r: FutureRecord<'_, str, str> = FutureRecord::to(topic).partition(*partition);
        if let Some(k) = key {
            r = r.key(*k);
        }
        if let Some(v) = value {
            r = r.payload(*v);
        }
        p.send(r, Duration::from_secs(5)).await.expect("produce");
    }
}

fn open(
    connector: &dyn Connector,
    columns: &[(&str, DataType)],
    primary_key: &[String],
    options: &[(&str, &str)],
) -> (Box<dyn SourceReader>, ChangelogMode) {
    let values: BTreeMap<String, String> = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut opts = ConnectorOptions::new("t", values);
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, t)| Field::new(*n, t.clone(), true))
            .collect::<Vec<_>>(),
    ));
    let table = connector
        .create(TableContext {
            table_name: "t",
            physical_schema: schema,
            metadata_columns: &[],
            primary_key,
            partition_keys: &[],
            options: &mut opts,
        })
        .expect("table");
    opts.finish(connector.name()).expect("every option taken");
    let source = table.source().expect("readable");
    let reader = source
        .open(ScanContext {
            projection: None,
            instance: 0,
            parallelism: 1,
            batch_size: 1024,
            metrics: Arc::new(OperatorMetrics::default()),
        })
        .expect("reader");
    (reader, source.changelog_mode())
}

/// Every row until `n` rows arrived (or the input ended), as
/// `split:+I[..]`, checking the row-kind column is last.
async fn read(reader: &mut Box<dyn SourceReader>, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < n {
        let batch: RecordBatch =
            match tokio::time::timeout(Duration::from_secs(10), reader.next_batch()).await {
                Ok(r) => match r.expect("reads") {
                    Some(b) => b,
                    None => break,
                },
                Err(_) => panic!("timed out after {out:?}"),
            };
        let last = batch.num_columns() - 1;
        assert_eq!(batch.schema().field(last).name(), ROW_KIND_COLUMN);
        let kinds = batch.column(last).as_primitive::<Int8Type>();
        for i in 0..batch.num_rows() {
            let kind = RowKind::from_i8(kinds.value(i)).map_or("?", RowKind::short);
            out.push(format!(
                "{}:{kind}[{}]",
                reader.last_split(),
                format_row(&batch.columns()[..last], i)
            ));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changelog_format_source_appends_row_kinds_per_split() {
    let mock = MockCluster::new(1).expect("mock");
    mock.create_topic("dbz", 2, 1).expect("topic");
    let b = mock.bootstrap_servers();
    let ev = |before: &str, after: &str, op: &str| {
        format!(r#"{{"before":{before},"after":{after},"op":"{op}","source":{{}},"ts_ms":1}}"#)
    };
    let (c1, u1, c2) = (
        ev("null", r#"{"id":1,"v":"a"}"#, "c"),
        ev(r#"{"id":1,"v":"a"}"#, r#"{"id":1,"v":"b"}"#, "u"),
        ev("null", r#"{"id":2,"v":"x"}"#, "c"),
    );
    produce(
        &b,
        "dbz",
        &[
            (0, None, Some(&c1)),
            (0, None, Some(&u1)),
            (1, None, Some(&c2)),
        ],
    )
    .await;
    let (mut reader, mode) = open(
        &KafkaConnector,
        &[("id", DataType::Int32), ("v", DataType::Utf8)],
        &[],
        &[
            ("topic", "dbz"),
            ("properties.bootstrap.servers", &b),
            ("format", "debezium-json"),
            ("scan.startup.mode", "earliest-offset"),
            ("scan.bounded.mode", "latest-offset"),
        ],
    );
    assert_eq!(mode, ChangelogMode::Retract);
    assert_eq!(reader.split_count(), 2);
    let mut rows = read(&mut reader, usize::MAX).await;
    rows.sort();
    assert_eq!(
        rows,
        vec!["0:+I[1, a]", "0:+U[1, b]", "0:-U[1, a]", "1:+I[2, x]"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_kafka_normalizes_upserts_and_tombstones() {
    let mock = MockCluster::new(1).expect("mock");
    mock.create_topic("users", 1, 1).expect("topic");
    let b = mock.bootstrap_servers();
    let k = |id: i32| format!(r#"{{"id":{id}}}"#);
    let v = |id: i32, name: &str| format!(r#"{{"id":{id},"name":"{name}"}}"#);
    let (k1, k2) = (k(1), k(2));
    let (a, b1, b2, x) = (v(1, "a"), v(1, "b"), v(1, "b"), v(2, "x"));
    produce(
        &b,
        "users",
        &[
            (0, Some(&k1), Some(&a)),
            (0, Some(&k2), None), // tombstone of an unknown key: nothing
            (0, Some(&k1), Some(&b1)),
            (0, Some(&k2), Some(&x)),
            (0, Some(&k1), Some(&b2)), // unchanged: nothing
            (0, Some(&k1), None),
        ],
    )
    .await;
    let (mut reader, mode) = open(
        &UpsertKafkaConnector,
        &[("id", DataType::Int32), ("name", DataType::Utf8)],
        &["id".to_string()],
        &[
            ("topic", "users"),
            ("properties.bootstrap.servers", &b),
            ("key.format", "json"),
            ("value.format", "json"),
        ],
    );
    assert_eq!(mode, ChangelogMode::Retract);
    assert_eq!(
        read(&mut reader, 5).await,
        vec![
            "0:+I[1, a]",
            "0:-U[1, a]",
            "0:+U[1, b]",
            "0:+I[2, x]",
            "0:-D[1, b]"
        ]
    );
}
