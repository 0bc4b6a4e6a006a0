//! Partitioned filesystem tables: directory layout, partition commit by
//! watermark and by wall clock, and reading partition columns back.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Int32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{
    Connector, ConnectorTable, ScanContext, SinkContext, SinkWriter, TableContext,
};
use sluice_engine::display::format_value;
use sluice_engine::runtime::OperatorMetrics;

use super::FilesystemConnector;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, true),
        Field::new("dt", DataType::Utf8, true),
        Field::new("hm", DataType::Utf8, true),
    ]))
}

fn table(dir: &Path, extra: &[(&str, &str)]) -> sluice_engine::Result<Arc<dyn ConnectorTable>> {
    let path = dir.to_string_lossy().into_owned();
    let values: BTreeMap<String, String> = [("path", path.as_str()), ("format", "csv")]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut options = ConnectorOptions::new("t", values);
    let table = FilesystemConnector.create(TableContext {
        table_name: "t",
        physical_schema: schema(),
        metadata_columns: &[],
        primary_key: &[],
        partition_keys: &["dt".to_string(), "hm".to_string()],
        options: &mut options,
    })?;
    options.finish("filesystem")?;
    Ok(table)
}

fn rows(rows: &[(i32, Option<&str>, &str)]) -> RecordBatch {
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(StringArray::from_iter(rows.iter().map(|r| r.1))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.2))),
        ],
    )
    .expect("batch")
}

fn writer(table: &Arc<dyn ConnectorTable>, parallelism: usize) -> Box<dyn SinkWriter> {
    let sink = table.sink().expect("writable");
    sink.open(SinkContext {
        job_id: "job".into(),
        instance: 0,
        parallelism,
        metrics: Arc::new(OperatorMetrics::default()),
    })
    .expect("open")
}

/// Finished files of a partition directory (name → content), hidden ones
/// named as such.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| {
                let p = e.expect("entry").path();
                let name = p
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let content = std::fs::read_to_string(&p).unwrap_or_default();
                (name, content)
            })
            .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Every row of the table, columns in `projection` order, comma-joined.
async fn read_projected(t: &Arc<dyn ConnectorTable>, projection: Vec<usize>) -> Vec<String> {
    let source = t.source().expect("readable");
    let mut reader = source
        .open(ScanContext {
            projection: Some(projection),
            instance: 0,
            parallelism: 1,
            batch_size: 1024,
            metrics: Arc::new(OperatorMetrics::default()),
        })
        .expect("reader");
    let mut got = Vec::new();
    while let Some(b) = reader.next_batch().await.expect("read") {
        for r in 0..b.num_rows() {
            let cells: Vec<String> = b.columns().iter().map(|c| format_value(c, r)).collect();
            got.push(cells.join(","));
        }
    }
    got
}

async fn read(t: &Arc<dyn ConnectorTable>) -> Vec<String> {
    read_projected(t, vec![0, 1, 2]).await
}

fn millis(s: &str) -> i64 {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.3f")
        .expect("timestamp")
        .and_utc()
        .timestamp_millis()
}

#[tokio::test]
async fn partition_time_commits_when_the_watermark_passes_plus_delay() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = table(
        tmp.path(),
        &[
            ("sink.partition-commit.trigger", "partition-time"),
            ("sink.partition-commit.delay", "1 min"),
            ("sink.partition-commit.policy.kind", "success-file"),
            ("partition.time-extractor.timestamp-pattern", "$dt $hm:00"),
        ],
    )
    .expect("table");
    let mut w = writer(&t, 1);
    w.write(rows(&[
        (1, Some("2024-01-01"), "10:00"),
        (2, Some("2024-01-01"), "10:01"),
        (3, Some("2024-01-01"), "10:00"),
    ]))
    .await
    .expect("write");
    // Flink escapes ':' in partition paths.
    let ten = tmp.path().join("dt=2024-01-01/hm=10%3A00");
    let ten_one = tmp.path().join("dt=2024-01-01/hm=10%3A01");
    let in_progress = files(&ten);
    assert_eq!(in_progress.len(), 1, "{in_progress:?}");
    assert!(in_progress[0].0.ends_with(".inprogress"));

    // Partition time 10:00 + 1 min delay: due once the watermark is past 10:01.
    w.on_watermark(millis("2024-01-01 10:01:00.000"))
        .await
        .expect("watermark");
    assert!(!ten.join("_SUCCESS").exists());
    w.on_watermark(millis("2024-01-01 10:01:00.001"))
        .await
        .expect("watermark");
    let committed = files(&ten);
    assert_eq!(committed.len(), 2, "{committed:?}");
    assert_eq!(committed[0].0, "_SUCCESS");
    assert!(committed[1].0.starts_with("part-"), "{committed:?}");
    // The partition columns live in the path, not in the file.
    assert_eq!(committed[1].1, "1\n3\n");
    assert!(!ten_one.join("_SUCCESS").exists());

    // A late row reopens 10:00; the end of input commits everything.
    w.write(rows(&[(4, Some("2024-01-01"), "10:00")]))
        .await
        .expect("write");
    w.finish().await.expect("finish");
    for dir in [&ten, &ten_one] {
        let names: Vec<String> = files(dir).into_iter().map(|(n, _)| n).collect();
        assert!(names.contains(&"_SUCCESS".to_string()), "{names:?}");
        assert!(
            names.iter().all(|n| !n.ends_with(".inprogress")),
            "{names:?}"
        );
    }

    // Reading the table back restores the partition columns.
    let mut got = read_projected(&t, vec![2, 0, 1]).await;
    got.sort();
    assert_eq!(
        got,
        [
            "10:00,1,2024-01-01",
            "10:00,3,2024-01-01",
            "10:00,4,2024-01-01",
            "10:01,2,2024-01-01",
        ]
    );
}

#[tokio::test]
async fn process_time_commits_after_the_delay() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = table(
        tmp.path(),
        &[("sink.partition-commit.policy.kind", "success-file")],
    )
    .expect("table");
    let mut w = writer(&t, 1);
    w.write(rows(&[(1, Some("d"), "h"), (2, None, "h")]))
        .await
        .expect("write");
    // The default delay is 0: committed as soon as it is written.
    let dir = tmp.path().join("dt=d/hm=h");
    assert!(dir.join("_SUCCESS").exists());
    assert_eq!(files(&dir)[1].1, "1\n");
    // NULL goes to the default partition, and reads back as NULL.
    let default = tmp.path().join("dt=__DEFAULT_PARTITION__/hm=h");
    assert!(default.join("_SUCCESS").exists());
    assert_eq!(read(&t).await, ["2,null,h", "1,d,h"]);

    // With a delay, the writer asks to be flushed when it passes.
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = table(
        tmp.path(),
        &[
            ("sink.partition-commit.policy.kind", "success-file"),
            ("sink.partition-commit.delay", "50 ms"),
        ],
    )
    .expect("table");
    let mut w = writer(&t, 1);
    w.write(rows(&[(1, Some("d"), "h")])).await.expect("write");
    let dir = tmp.path().join("dt=d/hm=h");
    assert!(!dir.join("_SUCCESS").exists());
    let deadline = w.flush_deadline().expect("a commit is pending");
    tokio::time::sleep_until(deadline).await;
    w.flush().await.expect("flush");
    assert!(dir.join("_SUCCESS").exists());
    assert!(w.flush_deadline().is_none());
}

#[test]
fn commit_options_are_checked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let err = |extra: &[(&str, &str)]| match table(tmp.path(), extra) {
        Ok(_) => panic!("{extra:?} should be refused"),
        Err(e) => e.to_string(),
    };
    let e = err(&[("sink.partition-commit.policy.kind", "metastore")]);
    assert!(
        e.contains("not supported yet") && e.contains("metastore"),
        "{e}"
    );
    let e = err(&[("sink.partition-commit.policy.kind", "rename")]);
    assert!(e.contains("sink.partition-commit.policy.kind"), "{e}");
    let e = err(&[("sink.partition-commit.trigger", "soon")]);
    assert!(e.contains("sink.partition-commit.trigger"), "{e}");
    let e = err(&[(
        "partition.time-extractor.timestamp-formatter",
        "yyyy-MM-dd {",
    )]);
    assert!(
        e.contains("partition.time-extractor.timestamp-formatter"),
        "{e}"
    );

    // One committer per partition: parallel instances are refused.
    let t = table(
        tmp.path(),
        &[("sink.partition-commit.policy.kind", "success-file")],
    )
    .expect("table");
    let sink = t.sink().expect("writable");
    let opened = sink.open(SinkContext {
        job_id: "job".into(),
        instance: 0,
        parallelism: 2,
        metrics: Arc::new(OperatorMetrics::default()),
    });
    let e = opened.err().expect("refused").to_string();
    assert!(e.contains("sink.parallelism"), "{e}");
}
