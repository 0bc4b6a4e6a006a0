use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Decimal128Type, Field, Fields, Float64Type, Int8Type, Int32Type, Int64Type, Schema,
    TimeUnit, TimestampMillisecondType,
};
use datafusion::arrow::record_batch::RecordBatch;
use sluice_engine::Result;
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{Connector, ScanContext, SourceTable, TableContext};
use sluice_engine::runtime::OperatorMetrics;

use super::DatagenConnector;
use super::reader::split;

fn source(fields: Vec<Field>, options: &[(&str, &str)]) -> Result<Arc<dyn SourceTable>> {
    let values: BTreeMap<String, String> = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut opts = ConnectorOptions::new("t", values);
    let table = DatagenConnector.create(TableContext {
        table_name: "t",
        physical_schema: Arc::new(Schema::new(fields)),
        metadata_columns: &[],
        primary_key: &[],
        partition_keys: &[],
        options: &mut opts,
    })?;
    Ok(table.source().expect("datagen is a source"))
}

fn scan(instance: usize, parallelism: usize, batch_size: usize) -> ScanContext {
    ScanContext {
        projection: None,
        instance,
        parallelism,
        batch_size,
        metrics: Arc::new(OperatorMetrics::default()),
    }
}

/// Reads a bounded instance to the end (at most `limit` batches).
async fn read_all(src: &Arc<dyn SourceTable>, ctx: ScanContext, limit: usize) -> Vec<RecordBatch> {
    let mut reader = src.open(ctx).expect("open");
    let mut out = Vec::new();
    while let Some(b) = reader.next_batch().await.expect("batch") {
        out.push(b);
        assert!(out.len() <= limit, "source did not end");
    }
    out
}

fn i64s(batches: &[RecordBatch], col: usize) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| b.column(col).as_primitive::<Int64Type>().values().to_vec())
        .collect()
}

fn error_of(fields: Vec<Field>, options: &[(&str, &str)]) -> String {
    match source(fields, options) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

const FAST: (&str, &str) = ("rows-per-second", "1000000000");

#[tokio::test]
async fn sequence_is_exact_and_ends() {
    let src = source(
        vec![
            Field::new("id", DataType::Int32, false),
            Field::new("s", DataType::Utf8, true),
        ],
        &[
            ("fields.id.kind", "sequence"),
            ("fields.id.start", "1"),
            ("fields.id.end", "10"),
            FAST,
        ],
    )
    .unwrap();
    assert!(src.is_bounded());
    let batches = read_all(&src, scan(0, 1, 4), 10).await;
    assert_eq!(
        batches.iter().map(|b| b.num_rows()).collect::<Vec<_>>(),
        [4, 4, 2]
    );
    let ids: Vec<i32> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int32Type>().values().to_vec())
        .collect();
    assert_eq!(ids, (1..=10).collect::<Vec<_>>());
}

#[tokio::test]
async fn sequence_splits_across_two_instances() {
    let src = source(
        vec![Field::new("id", DataType::Int64, false)],
        &[
            ("fields.id.kind", "sequence"),
            ("fields.id.start", "1"),
            ("fields.id.end", "11"),
            FAST,
        ],
    )
    .unwrap();
    let first = i64s(&read_all(&src, scan(0, 2, 4), 10).await, 0);
    let second = i64s(&read_all(&src, scan(1, 2, 4), 10).await, 0);
    assert_eq!(first, (1..=6).collect::<Vec<_>>());
    assert_eq!(second, (7..=11).collect::<Vec<_>>());
}

#[tokio::test]
async fn string_and_decimal_sequences() {
    let src = source(
        vec![
            Field::new("s", DataType::Utf8, false),
            Field::new("d", DataType::Decimal128(5, 2), false),
        ],
        &[
            ("fields.s.kind", "sequence"),
            ("fields.s.start", "-1"),
            ("fields.s.end", "1"),
            ("fields.d.kind", "sequence"),
            ("fields.d.start", "7"),
            ("fields.d.end", "100"),
            FAST,
        ],
    )
    .unwrap();
    // The shorter sequence ends the source.
    let b = read_all(&src, scan(0, 1, 100), 10).await;
    assert_eq!(b.len(), 1);
    let s = b[0].column(0).as_string::<i32>();
    assert_eq!(s.iter().flatten().collect::<Vec<_>>(), ["-1", "0", "1"]);
    let d = b[0].column(1).as_primitive::<Decimal128Type>();
    assert_eq!(d.values().to_vec(), [700, 800, 900]);
}

#[test]
fn split_gives_remainder_to_low_instances() {
    assert_eq!(split(10, 3, 0), (0, 4));
    assert_eq!(split(10, 3, 1), (4, 3));
    assert_eq!(split(10, 3, 2), (7, 3));
    assert_eq!(split(2, 4, 3), (2, 0));
}

#[tokio::test]
async fn number_of_rows_is_respected_and_split() {
    let fields = || vec![Field::new("x", DataType::Int32, true)];
    let src = source(fields(), &[("number-of-rows", "10"), FAST]).unwrap();
    assert!(src.is_bounded());
    let rows = |b: Vec<RecordBatch>| b.iter().map(|b| b.num_rows()).sum::<usize>();
    assert_eq!(rows(read_all(&src, scan(0, 1, 3), 10).await), 10);
    let shares = [
        rows(read_all(&src, scan(0, 3, 100), 10).await),
        rows(read_all(&src, scan(1, 3, 100), 10).await),
        rows(read_all(&src, scan(2, 3, 100), 10).await),
    ];
    assert_eq!(shares, [4, 3, 3]);

    let unbounded = source(fields(), &[]).unwrap();
    assert!(!unbounded.is_bounded());
    let mut reader = unbounded.open(scan(0, 1, 5)).unwrap();
    assert_eq!(reader.next_batch().await.unwrap().unwrap().num_rows(), 5);
}

fn every_type() -> Vec<Field> {
    let row = Fields::from(vec![
        Field::new("a", DataType::Int32, true),
        Field::new("b", DataType::Utf8, true),
    ]);
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("key", DataType::Int8, false),
            Field::new("value", DataType::Utf8, true),
        ])),
        false,
    );
    vec![
        Field::new("s", DataType::Utf8, true),
        Field::new("bo", DataType::Boolean, true),
        Field::new("i8", DataType::Int8, true),
        Field::new("i16", DataType::Int16, true),
        Field::new("i32", DataType::Int32, true),
        Field::new("i64", DataType::Int64, true),
        Field::new("f32", DataType::Float32, true),
        Field::new("f64", DataType::Float64, true),
        Field::new("dec", DataType::Decimal128(10, 2), true),
        Field::new("d", DataType::Date32, true),
        Field::new("t", DataType::Time32(TimeUnit::Millisecond), true),
        Field::new("t6", DataType::Time64(TimeUnit::Microsecond), true),
        Field::new("t9", DataType::Time64(TimeUnit::Nanosecond), true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        Field::new(
            "ts6",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            true,
        ),
        Field::new("ts9", DataType::Timestamp(TimeUnit::Nanosecond, None), true),
        Field::new(
            "ltz",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new("by", DataType::Binary, true),
        Field::new_list("arr", Field::new("element", DataType::Int32, true), true),
        Field::new("m", DataType::Map(Arc::new(entries), false), true),
        Field::new("r", DataType::Struct(row), true),
    ]
}

#[tokio::test]
async fn every_type_is_generated() {
    let fields = every_type();
    let src = source(fields.clone(), &[("number-of-rows", "50"), FAST]).unwrap();
    let b = read_all(&src, scan(0, 1, 100), 2).await;
    let b = &b[0];
    assert_eq!(b.num_rows(), 50);
    for (f, c) in fields.iter().zip(b.columns()) {
        assert_eq!(f.data_type(), c.data_type(), "{}", f.name());
        assert_eq!(c.null_count(), 0, "{}", f.name());
    }
    let s = b.column(0).as_string::<i32>();
    assert!(
        s.iter()
            .flatten()
            .all(|v| v.len() == 100 && v.bytes().all(|c| c.is_ascii_hexdigit()))
    );
    let by = b.column(17).as_binary::<i32>();
    assert!(by.iter().flatten().all(|v| v.len() == 100));
    let arr = b.column(18).as_list::<i32>();
    assert!((0..50).all(|i| arr.value_length(i) == 3));
    let m = b.column(19).as_map();
    for i in 0..50 {
        let keys = m
            .value(i)
            .column(0)
            .as_primitive::<Int8Type>()
            .values()
            .to_vec();
        let mut distinct = keys.clone();
        distinct.sort();
        distinct.dedup();
        assert!(!keys.is_empty() && keys.len() <= 3 && distinct.len() == keys.len());
    }
}

#[tokio::test]
async fn null_rate_one_gives_only_nulls() {
    let fields = every_type();
    let mut options: Vec<(String, String)> = fields
        .iter()
        .map(|f| (format!("fields.{}.null-rate", f.name()), "1.0".to_string()))
        .collect();
    options.push(("number-of-rows".into(), "20".into()));
    let options: Vec<(&str, &str)> = options
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let src = source(fields, &options).unwrap();
    let b = read_all(&src, scan(0, 1, 100), 2).await;
    for c in b[0].columns() {
        assert_eq!(c.null_count(), 20, "{}", c.data_type());
    }
}

#[tokio::test]
async fn min_and_max_are_respected() {
    let src = source(
        vec![
            Field::new("i", DataType::Int32, true),
            Field::new("t", DataType::Int8, true),
            Field::new("f", DataType::Float64, true),
            Field::new("d", DataType::Decimal128(5, 2), true),
        ],
        &[
            ("fields.i.min", "5"),
            ("fields.i.max", "10"),
            ("fields.t.min", "-3"),
            ("fields.t.max", "-3"),
            ("fields.f.min", "-1.5"),
            ("fields.f.max", "1.5"),
            ("fields.d.min", "1"),
            ("fields.d.max", "2"),
            ("number-of-rows", "2000"),
            FAST,
        ],
    )
    .unwrap();
    let batches = read_all(&src, scan(0, 1, 500), 10).await;
    let mut seen = std::collections::BTreeSet::new();
    for b in &batches {
        for v in b.column(0).as_primitive::<Int32Type>().values() {
            assert!((5..=10).contains(v));
            seen.insert(*v);
        }
        assert!(
            b.column(1)
                .as_primitive::<Int8Type>()
                .values()
                .iter()
                .all(|v| *v == -3)
        );
        let f = b.column(2).as_primitive::<Float64Type>();
        assert!(f.values().iter().all(|v| (-1.5..=1.5).contains(v)));
        let d = b.column(3).as_primitive::<Decimal128Type>();
        assert!(d.values().iter().all(|v| (100..=200).contains(v)));
    }
    assert_eq!(seen.len(), 6, "both ends are reachable");
}

#[tokio::test]
async fn var_len_strings_and_max_past() {
    let src = source(
        vec![
            Field::new("s", DataType::Utf8, true),
            Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        ],
        &[
            ("fields.s.length", "5"),
            ("fields.s.var-len", "true"),
            ("fields.ts.max-past", "10 s"),
            ("number-of-rows", "500"),
            FAST,
        ],
    )
    .unwrap();
    let before = chrono::Utc::now().timestamp_millis();
    let b = read_all(&src, scan(0, 1, 1000), 2).await;
    let after = chrono::Utc::now().timestamp_millis();
    let lens: std::collections::BTreeSet<usize> = b[0]
        .column(0)
        .as_string::<i32>()
        .iter()
        .flatten()
        .map(str::len)
        .collect();
    assert_eq!(lens.first(), Some(&1));
    assert_eq!(lens.last(), Some(&5));
    let ts = b[0].column(1).as_primitive::<TimestampMillisecondType>();
    assert!(
        ts.values()
            .iter()
            .all(|t| *t > before - 10_000 && *t <= after)
    );
}

#[tokio::test]
async fn projection_generates_only_projected_columns() {
    let src = source(
        vec![
            Field::new("id", DataType::Int64, false),
            Field::new("s", DataType::Utf8, true),
        ],
        &[
            ("fields.id.kind", "sequence"),
            ("fields.id.start", "1"),
            ("fields.id.end", "7"),
            FAST,
        ],
    )
    .unwrap();
    let mut ctx = scan(0, 1, 100);
    ctx.projection = Some(vec![1]);
    let b = read_all(&src, ctx.clone(), 2).await;
    assert_eq!(b[0].num_columns(), 1);
    assert_eq!(b[0].schema().field(0).name(), "s");
    // The unprojected sequence still ends the source.
    assert_eq!(b[0].num_rows(), 7);
    ctx.projection = Some(vec![]);
    let b = read_all(&src, ctx, 2).await;
    assert_eq!((b[0].num_columns(), b[0].num_rows()), (0, 7));
}

#[tokio::test]
async fn rows_per_second_throttles() {
    let src = source(
        vec![Field::new("x", DataType::Int32, true)],
        &[("rows-per-second", "20"), ("number-of-rows", "30")],
    )
    .unwrap();
    let start = std::time::Instant::now();
    let b = read_all(&src, scan(0, 1, 1000), 5).await;
    assert_eq!(b.iter().map(|b| b.num_rows()).collect::<Vec<_>>(), [20, 10]);
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn unknown_option_is_rejected_listing_valid_keys() {
    let err = error_of(
        vec![Field::new("id", DataType::Int32, true)],
        &[("fields.id.mn", "1"), ("fields.id.max", "3")],
    );
    assert!(err.contains("unsupported option 'fields.id.mn'"), "{err}");
    for valid in [
        "fields.id.kind",
        "fields.id.min",
        "fields.id.max",
        "fields.id.null-rate",
    ] {
        assert!(err.contains(valid), "{err}");
    }
    assert!(
        err.contains("number-of-rows") && err.contains("rows-per-second"),
        "{err}"
    );

    // Options of the other kind are not valid either.
    let err = error_of(
        vec![Field::new("id", DataType::Int32, true)],
        &[("fields.id.start", "1")],
    );
    assert!(
        err.contains("unsupported option 'fields.id.start'"),
        "{err}"
    );
    // Nor options of columns that do not exist.
    let err = error_of(
        vec![Field::new("id", DataType::Int32, true)],
        &[("fields.x.min", "1")],
    );
    assert!(err.contains("'fields.x.min'"), "{err}");
}

#[test]
fn invalid_options_are_explained() {
    let int = || vec![Field::new("id", DataType::Int32, false)];
    let err = error_of(
        int(),
        &[("fields.id.kind", "sequence"), ("fields.id.start", "1")],
    );
    assert!(
        err.contains("fields.id.end") && err.contains("required"),
        "{err}"
    );
    let err = error_of(int(), &[("fields.id.kind", "counter")]);
    assert!(err.contains("random, sequence"), "{err}");
    let err = error_of(int(), &[("fields.id.min", "9"), ("fields.id.max", "1")]);
    assert!(err.contains("greater than max"), "{err}");
    let err = error_of(int(), &[("fields.id.null-rate", "0.5")]);
    assert!(err.contains("NOT NULL"), "{err}");
    let err = error_of(
        vec![Field::new("b", DataType::Int8, true)],
        &[("fields.b.max", "300")],
    );
    assert!(err.contains("out of range for TINYINT"), "{err}");
    let err = error_of(
        vec![Field::new("b", DataType::Boolean, true)],
        &[
            ("fields.b.kind", "sequence"),
            ("fields.b.start", "1"),
            ("fields.b.end", "2"),
        ],
    );
    assert!(err.contains("not supported for type BOOLEAN"), "{err}");
    let err = error_of(int(), &[("rows-per-second", "0")]);
    assert!(err.contains("rows-per-second"), "{err}");
    let err = error_of(
        vec![Field::new("x", DataType::Float64, true)],
        &[("fields.x.null-rate", "1.5")],
    );
    assert!(err.contains("between 0 and 1"), "{err}");
}

#[test]
fn nested_fields_take_their_own_options() {
    let row = DataType::Struct(Fields::from(vec![Field::new("a", DataType::Int32, true)]));
    let fields = vec![
        Field::new_list("arr", Field::new("element", DataType::Int64, true), true),
        Field::new("r", row, true),
    ];
    assert!(
        source(
            fields.clone(),
            &[
                ("fields.arr.length", "2"),
                ("fields.arr.element.min", "1"),
                ("fields.r.a.max", "3")
            ],
        )
        .is_ok()
    );
    let err = error_of(fields, &[("fields.arr.element.length", "2")]);
    assert!(err.contains("'fields.arr.element.length'"), "{err}");
}
