//! Upserts and deletes into tables with a primary key: driven through the
//! sink writer with explicit row kinds (an updating stream), and through SQL.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Decimal128Array, Int8Array, Int32Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use sluice::{ROW_KIND_COLUMN, Sluice};
use sluice_connectors::jdbc::JdbcConnector;
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{ChangelogMode, Connector, SinkContext, SinkWriter, TableContext};
use sluice_engine::runtime::OperatorMetrics;

use crate::support::{Db, fresh_table, insert, run};

fn db_ddl(db: Db, table: &str) -> String {
    format!(
        "CREATE TABLE {} (id INT NOT NULL, region VARCHAR(10) NOT NULL, name VARCHAR(20), \
         amount DECIMAL(10, 2), PRIMARY KEY (id, region))",
        db.quote(table)
    )
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("region", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("amount", DataType::Decimal128(10, 2), true),
    ]))
}

/// A batch of changes: (kind, id, region, name, amount in cents).
fn changes(rows: &[(i8, i32, &str, &str, i128)]) -> RecordBatch {
    let mut fields: Vec<Field> = schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(ROW_KIND_COLUMN, DataType::Int8, false));
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        vec![
            Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.1))) as ArrayRef,
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.2))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.3))),
            Arc::new(
                Decimal128Array::from_iter_values(rows.iter().map(|r| r.4))
                    .with_precision_and_scale(10, 2)
                    .expect("valid decimal type"),
            ),
            Arc::new(Int8Array::from_iter_values(rows.iter().map(|r| r.0))),
        ],
    )
    .expect("valid batch")
}

/// Opens a writer of the `jdbc` sink for `table`, as the runtime would.
fn open_writer(
    db: Db,
    table: &str,
    extra: &[(&str, &str)],
) -> (Box<dyn SinkWriter>, Arc<OperatorMetrics>) {
    let mut values: BTreeMap<String, String> = [
        ("url".to_string(), db.url()),
        ("table-name".to_string(), table.to_string()),
        (
            "username".to_string(),
            match db {
                Db::MySql => "root".to_string(),
                Db::Postgres => "postgres".to_string(),
            },
        ),
    ]
    .into_iter()
    .collect();
    for (k, v) in extra {
        values.insert(k.to_string(), v.to_string());
    }
    let mut opts = ConnectorOptions::new("sink", values);
    let pk = vec!["id".to_string(), "region".to_string()];
    let t = JdbcConnector
        .create(TableContext {
            table_name: "sink",
            physical_schema: schema(),
            metadata_columns: &[],
            primary_key: &pk,
            partition_keys: &[],
            options: &mut opts,
        })
        .expect("valid table");
    let sink = t.sink().expect("writable");
    assert_eq!(
        sink.accepted_changelog(),
        ChangelogMode::Upsert(vec!["id".into(), "region".into()])
    );
    let metrics = Arc::new(OperatorMetrics::default());
    let writer = sink
        .open(SinkContext {
            job_id: "test".into(),
            instance: 0,
            parallelism: 1,
            metrics: metrics.clone(),
        })
        .expect("opens");
    (writer, metrics)
}

fn contents(db: Db, table: &str) -> Vec<String> {
    db.sql(&format!(
        "SELECT id, region, name, amount FROM {} ORDER BY id, region",
        db.quote(table)
    ))
}

async fn upsert_and_delete(db: Db) {
    let table = fresh_table(db, "upsert_writer");
    db.sql(&db_ddl(db, &table));
    db.sql(&format!(
        "INSERT INTO {} VALUES (5, 'us', 'before', 0)",
        db.quote(&table)
    ));
    let (mut w, metrics) = open_writer(db, &table, &[("sink.buffer-flush.max-rows", "0")]);
    // One flush: several changes per key, compacted to the last.
    w.write(changes(&[
        (0, 1, "eu", "a", 100),
        (0, 2, "eu", "b", 200),
        (0, 3, "us", "c", 300),
        (2, 1, "eu", "a2", 150),
        (3, 2, "eu", "b", 200),
        (0, 4, "us", "d", 400),
        (2, 5, "us", "after", 550),
    ]))
    .await
    .expect("write");
    w.flush().await.expect("flush");
    assert_eq!(
        contents(db, &table),
        vec![
            "1|eu|a2|1.50",
            "3|us|c|3.00",
            "4|us|d|4.00",
            "5|us|after|5.50"
        ]
    );
    assert_eq!(metrics.snapshot().rows_written, 5, "7 changes, 5 keys");
    // A retract stream's -U/+U pair, a delete, and a key deleted and
    // inserted again.
    w.write(changes(&[
        (1, 3, "us", "c", 300),
        (2, 3, "us", "c3", 330),
        (3, 4, "us", "d", 400),
        (0, 2, "eu", "b2", 220),
        (3, 5, "us", "after", 550),
    ]))
    .await
    .expect("write");
    w.finish().await.expect("finish");
    assert_eq!(
        contents(db, &table),
        vec!["1|eu|a2|1.50", "2|eu|b2|2.20", "3|us|c3|3.30"]
    );
    let m = metrics.snapshot();
    assert_eq!((m.flushes, m.rows_written), (2, 9));
    db.sql(&format!("DROP TABLE {}", db.quote(&table)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upserts_and_deletes_by_key_in_mariadb() {
    upsert_and_delete(Db::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upserts_and_deletes_by_key_in_postgres() {
    upsert_and_delete(Db::Postgres).await;
}

async fn upsert_through_sql(db: Db) {
    let table = fresh_table(db, "upsert_sql");
    db.sql(&db_ddl(db, &table));
    db.sql(&format!(
        "INSERT INTO {} VALUES (1, 'eu', 'old', 9.99)",
        db.quote(&table)
    ));
    let sluice = Sluice::new();
    run(
        &sluice,
        &format!(
            "CREATE TABLE s (id INT NOT NULL, region STRING NOT NULL, name STRING, amount DECIMAL(10, 2),
               PRIMARY KEY (id, region) NOT ENFORCED)
             WITH ('connector' = 'jdbc', 'url' = '{}', 'table-name' = '{table}', {},
                   'sink.buffer-flush.max-rows' = '2')",
            db.url(),
            db.credentials()
        ),
    )
    .await
    .expect("ddl");
    insert(
        &sluice,
        "INSERT INTO s VALUES (1, 'eu', 'new', 1.00), (2, 'eu', 'x', 2.00), (2, 'eu', 'y', 2.50),
                              (3, 'us', 'z', 3.00), (2, 'eu', 'w', 2.75)",
    )
    .await;
    assert_eq!(
        contents(db, &table),
        vec!["1|eu|new|1.00", "2|eu|w|2.75", "3|us|z|3.00"]
    );
    db.sql(&format!("DROP TABLE {}", db.quote(&table)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_into_a_keyed_table_upserts_in_mariadb() {
    upsert_through_sql(Db::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_into_a_keyed_table_upserts_in_postgres() {
    upsert_through_sql(Db::Postgres).await;
}

async fn group_by_into_keyed_table(db: Db) {
    let table = fresh_table(db, "group_by");
    db.sql(&format!(
        "CREATE TABLE {} (region VARCHAR(10) NOT NULL PRIMARY KEY, orders BIGINT, total DECIMAL(10, 2))",
        db.quote(&table)
    ));
    let sluice = Sluice::new();
    run(
        &sluice,
        &format!(
            "CREATE TABLE per_region (region STRING NOT NULL, orders BIGINT, total DECIMAL(10, 2),
               PRIMARY KEY (region) NOT ENFORCED)
             WITH ('connector' = 'jdbc', 'url' = '{}', 'table-name' = '{table}', {},
                   'sink.buffer-flush.max-rows' = '3')",
            db.url(),
            db.credentials()
        ),
    )
    .await
    .expect("ddl");
    insert(
        &sluice,
        "INSERT INTO per_region
         SELECT region, COUNT(*), CAST(SUM(amount) AS DECIMAL(10, 2)) FROM (VALUES
           ('eu', 1.50), ('us', 2.00), ('eu', 2.50), ('apac', 1.00), ('us', 3.25), ('eu', 1.00)
         ) AS o(region, amount) GROUP BY region",
    )
    .await;
    assert_eq!(
        db.sql(&format!(
            "SELECT region, orders, total FROM {} ORDER BY region",
            db.quote(&table)
        )),
        vec!["apac|1|1.00", "eu|3|5.00", "us|2|5.25"]
    );
    db.sql(&format!("DROP TABLE {}", db.quote(&table)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updating_group_by_into_a_keyed_mariadb_table() {
    group_by_into_keyed_table(Db::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updating_group_by_into_a_keyed_postgres_table() {
    group_by_into_keyed_table(Db::Postgres).await;
}
