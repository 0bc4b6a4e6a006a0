//! Operator state survives a snapshot: each query is stepped batch by batch,
//! snapshotted after every step in turn, the snapshot written as Arrow IPC
//! and read back, restored into a freshly planned job, and run to the end.
//! The restored run's output (rows and watermarks) must equal the
//! uninterrupted run's, for every cut point — and a run restored with the
//! state wiped must not, which shows the query's output depends on the
//! state being carried.

use std::io::Cursor;
use std::sync::OnceLock;

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use sluice::Session;
use sluice_engine::display::format_value;
use sluice_engine::runtime::executor::{JobSnapshot, SteppedJob};
use sluice_engine::runtime::operator::Event;

use super::{ddl, input, session};

/// Two splits; out of order, late (00:00:02 and 00:00:09 arrive after
/// their windows fired) and bridging rows, one batch per line.
const BIDS: &str = "0,1,10,2024-01-01 00:00:01
 1,2,35,2024-01-01 00:00:02
 0,1,20,2024-01-01 00:00:04
 1,3,15,2024-01-01 00:00:03
 0,2,30,2024-01-01 00:00:06
 1,1,40,2024-01-01 00:00:13
 0,2,50,2024-01-01 00:00:12
 1,3,25,2024-01-01 00:00:14
 0,1,60,2024-01-01 00:00:02
 1,2,70,2024-01-01 00:00:15
 0,3,45,2024-01-01 00:00:21
 1,1,5,2024-01-01 00:00:24
 1,3,25,2024-01-01 00:00:09
 0,2,80,2024-01-01 00:00:33
 1,3,65,2024-01-01 00:00:31
 0,3,45,2024-01-01 00:00:32";

fn job_sql(settings: &str, query: &str) -> String {
    // Written once: tests run in parallel and must not read a file another
    // is rewriting.
    static PATH: OnceLock<String> = OnceLock::new();
    let path = PATH.get_or_init(|| input("restore.csv", BIDS));
    format!(
        "SET 'pipeline.auto-watermark-interval' = '0'; {settings} {} {query}",
        ddl(path, ", 'splits' = '2'")
    )
}

async fn stepped(sql: &str) -> SteppedJob {
    let s: Session = session();
    s.stepped_query(sql).await.expect("the query plans")
}

/// One step's output as lines.
fn lines(events: Vec<Event>) -> Vec<String> {
    let mut out = Vec::new();
    for ev in events {
        match ev {
            Event::Batch(b) => {
                for r in 0..b.num_rows() {
                    let vals: Vec<String> = b
                        .columns()
                        .iter()
                        .map(|c| {
                            if c.is_null(r) {
                                "NULL".into()
                            } else {
                                format_value(c.as_ref(), r)
                            }
                        })
                        .collect();
                    out.push(vals.join(", "));
                }
            }
            Event::Watermark(w) => out.push(format!("watermark {w}")),
            Event::Idle => out.push("idle".into()),
        }
    }
    out
}

fn run_to_end(job: &mut SteppedJob, out: &mut Vec<String>) {
    while let Some(events) = job.step().expect("the job runs") {
        out.extend(lines(events));
    }
}

/// Through Arrow IPC and back, as a checkpoint stores it.
fn through_ipc(snapshot: JobSnapshot) -> JobSnapshot {
    let operators = snapshot
        .operators
        .into_iter()
        .map(|batches| {
            batches
                .into_iter()
                .map(|b| {
                    let mut buf = Vec::new();
                    let mut w = StreamWriter::try_new(&mut buf, b.schema_ref()).expect("writer");
                    w.write(&b).expect("write");
                    w.finish().expect("finish");
                    drop(w);
                    let mut r = StreamReader::try_new(Cursor::new(buf), None).expect("reader");
                    r.next().expect("one batch").expect("readable")
                })
                .collect::<Vec<RecordBatch>>()
        })
        .collect();
    JobSnapshot {
        position: snapshot.position,
        operators,
    }
}

/// The check described at the top, for one query. Returns the
/// uninterrupted output so a test can also pin what it is.
async fn assert_restores(sql: &str) -> Vec<String> {
    let mut reference = Vec::new();
    let mut whole = stepped(sql).await;
    let steps = whole.input_batches() + 1;
    run_to_end(&mut whole, &mut reference);
    let mut state_mattered = false;
    for cut in 1..steps {
        let mut first = stepped(sql).await;
        let mut out = Vec::new();
        for _ in 0..cut {
            out.extend(lines(first.step().expect("runs").expect("not ended")));
        }
        let snapshot = through_ipc(first.snapshot().expect("snapshot"));
        drop(first);

        let mut wiped = stepped(sql).await;
        let empty = JobSnapshot {
            position: snapshot.position,
            operators: vec![Vec::new(); snapshot.operators.len()],
        };
        wiped.restore(&empty).expect("restore nothing");
        let mut without = out.clone();
        run_to_end(&mut wiped, &mut without);
        state_mattered |= without != reference;

        let mut second = stepped(sql).await;
        second.restore(&snapshot).expect("restore");
        run_to_end(&mut second, &mut out);
        assert_eq!(out, reference, "restored after step {cut} of {steps}");
    }
    assert!(state_mattered, "no cut point depended on the state: {sql}");
    reference
}

fn rows(output: &[String]) -> Vec<&str> {
    output
        .iter()
        .filter(|l| !l.starts_with("watermark"))
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn tumble_aggregate_with_distinct_and_late_rows() {
    let out = assert_restores(&job_sql(
        "",
        "SELECT window_end, bidder, count(*), sum(price), max(price), count(DISTINCT price) \
         FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND)) \
         GROUP BY window_start, window_end, bidder",
    ))
    .await;
    assert_eq!(
        rows(&out),
        vec![
            "2024-01-01 00:00:10.000, 1, 2, 30, 20, 2",
            "2024-01-01 00:00:10.000, 2, 2, 65, 35, 2",
            "2024-01-01 00:00:10.000, 3, 1, 15, 15, 1",
            "2024-01-01 00:00:20.000, 1, 1, 40, 40, 1",
            "2024-01-01 00:00:20.000, 2, 2, 120, 70, 2",
            "2024-01-01 00:00:20.000, 3, 1, 25, 25, 1",
            "2024-01-01 00:00:30.000, 1, 1, 5, 5, 1",
            "2024-01-01 00:00:30.000, 3, 1, 45, 45, 1",
            "2024-01-01 00:00:40.000, 2, 1, 80, 80, 1",
            "2024-01-01 00:00:40.000, 3, 2, 110, 65, 2",
        ]
    );
}

#[tokio::test]
async fn hop_aggregate_merges_restored_panes() {
    assert_restores(&job_sql(
        "",
        "SELECT window_start, window_end, count(*), avg(price), min(price) \
         FROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '15' SECOND)) \
         GROUP BY window_start, window_end",
    ))
    .await;
}

#[tokio::test]
async fn session_windows_keep_open_sessions() {
    assert_restores(&job_sql(
        "",
        "SELECT bidder, SESSION_START(ts, INTERVAL '5' SECOND), count(*), sum(price) \
         FROM bids GROUP BY bidder, SESSION(ts, INTERVAL '5' SECOND)",
    ))
    .await;
}

#[tokio::test]
async fn group_by_keeps_groups_and_last_results() {
    assert_restores(&job_sql(
        "",
        "SELECT bidder, count(*), sum(price), min(price), max(price), count(DISTINCT price) \
         FROM bids GROUP BY bidder",
    ))
    .await;
}

#[tokio::test]
async fn mini_batch_keeps_its_buffered_rows() {
    assert_restores(&job_sql(
        "SET 'table.exec.mini-batch.enabled' = 'true';
         SET 'table.exec.mini-batch.allow-latency' = '1 h';
         SET 'table.exec.mini-batch.size' = '3';",
        "SELECT bidder, count(*), sum(price) FROM bids GROUP BY bidder",
    ))
    .await;
}

#[tokio::test]
async fn aggregate_over_a_retracting_input_keeps_its_multisets() {
    assert_restores(&job_sql(
        "",
        "SELECT cnt, count(*), min(total), max(total), sum(total) FROM \
         (SELECT bidder, count(*) AS cnt, sum(price) AS total FROM bids GROUP BY bidder) \
         GROUP BY cnt",
    ))
    .await;
}

#[tokio::test]
async fn over_rows_frame_and_waiting_rows() {
    assert_restores(&job_sql(
        "",
        "SELECT bidder, price, ts, sum(price) OVER w, count(price) OVER w FROM bids \
         WINDOW w AS (PARTITION BY bidder ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)",
    ))
    .await;
}

#[tokio::test]
async fn over_range_frame() {
    assert_restores(&job_sql(
        "",
        "SELECT bidder, price, max(price) OVER (PARTITION BY bidder ORDER BY ts \
         RANGE BETWEEN INTERVAL '10' SECOND PRECEDING AND CURRENT ROW) FROM bids",
    ))
    .await;
}

#[tokio::test]
async fn top_n_keeps_each_partitions_ranking() {
    assert_restores(&job_sql(
        "",
        "SELECT * FROM (SELECT bidder, price, ts, ROW_NUMBER() OVER (PARTITION BY bidder \
         ORDER BY price DESC) AS rn FROM bids) WHERE rn <= 2",
    ))
    .await;
}

#[tokio::test]
async fn rank_over_an_updating_input_keeps_every_live_row() {
    assert_restores(&job_sql(
        "",
        "SELECT * FROM (SELECT bidder, cnt, RANK() OVER (ORDER BY cnt DESC) AS r \
         FROM (SELECT bidder, count(*) AS cnt FROM bids GROUP BY bidder)) WHERE r <= 2",
    ))
    .await;
}

#[tokio::test]
async fn deduplication_keeps_the_last_row() {
    assert_restores(&job_sql(
        "",
        "SELECT bidder, price, ts FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY bidder \
         ORDER BY ts DESC) AS rn FROM bids) WHERE rn = 1",
    ))
    .await;
}

#[tokio::test]
async fn window_top_n_keeps_pending_windows() {
    assert_restores(&job_sql(
        "",
        "SELECT * FROM (SELECT window_end, bidder, price, ROW_NUMBER() OVER \
         (PARTITION BY window_start, window_end ORDER BY price DESC) AS rn \
         FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))) WHERE rn <= 2",
    ))
    .await;
}

#[tokio::test]
async fn limit_keeps_its_count() {
    assert_restores(&job_sql("", "SELECT bidder, price FROM bids LIMIT 5")).await;
}
