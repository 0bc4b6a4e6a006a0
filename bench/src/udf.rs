//! `sluice-bench udf`: the cost of a user function. The same function —
//! Nexmark's `count_char` — as a built-in expression, as a Rust-API UDF and
//! as a plugin loaded from the example library, each evaluated over the
//! same in-memory batches by the same DataFusion plan, so the differences
//! are the function call paths (and the plugin's C boundary) alone.
//!
//! ```sh
//! cargo build --release -p my-udfs
//! cargo run --release --bin sluice-bench -- udf --rows 10000000
//! ```

use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::ScalarValue;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use sluice::udf::ScalarFunction;
use sluice_udf::plugin::{self, LoadedFunction};

const BATCH: usize = 8192;

fn usage() -> i32 {
    println!(
        "sluice-bench udf [--rows N] [--plugin PATH]\n\n\
         PATH defaults to target/release/libmy_udfs.so (cargo build --release -p my-udfs)."
    );
    2
}

/// Runs the benchmark; returns the process exit code.
pub async fn main(args: Vec<String>) -> i32 {
    let mut rows = 10_000_000usize;
    let mut library = format!(
        "target/release/{}my_udfs{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next()) {
            ("--rows", Some(v)) => match v.parse() {
                Ok(n) => rows = n,
                Err(_) => return usage(),
            },
            ("--plugin", Some(v)) => library = v,
            _ => return usage(),
        }
    }
    let plugin = match plugin::load(&library, "count_char", "count_char_plugin", &[]) {
        Ok(p) => match p.function {
            LoadedFunction::Scalar(f) => f,
            _ => {
                eprintln!("'count_char' in {library} is not a scalar function");
                return 1;
            }
        },
        Err(e) => {
            eprintln!("{e}\nbuild the example plugin first: cargo build --release -p my-udfs");
            return 1;
        }
    };
    if cfg!(debug_assertions) {
        eprintln!("warning: debug build; run with --release for meaningful figures");
    }
    let ctx = SessionContext::new();
    let table = match MemTable::try_new(schema(), vec![batches(rows)]) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    if let Err(e) = ctx.register_table("t", Arc::new(table)) {
        eprintln!("{e}");
        return 1;
    }
    ctx.register_udf(
        ScalarFunction::new("count_char_rust", |s: &str, c: &str| {
            s.matches(c).count() as i64
        })
        .into_udf(),
    );
    ctx.register_udf(plugin);
    let cases = [
        ("scan only: SUM(length(s))", "length(s)"),
        (
            "built-in: length(s) - length(replace(s, 'c', ''))",
            "length(s) - length(replace(s, 'c', ''))",
        ),
        (
            "Rust API UDF: count_char(s, 'c')",
            "count_char_rust(s, 'c')",
        ),
        (
            "plugin UDF: count_char(s, 'c')",
            "count_char_plugin(s, 'c')",
        ),
    ];
    println!("| function | rows | seconds | rows/s | ns/row |");
    println!("|---|---:|---:|---:|---:|");
    let mut secs = Vec::new();
    let mut answers = Vec::new();
    for (name, expr) in cases {
        // Summing keeps the result small; each case is run twice and the
        // faster run kept, so page faults of the first touch do not count.
        let sql = format!("SELECT SUM({expr}) FROM t");
        let mut best = f64::MAX;
        let mut answer = String::new();
        for _ in 0..2 {
            let start = Instant::now();
            let out = match ctx.sql(&sql).await {
                Ok(df) => df.collect().await,
                Err(e) => Err(e),
            };
            best = best.min(start.elapsed().as_secs_f64());
            match out {
                Ok(b) => {
                    answer = b
                        .first()
                        .and_then(|b| ScalarValue::try_from_array(b.column(0), 0).ok())
                        .map(|v| v.to_string())
                        .unwrap_or_default()
                }
                Err(e) => {
                    eprintln!("{sql}: {e}");
                    return 1;
                }
            }
        }
        answers.push(answer);
        println!(
            "| {name} | {rows} | {best:.3} | {:.0} | {:.1} |",
            rows as f64 / best,
            best * 1e9 / rows as f64
        );
        secs.push(best);
    }
    if answers[1] != answers[2] || answers[2] != answers[3] {
        eprintln!(
            "the three count_char forms disagree:\n{}",
            answers[1..].join("\n")
        );
        return 1;
    }
    let batches = rows.div_ceil(BATCH) as f64;
    println!(
        "\nplugin vs Rust API: {:+.2} µs per {BATCH}-row batch ({:+.1} ns/row); \
         Rust API vs built-in: {:+.2} µs per batch",
        (secs[3] - secs[2]) * 1e6 / batches,
        (secs[3] - secs[2]) * 1e9 / rows as f64,
        (secs[2] - secs[1]) * 1e6 / batches,
    );
    0
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8, true)]))
}

/// `rows` strings of 16..48 characters from a small alphabet, in batches.
fn batches(rows: usize) -> Vec<RecordBatch> {
    let alphabet = b"abcdefghij ";
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut out = Vec::new();
    let mut left = rows;
    while left > 0 {
        let n = left.min(BATCH);
        let mut b = StringBuilder::with_capacity(n, n * 32);
        let mut s = String::new();
        for _ in 0..n {
            s.clear();
            let len = 16 + (next() % 32) as usize;
            for _ in 0..len {
                s.push(alphabet[(next() % alphabet.len() as u64) as usize] as char);
            }
            b.append_value(&s);
        }
        let col: ArrayRef = Arc::new(b.finish());
        out.push(RecordBatch::try_new(schema(), vec![col]).expect("batch matches its schema"));
        left -= n;
    }
    out
}
