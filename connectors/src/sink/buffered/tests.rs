//! The buffering layer against a scripted in-memory target.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, AsArray, Int8Array, Int32Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use sluice_engine::connector::{ROW_KIND_COLUMN, SinkWriter};
use sluice_engine::runtime::OperatorMetrics;

use super::*;

/// Everything the fake target saw, shared with the test.
#[derive(Default)]
struct Log {
    /// Each successful write: the rows as `+I[1, a]` strings.
    writes: Vec<Vec<String>>,
    attempts: usize,
}

/// A target that fails according to a script, then rejects any row whose
/// value is `bad`.
struct Fake {
    log: Arc<Mutex<Log>>,
    script: VecDeque<WriteError>,
}

#[async_trait]
impl FlushWriter for Fake {
    async fn write(&mut self, batch: &ChangeBatch) -> Result<(), WriteError> {
        let mut log = self.log.lock().unwrap();
        log.attempts += 1;
        if let Some(e) = self.script.pop_front() {
            return Err(e);
        }
        let values = batch.rows().column(1).as_string::<i32>();
        if values.iter().any(|v| v == Some("bad")) {
            return Err(WriteError::Rejected("value 'bad' is not allowed".into()));
        }
        log.writes.push(
            (0..batch.num_rows())
                .map(|i| batch.describe_row(i, 100))
                .collect(),
        );
        Ok(())
    }
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int32, false),
        Field::new("v", DataType::Utf8, true),
    ]))
}

fn rows(keys: &[i32], values: &[&str]) -> RecordBatch {
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int32Array::from(keys.to_vec())) as ArrayRef,
            Arc::new(StringArray::from(values.to_vec())) as ArrayRef,
        ],
    )
    .unwrap()
}

fn changes(keys: &[i32], values: &[&str], kinds: &[i8]) -> RecordBatch {
    let b = rows(keys, values);
    let mut fields: Vec<Field> = schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(ROW_KIND_COLUMN, DataType::Int8, false));
    let mut cols = b.columns().to_vec();
    cols.push(Arc::new(Int8Array::from(kinds.to_vec())));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
}

fn options(max_rows: usize, interval_ms: u64, retries: u32, ignore: bool) -> BufferOptions {
    BufferOptions {
        flush: FlushPolicy {
            max_rows,
            max_bytes: None,
            interval: Duration::from_millis(interval_ms),
        },
        retry: RetryPolicy {
            max_retries: retries,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(4),
            exponential: true,
        },
        ignore_errors: ignore,
    }
}

struct Setup {
    writer: BufferedWriter<Fake>,
    log: Arc<Mutex<Log>>,
    metrics: Arc<OperatorMetrics>,
}

fn setup(opts: BufferOptions, script: Vec<WriteError>) -> Setup {
    let log = Arc::new(Mutex::new(Log::default()));
    let metrics = Arc::new(OperatorMetrics::default());
    let writer = BufferedWriter::new(
        Fake {
            log: log.clone(),
            script: script.into(),
        },
        schema(),
        opts,
        metrics.clone(),
        SinkLabel {
            connector: "fake",
            table: "t".into(),
            target: "memory".into(),
        },
    );
    Setup {
        writer,
        log,
        metrics,
    }
}

fn writes(log: &Arc<Mutex<Log>>) -> Vec<Vec<String>> {
    log.lock().unwrap().writes.clone()
}

#[tokio::test]
async fn flushes_every_max_rows_and_the_rest_at_finish() {
    let mut s = setup(options(3, 0, 0, false), vec![]);
    s.writer
        .write(rows(&[1, 2, 3, 4, 5], &["a", "b", "c", "d", "e"]))
        .await
        .unwrap();
    s.writer.write(rows(&[6, 7], &["f", "g"])).await.unwrap();
    assert_eq!(
        writes(&s.log).iter().map(Vec::len).collect::<Vec<_>>(),
        vec![3, 3]
    );
    s.writer.finish().await.unwrap();
    assert_eq!(
        writes(&s.log).iter().map(Vec::len).collect::<Vec<_>>(),
        vec![3, 3, 1]
    );
    let m = s.metrics.snapshot();
    assert_eq!((m.flushes, m.rows_written), (3, 7));
}

#[tokio::test]
async fn deadline_is_interval_after_the_first_buffered_row() {
    let mut s = setup(options(100, 50, 0, false), vec![]);
    assert_eq!(s.writer.flush_deadline(), None);
    let before = tokio::time::Instant::now();
    s.writer.write(rows(&[1], &["a"])).await.unwrap();
    let deadline = s
        .writer
        .flush_deadline()
        .expect("a deadline once rows wait");
    assert!(deadline >= before + Duration::from_millis(50));
    assert!(deadline <= tokio::time::Instant::now() + Duration::from_millis(50));
    // A second row does not push the deadline back.
    tokio::time::sleep(Duration::from_millis(5)).await;
    s.writer.write(rows(&[2], &["b"])).await.unwrap();
    assert_eq!(s.writer.flush_deadline(), Some(deadline));
    s.writer.flush().await.unwrap();
    assert_eq!(s.writer.flush_deadline(), None);
    assert_eq!(writes(&s.log), vec![vec!["+I[1, a]", "+I[2, b]"]]);
    // Interval 0 disables the timer.
    let mut s = setup(options(100, 0, 0, false), vec![]);
    s.writer.write(rows(&[1], &["a"])).await.unwrap();
    assert_eq!(s.writer.flush_deadline(), None);
}

#[tokio::test]
async fn upsert_key_keeps_the_last_change_per_key() {
    let mut s = setup(options(0, 0, 0, false), vec![]);
    s.writer = s.writer.with_upsert_key(vec![0]);
    s.writer
        .write(changes(
            &[1, 2, 1, 1, 3],
            &["a", "b", "a", "c", "d"],
            &[0, 0, 1, 2, 0],
        ))
        .await
        .unwrap();
    s.writer.write(changes(&[2], &["b"], &[3])).await.unwrap();
    s.writer.flush().await.unwrap();
    assert_eq!(
        writes(&s.log),
        vec![vec!["+U[1, c]", "+I[3, d]", "-D[2, b]"]]
    );
    assert_eq!(s.metrics.snapshot().rows_written, 3);
}

#[tokio::test]
async fn transient_failures_are_retried_within_the_budget() {
    let script = vec![
        WriteError::Retryable("connection reset".into()),
        WriteError::Retryable("connection refused".into()),
    ];
    let mut s = setup(options(0, 0, 2, false), script);
    s.writer.write(rows(&[1, 2], &["a", "b"])).await.unwrap();
    s.writer.finish().await.unwrap();
    assert_eq!(s.log.lock().unwrap().attempts, 3);
    assert_eq!(writes(&s.log), vec![vec!["+I[1, a]", "+I[2, b]"]]);
}

#[tokio::test]
async fn beyond_the_budget_the_job_fails_with_the_last_message() {
    let script = vec![
        WriteError::Retryable("connection reset".into()),
        WriteError::Retryable("connection refused".into()),
    ];
    let mut s = setup(options(0, 0, 1, false), script);
    s.writer.write(rows(&[1, 2], &["a", "b"])).await.unwrap();
    let err = s.writer.finish().await.unwrap_err().to_string();
    assert_eq!(
        err,
        "connector 'fake': table 't' (memory): writing 2 rows failed after 1 retry: connection refused"
    );
    assert!(writes(&s.log).is_empty());
}

#[tokio::test]
async fn fatal_errors_are_not_retried() {
    let mut s = setup(
        options(0, 0, 5, false),
        vec![WriteError::Fatal("no such table".into())],
    );
    s.writer.write(rows(&[1], &["a"])).await.unwrap();
    let err = s.writer.flush().await.unwrap_err().to_string();
    assert!(
        err.ends_with("writing 1 rows failed: no such table"),
        "{err}"
    );
    assert_eq!(s.log.lock().unwrap().attempts, 1);
}

#[tokio::test]
async fn a_rejected_batch_is_split_to_name_the_bad_row() {
    let mut s = setup(options(0, 0, 3, false), vec![]);
    s.writer
        .write(rows(&[1, 2, 3, 4, 5], &["a", "b", "bad", "d", "e"]))
        .await
        .unwrap();
    let err = s.writer.finish().await.unwrap_err().to_string();
    assert_eq!(
        err,
        "connector 'fake': table 't' (memory): row +I[3, bad] was rejected: value 'bad' is not allowed"
    );
    // Rows before the bad one were written, in order.
    assert_eq!(writes(&s.log).concat(), vec!["+I[1, a]", "+I[2, b]"]);
}

#[tokio::test]
async fn ignore_errors_skips_and_counts_rejected_rows() {
    let mut s = setup(options(0, 0, 3, true), vec![]);
    s.writer
        .write(rows(&[1, 2, 3, 4, 5], &["bad", "b", "c", "bad", "e"]))
        .await
        .unwrap();
    s.writer.finish().await.unwrap();
    assert_eq!(
        writes(&s.log).concat(),
        vec!["+I[2, b]", "+I[3, c]", "+I[5, e]"]
    );
    let m = s.metrics.snapshot();
    assert_eq!((m.records_skipped, m.rows_written), (2, 3));
}

#[tokio::test]
async fn per_row_failures_retry_only_those_rows() {
    let script = vec![WriteError::Rows(vec![
        RowError::retryable(1, "429 too many requests"),
        RowError::rejected(2, "mapping error").with_column("v"),
    ])];
    let mut s = setup(options(0, 0, 3, true), script);
    s.writer
        .write(rows(&[1, 2, 3], &["a", "b", "c"]))
        .await
        .unwrap();
    s.writer.finish().await.unwrap();
    // The first attempt wrote rows 0 (by the script's say-so); the retry
    // carries row 1 only; row 2 was skipped.
    assert_eq!(writes(&s.log), vec![vec!["+I[2, b]"]]);
    let m = s.metrics.snapshot();
    assert_eq!((m.records_skipped, m.rows_written), (1, 2));

    let script = vec![WriteError::Rows(vec![
        RowError::rejected(0, "mapping error").with_column("v"),
    ])];
    let mut s = setup(options(0, 0, 3, false), script);
    s.writer.write(rows(&[1], &["a"])).await.unwrap();
    let err = s.writer.finish().await.unwrap_err().to_string();
    assert!(
        err.ends_with("row +I[1, a], column 'v' was rejected: mapping error"),
        "{err}"
    );
}

#[tokio::test]
async fn nothing_buffered_means_no_write() {
    let mut s = setup(options(10, 10, 0, false), vec![]);
    s.writer.flush().await.unwrap();
    s.writer.finish().await.unwrap();
    assert_eq!(s.log.lock().unwrap().attempts, 0);
    assert_eq!(s.metrics.snapshot().flushes, 0);
}

#[tokio::test]
async fn an_update_pair_is_not_split_across_flushes() {
    let mut s = setup(options(2, 0, 0, false), vec![]);
    s.writer = s.writer.with_upsert_key(vec![0]);
    s.writer
        .write(changes(&[1, 2, 2, 3], &["a", "b", "c", "d"], &[0, 1, 2, 0]))
        .await
        .unwrap();
    s.writer.finish().await.unwrap();
    assert_eq!(
        writes(&s.log),
        vec![vec!["+I[1, a]", "+U[2, c]"], vec!["+I[3, d]"]]
    );
}
