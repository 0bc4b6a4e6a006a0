//! Reading: a partitioned scan split over parallel readers, and an
//! incremental sync that continues where the previous run stopped.

use sluice::{Sluice, StatementResult};

use crate::support::{Db, fresh_table, insert, run, select};

/// Fills `table` (id, v) with ids `from..=to` using the server itself.
fn fill(db: Db, table: &str, from: i64, to: i64) {
    let q = db.quote(table);
    db.sql(&match db {
        Db::MySql => {
            format!("INSERT INTO {q} SELECT seq, CONCAT('v', seq) FROM seq_{from}_to_{to}")
        }
        Db::Postgres => {
            format!("INSERT INTO {q} SELECT g, 'v' || g FROM generate_series({from}, {to}) g")
        }
    });
}

async fn explain(sluice: &Sluice, sql: &str) -> String {
    match sluice.execute_sql(sql).await.expect("explain").pop() {
        Some(StatementResult::Explain(text)) => text,
        other => panic!("EXPLAIN returns text, got {other:?}"),
    }
}

async fn partitioned_scan(db: Db) {
    let table = fresh_table(db, "partitioned");
    db.sql(&format!(
        "CREATE TABLE {} (id BIGINT, v VARCHAR(20))",
        db.quote(&table)
    ));
    fill(db, &table, 1, 1000);
    let sluice = Sluice::new();
    let ddl = |name: &str, lower: i64, upper: i64| {
        format!(
            "CREATE TABLE {name} (id BIGINT, v STRING) WITH ('connector' = 'jdbc', 'url' = '{}',
               'table-name' = '{table}', {}, 'scan.partition.column' = 'id',
               'scan.partition.num' = '4', 'scan.partition.lower-bound' = '{lower}',
               'scan.partition.upper-bound' = '{upper}', 'scan.fetch-size' = '64')",
            db.url(),
            db.credentials()
        )
    };
    run(&sluice, &ddl("whole", 1, 1000)).await.expect("ddl");
    run(&sluice, &ddl("part", 101, 300)).await.expect("ddl");
    let plan = explain(&sluice, "EXPLAIN SELECT id, v FROM whole").await;
    assert!(
        plan.contains("Source: whole") && plan.contains("[parallelism=4,"),
        "four parallel readers: {plan}"
    );
    let mut rows = select(&sluice, "SELECT id, v FROM whole").await;
    rows.sort_by_key(|r| r.split(',').next().and_then(|id| id.parse::<i64>().ok()));
    let expected: Vec<String> = (1..=1000).map(|i| format!("{i}, v{i}")).collect();
    assert_eq!(rows, expected, "every row exactly once");
    // Like Flink, the bounds also filter: only ids 101..=300 are read.
    let mut ids: Vec<i64> = select(&sluice, "SELECT id FROM part")
        .await
        .iter()
        .map(|r| r.parse().expect("an id"))
        .collect();
    ids.sort();
    assert_eq!(ids, (101..=300).collect::<Vec<_>>());

    // Four readers into three writers ('sink.parallelism').
    let copy = fresh_table(db, "partitioned_copy");
    db.sql(&format!(
        "CREATE TABLE {} (id BIGINT, v VARCHAR(20))",
        db.quote(&copy)
    ));
    run(
        &sluice,
        &format!(
            "CREATE TABLE copy (id BIGINT, v STRING) WITH ('connector' = 'jdbc', 'url' = '{}',
               'table-name' = '{copy}', {}, 'sink.parallelism' = '3')",
            db.url(),
            db.credentials()
        ),
    )
    .await
    .expect("ddl");
    let plan = explain(&sluice, "EXPLAIN INSERT INTO copy SELECT id, v FROM whole").await;
    assert!(
        plan.lines()
            .any(|l| l.contains("Sink: copy") && l.contains("[parallelism=3,")),
        "three writers: {plan}"
    );
    insert(&sluice, "INSERT INTO copy SELECT id, v FROM whole").await;
    assert_eq!(
        db.sql(&format!(
            "SELECT COUNT(*), COUNT(DISTINCT id), MIN(id), MAX(id) FROM {}",
            db.quote(&copy)
        )),
        vec!["1000|1000|1|1000"]
    );
    for t in [&table, &copy] {
        db.sql(&format!("DROP TABLE {}", db.quote(t)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_scan_reads_mariadb_in_parallel() {
    partitioned_scan(Db::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_scan_reads_postgres_in_parallel() {
    partitioned_scan(Db::Postgres).await;
}

/// One run of the sync job in a fresh session (a new process, as far as
/// the job can tell): copies new rows of `source` into `target`.
async fn sync_run(db: Db, source: &str, target: &str, state_dir: &str, extra: &str) {
    let sluice = Sluice::new();
    run(
        &sluice,
        &format!(
            "CREATE TABLE src (id BIGINT, v STRING, ts TIMESTAMP(3)) WITH ('connector' = 'jdbc',
               'url' = '{url}', 'table-name' = '{source}', {cred},
               'scan.incremental.column' = 'id', 'scan.incremental.state-dir' = '{state_dir}'{extra});
             CREATE TABLE dst (id BIGINT, v STRING) WITH ('connector' = 'jdbc',
               'url' = '{url}', 'table-name' = '{target}', {cred})",
            url = db.url(),
            cred = db.credentials()
        ),
    )
    .await
    .expect("ddl");
    insert(&sluice, "INSERT INTO dst SELECT id, v FROM src").await;
}

async fn incremental_sync(db: Db) {
    let source = fresh_table(db, "incr_src");
    let target = fresh_table(db, "incr_dst");
    let ts = match db {
        Db::MySql => "DATETIME(3)",
        Db::Postgres => "TIMESTAMP(3)",
    };
    db.sql(&format!(
        "CREATE TABLE {} (id BIGINT, v VARCHAR(20), ts {ts})",
        db.quote(&source)
    ));
    db.sql(&format!(
        "CREATE TABLE {} (id BIGINT, v VARCHAR(20))",
        db.quote(&target)
    ));
    let add = |from: i64, to: i64| {
        let values: Vec<String> = (from..=to)
            .map(|i| format!("({i}, 'v{i}', '2024-01-01 00:00:0{}')", i % 10))
            .collect();
        db.sql(&format!(
            "INSERT INTO {} VALUES {}",
            db.quote(&source),
            values.join(", ")
        ));
    };
    let copied = || {
        db.sql(&format!(
            "SELECT id, v FROM {} ORDER BY id",
            db.quote(&target)
        ))
    };
    let state = tempfile::tempdir().expect("tempdir");
    let dir = state.path().display().to_string();

    add(1, 3);
    sync_run(db, &source, &target, &dir, "").await;
    assert_eq!(copied(), vec!["1|v1", "2|v2", "3|v3"]);
    add(4, 5);
    sync_run(db, &source, &target, &dir, "").await;
    assert_eq!(
        copied(),
        vec!["1|v1", "2|v2", "3|v3", "4|v4", "5|v5"],
        "only the new rows"
    );
    sync_run(db, &source, &target, &dir, "").await;
    assert_eq!(copied().len(), 5, "nothing new, nothing copied");
    let files: Vec<_> = std::fs::read_dir(state.path())
        .expect("state dir")
        .collect();
    assert_eq!(files.len(), 1, "one state file for the table");

    // A fresh state starts at 'scan.incremental.start' (inclusive), and the
    // query may leave the incremental column out.
    let fresh = tempfile::tempdir().expect("tempdir");
    let sluice = Sluice::new();
    run(
        &sluice,
        &format!(
            "CREATE TABLE src (id BIGINT, v STRING) WITH ('connector' = 'jdbc', 'url' = '{}',
               'table-name' = '{source}', {}, 'scan.incremental.column' = 'id',
               'scan.incremental.start' = '4', 'scan.incremental.state-dir' = '{}')",
            db.url(),
            db.credentials(),
            fresh.path().display()
        ),
    )
    .await
    .expect("ddl");
    assert_eq!(select(&sluice, "SELECT v FROM src").await, vec!["v4", "v5"]);
    add(6, 6);
    assert_eq!(select(&sluice, "SELECT v FROM src").await, vec!["v6"]);
    for t in [&source, &target] {
        db.sql(&format!("DROP TABLE {}", db.quote(t)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_sync_continues_where_it_stopped_in_mariadb() {
    incremental_sync(Db::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_sync_continues_where_it_stopped_in_postgres() {
    incremental_sync(Db::Postgres).await;
}
