//! filesystem json -> transform -> filesystem csv, end to end through SQL.

use std::path::{Path, PathBuf};

use sluice::{JobHandle, Sluice, StatementResult};

async fn run(sluice: &Sluice, sql: &str) -> sluice::Result<Option<JobHandle>> {
    let mut job = None;
    for r in sluice.execute_sql(sql).await? {
        if let StatementResult::Job(j) = r {
            job = Some(j);
        }
    }
    Ok(job)
}

/// The content of every finished part file under `dir`, sorted by line.
fn output_lines(dir: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    for e in std::fs::read_dir(dir).expect("output dir exists") {
        let p = e.expect("dir entry").path();
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        assert!(
            !name.ends_with(".inprogress"),
            "unfinished part file {name}"
        );
        // Hidden files and success markers are not data.
        if name.starts_with('.') || name == "_SUCCESS" {
            continue;
        }
        assert!(name.starts_with("part-"), "unexpected file {name}");
        let text = std::fs::read_to_string(&p).expect("read part file");
        lines.extend(text.lines().map(str::to_string));
    }
    lines.sort();
    lines
}

const INPUT: &str = r#"{"id": 1, "name": "alice", "price": 10.5, "info": {"city": "Oslo"}}
{"id": 2, "name": "bob", "price": 3, "info": {"city": "Lima"}}
{"id": 3, "name": "carol", "price": 7.25, "info": {"city": null}}
{"id": 4, "name": "dave", "info": {"city": "Rome"}}
"#;

/// A temporary `in/` directory holding `content` as `name`, and the path of
/// an `out/` directory beside it. Keep the `TempDir` alive while using them.
fn input_dir(name: &str, content: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("in");
    let output = tmp.path().join("out");
    std::fs::create_dir_all(&input).expect("mkdir");
    std::fs::write(input.join(name), content).expect("write input");
    (tmp, input, output)
}

/// INPUT with line 3 broken (an unquoted string).
fn malformed_input() -> String {
    INPUT.replace(r#"{"id": 3, "name": "carol""#, r#"{"id": 3, "name": carol"#)
}

fn ddl(input: &Path, output: &Path, extra: &str) -> String {
    format!(
        "CREATE TABLE src (id INT, name STRING, price DOUBLE, info ROW<city STRING>)
         WITH ('connector' = 'filesystem', 'path' = '{}', 'format' = 'json'{extra});
         CREATE TABLE out (id INT, label STRING, total DOUBLE, city STRING)
         WITH ('connector' = 'filesystem', 'path' = '{}', 'format' = 'csv');",
        input.display(),
        output.display()
    )
}

const INSERT: &str = "INSERT INTO out
    SELECT id, UPPER(name), price * 2, COALESCE(info.city, 'unknown') FROM src WHERE id > 1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_to_csv_produces_exact_files() {
    let (_tmp, input, output) = input_dir("a.json", INPUT);

    let sluice = Sluice::new();
    run(&sluice, &ddl(&input, &output, "")).await.expect("ddl");
    let job = run(&sluice, INSERT).await.expect("insert").expect("a job");
    job.wait().await.expect("job succeeds");
    assert_eq!(
        output_lines(&output),
        vec!["2,BOB,6.0,Lima", "3,CAROL,14.5,unknown", "4,DAVE,,Rome"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_fails_with_its_position() {
    let (_tmp, input, output) = input_dir("bad.json", &malformed_input());

    let sluice = Sluice::new();
    run(&sluice, &ddl(&input, &output, "")).await.expect("ddl");
    let job = run(&sluice, INSERT).await.expect("insert").expect("a job");
    let err = job.wait().await.expect_err("the job must fail").to_string();
    assert!(err.contains("bad.json"), "error names the file: {err}");
    assert!(err.contains("line 3"), "error names the line: {err}");
    assert_eq!(job.status().name(), "FAILED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignore_parse_errors_skips_and_counts() {
    let (_tmp, input, output) = input_dir("bad.json", &malformed_input());

    let sluice = Sluice::new();
    run(
        &sluice,
        &ddl(&input, &output, ", 'json.ignore-parse-errors' = 'true'"),
    )
    .await
    .expect("ddl");
    let job = run(&sluice, INSERT).await.expect("insert").expect("a job");
    job.wait().await.expect("job succeeds");
    assert_eq!(
        output_lines(&output),
        vec!["2,BOB,6.0,Lima", "4,DAVE,,Rome"]
    );
    let skipped: u64 = job
        .info
        .operators
        .lock()
        .expect("operators")
        .iter()
        .map(|o| o.metrics.snapshot().records_skipped)
        .sum();
    assert_eq!(skipped, 1);
}

/// A statement set whose INSERTs read different columns of one table with a
/// watermark: the shared scan is widened, and each INSERT still sees exactly
/// its columns (a window used to find a shifted column in place of its time
/// attribute).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_set_shares_a_watermarked_scan() {
    let rows = "1,a,2024-01-01 00:00:01\n2,b,2024-01-01 00:00:02\n3,a,2024-01-01 00:00:11\n";
    let (tmp, input, _) = input_dir("events.csv", rows);
    let windows = tmp.path().join("windows");
    let names = tmp.path().join("names");
    let sluice = Sluice::new();
    let job = run(
        &sluice,
        &format!(
            "CREATE TABLE events (id INT, name STRING, ts TIMESTAMP(3),
               WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
               WITH ('connector' = 'filesystem', 'path' = '{}', 'format' = 'csv');
             CREATE TABLE windows (window_start TIMESTAMP(3), n BIGINT)
               WITH ('connector' = 'filesystem', 'path' = '{}', 'format' = 'csv');
             CREATE TABLE names (name STRING, id INT)
               WITH ('connector' = 'filesystem', 'path' = '{}', 'format' = 'csv');
             EXECUTE STATEMENT SET BEGIN
               INSERT INTO windows SELECT window_start, COUNT(*)
                 FROM TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND)
                 GROUP BY window_start, window_end;
               INSERT INTO names SELECT name, id FROM events;
             END;",
            input.display(),
            windows.display(),
            names.display()
        ),
    )
    .await
    .expect("statement set plans")
    .expect("a job");
    job.wait().await.expect("job succeeds");
    assert_eq!(
        output_lines(&windows),
        // Jackson's CSV writer (so Flink's) quotes text holding a space.
        vec!["\"2024-01-01 00:00:00\",2", "\"2024-01-01 00:00:10\",1"]
    );
    assert_eq!(output_lines(&names), vec!["a,1", "a,3", "b,2"]);
}

/// `ROW(a, b)` goes into a declared `ROW<..>` column by position, as in
/// Flink (its fields are named `c0, c1` until then).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_constructor_fills_a_row_column_by_position() {
    let (_tmp, input, output) = input_dir("people.csv", "1,alice\n2,bob\n");
    let sluice = Sluice::new();
    let job = run(
        &sluice,
        &format!(
            "CREATE TABLE people (id INT, name STRING)
               WITH ('connector' = 'filesystem', 'path' = '{}', 'format' = 'csv');
             CREATE TABLE out (id INT, info ROW<doubled BIGINT, who STRING>)
               WITH ('connector' = 'filesystem', 'path' = '{}', 'format' = 'json');
             INSERT INTO out SELECT id, ROW(id * 2, name) FROM people;",
            input.display(),
            output.display()
        ),
    )
    .await
    .expect("the INSERT plans")
    .expect("a job");
    job.wait().await.expect("job succeeds");
    assert_eq!(
        output_lines(&output),
        vec![
            r#"{"id":1,"info":{"doubled":2,"who":"alice"}}"#,
            r#"{"id":2,"info":{"doubled":4,"who":"bob"}}"#
        ]
    );
}

/// Nexmark q10's shape: a `PARTITIONED BY` table gets one `k=v/` directory
/// per partition (Flink's escaping: `10:00` is `10%3A00`), files without the
/// partition columns, a `_SUCCESS` file per committed partition; reading the
/// table back restores the partition columns from the paths.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_table_writes_directories_and_reads_back() {
    let (tmp, input, _) = input_dir(
        "bids.csv",
        "1,2024-01-01 10:00:05\n2,2024-01-01 10:01:10\n3,2024-01-01 10:00:30\n",
    );
    let output = tmp.path().join("bid");
    let sluice = Sluice::new();
    let job = run(
        &sluice,
        &format!(
            "CREATE TABLE bids (id INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
               WITH ('connector' = 'filesystem', 'path' = '{}', 'format' = 'csv');
             CREATE TABLE out (id INT, ts TIMESTAMP(3), dt STRING, hm STRING)
               PARTITIONED BY (dt, hm)
               WITH ('connector' = 'filesystem', 'path' = 'file://{}', 'format' = 'csv',
                 'sink.partition-commit.trigger' = 'partition-time',
                 'sink.partition-commit.delay' = '1 min',
                 'sink.partition-commit.policy.kind' = 'success-file',
                 'partition.time-extractor.timestamp-pattern' = '$dt $hm:00');
             INSERT INTO out
               SELECT id, ts, DATE_FORMAT(ts, 'yyyy-MM-dd'), DATE_FORMAT(ts, 'HH:mm') FROM bids;",
            input.display(),
            output.display()
        ),
    )
    .await
    .expect("the INSERT plans")
    .expect("a job");
    job.wait().await.expect("job succeeds");
    let ten = output.join("dt=2024-01-01").join("hm=10%3A00");
    let ten_one = output.join("dt=2024-01-01").join("hm=10%3A01");
    assert!(ten.join("_SUCCESS").exists() && ten_one.join("_SUCCESS").exists());
    assert_eq!(
        output_lines(&ten),
        [r#"1,"2024-01-01 10:00:05""#, r#"3,"2024-01-01 10:00:30""#]
    );
    assert_eq!(output_lines(&ten_one), [r#"2,"2024-01-01 10:01:10""#]);

    let mut results = sluice
        .execute_sql("SELECT hm, id, dt FROM out WHERE id > 1")
        .await
        .expect("the SELECT plans");
    let Some(StatementResult::Query(mut q)) = results.pop() else {
        panic!("a query");
    };
    let mut rows = Vec::new();
    while let Some(b) = q.batches.recv().await {
        let b = b.expect("rows");
        for r in 0..b.num_rows() {
            let cells: Vec<String> = (0..3)
                .map(|c| sluice_engine::display::format_value(b.column(c), r))
                .collect();
            rows.push(cells.join(" "));
        }
    }
    rows.sort();
    assert_eq!(rows, ["10:00 3 2024-01-01", "10:01 2 2024-01-01"]);
}
