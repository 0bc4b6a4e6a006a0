//! Option validation and the commands rows become (no server needed; the
//! end-to-end tests against Redis are in the root crate's `tests/redis*.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int8Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{ChangelogMode, Connector, ConnectorTable, TableContext};

use super::mapping::{Mapping, Rendered};
use super::{Command, RedisConnector};
use crate::sink::buffered::ChangeBatch;

fn create(
    fields: Vec<Field>,
    options: &[(&str, &str)],
) -> sluice_engine::Result<Arc<dyn ConnectorTable>> {
    let values: BTreeMap<String, String> = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut opts = ConnectorOptions::new("r", values);
    RedisConnector.create(TableContext {
        table_name: "r",
        physical_schema: Arc::new(Schema::new(fields)),
        metadata_columns: &[],
        primary_key: &[],
        partition_keys: &[],
        options: &mut opts,
    })
}

fn f(name: &str, dt: DataType) -> Field {
    Field::new(name, dt, true)
}

#[test]
fn column_counts_and_types_follow_the_command() {
    let two = vec![f("k", DataType::Utf8), f("v", DataType::Utf8)];
    let e = create(two.clone(), &[("command", "hset")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("command 'hset' writes columns (key, field, value); the table has 1 value column(s) after the key: v"),
        "{e}"
    );
    let e = create(two.clone(), &[("command", "incrby")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("column 'v' is STRING; command 'incrby' needs an integer type"),
        "{e}"
    );
    let e = create(two.clone(), &[("command", "lpop")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("option 'command': expected one of set, hset"),
        "{e}"
    );
    let e = create(two.clone(), &[]).unwrap_err().to_string();
    assert!(e.contains("missing required option 'command'"), "{e}");
    let e = create(
        two.clone(),
        &[("command", "set"), ("redis-mode", "cluster")],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("not supported yet: 'redis-mode' = 'cluster'"),
        "{e}"
    );
    let e = create(two, &[("command", "set"), ("ttl", "0")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("option 'ttl': must be positive"), "{e}");
}

#[test]
fn set_and_hset_take_upserts_the_rest_every_change() {
    let t = create(
        vec![
            f("k", DataType::Utf8),
            f("h", DataType::Utf8),
            f("v", DataType::Int64),
        ],
        &[("command", "hset")],
    )
    .unwrap();
    assert_eq!(
        t.sink().unwrap().accepted_changelog(),
        ChangelogMode::Upsert(vec!["k".into(), "h".into()])
    );
    let t = create(
        vec![f("k", DataType::Utf8), f("n", DataType::Int64)],
        &[("command", "incrby")],
    )
    .unwrap();
    assert_eq!(
        t.sink().unwrap().accepted_changelog(),
        ChangelogMode::Retract
    );
}

/// The RESP commands a batch becomes, as `CMD arg arg` lines.
fn commands(mapping: &Mapping, batch: &ChangeBatch) -> Vec<String> {
    let rendered = Rendered::new(batch);
    let mut pipe = redis::pipe();
    for row in 0..batch.num_rows() {
        mapping.push(&rendered, batch, row, &mut pipe).unwrap();
    }
    pipe.cmd_iter()
        .map(|c| {
            c.args_iter()
                .map(|a| match a {
                    redis::Arg::Simple(b) => String::from_utf8_lossy(b).into_owned(),
                    _ => "<cursor>".into(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn keys_are_joined_and_retractions_invert_the_command() {
    let rows = RecordBatch::try_from_iter(vec![
        (
            "user",
            Arc::new(StringArray::from(vec!["u1", "u2"])) as ArrayRef,
        ),
        (
            "day",
            Arc::new(StringArray::from(vec!["mon", "tue"])) as ArrayRef,
        ),
        ("n", Arc::new(Int64Array::from(vec![5, 7])) as ArrayRef),
    ])
    .unwrap();
    let batch = ChangeBatch::new(rows, Int8Array::from(vec![0, 3])).unwrap();
    let mapping = Mapping {
        command: Command::Incrby,
        key_columns: vec![0, 1],
        delimiter: ":".into(),
        prefix: "clicks:".into(),
        arg_columns: vec![2],
        ttl: Some(60),
        names: vec!["user".into(), "day".into(), "n".into()],
    };
    assert_eq!(
        commands(&mapping, &batch),
        vec![
            "INCRBY clicks:u1:mon 5",
            "EXPIRE clicks:u1:mon 60",
            "INCRBY clicks:u2:tue -7",
            "EXPIRE clicks:u2:tue 60",
        ]
    );
    let set = Mapping {
        command: Command::Set,
        key_columns: vec![0],
        delimiter: ":".into(),
        prefix: String::new(),
        arg_columns: vec![2],
        ttl: Some(9),
        names: vec![],
    };
    assert_eq!(commands(&set, &batch), vec!["SET u1 5 EX 9", "DEL u2"]);
    let rpush = Mapping {
        command: Command::Rpush,
        ttl: None,
        ..set.clone()
    };
    assert_eq!(commands(&rpush, &batch), vec!["RPUSH u1 5", "LREM u2 -1 7"]);
}
