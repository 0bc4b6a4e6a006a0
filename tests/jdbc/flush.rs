//! When rows reach the database: after `sink.buffer-flush.interval` with
//! fewer rows than the batch size, and in batches of
//! `sink.buffer-flush.max-rows` — both observed while the job runs.

use std::time::Duration;

use datafusion::arrow::array::AsArray;
use sluice::{JobStatus, Sluice, StatementResult};

use crate::support::{Db, eventually, fresh_table, run};

fn count(db: Db, table: &str) -> usize {
    db.sql(&format!("SELECT COUNT(*) FROM {}", db.quote(table)))[0]
        .parse()
        .expect("a count")
}

/// The "sink flushes" cell of DESCRIBE JOB for the sink operator.
async fn sink_flushes(sluice: &Sluice, job: &str) -> String {
    let mut r = sluice
        .execute_sql(&format!("DESCRIBE JOB '{job}'"))
        .await
        .expect("describe job");
    let Some(StatementResult::Rows { batches, .. }) = r.pop() else {
        panic!("DESCRIBE JOB returns rows");
    };
    for b in batches {
        for i in 0..b.num_rows() {
            if b.column(0).as_string::<i32>().value(i).contains("Sink:") {
                return b.column(5).as_string::<i32>().value(i).to_string();
            }
        }
    }
    panic!("no sink operator in DESCRIBE JOB");
}

/// Starts `datagen (rows-per-second) -> jdbc table` with `options`.
async fn start(db: Db, table: &str, rate: u32, options: &str) -> (Sluice, sluice::JobHandle) {
    db.sql(&format!(
        "CREATE TABLE {} (id BIGINT, v VARCHAR(20))",
        db.quote(table)
    ));
    let sluice = Sluice::new();
    run(
        &sluice,
        &format!(
            "CREATE TABLE gen (id BIGINT, v STRING) WITH ('connector' = 'datagen',
               'rows-per-second' = '{rate}', 'fields.v.length' = '5');
             CREATE TABLE out (id BIGINT, v STRING) WITH ('connector' = 'jdbc', 'url' = '{}',
               'table-name' = '{table}', {}, {options})",
            db.url(),
            db.credentials()
        ),
    )
    .await
    .expect("ddl");
    let job = run(&sluice, "INSERT INTO out SELECT id, v FROM gen")
        .await
        .expect("insert")
        .expect("a job");
    (sluice, job)
}

async fn flush_by_interval(db: Db) {
    let table = fresh_table(db, "flush_interval");
    let (sluice, job) = start(
        db,
        &table,
        20,
        "'sink.buffer-flush.max-rows' = '100000', 'sink.buffer-flush.interval' = '300ms'",
    )
    .await;
    // Far fewer rows than max-rows arrive, yet they become visible.
    eventually(
        Duration::from_secs(10),
        "rows flushed by the interval",
        || count(db, &table) > 0,
    )
    .await;
    assert_eq!(job.status(), JobStatus::Running);
    let visible = count(db, &table);
    assert!(
        visible < 100,
        "{visible} rows: the interval flushed, not the count"
    );
    // The timer keeps firing while the source trickles.
    eventually(Duration::from_secs(10), "a later interval flush", || {
        count(db, &table) > visible
    })
    .await;
    let flushes = sink_flushes(&sluice, job.id()).await;
    assert!(flushes.contains("flushes, avg"), "{flushes}");
    job.cancel();
    job.wait().await.expect("a cancelled job stops cleanly");
    db.sql(&format!("DROP TABLE {}", db.quote(&table)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_reach_mariadb_after_the_flush_interval() {
    flush_by_interval(Db::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_reach_postgres_after_the_flush_interval() {
    flush_by_interval(Db::Postgres).await;
}

async fn flush_by_count(db: Db) {
    let table = fresh_table(db, "flush_count");
    let (_sluice, job) = start(
        db,
        &table,
        200,
        "'sink.buffer-flush.max-rows' = '7', 'sink.buffer-flush.interval' = '0'",
    )
    .await;
    eventually(Duration::from_secs(10), "rows flushed by count", || {
        count(db, &table) >= 21
    })
    .await;
    // With the timer off, every flush is exactly 7 rows (one transaction).
    for _ in 0..10 {
        let n = count(db, &table);
        assert_eq!(n % 7, 0, "{n} rows is not a whole number of 7-row flushes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    job.cancel();
    job.wait().await.expect("a cancelled job stops cleanly");
    db.sql(&format!("DROP TABLE {}", db.quote(&table)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_receives_rows_in_batches_of_max_rows() {
    flush_by_count(Db::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_receives_rows_in_batches_of_max_rows() {
    flush_by_count(Db::Postgres).await;
}
