use datafusion::arrow::array::{Int32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::DataType;

use super::*;

#[test]
fn raw_values_by_type_charset_and_endianness() {
    let f = format("raw", &[], &schema(&[("v", DataType::Utf8)]));
    let (rows, _) = decode(&f, None, &[], &[Some("héllo\nworld"), None, Some("")]);
    assert_eq!(
        rows.expect("decodes"),
        vec!["0:héllo\nworld", "1:null", "2:"]
    );

    let f = format(
        "raw",
        &[("raw.endianness", "little-endian")],
        &schema(&[("v", DataType::Int32)]),
    );
    let mut m = Messages::default();
    m.push(Some(&7i32.to_le_bytes()));
    m.push(Some(&[1, 2]));
    let metrics = OperatorMetrics::default();
    let err = f
        .message_decoder(None, &[], 16)
        .expect("decoder")
        .decode(&m, &locate, &metrics)
        .expect_err("two bytes are not an INT")
        .to_string();
    assert!(
        err.contains("message 1") && err.contains("expected 4 bytes for INT, got 2"),
        "{err}"
    );

    let batch = RecordBatch::try_new(
        std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(vec![
            datafusion::arrow::datatypes::Field::new("v", DataType::Int32, true),
        ])),
        vec![std::sync::Arc::new(Int32Array::from(vec![Some(258), None]))],
    )
    .expect("batch");
    let out = f
        .message_encoder()
        .expect("encoder")
        .encode(&batch)
        .expect("encodes");
    assert_eq!(out.get(0), Some(&[2u8, 1, 0, 0][..]));
    assert_eq!(out.get(1), None, "a null value is a null message");

    let f = format(
        "raw",
        &[("raw.charset", "ISO-8859-1")],
        &schema(&[("v", DataType::Utf8)]),
    );
    let batch = RecordBatch::try_new(
        std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(vec![
            datafusion::arrow::datatypes::Field::new("v", DataType::Utf8, true),
        ])),
        vec![std::sync::Arc::new(StringArray::from(vec!["é"]))],
    )
    .expect("batch");
    let out = f
        .message_encoder()
        .expect("encoder")
        .encode(&batch)
        .expect("encodes");
    assert_eq!(out.get(0), Some(&[0xe9u8][..]));
}

#[test]
fn raw_rejects_bad_tables() {
    let mut opts = options(&[]);
    let two = schema(&[("a", DataType::Utf8), ("b", DataType::Utf8)]);
    let err = format_for("raw", &mut opts, &two)
        .expect_err("two columns")
        .to_string();
    assert!(err.contains("exactly one physical column"), "{err}");
    let mut opts = options(&[("raw.charset", "EBCDIC")]);
    let err = format_for("raw", &mut opts, &schema(&[("a", DataType::Utf8)]))
        .expect_err("unknown charset")
        .to_string();
    assert!(err.contains("unsupported charset"), "{err}");
}

#[test]
fn raw_lines_in_files() {
    let f = format("raw", &[], &schema(&[("line", DataType::Utf8)]));
    let mut d = f.decoder(None, 16).expect("decoder");
    let metrics = OperatorMetrics::default();
    let batches = d
        .decode(
            b"a b\nc\n",
            &crate::formats::RecordLocation::lines("f", 1),
            &metrics,
        )
        .expect("decodes");
    let rows: Vec<String> = batches
        .iter()
        .flat_map(|b| (0..b.num_rows()).map(|i| format_row(b.columns(), i)))
        .collect();
    assert_eq!(rows, vec!["a b", "c"]);
}
