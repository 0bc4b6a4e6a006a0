//! Flink's value rendering (`sluice_engine::display`) for every type, in the
//! SQL client's style and in the print connector's style.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array,
    Float64Array, Int8Array, Int64Array, ListArray, MapArray, NullArray, StringArray, StructArray,
    Time32MillisecondArray, Time64MicrosecondArray, TimestampMicrosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Int32Type};
use sluice_engine::display::{
    DisplayStyle, format_cell, format_row, format_row_with, format_value, format_value_with,
};

/// (SQL client, print) renderings of every row of `array`.
fn both(array: &dyn Array) -> Vec<(String, String)> {
    (0..array.len())
        .map(|i| {
            (
                format_value(array, i),
                format_value_with(array, i, DisplayStyle::Print),
            )
        })
        .collect()
}

fn same(array: &dyn Array, expected: &[&str]) {
    let got = both(array);
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|e| (e.to_string(), e.to_string()))
        .collect();
    assert_eq!(got, want);
}

fn pairs(array: &dyn Array, expected: &[(&str, &str)]) {
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(both(array), want);
}

#[test]
fn integers_and_strings() {
    same(
        &Int8Array::from(vec![Some(-128), None, Some(7)]),
        &["-128", "null", "7"],
    );
    same(&Int64Array::from(vec![i64::MAX]), &["9223372036854775807"]);
    same(
        &StringArray::from(vec![Some("abc"), Some(""), None]),
        &["abc", "", "null"],
    );
}

#[test]
fn booleans() {
    pairs(
        &BooleanArray::from(vec![Some(true), Some(false), None]),
        &[("TRUE", "true"), ("FALSE", "false"), ("null", "null")],
    );
}

#[test]
fn floats_follow_java() {
    same(
        &Float64Array::from(vec![
            1.0, -2.5, 0.001, 1e7, 1.0e-4, 123456.789, 0.0, -0.0, 1e21,
        ]),
        &[
            "1.0",
            "-2.5",
            "0.001",
            "1.0E7",
            "1.0E-4",
            "123456.789",
            "0.0",
            "-0.0",
            "1.0E21",
        ],
    );
    same(
        &Float64Array::from(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1.2345e-10]),
        &["NaN", "Infinity", "-Infinity", "1.2345E-10"],
    );
    same(
        &Float32Array::from(vec![0.1f32, 3.0, 1.5e10]),
        &["0.1", "3.0", "1.5E10"],
    );
}

#[test]
fn decimals_keep_their_scale() {
    let d = |v: Vec<i128>, p, s| {
        Decimal128Array::from(v)
            .with_precision_and_scale(p, s)
            .unwrap()
    };
    same(
        &d(vec![150, -5, 0, 12345], 10, 2),
        &["1.50", "-0.05", "0.00", "123.45"],
    );
    same(&d(vec![42], 5, 0), &["42"]);
    // BigDecimal.toString switches to scientific notation for tiny values.
    pairs(
        &d(vec![1, 0], 10, 8),
        &[("0.00000001", "1E-8"), ("0.00000000", "0E-8")],
    );
}

#[test]
fn dates_and_times() {
    same(
        &Date32Array::from(vec![19724, 0, -1]),
        &["2024-01-02", "1970-01-01", "1969-12-31"],
    );
    // 03:04:05, 03:04:05.120, 03:04:00
    pairs(
        &Time32MillisecondArray::from(vec![11_045_000, 11_045_120, 11_040_000]),
        &[
            ("03:04:05", "03:04:05"),
            ("03:04:05.12", "03:04:05.120"),
            ("03:04:00", "03:04"),
        ],
    );
    pairs(
        &Time64MicrosecondArray::from(vec![11_045_000_001]),
        &[("03:04:05.000001", "03:04:05.000001")],
    );
}

#[test]
fn timestamps_show_their_precision() {
    let ms = 1_704_164_645_123i64; // 2024-01-02 03:04:05.123 UTC
    pairs(
        &TimestampMillisecondArray::from(vec![ms, ms - 123, ms - 5123]),
        &[
            ("2024-01-02 03:04:05.123", "2024-01-02T03:04:05.123"),
            ("2024-01-02 03:04:05.000", "2024-01-02T03:04:05"),
            ("2024-01-02 03:04:00.000", "2024-01-02T03:04"),
        ],
    );
    pairs(
        &TimestampMicrosecondArray::from(vec![ms * 1000 + 400]),
        &[("2024-01-02 03:04:05.123400", "2024-01-02T03:04:05.123400")],
    );
    pairs(
        &TimestampNanosecondArray::from(vec![ms * 1_000_000 + 7]),
        &[(
            "2024-01-02 03:04:05.123000007",
            "2024-01-02T03:04:05.123000007",
        )],
    );
    // TIMESTAMP_LTZ: the session zone (UTC for now); print shows an Instant.
    pairs(
        &TimestampMillisecondArray::from(vec![ms, ms - 5123]).with_timezone("UTC"),
        &[
            ("2024-01-02 03:04:05.123", "2024-01-02T03:04:05.123Z"),
            ("2024-01-02 03:04:00.000", "2024-01-02T03:04:00Z"),
        ],
    );
    pairs(
        &TimestampMillisecondArray::from(vec![-1]),
        &[("1969-12-31 23:59:59.999", "1969-12-31T23:59:59.999")],
    );
}

#[test]
fn bytes() {
    pairs(
        &BinaryArray::from(vec![&[0x0a_u8, 0x0b, 0xff][..], &[][..]]),
        &[("x'0a0bff'", "[10, 11, -1]"), ("x''", "[]")],
    );
}

#[test]
fn arrays_maps_and_rows() {
    let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        Some(vec![None]),
        Some(vec![]),
        None,
    ]);
    same(&list, &["[1, 2]", "[null]", "[]", "null"]);

    let entries = StructArray::from(vec![
        (
            Arc::new(Field::new("key", DataType::Utf8, false)),
            Arc::new(StringArray::from(vec!["k1", "k2", "k3"])) as ArrayRef,
        ),
        (
            Arc::new(Field::new("value", DataType::Int64, true)),
            Arc::new(Int64Array::from(vec![Some(1), None, Some(3)])) as ArrayRef,
        ),
    ]);
    let entries_field = Arc::new(Field::new("entries", entries.data_type().clone(), false));
    let map = MapArray::try_new(
        entries_field,
        OffsetBuffer::new(vec![0, 2, 3].into()),
        entries,
        None,
        false,
    )
    .unwrap();
    same(&map, &["{k1=1, k2=null}", "{k3=3}"]);

    let row = StructArray::try_new(
        Fields::from(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
        ]),
        vec![
            Arc::new(Int64Array::from(vec![Some(1), None])),
            Arc::new(StringArray::from(vec![Some("abc"), Some("x")])),
        ],
        None,
    )
    .unwrap();
    pairs(
        &row,
        &[("(1, abc)", "+I[1, abc]"), ("(null, x)", "+I[null, x]")],
    );
}

#[test]
fn rows_and_cells() {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![Some(1), None])),
        Arc::new(StringArray::from(vec![Some("abc"), None])),
        Arc::new(BooleanArray::from(vec![Some(true), None])),
    ];
    assert_eq!(format_row(&columns, 0), "1, abc, TRUE");
    assert_eq!(format_row(&columns, 1), "null, null, null");
    assert_eq!(
        format_row_with(&columns, 0, DisplayStyle::Print),
        "1, abc, true"
    );
    assert_eq!(format_cell(columns[0].as_ref(), 1), "<NULL>");
    assert_eq!(format_cell(columns[1].as_ref(), 0), "abc");
    let nulls = NullArray::new(2);
    assert_eq!(format_cell(&nulls, 1), "<NULL>");
    assert_eq!(format_value(&nulls, 1), "null");
}
