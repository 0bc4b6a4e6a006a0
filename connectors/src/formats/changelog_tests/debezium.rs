use datafusion::arrow::array::{Int8Array, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use sluice_engine::connector::RowKind;

use super::*;

fn products() -> SchemaRef {
    schema(&[
        ("id", DataType::Int32),
        ("name", DataType::Utf8),
        ("weight", DataType::Float64),
    ])
}

const SOURCE: &str = r#"{"version":"1.9.7.Final","connector":"mysql","name":"dbserver1","ts_ms":1589362330000,"snapshot":"false","db":"inventory","sequence":null,"table":"products","server_id":223344,"gtid":null,"file":"mysql-bin.000003","pos":484,"row":0,"thread":7,"query":null}"#;

fn event(before: &str, after: &str, op: &str, ts: i64) -> String {
    format!(
        r#"{{"before":{before},"after":{after},"source":{SOURCE},"op":"{op}","ts_ms":{ts},"transaction":null}}"#
    )
}

fn events() -> Vec<String> {
    let v1 = r#"{"id":111,"name":"scooter","weight":5.18}"#;
    let v2 = r#"{"id":111,"name":"scooter","weight":5.15}"#;
    vec![
        event(
            "null",
            r#"{"id":110,"name":"bike","weight":1.5}"#,
            "r",
            1589355606100,
        ),
        event("null", v1, "c", 1589362330904),
        event(v1, v2, "u", 1589362344455),
        event(v2, "null", "d", 1589362350000),
    ]
}

#[test]
fn debezium_events_become_a_changelog() {
    let f = format("debezium-json", &[], &products());
    let e = events();
    let mut payloads: Vec<Option<&str>> = e.iter().map(|s| Some(s.as_str())).collect();
    payloads.push(None); // Debezium's tombstone after a delete
    let (rows, _) = decode(&f, None, &[], &payloads);
    assert_eq!(
        rows.expect("decodes"),
        vec![
            "0:+I[110, bike, 1.5]",
            "1:+I[111, scooter, 5.18]",
            "2:-U[111, scooter, 5.18]",
            "2:+U[111, scooter, 5.15]",
            "3:-D[111, scooter, 5.15]",
        ]
    );
}

#[test]
fn debezium_metadata_and_schema_include() {
    let f = format("debezium-json", &[], &products());
    let e = events();
    let (rows, _) = decode(
        &f,
        Some(&[0]),
        &[
            "ingestion-timestamp",
            "source.timestamp",
            "source.database",
            "source.table",
        ],
        &[Some(&e[2])],
    );
    assert_eq!(
        rows.expect("decodes"),
        vec![
            "0:-U[111, 2020-05-13 09:32:24.455, 2020-05-13 09:32:10.000, inventory, products]",
            "0:+U[111, 2020-05-13 09:32:24.455, 2020-05-13 09:32:10.000, inventory, products]",
        ]
    );
    let f = format(
        "debezium-json",
        &[("debezium-json.schema-include", "true")],
        &products(),
    );
    let wrapped = format!(
        r#"{{"schema":{{"type":"struct","fields":[],"optional":false,"name":"dbserver1.inventory.products.Envelope"}},"payload":{}}}"#,
        e[3]
    );
    let (rows, _) = decode(&f, None, &["schema"], &[Some(&wrapped)]);
    let rows = rows.expect("decodes");
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0].starts_with("0:-D[111, scooter, 5.15, {"),
        "{rows:?}"
    );
    assert!(rows[0].contains("Envelope"), "{rows:?}");
    assert!(
        f.message_encoder().is_err(),
        "schema-include cannot be written"
    );
}

#[test]
fn debezium_update_without_before_names_replica_identity() {
    let f = format("debezium-json", &[], &products());
    let bad = event("null", r#"{"id":1,"name":"x","weight":1}"#, "u", 1);
    let (rows, _) = decode(&f, None, &[], &[Some(&bad)]);
    let err = rows.expect_err("no before image").to_string();
    assert!(
        err.contains("message 0") && err.contains("REPLICA IDENTITY"),
        "{err}"
    );
    let f = format(
        "debezium-json",
        &[("debezium-json.ignore-parse-errors", "true")],
        &products(),
    );
    let (rows, skipped) = decode(
        &f,
        None,
        &[],
        &[Some(&bad), Some("{oops"), Some(&events()[1])],
    );
    assert_eq!(rows.expect("skips"), vec!["2:+I[111, scooter, 5.18]"]);
    assert_eq!(skipped, 2);
}

#[test]
fn debezium_writes_creates_and_deletes() {
    let s = schema(&[("id", DataType::Int32)]);
    let f = format("debezium-json", &[], &s);
    let batch = RecordBatch::try_new(
        std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(vec![
            datafusion::arrow::datatypes::Field::new("id", DataType::Int32, true),
            datafusion::arrow::datatypes::Field::new(
                sluice_engine::connector::ROW_KIND_COLUMN,
                DataType::Int8,
                false,
            ),
        ])),
        vec![
            std::sync::Arc::new(datafusion::arrow::array::Int32Array::from(vec![1, 1, 2, 2])),
            std::sync::Arc::new(Int8Array::from(vec![
                RowKind::Insert as i8,
                RowKind::UpdateBefore as i8,
                RowKind::UpdateAfter as i8,
                RowKind::Delete as i8,
            ])),
        ],
    )
    .expect("batch");
    let out = f
        .message_encoder()
        .expect("encoder")
        .encode(&batch)
        .expect("encodes");
    let texts: Vec<&str> = (0..out.len())
        .map(|i| std::str::from_utf8(out.get(i).unwrap()).unwrap())
        .collect();
    assert_eq!(
        texts,
        vec![
            r#"{"before":null,"after":{"id":1},"op":"c"}"#,
            r#"{"before":{"id":1},"after":null,"op":"d"}"#,
            r#"{"before":null,"after":{"id":2},"op":"c"}"#,
            r#"{"before":{"id":2},"after":null,"op":"d"}"#,
        ]
    );
}
