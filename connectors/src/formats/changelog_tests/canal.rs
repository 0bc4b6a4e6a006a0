use datafusion::arrow::array::{AsArray, Int8Array, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use sluice_engine::connector::RowKind;

use super::*;

fn products() -> SchemaRef {
    schema(&[
        ("id", DataType::Int32),
        ("name", DataType::Utf8),
        ("description", DataType::Utf8),
        ("weight", DataType::Float64),
    ])
}

/// Canal's own output for an insert, an update of `weight`, a delete and
/// a DDL statement (values are strings, `old` holds only changed fields).
const INSERT: &str = r#"{"data":[{"id":"111","name":"scooter","description":"Big 2-wheel scooter","weight":"5.18"},{"id":"112","name":"car","description":null,"weight":"1000"}],"database":"inventory","es":1589373515000,"id":3,"isDdl":false,"mysqlType":{"id":"INTEGER","name":"VARCHAR(255)","description":"VARCHAR(512)","weight":"FLOAT"},"old":null,"pkNames":["id"],"sql":"","sqlType":{"id":4,"name":12,"description":12,"weight":7},"table":"products","ts":1589373515477,"type":"INSERT"}"#;
const UPDATE: &str = r#"{"data":[{"id":"111","name":"scooter","description":"Big 2-wheel scooter","weight":"5.15"}],"database":"inventory","es":1589373560000,"id":9,"isDdl":false,"mysqlType":{"id":"INTEGER","name":"VARCHAR(255)","description":"VARCHAR(512)","weight":"FLOAT"},"old":[{"weight":"5.18"}],"pkNames":["id"],"sql":"","sqlType":{"id":4,"name":12,"description":12,"weight":7},"table":"products","ts":1589373560798,"type":"UPDATE"}"#;
const DELETE: &str = r#"{"data":[{"id":"111","name":"scooter","description":"Big 2-wheel scooter","weight":"5.15"}],"database":"inventory","es":1589373566000,"id":10,"isDdl":false,"mysqlType":{"id":"INTEGER","name":"VARCHAR(255)","description":"VARCHAR(512)","weight":"FLOAT"},"old":null,"pkNames":["id"],"sql":"","sqlType":{"id":4,"name":12,"description":12,"weight":7},"table":"products","ts":1589373566798,"type":"DELETE"}"#;
const DDL: &str = r#"{"data":null,"database":"inventory","es":1589373600000,"id":11,"isDdl":true,"mysqlType":null,"old":null,"pkNames":null,"sql":"ALTER TABLE products ADD COLUMN c INT","sqlType":null,"table":"products","ts":1589373600100,"type":"ALTER"}"#;

#[test]
fn canal_events_become_a_changelog() {
    let f = format("canal-json", &[], &products());
    let (rows, skipped) = decode(
        &f,
        None,
        &[],
        &[Some(INSERT), None, Some(UPDATE), Some(DDL), Some(DELETE)],
    );
    assert_eq!(
        rows.expect("decodes"),
        vec![
            "0:+I[111, scooter, Big 2-wheel scooter, 5.18]",
            "0:+I[112, car, null, 1000.0]",
            "2:-U[111, scooter, Big 2-wheel scooter, 5.18]",
            "2:+U[111, scooter, Big 2-wheel scooter, 5.15]",
            "4:-D[111, scooter, Big 2-wheel scooter, 5.15]",
        ]
    );
    assert_eq!(skipped, 0);
}

#[test]
fn canal_projection_metadata_and_filters() {
    let f = format(
        "canal-json",
        &[
            ("canal-json.database.include", "inv.*"),
            ("canal-json.table.include", "products"),
        ],
        &products(),
    );
    let (rows, _) = decode(
        &f,
        Some(&[3, 0]),
        &[
            "database",
            "table",
            "ingestion-timestamp",
            "event-timestamp",
            "pk-names",
        ],
        &[
            Some(UPDATE),
            Some(&UPDATE.replace("\"products\"", "\"other\"")),
        ],
    );
    assert_eq!(
        rows.expect("decodes"),
        vec![
            "0:-U[5.18, 111, inventory, products, 2020-05-13 12:39:20.798, 2020-05-13 12:39:20.000, [id]]",
            "0:+U[5.15, 111, inventory, products, 2020-05-13 12:39:20.798, 2020-05-13 12:39:20.000, [id]]",
        ]
    );
    let f = format(
        "canal-json",
        &[("canal-json.database.include", "other")],
        &products(),
    );
    let (rows, _) = decode(&f, None, &[], &[Some(INSERT)]);
    assert_eq!(rows.expect("decodes"), Vec::<String>::new());
}

#[test]
fn canal_bad_events_fail_or_are_skipped() {
    let f = format("canal-json", &[], &products());
    let bad_type = INSERT.replace("\"INSERT\"", "\"UPSERT\"");
    let (rows, _) = decode(&f, None, &[], &[Some(INSERT), Some(&bad_type)]);
    let err = rows.expect_err("unknown type").to_string();
    assert!(
        err.contains("message 1") && err.contains("Unknown \"type\" value \"UPSERT\""),
        "{err}"
    );
    let (rows, _) = decode(
        &f,
        None,
        &[],
        &[Some("{\"data\":[{\"id\":\"x\"}],\"type\":\"INSERT\"}")],
    );
    assert!(
        rows.expect_err("not a number")
            .to_string()
            .contains("message 0")
    );

    let f = format(
        "canal-json",
        &[("canal-json.ignore-parse-errors", "true")],
        &products(),
    );
    let (rows, skipped) = decode(
        &f,
        None,
        &[],
        &[Some("{not json"), Some(&bad_type), Some(DELETE)],
    );
    assert_eq!(rows.expect("skips").len(), 1);
    assert_eq!(skipped, 2);
}

#[test]
fn canal_writes_inserts_and_deletes() {
    let s = schema(&[("id", DataType::Int32), ("name", DataType::Utf8)]);
    let f = format("canal-json", &[], &s);
    let batch = RecordBatch::try_new(
        std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(vec![
            datafusion::arrow::datatypes::Field::new("id", DataType::Int32, true),
            datafusion::arrow::datatypes::Field::new("name", DataType::Utf8, true),
            datafusion::arrow::datatypes::Field::new(
                sluice_engine::connector::ROW_KIND_COLUMN,
                DataType::Int8,
                false,
            ),
        ])),
        vec![
            std::sync::Arc::new(datafusion::arrow::array::Int32Array::from(vec![1, 1, 1, 1])),
            std::sync::Arc::new(datafusion::arrow::array::StringArray::from(vec![
                "a", "a", "b", "b",
            ])),
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
            r#"{"data":[{"id":1,"name":"a"}],"type":"INSERT"}"#,
            r#"{"data":[{"id":1,"name":"a"}],"type":"DELETE"}"#,
            r#"{"data":[{"id":1,"name":"b"}],"type":"INSERT"}"#,
            r#"{"data":[{"id":1,"name":"b"}],"type":"DELETE"}"#,
        ]
    );
    // What it writes, it reads back.
    let (rows, _) = decode(
        &f,
        None,
        &[],
        &texts.iter().map(|t| Some(*t)).collect::<Vec<_>>(),
    );
    assert_eq!(
        rows.expect("decodes"),
        vec!["0:+I[1, a]", "1:-D[1, a]", "2:+I[1, b]", "3:-D[1, b]"]
    );
    let _ = batch
        .column(0)
        .as_primitive::<datafusion::arrow::datatypes::Int32Type>();
}
