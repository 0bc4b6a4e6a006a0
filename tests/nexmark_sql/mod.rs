//! Running the suite's SQL (sql-examples/nexmark) from tests: its DDL with
//! a chosen event count, rate and start of event time, and a statement's
//! rows. Shared by the source tests and the query-result tests.

// Each test binary uses only some of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int8Type;
use datafusion::arrow::record_batch::RecordBatch;
use sluice::{RowKind, Sluice, StatementResult};
use sluice_engine::display::format_value;

/// A path inside the repository.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A repository file's text.
pub fn read(rel: &str) -> String {
    std::fs::read_to_string(repo(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

/// `sql-examples/nexmark/ddl.sql` generating `events` events at 10,000
/// events per second of event time from the file's base time.
pub fn ddl(events: u64) -> String {
    ddl_at(events, 10_000, "2024-01-01 00:00:00")
}

/// `sql-examples/nexmark/ddl.sql` generating `events` events, `rate` per
/// second of event time, the first at `base_time`.
pub fn ddl_at(events: u64, rate: u64, base_time: &str) -> String {
    let ddl = read("sql-examples/nexmark/ddl.sql");
    let replace = |text: String, from: &str, to: &str| {
        assert!(text.contains(from), "ddl.sql has no {from}");
        text.replace(from, to)
    };
    let ddl = replace(
        ddl,
        "'events.num' = '10000000'",
        &format!("'events.num' = '{events}'"),
    );
    let ddl = replace(ddl, "'10000000'", &format!("'{rate}'"));
    replace(
        ddl,
        "'base-time' = '2024-01-01 00:00:00'",
        &format!("'base-time' = '{base_time}'"),
    )
}

/// Runs `setup`, then the SELECT `query`, returning every batch.
pub async fn select(sluice: &Sluice, setup: &str, query: &str) -> Vec<RecordBatch> {
    sluice.execute_sql(setup).await.expect("setup runs");
    let mut results = sluice.execute_sql(query).await.expect("query plans");
    let Some(StatementResult::Query(mut q)) = results.pop() else {
        panic!("a SELECT returns a query result");
    };
    let mut out = Vec::new();
    while let Some(b) = q.batches.recv().await {
        out.push(b.expect("query succeeds"));
    }
    out
}

/// Every row of a SELECT as formatted cells.
pub async fn select_rows(sluice: &Sluice, setup: &str, query: &str) -> Vec<Vec<String>> {
    changelog(sluice, setup, query)
        .await
        .into_iter()
        .map(|(kind, row)| {
            assert_eq!(kind, RowKind::Insert, "an append-only result: {row:?}");
            row
        })
        .collect()
}

/// Every row of a SELECT with its row kind (`+I` for an append-only
/// result), cells formatted as the SQL client shows them.
pub async fn changelog(sluice: &Sluice, setup: &str, query: &str) -> Vec<(RowKind, Vec<String>)> {
    sluice.execute_sql(setup).await.expect("setup runs");
    let mut results = sluice.execute_sql(query).await.expect("query plans");
    let Some(StatementResult::Query(mut q)) = results.pop() else {
        panic!("a SELECT returns a query result");
    };
    let columns = q.schema.fields().len();
    let mut out = Vec::new();
    while let Some(b) = q.batches.recv().await {
        let b = b.expect("query succeeds");
        for r in 0..b.num_rows() {
            let kind = if q.is_changelog {
                let k = b.column(columns).as_primitive::<Int8Type>().value(r);
                RowKind::from_i8(k).expect("a valid row kind")
            } else {
                RowKind::Insert
            };
            let row = (0..columns)
                .map(|c| format_value(b.column(c).as_ref(), r))
                .collect();
            out.push((kind, row));
        }
    }
    q.job.wait().await.expect("the query's job succeeds");
    out
}
