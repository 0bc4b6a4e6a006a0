//! Option validation (no database needed; the end-to-end tests against
//! MariaDB and PostgreSQL are in the root crate's `tests/jdbc*.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{ChangelogMode, Connector, ConnectorTable, TableContext};

use super::JdbcConnector;

fn create(
    fields: Vec<Field>,
    pk: &[&str],
    options: &[(&str, &str)],
) -> sluice_engine::Result<Arc<dyn ConnectorTable>> {
    let values: BTreeMap<String, String> = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut opts = ConnectorOptions::new("t", values);
    let pk: Vec<String> = pk.iter().map(|s| s.to_string()).collect();
    JdbcConnector.create(TableContext {
        table_name: "t",
        physical_schema: Arc::new(Schema::new(fields)),
        metadata_columns: &[],
        primary_key: &pk,
        partition_keys: &[],
        options: &mut opts,
    })
}

fn base() -> Vec<(&'static str, &'static str)> {
    vec![
        ("url", "jdbc:mysql://127.0.0.1:3306/test"),
        ("table-name", "orders"),
    ]
}

fn ints() -> Vec<Field> {
    vec![
        Field::new("id", DataType::Int64, false),
        Field::new("v", DataType::Utf8, true),
    ]
}

fn err(fields: Vec<Field>, options: &[(&str, &str)]) -> String {
    create(fields, &[], options).unwrap_err().to_string()
}

#[test]
fn primary_key_makes_an_upsert_sink() {
    let t = create(ints(), &["id"], &base()).unwrap();
    assert_eq!(
        t.sink().unwrap().accepted_changelog(),
        ChangelogMode::Upsert(vec!["id".into()])
    );
    let t = create(ints(), &[], &base()).unwrap();
    assert_eq!(
        t.sink().unwrap().accepted_changelog(),
        ChangelogMode::AppendOnly
    );
    assert_eq!(t.source().unwrap().parallelism(), Some(1));
}

#[test]
fn unknown_and_missing_keys_are_named() {
    let mut o = base();
    o.push(("sink.buffer-flush.max-row", "5"));
    let e = err(ints(), &o);
    assert!(
        e.contains("unsupported option 'sink.buffer-flush.max-row'"),
        "{e}"
    );
    assert!(e.contains("sink.buffer-flush.max-rows"), "{e}");
    let e = err(ints(), &[("url", "jdbc:mysql://h/db")]);
    assert!(e.contains("missing required option 'table-name'"), "{e}");
    let e = err(
        ints(),
        &[("url", "jdbc:sqlserver://h/db"), ("table-name", "x")],
    );
    assert!(
        e.contains("option 'url': unsupported JDBC database 'sqlserver'"),
        "{e}"
    );
}

#[test]
fn types_without_a_mapping_are_rejected_per_dialect() {
    let list = Field::new(
        "tags",
        DataType::List(Arc::new(Field::new("element", DataType::Utf8, true))),
        true,
    );
    let e = err(vec![list.clone()], &base());
    assert!(
        e.contains(
            "column 'tags': the jdbc connector does not support type ARRAY<STRING> for MySQL"
        ),
        "{e}"
    );
    let pg = [
        ("url", "jdbc:postgresql://127.0.0.1/test"),
        ("table-name", "x"),
    ];
    create(vec![list], &[], &pg).expect("PostgreSQL has arrays");
    let row = Field::new(
        "r",
        DataType::Struct(vec![Field::new("a", DataType::Int32, true)].into()),
        true,
    );
    assert!(err(vec![row], &pg).contains("does not support type ROW<`a` INT>"));
}

#[test]
fn partition_options_come_together_and_fit() {
    let mut o = base();
    o.push(("scan.partition.column", "id"));
    assert!(err(ints(), &o).contains("must all be set, or none"));
    o.extend([
        ("scan.partition.num", "4"),
        ("scan.partition.lower-bound", "1"),
        ("scan.partition.upper-bound", "100"),
    ]);
    let t = create(ints(), &[], &o).unwrap();
    assert_eq!(t.source().unwrap().parallelism(), Some(4));
    let mut bad = o.clone();
    bad.retain(|(k, _)| *k != "scan.partition.upper-bound");
    bad.push(("scan.partition.upper-bound", "2"));
    assert!(err(ints(), &bad).contains("4 partitions do not fit the 2 values"));
    let mut on_text = o.clone();
    on_text.retain(|(k, _)| *k != "scan.partition.column");
    on_text.push(("scan.partition.column", "v"));
    assert!(
        err(ints(), &on_text).contains("not supported yet: partitioned scans on a STRING column")
    );
}

#[test]
fn incremental_options_are_checked() {
    let mut o = base();
    o.push(("scan.incremental.start", "5"));
    assert!(err(ints(), &o).contains("requires 'scan.incremental.column'"));
    o.push(("scan.incremental.column", "id"));
    create(ints(), &[], &o).expect("valid incremental table");
    o.retain(|(k, _)| *k != "scan.incremental.start");
    o.push(("scan.incremental.start", "five"));
    let e = err(ints(), &o);
    assert!(
        e.contains("option 'scan.incremental.start': expected an integer, got 'five'"),
        "{e}"
    );
}

#[test]
fn lookup_options_are_not_supported_yet() {
    let mut o = base();
    o.push(("lookup.cache.max-rows", "10"));
    assert!(err(ints(), &o).contains("not supported yet: JDBC lookup joins"));
}
