//! The job lifecycle: an unbounded INSERT runs until STOP JOB cancels it
//! cleanly; SHOW JOBS and DESCRIBE JOB report it.

use std::time::Duration;

use datafusion::arrow::array::AsArray;
use sluice::{JobStatus, Sluice, StatementResult};

async fn rows(sluice: &Sluice, sql: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for r in sluice.execute_sql(sql).await.expect("statement runs") {
        if let StatementResult::Rows { batches, .. } = r {
            for b in batches {
                for i in 0..b.num_rows() {
                    out.push(
                        b.columns()
                            .iter()
                            .map(|c| c.as_string::<i32>().value(i).to_string())
                            .collect(),
                    );
                }
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_job_cancels_an_unbounded_job_cleanly() {
    let sluice = Sluice::new();
    sluice
        .execute_sql(
            "CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '1000');
             CREATE TABLE bh (id BIGINT) WITH ('connector' = 'blackhole');",
        )
        .await
        .expect("ddl");
    let mut results = sluice
        .execute_sql("INSERT INTO bh SELECT id FROM gen")
        .await
        .expect("insert");
    let Some(StatementResult::Job(job)) = results.pop() else {
        panic!("INSERT returns a job");
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(job.status(), JobStatus::Running);

    let jobs = rows(&sluice, "SHOW JOBS").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0][0], job.id());
    assert_eq!(
        jobs[0][1],
        "insert-into_default_catalog.default_database.bh"
    );
    assert_eq!(jobs[0][2], "RUNNING");

    let ops = rows(&sluice, &format!("DESCRIBE JOB '{}'", job.id())).await;
    assert_eq!(ops[0][0], "Source: gen -> Calc(project) -> Sink: bh");
    assert!(ops[0][1].parse::<u64>().expect("rows in") > 0);

    sluice
        .execute_sql(&format!("STOP JOB '{}'", job.id()))
        .await
        .expect("stop job");
    assert_eq!(job.status(), JobStatus::Canceled);
    job.wait().await.expect("a cancelled job is not a failure");
    assert_eq!(rows(&sluice, "SHOW JOBS").await[0][2], "CANCELED");

    let err = sluice
        .execute_sql("STOP JOB 'ffffffffffffffffffffffffffffffff'")
        .await
        .expect_err("unknown job");
    assert!(err.to_string().contains("Could not find a job"), "{err}");
}
