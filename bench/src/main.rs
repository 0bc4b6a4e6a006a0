//! Runtime micro-benchmarks: how fast rows go through Sluice, each figure
//! beside a ceiling measured on the same machine in the same run, so the
//! runtime's own overhead is visible.
//!
//! ```sh
//! cargo run --release --bin sluice-bench -- [--rows N]
//! cargo run --release --bin sluice-bench -- nexmark --help
//! cargo run --release --bin sluice-bench -- kafka --help
//! cargo run --release --bin sluice-bench -- udf --help
//! ```
//!
//! The `nexmark` subcommand runs the Nexmark queries (see [`nexmark`]).

mod kafka;
mod nexmark;
mod udf;

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::json::ReaderBuilder;
use sluice::{Sluice, StatementResult};

struct Figure {
    name: String,
    rows: u64,
    bytes: Option<u64>,
    secs: f64,
}

impl Figure {
    fn print(&self) {
        let rps = self.rows as f64 / self.secs;
        let mbps = self
            .bytes
            .map(|b| format!("{:>9.1}", b as f64 / self.secs / 1e6))
            .unwrap_or_else(|| format!("{:>9}", "-"));
        println!(
            "| {:<44} | {:>10} | {:>8.3} | {:>12.0} | {mbps} |",
            self.name, self.rows, self.secs, rps
        );
    }
}

async fn run_job(sluice: &Sluice, sql: &str) -> f64 {
    let start = Instant::now();
    for r in sluice.execute_sql(sql).await.expect("statement failed") {
        if let StatementResult::Job(job) = r {
            job.wait().await.expect("job failed");
        }
    }
    start.elapsed().as_secs_f64()
}

fn write_json_file(path: &std::path::Path, rows: u64) -> u64 {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create json file"));
    for i in 0..rows {
        writeln!(
            f,
            r#"{{"id":{i},"name":"user-{}","price":{}.{:02},"tags":"alpha,beta","ts":"2024-01-02 03:04:{:02}.123"}}"#,
            i % 1000,
            i % 5000,
            i % 100,
            i % 60
        )
        .expect("write json");
    }
    f.flush().expect("flush");
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn raw_json_decode(path: &std::path::Path) -> (u64, f64) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("price", DataType::Float64, true),
        Field::new("tags", DataType::Utf8, true),
        Field::new(
            "ts",
            DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Millisecond, None),
            true,
        ),
    ]));
    let start = Instant::now();
    let bytes = std::fs::read(path).expect("read json file");
    let mut decoder = ReaderBuilder::new(schema)
        .with_batch_size(8192)
        .build_decoder()
        .expect("decoder");
    let mut rows = 0u64;
    let mut buf = &bytes[..];
    while !buf.is_empty() {
        let n = decoder.decode(buf).expect("decode");
        buf = &buf[n..];
        if let Some(b) = decoder.flush().expect("flush") {
            rows += b.num_rows() as u64;
        }
    }
    if let Some(b) = decoder.flush().expect("flush") {
        rows += b.num_rows() as u64;
    }
    (rows, start.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() {
    let mut rows: u64 = 5_000_000;
    if std::env::args().nth(1).as_deref() == Some("kafka") {
        let code = kafka::main(std::env::args().skip(2).collect()).await;
        std::process::exit(code);
    }
    if std::env::args().nth(1).as_deref() == Some("udf") {
        let code = udf::main(std::env::args().skip(2).collect()).await;
        std::process::exit(code);
    }
    if std::env::args().nth(1).as_deref() == Some("nexmark") {
        let code = nexmark::main(std::env::args().skip(2).collect()).await;
        std::process::exit(code);
    }
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rows" => {
                rows = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--rows takes a number")
            }
            "--help" | "-h" => {
                println!("sluice-bench [--rows N]   (build with --release)");
                println!("sluice-bench nexmark --help");
                println!("sluice-bench kafka --help");
                println!("sluice-bench udf --help");
                return;
            }
            other => panic!("unknown argument {other}"),
        }
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: debug build; run with --release for meaningful figures");
    }
    let mut figures = Vec::new();

    // 1. datagen -> filter -> blackhole
    let sluice = Sluice::new();
    let setup = format!(
        "CREATE TABLE gen (id BIGINT, v INT, s STRING) WITH ('connector' = 'datagen', \
         'number-of-rows' = '{rows}', 'rows-per-second' = '1000000000000', \
         'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '{rows}', \
         'fields.v.min' = '0', 'fields.v.max' = '99', 'fields.s.length' = '8');
         CREATE TABLE bh (id BIGINT, v INT) WITH ('connector' = 'blackhole');
         CREATE TABLE bh_gen (id BIGINT, v INT, s STRING) WITH ('connector' = 'blackhole');"
    );
    sluice.execute_sql(&setup).await.expect("setup");
    let secs = run_job(&sluice, "INSERT INTO bh_gen SELECT * FROM gen").await;
    figures.push(Figure {
        name: "ceiling: datagen -> blackhole".into(),
        rows,
        bytes: None,
        secs,
    });
    let secs = run_job(
        &sluice,
        "INSERT INTO bh SELECT id, v * 2 FROM gen WHERE v >= 50",
    )
    .await;
    figures.push(Figure {
        name: "datagen -> filter/projection -> blackhole".into(),
        rows,
        bytes: None,
        secs,
    });

    // 2. json file -> projection -> blackhole, beside raw arrow-json decode.
    let dir = std::env::temp_dir().join(format!("sluice-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("input.json");
    let json_rows = rows / 2;
    let bytes = write_json_file(&file, json_rows);
    let (decoded, secs) = raw_json_decode(&file);
    assert_eq!(decoded, json_rows);
    figures.push(Figure {
        name: "ceiling: raw arrow-json decode of the file".into(),
        rows: json_rows,
        bytes: Some(bytes),
        secs,
    });
    let setup = format!(
        "CREATE TABLE js (id BIGINT, name STRING, price DOUBLE, tags STRING, ts TIMESTAMP(3)) \
         WITH ('connector' = 'filesystem', 'path' = '{}', 'format' = 'json');
         CREATE TABLE bh_js (id BIGINT, name STRING, price DOUBLE) WITH ('connector' = 'blackhole');",
        file.display()
    );
    sluice.execute_sql(&setup).await.expect("setup");
    let secs = run_job(
        &sluice,
        "INSERT INTO bh_js SELECT id, UPPER(name), price * 1.1 FROM js",
    )
    .await;
    figures.push(Figure {
        name: "json file -> projection -> blackhole".into(),
        rows: json_rows,
        bytes: Some(bytes),
        secs,
    });
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "| {:<44} | {:>10} | {:>8} | {:>12} | {:>9} |",
        "benchmark", "rows", "seconds", "rows/s", "MB/s"
    );
    println!(
        "|{}|{}|{}|{}|{}|",
        "-".repeat(46),
        "-".repeat(12),
        "-".repeat(10),
        "-".repeat(14),
        "-".repeat(11)
    );
    for f in &figures {
        f.print();
    }
}
