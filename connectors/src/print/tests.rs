use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Int8Array, Int32Array, StringArray, StructArray,
    TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{
    ChangelogMode, Connector, ConnectorTable, ROW_KIND_COLUMN, TableContext,
};

use super::{PrintConnector, line_prefix, render_batch};

fn render(batch: &RecordBatch, prefix: &str) -> String {
    let mut out = String::new();
    render_batch(&mut out, prefix, batch).unwrap();
    out
}

fn create(options: &[(&str, &str)]) -> sluice_engine::Result<Arc<dyn ConnectorTable>> {
    let values: BTreeMap<String, String> = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut opts = ConnectorOptions::new("t", values);
    PrintConnector.create(TableContext {
        table_name: "t",
        physical_schema: Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true)])),
        metadata_columns: &[],
        primary_key: &[],
        partition_keys: &[],
        options: &mut opts,
    })
}

#[test]
fn prefix_follows_flink() {
    assert_eq!(line_prefix(None, 0, 1), "");
    assert_eq!(line_prefix(None, 1, 2), "2> ");
    assert_eq!(line_prefix(Some("sink"), 0, 1), "sink> ");
    assert_eq!(line_prefix(Some("sink"), 2, 4), "sink:3> ");
    assert_eq!(line_prefix(Some(""), 0, 1), "");
    assert_eq!(line_prefix(Some(""), 0, 2), "1> ");
}

#[test]
fn rows_are_printed_with_their_kind() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, true),
        Field::new("name", DataType::Utf8, true),
        Field::new(ROW_KIND_COLUMN, DataType::Int8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int32Array::from(vec![Some(1), Some(2), None, Some(4)])),
            Arc::new(StringArray::from(vec![
                Some("abc"),
                None,
                Some("x y"),
                Some(""),
            ])),
            Arc::new(Int8Array::from(vec![0, 1, 2, 3])),
        ],
    )
    .unwrap();
    assert_eq!(
        render(&batch, ""),
        "+I[1, abc]\n-U[2, null]\n+U[null, x y]\n-D[4, ]\n"
    );
    assert_eq!(
        render(&batch.slice(0, 1), "sink:2> "),
        "sink:2> +I[1, abc]\n"
    );
}

#[test]
fn rows_without_kind_column_are_inserts() {
    let ts = TimestampMillisecondArray::from(vec![1_704_164_645_123]);
    let inner: ArrayRef = Arc::new(Int32Array::from(vec![7]));
    let row = StructArray::from(vec![(
        Arc::new(Field::new("x", DataType::Int32, true)),
        inner,
    )]);
    let batch = RecordBatch::try_from_iter(vec![
        ("b", Arc::new(BooleanArray::from(vec![true])) as ArrayRef),
        ("ts", Arc::new(ts) as ArrayRef),
        (
            "by",
            Arc::new(BinaryArray::from(vec![&[10u8, 255][..]])) as ArrayRef,
        ),
        ("r", Arc::new(row) as ArrayRef),
    ])
    .unwrap();
    assert_eq!(
        render(&batch, "1> "),
        "1> +I[true, 2024-01-02T03:04:05.123, [10, -1], +I[7]]\n"
    );
}

#[test]
fn invalid_row_kind_is_an_error() {
    let batch = RecordBatch::try_from_iter(vec![
        ("a", Arc::new(Int32Array::from(vec![1])) as ArrayRef),
        (
            ROW_KIND_COLUMN,
            Arc::new(Int8Array::from(vec![9])) as ArrayRef,
        ),
    ])
    .unwrap();
    let mut out = String::new();
    assert!(render_batch(&mut out, "", &batch).is_err());
}

#[test]
fn options_are_validated() {
    let table = create(&[
        ("print-identifier", "out"),
        ("standard-error", "true"),
        ("sink.parallelism", "2"),
    ])
    .unwrap();
    let sink = table.sink().unwrap();
    assert_eq!(sink.parallelism(), Some(2));
    assert_eq!(sink.accepted_changelog(), ChangelogMode::Retract);
    assert!(table.source().is_none());

    let err = create(&[("print-identifer", "x")]).unwrap_err().to_string();
    assert!(err.contains("'print-identifer'"), "{err}");
    assert!(
        err.contains(
            "valid options are: connector, print-identifier, sink.parallelism, standard-error"
        ),
        "{err}"
    );
    assert!(create(&[("standard-error", "maybe")]).is_err());
    assert!(create(&[("sink.parallelism", "0")]).is_err());
}
