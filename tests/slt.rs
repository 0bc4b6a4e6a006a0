//! Runs every `tests/slt/*.slt` file against a fresh Sluice session.
//!
//! A query's rows are everything it produced until it ended (the inputs in
//! these files are bounded, so a continuous query is deterministic). An
//! INSERT waits for its job, so later statements see what it wrote.

use std::path::PathBuf;

use datafusion::arrow::array::AsArray;
use sluice::{Sluice, SluiceError, StatementResult};
use sluice_engine::display::format_value;
use sqllogictest::{DBOutput, DefaultColumnType};

struct SltDb {
    sluice: Sluice,
}

#[async_trait::async_trait]
impl sqllogictest::AsyncDB for SltDb {
    type Error = SluiceError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SluiceError> {
        let mut last = DBOutput::StatementComplete(0);
        for stmt in self.sluice.parse(sql)? {
            last = match self.sluice.execute(stmt).await? {
                StatementResult::Message(_) => DBOutput::StatementComplete(0),
                StatementResult::Explain(text) => DBOutput::Rows {
                    types: vec![DefaultColumnType::Text],
                    rows: text
                        .lines()
                        .map(|l| {
                            vec![if l.is_empty() {
                                "(empty)".to_string()
                            } else {
                                l.to_string()
                            }]
                        })
                        .collect(),
                },
                StatementResult::Rows { schema, batches } => {
                    rows(schema.fields().len(), false, &batches)
                }
                StatementResult::Job(job) => {
                    job.wait().await?;
                    DBOutput::StatementComplete(0)
                }
                StatementResult::Query(mut q) => {
                    let mut batches = Vec::new();
                    while let Some(b) = q.batches.recv().await {
                        batches.push(b?);
                    }
                    q.job.wait().await?;
                    rows(q.schema.fields().len(), q.is_changelog, &batches)
                }
            };
        }
        Ok(last)
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "sluice"
    }

    async fn sleep(dur: std::time::Duration) {
        tokio::time::sleep(dur).await
    }
}

/// Result rows as strings. An updating result gets Flink's `op` column
/// (`+I`, `-U`, `+U`, `-D`) first.
fn rows(
    ncols: usize,
    is_changelog: bool,
    batches: &[datafusion::arrow::record_batch::RecordBatch],
) -> DBOutput<DefaultColumnType> {
    let mut out = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            let op = is_changelog.then(|| {
                let kinds = b
                    .column(ncols)
                    .as_primitive::<datafusion::arrow::datatypes::Int8Type>();
                sluice::RowKind::from_i8(kinds.value(r))
                    .map_or("?", |k| k.short())
                    .to_string()
            });
            out.push(
                op.into_iter()
                    .chain((0..ncols).map(|c| {
                        let col = b.column(c);
                        if col.is_null(r) {
                            "NULL".to_string()
                        } else {
                            let s = format_value(col.as_ref(), r);
                            if s.is_empty() {
                                "(empty)".to_string()
                            } else {
                                s
                            }
                        }
                    }))
                    .collect(),
            );
        }
    }
    DBOutput::Rows {
        types: vec![DefaultColumnType::Any; ncols + usize::from(is_changelog)],
        rows: out,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqllogictests() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/slt exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .slt files in {}", dir.display());
    let filter = std::env::var("SLT").ok();
    let mut failures = Vec::new();
    for f in &files {
        if filter
            .as_ref()
            .is_some_and(|flt| !f.to_string_lossy().contains(flt.as_str()))
        {
            continue;
        }
        let mut runner = sqllogictest::Runner::new(|| async {
            Ok(SltDb {
                sluice: Sluice::new(),
            })
        });
        match runner.run_file_async(f).await {
            Ok(()) => println!("ok   {}", f.display()),
            Err(e) => {
                println!("FAIL {}\n{e}", f.display());
                failures.push(format!("{}: {e}", f.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} slt file(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
