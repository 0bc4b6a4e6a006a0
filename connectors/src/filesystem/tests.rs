//! Tests of the filesystem connector against a temporary directory.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{Array, AsArray, Int32Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef, TimeUnit};
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{
    Connector, ConnectorTable, MetadataColumn, ScanContext, SinkContext, SourceReader, TableContext,
};
use sluice_engine::runtime::OperatorMetrics;

use super::*;

fn physical() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, true),
        Field::new("name", DataType::Utf8, true),
    ]))
}

fn create_with(
    pairs: &[(&str, &str)],
    metadata: &[MetadataColumn],
) -> sluice_engine::Result<Arc<dyn ConnectorTable>> {
    let values: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut options = ConnectorOptions::new("t", values);
    let table = FilesystemConnector.create(TableContext {
        table_name: "t",
        physical_schema: physical(),
        metadata_columns: metadata,
        primary_key: &[],
        partition_keys: &[],
        options: &mut options,
    })?;
    options.finish("filesystem")?;
    Ok(table)
}

fn create(pairs: &[(&str, &str)]) -> Arc<dyn ConnectorTable> {
    create_with(pairs, &[]).unwrap()
}

fn batch(ids: std::ops::Range<i32>) -> RecordBatch {
    let names: Vec<String> = ids.clone().map(|i| format!("n{i}")).collect();
    RecordBatch::try_new(
        physical(),
        vec![
            Arc::new(Int32Array::from_iter_values(ids)),
            Arc::new(StringArray::from(names)),
        ],
    )
    .unwrap()
}

fn sink_ctx(instance: usize) -> SinkContext {
    SinkContext {
        job_id: "job-1".to_string(),
        instance,
        parallelism: 1,
        metrics: Arc::new(OperatorMetrics::default()),
    }
}

fn scan_ctx(instance: usize, parallelism: usize, projection: Option<Vec<usize>>) -> ScanContext {
    ScanContext {
        projection,
        instance,
        parallelism,
        batch_size: 1024,
        metrics: Arc::new(OperatorMetrics::default()),
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

async fn read_all(reader: &mut Box<dyn SourceReader>) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    while let Some(b) = reader.next_batch().await.unwrap() {
        out.push(b);
    }
    out
}

fn ids_of(batches: &[RecordBatch]) -> Vec<i32> {
    batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int32Type>().values().to_vec())
        .collect()
}

#[tokio::test]
async fn sink_rolls_by_size_and_renames() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let path = out.to_string_lossy().into_owned();
    let table = create(&[
        ("path", path.as_str()),
        ("format", "json"),
        ("sink.rolling-policy.file-size", "60b"),
    ]);
    let sink = table.sink().unwrap();
    let mut writer = sink.open(sink_ctx(3)).unwrap();

    // 2 rows ≈ 44 bytes: below the size, the part stays in progress.
    writer.write(batch(0..2)).await.unwrap();
    let names = names_in(&out);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with(".part-") && names[0].ends_with("-3-0.json.inprogress"));

    // Crossing 60 bytes rolls it; the next write opens part 1.
    writer.write(batch(2..4)).await.unwrap();
    writer.write(batch(4..5)).await.unwrap();
    writer.flush().await.unwrap();
    let names = names_in(&out);
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names[1].starts_with("part-") && names[1].ends_with("-3-0.json"),
        "{names:?}"
    );

    writer.finish().await.unwrap();
    let names = names_in(&out);
    assert!(names.iter().all(|n| n.starts_with("part-")), "{names:?}");
    assert!(names[1].ends_with("-3-1.json"), "{names:?}");
    let mut all = String::new();
    for n in &names {
        all.push_str(&std::fs::read_to_string(out.join(n)).unwrap());
    }
    let expected: String = (0..5)
        .map(|i| format!("{{\"id\":{i},\"name\":\"n{i}\"}}\n"))
        .collect();
    assert_eq!(all, expected);

    // The written directory reads back.
    let source = table.source().unwrap();
    let mut reader = source.open(scan_ctx(0, 1, None)).unwrap();
    assert_eq!(ids_of(&read_all(&mut reader).await), vec![0, 1, 2, 3, 4]);
}

#[tokio::test]
async fn sink_rolls_on_rollover_interval() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_string_lossy().into_owned();
    let table = create(&[
        ("path", path.as_str()),
        ("format", "csv"),
        ("sink.rolling-policy.rollover-interval", "1 ms"),
    ]);
    let mut writer = table.sink().unwrap().open(sink_ctx(0)).unwrap();
    writer.write(batch(0..1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    writer.flush().await.unwrap();
    let names = names_in(dir.path());
    assert_eq!(names.len(), 1);
    assert!(
        names[0].starts_with("part-") && names[0].ends_with("-0-0.csv"),
        "{names:?}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(&names[0])).unwrap(),
        "0,n0\n"
    );
}

#[tokio::test]
async fn source_spreads_files_over_instances() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
    std::fs::create_dir_all(root.join("_hidden_dir")).unwrap();
    let mut expected = Vec::new();
    let files = ["a.csv", "b.csv", "sub/c.csv", "sub/deeper/d.csv", "e.csv"];
    for (f, name) in files.iter().enumerate() {
        let rows: String = (0..25)
            .map(|r| {
                let id = (f * 100 + r) as i32;
                expected.push(id);
                format!("{id},\"row {id}\"\n")
            })
            .collect();
        std::fs::write(root.join(name), rows).unwrap();
    }
    std::fs::write(root.join(".hidden.csv"), "999,x\n").unwrap();
    std::fs::write(root.join("_SUCCESS"), "").unwrap();
    std::fs::write(root.join("_hidden_dir/f.csv"), "998,x\n").unwrap();

    let path = root.to_string_lossy().into_owned();
    let table = create(&[("path", path.as_str()), ("format", "csv")]);
    let source = table.source().unwrap();
    let mut seen = Vec::new();
    for instance in 0..2 {
        let mut reader = source.open(scan_ctx(instance, 2, None)).unwrap();
        let ids = ids_of(&read_all(&mut reader).await);
        assert!(!ids.is_empty(), "instance {instance} read nothing");
        seen.extend(ids);
    }
    seen.sort_unstable();
    expected.sort_unstable();
    assert_eq!(seen, expected, "every row exactly once");
}

#[tokio::test]
async fn source_reads_small_chunks_and_names_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.json");
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!(
            "{{\"id\":{i},\"name\":\"some longer name {i}\"}}\n"
        ));
    }
    std::fs::write(&file, &text).unwrap();
    let path = file.to_string_lossy().into_owned();
    let table = create(&[("path", path.as_str()), ("format", "json")]);

    let source = FilesystemSource::new(
        file.clone(),
        crate::formats::format_for(
            "json",
            &mut ConnectorOptions::new("t", BTreeMap::new()),
            &physical(),
        )
        .unwrap(),
        physical(),
        Vec::new(),
        &[],
        None,
    )
    .with_chunk_size(7);
    let mut reader = source.open(scan_ctx(0, 1, Some(vec![0]))).unwrap();
    let batches = read_all(&mut reader).await;
    assert_eq!(ids_of(&batches), (0..40).collect::<Vec<_>>());
    assert_eq!(batches[0].num_columns(), 1);

    // A bad line 37, found across chunk boundaries.
    text = text.replacen("\"id\":36", "\"id\":\"x\"", 1);
    std::fs::write(&file, &text).unwrap();
    let mut reader = source.open(scan_ctx(0, 1, None)).unwrap();
    let err = loop {
        match reader.next_batch().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("no error"),
            Err(e) => break e.to_string(),
        }
    };
    assert!(
        err.contains(&format!("file {}, line 37", file.display())),
        "{err}"
    );
    drop(table);
}

#[tokio::test]
async fn source_metadata_columns() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.csv");
    std::fs::write(&file, "1,a\n2,b\n").unwrap();
    let path = file.to_string_lossy().into_owned();
    let meta = |name: &str, key: &str, data_type: DataType| MetadataColumn {
        name: name.to_string(),
        key: key.to_string(),
        data_type,
        is_virtual: true,
    };
    let columns = [
        meta("fpath", "file.path", DataType::Utf8),
        meta("fname", "file.name", DataType::Utf8),
        meta("fsize", "file.size", DataType::Int64),
        meta(
            "mtime",
            "file.modification-time",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        ),
    ];
    let table = create_with(&[("path", path.as_str()), ("format", "csv")], &columns).unwrap();
    let source = table.source().unwrap();
    assert_eq!(source.schema().fields().len(), 6);
    let mut reader = source.open(scan_ctx(0, 1, Some(vec![3, 0, 4]))).unwrap();
    let batches = read_all(&mut reader).await;
    let b = &batches[0];
    assert_eq!(b.column(0).as_string::<i32>().value(1), "m.csv");
    assert_eq!(b.column(1).as_primitive::<Int32Type>().value(1), 2);
    let size = b.column(2).as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(size.value(0), 8);

    let bad = [meta("x", "file.owner", DataType::Utf8)];
    let err = create_with(&[("path", path.as_str()), ("format", "csv")], &bad)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("file.owner") && err.contains("file.path"),
        "{err}"
    );

    // A persisted (non-VIRTUAL) metadata column cannot be written.
    let persisted = [MetadataColumn {
        is_virtual: false,
        ..meta("fpath", "file.path", DataType::Utf8)
    }];
    let table = create_with(&[("path", path.as_str()), ("format", "csv")], &persisted).unwrap();
    let err = table
        .sink()
        .unwrap()
        .open(sink_ctx(0))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("VIRTUAL"), "{err}");
}

#[test]
fn option_errors() {
    let err = create_with(&[("format", "json")], &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing required option 'path'"), "{err}");

    // file: URIs are local paths; other file systems are named.
    assert!(create_with(&[("path", "file:///tmp/x"), ("format", "json")], &[]).is_ok());
    let err = create_with(&[("path", "s3://bucket/x"), ("format", "json")], &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("option 'path'") && err.contains("'s3' file system"),
        "{err}"
    );

    let err = create_with(&[("path", "/tmp/x"), ("format", "xml")], &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("option 'format'") && err.contains("csv, debezium-json, json"),
        "{err}"
    );

    let err = create_with(
        &[
            ("path", "/tmp/x"),
            ("format", "json"),
            ("source.monitor-interval", "10 s"),
        ],
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("not supported yet: continuous file monitoring"),
        "{err}"
    );

    let err = create_with(
        &[
            ("path", "/tmp/x"),
            ("format", "json"),
            ("sink.rolling-policy.file-size", "big"),
        ],
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("sink.rolling-policy.file-size") && err.contains("'big'"),
        "{err}"
    );

    let err = create_with(
        &[
            ("path", "/tmp/x"),
            ("format", "json"),
            ("sink.parallelism", "0"),
        ],
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("sink.parallelism"), "{err}");

    let err = create_with(
        &[("path", "/tmp/x"), ("format", "json"), ("pathh", "y")],
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("'pathh'") && err.contains("sink.rolling-policy.file-size"),
        "{err}"
    );

    let table = create(&[
        ("path", "/tmp/x"),
        ("format", "csv"),
        ("sink.parallelism", "3"),
        ("partition.default-name", "__DEFAULT__"),
        ("csv.field-delimiter", ";"),
    ]);
    assert_eq!(table.sink().unwrap().parallelism(), Some(3));
    assert!(table.source().unwrap().is_bounded());
}

#[tokio::test]
async fn missing_path_fails_when_read() {
    let table = create(&[("path", "/nonexistent/sluice/dir"), ("format", "json")]);
    let mut reader = table.source().unwrap().open(scan_ctx(0, 1, None)).unwrap();
    let err = reader.next_batch().await.unwrap_err().to_string();
    assert!(err.contains("/nonexistent/sluice/dir"), "{err}");
}
