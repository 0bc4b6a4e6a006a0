use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Int64Type, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use sluice_engine::Result;
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{Connector, ScanContext, SourceTable, TableContext};
use sluice_engine::runtime::OperatorMetrics;

use super::NexmarkConnector;
use super::config::parse_base_time;
use super::schema::reference_schema;

#[path = "../../../tests/nexmark_reference/mod.rs"]
mod reference;

use reference::{BASE, lines};
const REFERENCE: &str = include_str!("../../../tests/data/nexmark/first_10000.csv");
const REFERENCE_P2: &str = include_str!("../../../tests/data/nexmark/parallelism_2_events_600.csv");

fn source_with(schema: Arc<Schema>, options: &[(&str, &str)]) -> Result<Arc<dyn SourceTable>> {
    let values: BTreeMap<String, String> = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut opts = ConnectorOptions::new("t", values);
    let table = NexmarkConnector.create(TableContext {
        table_name: "t",
        physical_schema: schema,
        metadata_columns: &[],
        primary_key: &[],
        partition_keys: &[],
        options: &mut opts,
    })?;
    Ok(table.source().expect("nexmark is a source"))
}

fn source(options: &[(&str, &str)]) -> Arc<dyn SourceTable> {
    source_with(reference_schema(), options).expect("valid table")
}

fn scan(instance: usize, parallelism: usize, projection: Option<Vec<usize>>) -> ScanContext {
    ScanContext {
        projection,
        instance,
        parallelism,
        batch_size: 1000,
        metrics: Arc::new(OperatorMetrics::default()),
    }
}

async fn read_all(src: &Arc<dyn SourceTable>, ctx: ScanContext) -> Vec<RecordBatch> {
    let mut reader = src.open(ctx).expect("open");
    let mut out = Vec::new();
    while let Some(b) = reader.next_batch().await.expect("batch") {
        out.push(b);
        assert!(out.len() < 100_000, "source did not end");
    }
    out
}

#[tokio::test]
async fn first_events_match_the_reference_generator() {
    let src = source(&[("events.num", "10000"), ("base-time", "1704067200000")]);
    assert!(src.is_bounded());
    let got = lines(&read_all(&src, scan(0, 1, None)).await);
    let expected: Vec<&str> = REFERENCE.lines().skip(1).collect();
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "event {i} differs from the reference");
    }
}

#[tokio::test]
async fn parallel_instances_match_the_reference_splits() {
    let src = source(&[("events.num", "600"), ("base-time", "2024-01-01 00:00:00")]);
    for instance in 0..2 {
        let got = lines(&read_all(&src, scan(instance, 2, None)).await);
        let prefix = format!("{instance},");
        let expected: Vec<&str> = REFERENCE_P2
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .collect();
        assert_eq!(got.len(), 300);
        assert_eq!(got, expected, "instance {instance}");
    }
}

/// Instances own disjoint id ranges whose union is the single-instance
/// stream; only event time (and so `expires`) follows each instance's own
/// timeline.
#[tokio::test]
async fn instances_together_generate_the_single_instance_events() {
    let src = source(&[("events.num", "1000"), ("base-time", "0")]);
    let without_time = |l: String| {
        let mut f: Vec<String> = l.split(',').map(str::to_string).collect();
        f[6].clear(); // expires
        f[11].clear(); // dateTime
        f.join(",")
    };
    let single: Vec<String> = lines(&read_all(&src, scan(0, 1, None)).await)
        .into_iter()
        .map(without_time)
        .collect();
    let mut union = Vec::new();
    for i in 0..3 {
        union.extend(
            lines(&read_all(&src, scan(i, 3, None)).await)
                .into_iter()
                .map(without_time),
        );
    }
    assert_eq!(union, single);
}

#[tokio::test]
async fn a_projected_row_has_the_same_values_as_the_full_table() {
    let src = source(&[("events.num", "500"), ("base-time", "0")]);
    let full = read_all(&src, scan(0, 1, None)).await;
    let only_bid = read_all(&src, scan(0, 1, Some(vec![3]))).await;
    assert_eq!(only_bid[0].num_columns(), 1);
    assert_eq!(only_bid[0].column(0), full[0].column(3));
}

#[tokio::test]
async fn other_kinds_rows_are_null_down_to_their_fields() {
    let src = source(&[("events.num", "100"), ("base-time", "0")]);
    let b = &read_all(&src, scan(0, 1, None)).await[0];
    let kinds = b.column(0).as_primitive::<Int32Type>();
    let person = b.column(1).as_struct();
    let bid = b.column(3).as_struct();
    for i in 0..b.num_rows() {
        let is_person = kinds.value(i) == 0;
        assert_eq!(person.is_valid(i), is_person, "row {i}");
        assert_eq!(person.column(0).is_valid(i), is_person, "person.id row {i}");
        assert_eq!(
            bid.column(2).is_valid(i),
            kinds.value(i) == 2,
            "bid.price row {i}"
        );
    }
    // Ids are dense: the persons of 100 events are 1000 and 1001.
    let ids: Vec<i64> = (0..b.num_rows())
        .filter(|i| person.is_valid(*i))
        .map(|i| person.column(0).as_primitive::<Int64Type>().value(i))
        .collect();
    assert_eq!(ids, vec![1001, 1002]);
}

#[tokio::test]
async fn stop_at_ends_the_source_and_keep_alive_idles_instead() {
    let src = source(&[("stop-at", "120"), ("base-time", "0")]);
    assert!(src.is_bounded());
    let rows: usize = read_all(&src, scan(0, 1, None))
        .await
        .iter()
        .map(RecordBatch::num_rows)
        .sum();
    assert_eq!(rows, 120);

    let src = source(&[("events.num", "10"), ("keep-alive", "true")]);
    assert!(!src.is_bounded());
    let mut reader = src.open(scan(0, 1, None)).expect("open");
    let first = reader.next_batch().await.expect("batch").expect("events");
    assert_eq!(first.num_rows(), 10);
    let idle = tokio::time::timeout(Duration::from_millis(100), reader.next_batch()).await;
    assert!(idle.is_err(), "a keep-alive source must not end");

    assert!(!source(&[]).is_bounded(), "events.num = 0 is unbounded");
}

#[tokio::test]
async fn without_max_emit_speed_events_follow_event_time() {
    // 1000 events/s: event 200 is due 200 ms after the first.
    let src = source(&[
        ("events.num", "200"),
        ("first-event.rate", "1000"),
        ("max-emit-speed", "false"),
    ]);
    let start = Instant::now();
    let batches = read_all(&src, scan(0, 1, None)).await;
    assert!(start.elapsed() >= Duration::from_millis(190));
    assert!(batches.len() > 1, "paced events come in several batches");
    assert_eq!(
        batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
        200
    );
}

fn error_of(schema: Arc<Schema>, options: &[(&str, &str)]) -> String {
    match source_with(schema, options) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn options_are_validated_with_their_key() {
    let s = reference_schema;
    let err = error_of(s(), &[("events.number", "5")]);
    assert!(err.contains("'events.number'"), "{err}");
    assert!(
        err.contains("events.num") && err.contains("base-time"),
        "{err}"
    );
    let err = error_of(s(), &[("first-event.rate", "0")]);
    assert!(
        err.contains("option 'first-event.rate': must be positive"),
        "{err}"
    );
    let err = error_of(s(), &[("bid.hot-ratio.bidders", "x")]);
    assert!(err.contains("'bid.hot-ratio.bidders'"), "{err}");
    let err = error_of(
        s(),
        &[
            ("person.proportion", "0"),
            ("auction.proportion", "0"),
            ("bid.proportion", "0"),
        ],
    );
    assert!(err.contains("add up"), "{err}");
    let err = error_of(s(), &[("base-time", "yesterday")]);
    assert!(err.contains("option 'base-time'"), "{err}");
    let err = error_of(s(), &[("rate.shape", "TRIANGLE")]);
    assert!(err.contains("'rate.shape'"), "{err}");
    // Every reference option is accepted.
    source(&[
        ("first-event.rate", "1000"),
        ("next-event.rate", "1000"),
        ("person.avg-size", "200b"),
        ("auction.avg-size", "1kb"),
        ("bid.avg-size", "100"),
        ("rate.shape", "sine"),
        ("rate.period", "10 min"),
        ("rate.limited", "true"),
        ("stop-at", "-1"),
        ("scan.parallelism", "2"),
    ]);
}

#[test]
fn columns_must_be_the_reference_ones() {
    let ok = Schema::new(vec![Field::new("event_type", DataType::Int32, true)]);
    source_with(Arc::new(ok), &[]).expect("a subset of the columns is fine");
    let err = error_of(
        Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)])),
        &[],
    );
    assert!(err.contains("column 'id'"), "{err}");
    let err = error_of(
        Arc::new(Schema::new(vec![Field::new(
            "event_type",
            DataType::Int64,
            true,
        )])),
        &[],
    );
    assert!(
        err.contains("column 'event_type' must have type INT"),
        "{err}"
    );
}

#[test]
fn base_time_takes_millis_or_timestamps() {
    assert_eq!(parse_base_time("1704067200000"), Some(BASE));
    assert_eq!(parse_base_time("2024-01-01 00:00:00"), Some(BASE));
    assert_eq!(parse_base_time("2024-01-01T00:00:00.000"), Some(BASE));
    assert_eq!(parse_base_time("2024-01-01"), Some(BASE));
    assert_eq!(parse_base_time("2024-01-01T01:00:00+01:00"), Some(BASE));
    assert_eq!(parse_base_time("2024-01-01T00:00:00Z"), Some(BASE));
    assert_eq!(parse_base_time("soon"), None);
}
