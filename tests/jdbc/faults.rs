//! Lost connections: sessions killed by the server (`KILL` in MariaDB,
//! `pg_terminate_backend` in PostgreSQL) and an outage of the database
//! (a proxy that drops everything). Within `sink.max-retries` the job
//! recovers with every row present; beyond it the job fails with an error
//! naming the table and the failure, and what was flushed stays.

use std::time::Duration;

use sluice::{JobStatus, Sluice};

use crate::proxy::Proxy;
use crate::support::{Db, eventually, fresh_table, run};

const ROWS: i64 = 1500;

fn count(db: Db, table: &str) -> i64 {
    db.sql(&format!("SELECT COUNT(*) FROM {}", db.quote(table)))[0]
        .parse()
        .expect("a count")
}

fn distinct_ids(db: Db, table: &str) -> (i64, i64, i64) {
    let row = &db.sql(&format!(
        "SELECT COUNT(DISTINCT id), MIN(id), MAX(id) FROM {}",
        db.quote(table)
    ))[0];
    let v: Vec<i64> = row
        .split('|')
        .map(|x| x.parse().expect("a number"))
        .collect();
    (v[0], v[1], v[2])
}

/// Kills, on the server, every session that came through `proxy`.
fn kill_sessions(db: Db, proxy: &Proxy) -> usize {
    let ports = proxy.upstream_ports();
    for port in &ports {
        match db {
            Db::MySql => {
                for id in db.sql(&format!(
                    "SELECT ID FROM information_schema.PROCESSLIST WHERE HOST = '127.0.0.1:{port}'"
                )) {
                    // The session may end by itself in between.
                    let _ = std::process::Command::new("mysql")
                        .args(["-h127.0.0.1", "-uroot", "-e", &format!("KILL {id}")])
                        .output();
                }
            }
            Db::Postgres => {
                db.sql(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE client_port = {port}"
                ));
            }
        }
    }
    ports.len()
}

/// `datagen` ids 1..=ROWS at `rate` rows/s into `table` through `proxy`.
async fn start(
    db: Db,
    table: &str,
    keyed: bool,
    proxy: &Proxy,
    rate: u32,
    retries: u32,
) -> (Sluice, sluice::JobHandle) {
    let pk = if keyed { ", PRIMARY KEY (id)" } else { "" };
    db.sql(&format!(
        "CREATE TABLE {} (id BIGINT NOT NULL, v VARCHAR(20){pk})",
        db.quote(table)
    ));
    let sluice = Sluice::new();
    let flink_pk = if keyed {
        ", PRIMARY KEY (id) NOT ENFORCED"
    } else {
        ""
    };
    run(
        &sluice,
        &format!(
            "CREATE TABLE gen (id BIGINT NOT NULL, v STRING) WITH ('connector' = 'datagen',
               'rows-per-second' = '{rate}', 'fields.id.kind' = 'sequence',
               'fields.id.start' = '1', 'fields.id.end' = '{ROWS}', 'fields.v.length' = '8');
             CREATE TABLE out (id BIGINT NOT NULL, v STRING{flink_pk}) WITH ('connector' = 'jdbc',
               'url' = '{}', 'table-name' = '{table}', {}, 'sink.buffer-flush.max-rows' = '50',
               'sink.buffer-flush.interval' = '100ms', 'sink.max-retries' = '{retries}',
               'connection.max-retry-timeout' = '1s')",
            db.url_at(proxy.port()),
            db.credentials()
        ),
    )
    .await
    .expect("ddl");
    let job = run(&sluice, "INSERT INTO out SELECT id, v FROM gen")
        .await
        .expect("insert")
        .expect("a job");
    (sluice, job)
}

async fn killed_sessions_are_replaced(db: Db) {
    let table = fresh_table(db, "fault_kill");
    let proxy = Proxy::start(db.port()).await;
    let (_sluice, job) = start(db, &table, true, &proxy, 1000, 3).await;
    let mut killed = 0;
    for round in 0..3 {
        eventually(Duration::from_secs(10), "rows in the table", || {
            count(db, &table) > round * 200
        })
        .await;
        killed += kill_sessions(db, &proxy);
    }
    assert!(killed > 0, "no session was killed");
    job.wait()
        .await
        .expect("the job recovers from killed sessions");
    // Upsert by key: every row exactly once.
    assert_eq!(count(db, &table), ROWS);
    assert_eq!(distinct_ids(db, &table), (ROWS, 1, ROWS));
    db.sql(&format!("DROP TABLE {}", db.quote(&table)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mariadb_sessions_are_replaced() {
    killed_sessions_are_replaced(Db::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_postgres_sessions_are_replaced() {
    killed_sessions_are_replaced(Db::Postgres).await;
}

async fn outage_within_the_retry_budget(db: Db) {
    let table = fresh_table(db, "fault_outage");
    let proxy = Proxy::start(db.port()).await;
    // Append-only: at least once.
    let (_sluice, job) = start(db, &table, false, &proxy, 500, 3).await;
    eventually(Duration::from_secs(10), "rows in the table", || {
        count(db, &table) > 100
    })
    .await;
    proxy.set_down(true);
    let during = count(db, &table);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(count(db, &table), during, "nothing gets through while down");
    assert_eq!(
        job.status(),
        JobStatus::Running,
        "the job waits and retries"
    );
    proxy.set_down(false);
    job.wait()
        .await
        .expect("the job recovers within the retry budget");
    let (distinct, min, max) = distinct_ids(db, &table);
    assert_eq!((distinct, min, max), (ROWS, 1, ROWS), "no row lost");
    assert!(count(db, &table) >= ROWS);
    db.sql(&format!("DROP TABLE {}", db.quote(&table)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_outage_within_the_retry_budget_loses_nothing() {
    outage_within_the_retry_budget(Db::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_within_the_retry_budget_loses_nothing() {
    outage_within_the_retry_budget(Db::Postgres).await;
}

async fn outage_beyond_the_retry_budget(db: Db) {
    let table = fresh_table(db, "fault_fatal");
    let proxy = Proxy::start(db.port()).await;
    let (_sluice, job) = start(db, &table, true, &proxy, 500, 1).await;
    eventually(Duration::from_secs(10), "rows in the table", || {
        count(db, &table) > 100
    })
    .await;
    proxy.set_down(true);
    let before = count(db, &table);
    let err = job.wait().await.expect_err("the job fails").to_string();
    assert_eq!(job.status().name(), "FAILED");
    assert!(
        err.contains(&format!(
            "connector 'jdbc': table 'out' ({table} in 127.0.0.1:{}/test): writing",
            proxy.port()
        )),
        "the error names the table: {err}"
    );
    assert!(err.contains("failed after 1 retry: "), "{err}");
    // What was flushed before the outage stays, ids 1..=before.
    assert_eq!(count(db, &table), before);
    assert_eq!(distinct_ids(db, &table), (before, 1, before));
    db.sql(&format!("DROP TABLE {}", db.quote(&table)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_outage_beyond_the_retry_budget_fails_clearly() {
    outage_beyond_the_retry_budget(Db::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_beyond_the_retry_budget_fails_clearly() {
    outage_beyond_the_retry_budget(Db::Postgres).await;
}
