//! Streaming semantics, end to end: rows with event times (in order, out of
//! order, late, from an idle split) replayed through a job, checked against
//! the exact expected changelog.

mod replay;
mod restore;

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int8Type;
use sluice::{RowKind, Session, StatementResult};
use sluice_engine::connector::ConnectorRegistry;
use sluice_engine::display::format_value;

fn session() -> Session {
    let mut registry = ConnectorRegistry::new();
    sluice_connectors::register_all(&mut registry);
    registry.register(Arc::new(replay::ReplayConnector));
    Session::new(registry)
}

fn input(name: &str, lines: &str) -> String {
    let dir = std::env::temp_dir().join(format!("sluice-streaming-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, lines).expect("input file");
    path.display().to_string()
}

/// Runs `sql` (the last statement a SELECT) and collects its changelog as
/// `+I[a, b]` lines, until the query ends or `wait` passes without output.
async fn changelog(s: &Session, sql: &str, wait: Duration) -> (Vec<String>, u64) {
    let mut results = s.execute_sql(sql).await.expect("statements run");
    let Some(StatementResult::Query(mut q)) = results.pop() else {
        panic!("last statement must be a SELECT");
    };
    let ncols = q.schema.fields().len();
    let mut out = Vec::new();
    while let Ok(Some(b)) = tokio::time::timeout(wait, q.batches.recv()).await {
        let b = b.expect("query runs");
        for r in 0..b.num_rows() {
            let kind = if q.is_changelog {
                let k = b.column(ncols).as_primitive::<Int8Type>().value(r);
                RowKind::from_i8(k).expect("valid row kind")
            } else {
                RowKind::Insert
            };
            let vals: Vec<String> = (0..ncols)
                .map(|c| {
                    let col = b.column(c);
                    if col.is_null(r) {
                        "NULL".into()
                    } else {
                        format_value(col.as_ref(), r)
                    }
                })
                .collect();
            out.push(format!("{}[{}]", kind.short(), vals.join(", ")));
        }
    }
    let late: u64 = q
        .job
        .info
        .operators
        .lock()
        .expect("operators")
        .iter()
        .map(|o| o.metrics.snapshot().late_rows_dropped)
        .sum();
    q.job.cancel();
    (out, late)
}

const DDL: &str = "CREATE TABLE bids (bidder BIGINT, price BIGINT, ts TIMESTAMP(3),
   WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector' = 'replay', 'path' = '{path}' {extra});";

fn ddl(path: &str, extra: &str) -> String {
    DDL.replace("{path}", path).replace("{extra}", extra)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_rows_count_and_late_rows_are_dropped_and_counted() {
    let path = input(
        "late.csv",
        "0,1,10,2024-01-01 00:00:01
         0,1,20,2024-01-01 00:00:04
         0,2,30,2024-01-01 00:00:03
         0,1,40,2024-01-01 00:00:13
         0,2,50,2024-01-01 00:00:09
         0,1,60,2024-01-01 00:00:02
         0,2,70,2024-01-01 00:00:15",
    );
    // 00:00:03 arrives after 00:00:04: out of order within the 2 s bound, kept.
    // 00:00:09 arrives when the watermark is 00:00:11: its window [0, 10)
    // has fired, so it is late — dropped and counted. So is 00:00:02.
    let s = session();
    s.execute_sql("SET 'pipeline.auto-watermark-interval' = '0'")
        .await
        .unwrap();
    let sql = format!(
        "{} SELECT window_end, bidder, count(*), sum(price) FROM TABLE(TUMBLE(TABLE bids, \
         DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, bidder",
        ddl(&path, "")
    );
    let (rows, late) = changelog(&s, &sql, Duration::from_secs(10)).await;
    assert_eq!(
        rows,
        vec![
            "+I[2024-01-01 00:00:10.000, 1, 2, 30]",
            "+I[2024-01-01 00:00:10.000, 2, 1, 30]",
            "+I[2024-01-01 00:00:20.000, 1, 1, 40]",
            "+I[2024-01-01 00:00:20.000, 2, 1, 70]",
        ]
    );
    assert_eq!(late, 2);
}

/// Split 1 has one early row and then falls silent; split 0 keeps going.
const IDLE_INPUT: &str = "1,9,1,2024-01-01 00:00:01
 0,1,10,2024-01-01 00:00:02
 0,1,20,2024-01-01 00:00:12
 0,1,30,2024-01-01 00:00:22
 0,1,40,2024-01-01 00:00:32";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_fires_once_the_silent_split_is_marked_idle() {
    let path = input("idle.csv", IDLE_INPUT);
    let s = session();
    s.execute_sql("SET 'pipeline.auto-watermark-interval' = '50 ms'")
        .await
        .unwrap();
    let sql = format!(
        "{} SELECT window_end, count(*) FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), \
         INTERVAL '10' SECOND)) GROUP BY window_start, window_end",
        ddl(
            &path,
            ", 'splits' = '2', 'row-interval' = '300 ms', 'hold-open' = 'true', \
             'scan.watermark.idle-timeout' = '200 ms'"
        )
    );
    let (rows, _) = changelog(&s, &sql, Duration::from_secs(3)).await;
    // Split 0 reached 00:00:32 (watermark 00:00:30), so three windows fired
    // although the job is still running.
    assert_eq!(
        rows,
        vec![
            "+I[2024-01-01 00:00:10.000, 2]",
            "+I[2024-01-01 00:00:20.000, 1]",
            "+I[2024-01-01 00:00:30.000, 1]",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_idleness_a_silent_split_holds_every_window_back() {
    let path = input("held.csv", IDLE_INPUT);
    let s = session();
    s.execute_sql("SET 'pipeline.auto-watermark-interval' = '50 ms'")
        .await
        .unwrap();
    let sql = format!(
        "{} SELECT window_end, count(*) FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), \
         INTERVAL '10' SECOND)) GROUP BY window_start, window_end",
        ddl(
            &path,
            ", 'splits' = '2', 'row-interval' = '100 ms', 'hold-open' = 'true'"
        )
    );
    let (rows, _) = changelog(&s, &sql, Duration::from_secs(2)).await;
    assert!(
        rows.is_empty(),
        "nothing may fire while split 1 is silent: {rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_level_group_by_emits_retractions() {
    let path = input(
        "upd.csv",
        "0,1,10,2024-01-01 00:00:01
         0,1,20,2024-01-01 00:00:02
         0,2,5,2024-01-01 00:00:03",
    );
    let s = session();
    let sql = format!(
        "{} SELECT bidder, max(price) FROM bids GROUP BY bidder",
        ddl(&path, "")
    );
    let (rows, _) = changelog(&s, &sql, Duration::from_secs(10)).await;
    assert_eq!(
        rows,
        vec!["+I[1, 10]", "-U[1, 10]", "+U[1, 20]", "+I[2, 5]"]
    );
}
