//! Helpers for the JDBC tests: the database command-line clients (so the
//! tests check the tables with the servers' own tools), running SQL in
//! Sluice, and unique table names so tests run in parallel.

use std::process::Command;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use sluice::{JobHandle, Sluice, StatementResult};
use sluice_engine::display::format_row_with;

/// Which database a test talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    MySql,
    Postgres,
}

impl Db {
    /// The JDBC URL of the `test` database.
    pub fn url(self) -> String {
        self.url_at(match self {
            Db::MySql => 3306,
            Db::Postgres => 5432,
        })
    }

    /// The JDBC URL of the `test` database on another port (a proxy).
    pub fn url_at(self, port: u16) -> String {
        match self {
            Db::MySql => format!("jdbc:mysql://127.0.0.1:{port}/test"),
            Db::Postgres => format!("jdbc:postgresql://127.0.0.1:{port}/test"),
        }
    }

    /// `username`/`password` options for the test servers.
    pub fn credentials(self) -> &'static str {
        match self {
            Db::MySql => "'username' = 'root', 'password' = ''",
            Db::Postgres => "'username' = 'postgres'",
        }
    }

    /// The server's port.
    pub fn port(self) -> u16 {
        match self {
            Db::MySql => 3306,
            Db::Postgres => 5432,
        }
    }

    /// Runs `sql` with the database's own client; returns its output rows
    /// with columns joined by `|` (NULL shown as `NULL`). Panics on error.
    pub fn sql(self, sql: &str) -> Vec<String> {
        let out = match self {
            Db::MySql => Command::new("mysql")
                .args([
                    "-h127.0.0.1",
                    "-P3306",
                    "-uroot",
                    "-N",
                    "-B",
                    "test",
                    "-e",
                    sql,
                ])
                .output(),
            Db::Postgres => Command::new("psql")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-d",
                    "test",
                    "-At",
                    "-F",
                    "|",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-P",
                    "null=NULL",
                    "-c",
                    sql,
                ])
                .output(),
        }
        .expect("the database client runs");
        assert!(
            out.status.success(),
            "{self:?} `{sql}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.replace('\t', "|"))
            .collect()
    }

    /// Quotes an identifier for the database's client.
    pub fn quote(self, name: &str) -> String {
        match self {
            Db::MySql => format!("`{name}`"),
            Db::Postgres => format!("\"{name}\""),
        }
    }
}

/// A table name unique to this test and process, dropped first.
pub fn fresh_table(db: Db, test: &str) -> String {
    let name = format!("sl_{test}_{}", std::process::id());
    db.sql(&format!("DROP TABLE IF EXISTS {}", db.quote(&name)));
    name
}

/// Runs statements; returns the job of the last INSERT, if any.
pub async fn run(sluice: &Sluice, sql: &str) -> sluice::Result<Option<JobHandle>> {
    let mut job = None;
    for r in sluice.execute_sql(sql).await? {
        if let StatementResult::Job(j) = r {
            job = Some(j);
        }
    }
    Ok(job)
}

/// Runs an INSERT and waits for its job to finish successfully.
pub async fn insert(sluice: &Sluice, sql: &str) {
    let job = run(sluice, sql)
        .await
        .expect("insert plans")
        .expect("a job");
    job.wait().await.expect("the job succeeds");
}

/// The rows of a bounded SELECT, rendered like Flink's print sink
/// (`1, abc`), in arrival order.
pub async fn select(sluice: &Sluice, sql: &str) -> Vec<String> {
    let mut results = sluice.execute_sql(sql).await.expect("select plans");
    let Some(StatementResult::Query(mut q)) = results.pop() else {
        panic!("a SELECT returns a query result");
    };
    let mut rows = Vec::new();
    while let Some(b) = q.batches.recv().await {
        let b: RecordBatch = b.expect("the query succeeds");
        for i in 0..b.num_rows() {
            rows.push(format_row_with(
                b.columns(),
                i,
                sluice_engine::display::DisplayStyle::Print,
            ));
        }
    }
    rows
}

/// Waits until `check` holds, polling; panics with `what` after `timeout`.
pub async fn eventually<F: FnMut() -> bool>(timeout: Duration, what: &str, mut check: F) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
