use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Int8Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{ChangelogMode, Connector, ConnectorTable, TableContext};

use super::bulk::{self, Outcome, Settings};
use super::index::IndexGenerator;
use super::*;
use crate::sink::buffered::ChangeBatch;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        Field::new(
            "lts",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
    ]))
}

fn rows() -> RecordBatch {
    // 2024-03-27 12:25:55.123 UTC and 2023-12-31 23:59:59 UTC.
    let ts = vec![1_711_542_355_123i64, 1_704_067_199_000];
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef,
            Arc::new(StringArray::from(vec![Some("a\"b"), None])),
            Arc::new(TimestampMillisecondArray::from(ts.clone())),
            Arc::new(TimestampMillisecondArray::from(ts).with_timezone("UTC")),
        ],
    )
    .unwrap()
}

fn index_names(pattern: &str) -> Vec<String> {
    let g = IndexGenerator::new(pattern, &schema()).unwrap();
    let rows = rows();
    let b = g.for_batch(&rows);
    (0..2)
        .map(|r| {
            let mut s = String::new();
            b.write(r, &mut s).unwrap();
            s
        })
        .collect()
}

#[test]
fn static_and_dynamic_index_names() {
    assert_eq!(index_names("users"), vec!["users", "users"]);
    assert_eq!(
        index_names("log-{ts|yyyy-MM-dd}"),
        vec!["log-2024-03-27", "log-2023-12-31"]
    );
    assert_eq!(
        index_names("log-{ts|}-x"),
        vec!["log-2024_03_27_12_25_55-x", "log-2023_12_31_23_59_59-x"]
    );
    assert_eq!(
        index_names("l-{lts|}"),
        vec!["l-2024_03_27_12_25_55Z", "l-2023_12_31_23_59_59Z"]
    );
    assert_eq!(index_names("idx-{id}"), vec!["idx-1", "idx-2"]);
    assert_eq!(index_names("idx-{name}"), vec!["idx-a\"b", "idx-null"]);
    assert!(index_names("n-{now()|yyyy}")[0].starts_with("n-20"));
}

#[test]
fn bad_index_patterns_are_explained() {
    let s = schema();
    let err = |p: &str| IndexGenerator::new(p, &s).unwrap_err();
    assert!(err("a-{id}-{name}").contains("chaining dynamic index"));
    assert!(err("a-{nope}").contains("unknown field 'nope'"));
    assert!(err("a-{id|yyyy}").contains("needs DATE, TIME, TIMESTAMP"));
    assert!(err("a-{ts|yyyy-Www}").contains("bad date format"));
    assert!(err("a-{now()}").contains("needs a date format"));
}

fn settings(key: Vec<usize>, document_type: Option<&str>) -> Settings {
    Settings {
        index: IndexGenerator::new("idx-{id}", &schema()).unwrap(),
        document_type: document_type.map(str::to_string),
        key,
        delimiter: "_".into(),
    }
}

fn encoder() -> Box<dyn crate::formats::RecordEncoder> {
    let mut opts = ConnectorOptions::new("t", Default::default());
    crate::formats::format_for("json", &mut opts, &schema())
        .unwrap()
        .encoder()
        .unwrap()
}

#[test]
fn upserts_are_updates_with_doc_as_upsert_and_deletes_carry_only_the_id() {
    let batch = ChangeBatch::new(rows(), Int8Array::from(vec![2, 3])).unwrap();
    let bulk = bulk::build(&settings(vec![0, 1], None), encoder().as_mut(), &batch).unwrap();
    let text = String::from_utf8(bulk.body.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], r#"{"update":{"_index":"idx-1","_id":"1_a\"b"}}"#);
    assert!(
        lines[1].starts_with(r#"{"doc":{"id":1,"name":"a\"b","ts":"2024-03-27 12:25:55.123""#),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].ends_with(r#","doc_as_upsert":true}"#),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], r#"{"delete":{"_index":"idx-2","_id":"2_null"}}"#);
    assert_eq!(lines.len(), 3);
    assert!(text.ends_with('\n'));
    // A subset is the chosen items' lines.
    assert_eq!(
        String::from_utf8(bulk.subset(&[1])).unwrap(),
        format!("{}\n", lines[2])
    );
}

#[test]
fn append_only_rows_are_index_actions_without_ids() {
    let batch = ChangeBatch::inserts(rows());
    let bulk = bulk::build(&settings(vec![], Some("_doc")), encoder().as_mut(), &batch).unwrap();
    let text = String::from_utf8(bulk.body).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], r#"{"index":{"_index":"idx-1","_type":"_doc"}}"#);
    assert!(lines[1].starts_with(r#"{"id":1,"#));
    assert_eq!(lines.len(), 4);
    // A delete on an append-only table is refused, not written as an insert.
    let deleting = ChangeBatch::new(rows(), Int8Array::from(vec![0, 3])).unwrap();
    assert!(bulk::build(&settings(vec![], None), encoder().as_mut(), &deleting).is_err());
}

#[test]
fn bulk_responses_are_read_item_by_item() {
    let ok =
        br#"{"took":3,"errors":false,"items":[{"index":{"status":201}},{"index":{"status":201}}]}"#;
    assert_eq!(
        bulk::parse_response(ok, 2).unwrap(),
        vec![Outcome::Done, Outcome::Done]
    );
    let mixed = br#"{"took":3,"errors":true,"items":[
        {"update":{"_index":"i","_id":"1","status":200,"result":"updated"}},
        {"update":{"_index":"i","_id":"2","status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}},
        {"update":{"_index":"i","_id":"3","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [age]","caused_by":{"type":"number_format_exception","reason":"For input string: \"x\""}}}},
        {"delete":{"_index":"i","_id":"4","status":404,"result":"not_found"}}]}"#;
    let out = bulk::parse_response(mixed, 4).unwrap();
    assert_eq!(out[0], Outcome::Done);
    assert!(matches!(&out[1], Outcome::Retry(m) if m.contains("es_rejected_execution_exception")));
    match &out[2] {
        Outcome::Reject(m) => {
            assert!(m.contains("document _id '3' in index 'i'"), "{m}");
            assert!(m.contains("status 400"), "{m}");
            assert!(m.contains("failed to parse field [age]"), "{m}");
            assert!(m.contains("number_format_exception"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(out[3], Outcome::Done, "deleting a missing document is fine");
    assert!(
        bulk::parse_response(ok, 3)
            .unwrap_err()
            .contains("2 items for 3 actions")
    );
}

fn create(
    connector: &str,
    pk: &[&str],
    options: &[(&str, &str)],
) -> sluice_engine::Result<Arc<dyn ConnectorTable>> {
    let mut opts = ConnectorOptions::new(
        "t",
        options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    let pk: Vec<String> = pk.iter().map(|s| s.to_string()).collect();
    let factory = ElasticsearchConnector::all()
        .into_iter()
        .find(|c| c.name() == connector)
        .unwrap();
    factory.create(TableContext {
        table_name: "t",
        physical_schema: schema(),
        metadata_columns: &[],
        primary_key: &pk,
        partition_keys: &[],
        options: &mut opts,
    })
}

#[test]
fn options_follow_flink() {
    let base = [("hosts", "http://a:9200;http://b:9200"), ("index", "users")];
    let table = create("elasticsearch-7", &["id"], &base).unwrap();
    let sink = table.sink().unwrap();
    assert_eq!(
        sink.accepted_changelog(),
        ChangelogMode::Upsert(vec!["id".into()])
    );
    let append = create("elasticsearch-7", &[], &base).unwrap();
    assert_eq!(
        append.sink().unwrap().accepted_changelog(),
        ChangelogMode::AppendOnly
    );
    let err = |c: &str, extra: &[(&str, &str)]| {
        let mut o: Vec<(&str, &str)> = base.to_vec();
        o.extend_from_slice(extra);
        create(c, &["id"], &o).unwrap_err().to_string()
    };
    assert!(
        err("elasticsearch-7", &[("sink.bulk-flush.max-actionz", "5")])
            .contains("'sink.bulk-flush.max-actionz'")
    );
    assert!(err("elasticsearch-6", &[]).contains("missing required option 'document-type'"));
    assert!(err("elasticsearch-7", &[("document-type", "_doc")]).contains("'document-type'"));
    assert!(err("elasticsearch-8", &[("username", "u")]).contains("set or unset together"));
    assert!(err("elasticsearch-7", &[("format", "csv")]).contains("not supported yet"));
    assert!(
        err("elasticsearch-7", &[("failure-handler", "com.x.Handler")])
            .contains("not supported yet")
    );
    assert!(
        err(
            "elasticsearch-7",
            &[("sink.bulk-flush.backoff.strategy", "LINEAR")]
        )
        .contains("DISABLED")
    );
    let https = create(
        "elasticsearch-7",
        &[],
        &[("hosts", "https://a:9200"), ("index", "i")],
    )
    .unwrap_err()
    .to_string();
    assert!(https.contains("not supported yet: https hosts"), "{https}");
    // Every Flink key is accepted.
    create(
        "elasticsearch-6",
        &["id"],
        &[
            ("hosts", "http://a:9200"),
            ("index", "i-{ts|yyyy}"),
            ("document-type", "_doc"),
            ("document-id.key-delimiter", "$"),
            ("username", "u"),
            ("password", "p"),
            ("failure-handler", "retry-rejected"),
            ("sink.flush-on-checkpoint", "true"),
            ("sink.bulk-flush.max-actions", "10"),
            ("sink.bulk-flush.max-size", "1mb"),
            ("sink.bulk-flush.interval", "0"),
            ("sink.bulk-flush.backoff.strategy", "EXPONENTIAL"),
            ("sink.bulk-flush.backoff.max-retries", "3"),
            ("sink.bulk-flush.backoff.delay", "10ms"),
            ("sink.delivery-guarantee", "at-least-once"),
            ("connection.path-prefix", "/es/"),
            ("connection.request-timeout", "5s"),
            ("connection.timeout", "1s"),
            ("socket.timeout", "10s"),
            ("connection.max-retry-timeout", "10s"),
            ("format", "json"),
            ("json.encode.ignore-null-fields", "true"),
            ("sink.parallelism", "2"),
        ],
    )
    .unwrap();
}

#[test]
fn backoff_strategies_become_retry_policies() {
    let policy = |pairs: &[(&str, &str)]| {
        let mut o = ConnectorOptions::new(
            "t",
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        take_backoff(&mut o).unwrap()
    };
    assert_eq!(policy(&[]).max_retries, 0);
    let c = policy(&[
        ("sink.bulk-flush.backoff.strategy", "CONSTANT"),
        ("sink.bulk-flush.backoff.delay", "20ms"),
    ]);
    assert_eq!(c.max_retries, DEFAULT_BACKOFF_RETRIES);
    assert!(!c.exponential);
    assert_eq!(c.initial_backoff, Duration::from_millis(20));
    assert_eq!(normalize_prefix(Some("es/".into())), "/es");
    assert_eq!(normalize_prefix(None), "");
}
