//! Tests of the json and csv formats through the public format API.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::*;
use datafusion::arrow::datatypes::*;
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::ROW_KIND_COLUMN;
use sluice_engine::runtime::OperatorMetrics;

use super::*;

fn options(pairs: &[(&str, &str)]) -> ConnectorOptions {
    let values: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ConnectorOptions::new("t", values)
}

fn ts3() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, None)
}

fn ltz3() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

fn list_of(dt: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("element", dt, true)))
}

fn map_of(k: DataType, v: DataType) -> DataType {
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("key", k, false),
            Field::new("value", v, true),
        ])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

fn schema(fields: Vec<(&str, DataType)>) -> SchemaRef {
    Arc::new(Schema::new(
        fields
            .into_iter()
            .map(|(n, t)| Field::new(n, t, true))
            .collect::<Vec<_>>(),
    ))
}

fn decode_all(
    format: &str,
    pairs: &[(&str, &str)],
    schema: SchemaRef,
    data: &str,
) -> (sluice_engine::Result<Vec<RecordBatch>>, OperatorMetrics) {
    let mut opts = options(pairs);
    let mut decoder = decoder_for(format, &mut opts, schema).unwrap();
    opts.finish("test").unwrap();
    let metrics = OperatorMetrics::default();
    let location = RecordLocation::lines("file /data/in", 1);
    let out = decoder.decode(data.as_bytes(), &location, &metrics);
    (out, metrics)
}

fn one_batch(batches: Vec<RecordBatch>) -> RecordBatch {
    let schema = batches[0].schema();
    datafusion::arrow::compute::concat_batches(&schema, &batches).unwrap()
}

fn encode(format: &str, pairs: &[(&str, &str)], batch: &RecordBatch) -> String {
    let mut opts = options(pairs);
    let mut encoder = encoder_for(format, &mut opts, batch.schema()).unwrap();
    opts.finish("test").unwrap();
    let mut out = Vec::new();
    encoder.encode(batch, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn nested_schema() -> SchemaRef {
    schema(vec![
        ("id", DataType::Int32),
        ("name", DataType::Utf8),
        ("tags", list_of(DataType::Utf8)),
        ("attrs", map_of(DataType::Utf8, DataType::Int64)),
        (
            "addr",
            DataType::Struct(Fields::from(vec![
                Field::new("city", DataType::Utf8, true),
                Field::new("zip", DataType::Int32, true),
            ])),
        ),
        ("ts", ts3()),
        ("lts", ltz3()),
        ("price", DataType::Decimal128(10, 2)),
        ("raw", DataType::Binary),
        ("d", DataType::Date32),
    ])
}

#[test]
fn json_decodes_nested_types() {
    let data = concat!(
        r#"{"id":1,"name":"a","tags":["x","y"],"attrs":{"k":1},"addr":{"city":"c","zip":7},"#,
        r#""ts":"2024-01-02 03:04:05.123","lts":"2024-01-02 03:04:05.123Z","price":12.34,"#,
        r#""raw":"Zm9v","d":"2024-01-02"}"#,
        "\n\n",
        r#"{"id":2,"name":3,"tags":null,"ts":"2024-01-02T03:04:05.123","extra":{"x":1}}"#,
        "\n"
    );
    let (out, metrics) = decode_all("json", &[], nested_schema(), data);
    let batch = one_batch(out.unwrap());
    assert_eq!(batch.num_rows(), 2);
    assert_eq!(metrics.snapshot().records_skipped, 0);
    let names = batch.column(1).as_string::<i32>();
    assert_eq!((names.value(0), names.value(1)), ("a", "3"));
    let tags = batch.column(2).as_list::<i32>();
    assert_eq!(tags.value(0).as_string::<i32>().value(1), "y");
    assert!(tags.is_null(1));
    let attrs = batch.column(3).as_map();
    assert_eq!(
        attrs
            .value(0)
            .column(1)
            .as_primitive::<Int64Type>()
            .value(0),
        1
    );
    let addr = batch.column(4).as_struct();
    assert_eq!(addr.column(1).as_primitive::<Int32Type>().value(0), 7);
    let ts = batch.column(5).as_primitive::<TimestampMillisecondType>();
    assert_eq!(ts.value(0), 1_704_164_645_123);
    assert_eq!(ts.value(1), ts.value(0), "SQL and ISO forms decode alike");
    let lts = batch.column(6).as_primitive::<TimestampMillisecondType>();
    assert_eq!(lts.value(0), 1_704_164_645_123);
    assert_eq!(
        batch.column(7).as_primitive::<Decimal128Type>().value(0),
        1234
    );
    assert_eq!(batch.column(8).as_binary::<i32>().value(0), b"foo");
    assert_eq!(
        batch.column(9).as_primitive::<Date32Type>().value(0),
        19_724
    );

    // Written back in Flink's rendering.
    let text = encode("json", &[], &batch);
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        concat!(
            r#"{"id":1,"name":"a","tags":["x","y"],"attrs":{"k":1},"addr":{"city":"c","zip":7},"#,
            r#""ts":"2024-01-02 03:04:05.123","lts":"2024-01-02 03:04:05.123Z","price":12.34,"#,
            r#""raw":"Zm9v","d":"2024-01-02"}"#
        )
    );
}

#[test]
fn json_decodes_a_projection() {
    let mut opts = options(&[]);
    let format = format_for("json", &mut opts, &nested_schema()).unwrap();
    let mut decoder = format.decoder(Some(&[0, 4]), 10).unwrap();
    let batches = decoder
        .decode(
            br#"{"id":5,"name":"n","addr":{"city":"c","zip":1}}"#,
            &RecordLocation::lines("file x", 1),
            &OperatorMetrics::default(),
        )
        .unwrap();
    let batch = one_batch(batches);
    assert_eq!(batch.num_columns(), 2);
    assert_eq!(batch.schema().field(1).name(), "addr");
}

#[test]
fn json_malformed_line_names_file_and_line() {
    let s = schema(vec![("a", DataType::Int32), ("b", DataType::Utf8)]);
    let data = "{\"a\":1,\"b\":\"x\"}\n{\"a\":2}\n{\"a\":\"oops\"}\n{\"a\":4}\n";
    let (out, _) = decode_all("json", &[], s.clone(), data);
    let err = out.unwrap_err().to_string();
    assert!(err.contains("file /data/in, line 3"), "{err}");
    assert!(err.contains("oops"), "{err}");

    let (out, _) = decode_all("json", &[], s, "{\"a\":1}\n\n{\"a\":2,\n");
    let err = out.unwrap_err().to_string();
    assert!(err.contains("line 3"), "{err}");
}

#[test]
fn json_ignore_parse_errors_skips_and_counts() {
    let s = schema(vec![("a", DataType::Int32)]);
    let data = "{\"a\":1}\nnot json\n{\"a\":\"x\"}\n{\"a\":4}\n";
    let (out, metrics) = decode_all("json", &[("json.ignore-parse-errors", "true")], s, data);
    let batch = one_batch(out.unwrap());
    let a = batch.column(0).as_primitive::<Int32Type>();
    assert_eq!(a.values().to_vec(), vec![1, 4]);
    assert_eq!(metrics.snapshot().records_skipped, 2);
}

#[test]
fn json_fail_on_missing_field() {
    let s = schema(vec![("a", DataType::Int32), ("b", DataType::Utf8)]);
    let data = "{\"a\":1,\"b\":null}\n{\"a\":2}\n";
    let (out, _) = decode_all("json", &[], s.clone(), data);
    assert_eq!(one_batch(out.unwrap()).num_rows(), 2);
    let (out, _) = decode_all("json", &[("json.fail-on-missing-field", "true")], s, data);
    let err = out.unwrap_err().to_string();
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("'b'"), "{err}");
}

fn encode_sample() -> RecordBatch {
    let ts = TimestampMillisecondArray::from(vec![Some(1_704_164_645_120), None]);
    let lts =
        TimestampMillisecondArray::from(vec![Some(1_704_164_645_000), None]).with_timezone("UTC");
    let arr = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), None, Some(3)]),
        None,
    ]);
    let arr = datafusion::arrow::compute::cast(&arr, &list_of(DataType::Int32)).unwrap();
    let price = Decimal128Array::from(vec![Some(1230), None])
        .with_precision_and_scale(10, 2)
        .unwrap();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(vec![1, 2])),
        Arc::new(StringArray::from(vec![
            Some("hello \"world\""),
            Some("plain"),
        ])),
        Arc::new(ts),
        Arc::new(lts),
        Arc::new(Float64Array::from(vec![Some(1.0), Some(1e-4)])),
        arr,
        Arc::new(price),
        Arc::new(BooleanArray::from(vec![Some(true), None])),
        Arc::new(BinaryArray::from_opt_vec(vec![Some(b"foo"), None])),
    ];
    let s = schema(vec![
        ("id", DataType::Int32),
        ("s", DataType::Utf8),
        ("ts", ts3()),
        ("lts", ltz3()),
        ("d", DataType::Float64),
        ("arr", list_of(DataType::Int32)),
        ("price", DataType::Decimal128(10, 2)),
        ("b", DataType::Boolean),
        ("raw", DataType::Binary),
    ]);
    RecordBatch::try_new(s, columns).unwrap()
}

#[test]
fn json_encodes_exactly() {
    let batch = encode_sample();
    let expected = concat!(
        r#"{"id":1,"s":"hello \"world\"","ts":"2024-01-02 03:04:05.12","lts":"2024-01-02 03:04:05Z","#,
        r#""d":1.0,"arr":[1,null,3],"price":12.30,"b":true,"raw":"Zm9v"}"#,
        "\n",
        r#"{"id":2,"s":"plain","ts":null,"lts":null,"d":1.0E-4,"arr":null,"price":null,"b":null,"raw":null}"#,
        "\n"
    );
    assert_eq!(encode("json", &[], &batch), expected);

    let iso = encode(
        "json",
        &[
            ("json.timestamp-format.standard", "ISO-8601"),
            ("json.encode.ignore-null-fields", "true"),
        ],
        &batch.slice(0, 1),
    );
    assert!(
        iso.contains(r#""ts":"2024-01-02T03:04:05.12","lts":"2024-01-02T03:04:05Z""#),
        "{iso}"
    );
    let second = encode(
        "json",
        &[("json.encode.ignore-null-fields", "true")],
        &batch.slice(1, 1),
    );
    assert_eq!(second, "{\"id\":2,\"s\":\"plain\",\"d\":1.0E-4}\n");
}

#[test]
fn csv_encodes_exactly() {
    let batch = encode_sample();
    let expected = concat!(
        "1,\"hello \"\"world\"\"\",\"2024-01-02 03:04:05.12\",\"2024-01-02 03:04:05Z\",",
        "1.0,1;;3,12.30,true,Zm9v\n",
        "2,plain,,,1.0E-4,,,,\n"
    );
    assert_eq!(encode("csv", &[], &batch), expected);

    let custom = encode(
        "csv",
        &[
            ("csv.field-delimiter", "\\t"),
            ("csv.null-literal", "NULL"),
            ("csv.disable-quote-character", "true"),
        ],
        &batch.slice(1, 1),
    );
    assert_eq!(
        custom,
        "2\tplain\tNULL\tNULL\t1.0E-4\tNULL\tNULL\tNULL\tNULL\n"
    );
}

#[test]
fn row_kind_column_must_be_inserts() {
    let s = schema(vec![
        ("a", DataType::Int32),
        (ROW_KIND_COLUMN, DataType::Int8),
    ]);
    let ok = RecordBatch::try_new(
        s.clone(),
        vec![
            Arc::new(Int32Array::from(vec![1, 2])),
            Arc::new(Int8Array::from(vec![0, 0])),
        ],
    )
    .unwrap();
    let table = schema(vec![("a", DataType::Int32)]);
    for format in ["json", "csv"] {
        let mut opts = options(&[]);
        let mut encoder = encoder_for(format, &mut opts, table.clone()).unwrap();
        let mut out = Vec::new();
        encoder.encode(&ok, &mut out).unwrap();
        assert_eq!(out.iter().filter(|b| **b == b'\n').count(), 2);
        let retract = RecordBatch::try_new(
            s.clone(),
            vec![
                Arc::new(Int32Array::from(vec![1, 2])),
                Arc::new(Int8Array::from(vec![0, 1])),
            ],
        )
        .unwrap();
        let err = encoder.encode(&retract, &mut out).unwrap_err().to_string();
        assert!(err.contains("append-only") && err.contains("-U"), "{err}");
    }
}

fn csv_schema() -> SchemaRef {
    schema(vec![
        ("id", DataType::Int32),
        ("s", DataType::Utf8),
        ("n", DataType::Int64),
        ("ts", ts3()),
        ("tags", list_of(DataType::Int32)),
    ])
}

#[test]
fn csv_decodes_with_delimiter_quote_comments_and_null_literal() {
    let data = "# header comment\n1|'a|b'|N/A|2024-01-02 03:04:05|1;2\n\n2|''||2024-01-02T03:04:05.5|\n3|'multi\nline'| 7 |N/A|3\n";
    let (out, metrics) = decode_all(
        "csv",
        &[
            ("csv.field-delimiter", "|"),
            ("csv.quote-character", "'"),
            ("csv.allow-comments", "true"),
            ("csv.null-literal", "N/A"),
        ],
        csv_schema(),
        data,
    );
    let batch = one_batch(out.unwrap());
    assert_eq!(metrics.snapshot().records_skipped, 0);
    assert_eq!(batch.num_rows(), 3);
    let s = batch.column(1).as_string::<i32>();
    assert_eq!(s.value(0), "a|b");
    assert!(
        s.is_valid(1) && s.value(1).is_empty(),
        "empty text is '' for STRING"
    );
    assert_eq!(s.value(2), "multi\nline");
    let n = batch.column(2).as_primitive::<Int64Type>();
    assert!(n.is_null(0) && n.is_null(1));
    assert_eq!(n.value(2), 7);
    let ts = batch.column(3).as_primitive::<TimestampMillisecondType>();
    assert_eq!(ts.value(0), 1_704_164_645_000);
    assert_eq!(ts.value(1), 1_704_164_645_500);
    assert!(ts.is_null(2));
    let tags = batch.column(4).as_list::<i32>();
    assert_eq!(
        tags.value(0).as_primitive::<Int32Type>().values().to_vec(),
        vec![1, 2]
    );
    assert!(tags.is_null(1));
}

#[test]
fn csv_malformed_record_names_line_and_ignore_parse_errors() {
    let data = "1,a,1,,\n2,b,2,,\n3,c,notanumber,,\n4,d\n5,e,5,,,extra\n";
    let (out, _) = decode_all("csv", &[], csv_schema(), data);
    let err = out.unwrap_err().to_string();
    assert!(err.contains("file /data/in, line 3"), "{err}");
    assert!(
        err.contains("notanumber") && err.contains("BIGINT"),
        "{err}"
    );

    // Like Flink: an unparsable field becomes null, a short row is padded,
    // a row that does not parse is dropped; each is counted.
    let (out, metrics) = decode_all(
        "csv",
        &[("csv.ignore-parse-errors", "true")],
        csv_schema(),
        data,
    );
    let batch = one_batch(out.unwrap());
    let ids = batch.column(0).as_primitive::<Int32Type>();
    assert_eq!(ids.values().to_vec(), vec![1, 2, 3, 4]);
    assert!(batch.column(2).is_null(2));
    assert_eq!(metrics.snapshot().records_skipped, 2);
}

#[test]
fn csv_chunks_end_between_records() {
    let mut opts = options(&[]);
    let decoder = decoder_for("csv", &mut opts, csv_schema()).unwrap();
    let data = b"1,\"a\nb\",1,,\n2,\"c";
    assert_eq!(decoder.complete_prefix(data, false), 12);
    assert_eq!(decoder.complete_prefix(data, true), data.len());
}

#[test]
fn format_option_errors() {
    let s = schema(vec![("a", DataType::Int32)]);
    let mut opts = options(&[]);
    let err = format_for("avro", &mut opts, &s).unwrap_err().to_string();
    assert!(
        err.contains("option 'format'") && err.contains("csv, debezium-json, json"),
        "{err}"
    );

    let mut opts = options(&[("json.ignore-parse-errors", "maybe")]);
    let err = format_for("json", &mut opts, &s).unwrap_err().to_string();
    assert!(
        err.contains("json.ignore-parse-errors") && err.contains("maybe"),
        "{err}"
    );

    let mut opts = options(&[("csv.field-delimiter", ";;")]);
    let err = format_for("csv", &mut opts, &s).unwrap_err().to_string();
    assert!(err.contains("csv.field-delimiter"), "{err}");

    let mut opts = options(&[("json.timestamp-format.standard", "RFC")]);
    let err = format_for("json", &mut opts, &s).unwrap_err().to_string();
    assert!(err.contains("SQL, ISO-8601"), "{err}");

    // A csv key under format 'json' is left over: the table reports it.
    let mut opts = options(&[("csv.field-delimiter", ";")]);
    format_for("json", &mut opts, &s).unwrap();
    let err = opts.finish("filesystem").unwrap_err().to_string();
    assert!(
        err.contains("'csv.field-delimiter'") && err.contains("json.ignore-parse-errors"),
        "{err}"
    );

    let m = schema(vec![("m", map_of(DataType::Int32, DataType::Int32))]);
    let err = format_for("json", &mut options(&[]), &m)
        .unwrap_err()
        .to_string();
    assert!(err.contains("non-string"), "{err}");
    let err = format_for("csv", &mut options(&[]), &m)
        .unwrap_err()
        .to_string();
    assert!(err.contains("column 'm'"), "{err}");
}

#[test]
fn decoders_respect_the_batch_size() {
    let s = schema(vec![("a", DataType::Int32)]);
    let json: String = (0..10).map(|i| format!("{{\"a\":{i}}}\n")).collect();
    let csv: String = (0..10).map(|i| format!("{i}\n")).collect();
    for (format, data) in [("json", json), ("csv", csv)] {
        let format = format_for(format, &mut options(&[]), &s).unwrap();
        let mut decoder = format.decoder(None, 3).unwrap();
        let batches = decoder
            .decode(
                data.as_bytes(),
                &RecordLocation::lines("f", 1),
                &OperatorMetrics::default(),
            )
            .unwrap();
        let sizes: Vec<usize> = batches.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(sizes, vec![3, 3, 3, 1], "{}", format.name());
        let all = one_batch(batches);
        let a = all.column(0).as_primitive::<Int32Type>();
        assert_eq!(a.values().to_vec(), (0..10).collect::<Vec<_>>());
    }
}

#[test]
fn csv_rows_and_escapes_round_trip() {
    let s = schema(vec![
        (
            "r",
            DataType::Struct(Fields::from(vec![
                Field::new("x", DataType::Int32, true),
                Field::new("y", DataType::Utf8, true),
            ])),
        ),
        ("s", DataType::Utf8),
    ]);
    let pairs = [("csv.escape-character", "\\\\")];
    let data = "1;a,\"say \\\"hi\\\"\"\n;,x\n";
    let (out, _) = decode_all("csv", &pairs, s, data);
    let batch = one_batch(out.unwrap());
    let r = batch.column(0).as_struct();
    assert_eq!(r.column(0).as_primitive::<Int32Type>().value(0), 1);
    assert_eq!(r.column(1).as_string::<i32>().value(0), "a");
    assert!(r.column(0).is_null(1));
    assert_eq!(batch.column(1).as_string::<i32>().value(0), "say \"hi\"");
    // Like Jackson, quotes are doubled even when an escape character is set.
    assert_eq!(
        encode("csv", &pairs, &batch),
        "1;a,\"say \"\"hi\"\"\"\n;,x\n"
    );
}
