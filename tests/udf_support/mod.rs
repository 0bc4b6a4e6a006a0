//! Running a query to its end and reading its rows as text, shared by the
//! UDF tests (Rust API and plugins).

// Each test binary uses only some of these.
#![allow(dead_code)]

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int8Type;
use sluice::{RowKind, Sluice, SluiceError, StatementResult};
use sluice_engine::display::format_value;

/// Four lines with event times, read by the UDF tests.
pub const LINES: &str = "CREATE TABLE lines (
  id BIGINT,
  s STRING,
  tags STRING,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH (
  'connector' = 'filesystem',
  'path' = 'tests/data/udf/lines.csv',
  'format' = 'csv',
  'csv.null-literal' = 'NULL'
)";

/// Every row a query produced until it ended, as text (an updating
/// result's rows start with their row kind).
pub async fn query(sluice: &Sluice, sql: &str) -> Result<Vec<String>, SluiceError> {
    let mut results = sluice.execute_sql(sql).await?;
    let Some(StatementResult::Query(mut q)) = results.pop() else {
        panic!("not a query: {sql}");
    };
    let ncols = q.schema.fields().len();
    let mut out = Vec::new();
    while let Some(b) = q.batches.recv().await {
        let b = b?;
        for r in 0..b.num_rows() {
            let mut row = Vec::new();
            if q.is_changelog {
                let k = b.column(ncols).as_primitive::<Int8Type>().value(r);
                row.push(RowKind::from_i8(k).map_or("?", |k| k.short()).to_string());
            }
            for c in 0..ncols {
                let col = b.column(c);
                row.push(if col.is_null(r) {
                    "NULL".to_string()
                } else {
                    format_value(col.as_ref(), r)
                });
            }
            out.push(row.join(" "));
        }
    }
    q.job.wait().await?;
    Ok(out)
}

pub async fn rows(sluice: &Sluice, sql: &str) -> Vec<String> {
    match query(sluice, sql).await {
        Ok(r) => r,
        Err(e) => panic!("{sql}: {e}"),
    }
}

pub async fn error(sluice: &Sluice, sql: &str) -> String {
    match query(sluice, sql).await {
        Ok(r) => panic!("{sql} should fail, got {r:?}"),
        Err(e) => e.to_string(),
    }
}

/// Builds the workspace's plugin crates (the example `my-udfs` and the
/// broken-on-purpose `bad-udfs` fixture) once per test binary, into their
/// own target dir so the build does not wait for the one running the
/// tests, and returns the library of `package`.
pub fn plugin_library(package: &str) -> std::path::PathBuf {
    static BUILT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = root.join("target").join("plugins");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let status = std::process::Command::new(cargo)
            .args(["build", "--quiet", "-p", "my-udfs", "-p", "bad-udfs"])
            .env("CARGO_TARGET_DIR", &target)
            .current_dir(root)
            .status()
            .expect("run cargo build for the plugins");
        assert!(status.success(), "building the plugins failed");
        target.join("debug")
    });
    dir.join(format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        package.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    ))
}
