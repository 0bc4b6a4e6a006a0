//! Values the database refuses: the job fails naming the row, its key, the
//! column and the server's message — or, with 'sink.ignore-errors', skips
//! and counts them. Passwords stay out of errors and SHOW CREATE TABLE.

use datafusion::arrow::array::AsArray;
use sluice::{Sluice, StatementResult};

use crate::support::{Db, fresh_table, run};

async fn setup(db: Db, test: &str, extra: &str) -> (String, Sluice) {
    let table = fresh_table(db, test);
    db.sql(&format!(
        "CREATE TABLE {} (id INT NOT NULL PRIMARY KEY, name VARCHAR(5), qty INT NOT NULL)",
        db.quote(&table)
    ));
    let sluice = Sluice::new();
    run(
        &sluice,
        &format!(
            "CREATE TABLE t (id INT NOT NULL, name STRING, qty INT, PRIMARY KEY (id) NOT ENFORCED)
             WITH ('connector' = 'jdbc', 'url' = '{}', 'table-name' = '{table}', {}{extra})",
            db.url(),
            db.credentials()
        ),
    )
    .await
    .expect("ddl");
    (table, sluice)
}

fn contents(db: Db, table: &str) -> Vec<String> {
    db.sql(&format!(
        "SELECT id, name, qty FROM {} ORDER BY id",
        db.quote(table)
    ))
}

const ROWS: &str = "INSERT INTO t VALUES (1, 'ok', 1), (2, 'toolong', 2), (3, 'fine', 3),
                    (4, 'null', CAST(NULL AS INT)), (5, 'last', 5)";

async fn too_long_fails_naming_row_and_column(db: Db) {
    let (table, sluice) = setup(db, "bad_fail", "").await;
    let job = run(&sluice, ROWS).await.expect("insert").expect("a job");
    let err = job.wait().await.expect_err("the job fails").to_string();
    assert!(
        err.contains(&format!(
            "connector 'jdbc': table 't' ({table} in 127.0.0.1:{}/test): row +I[2, toolong, 2] (key id=2)",
            db.port()
        )),
        "{err}"
    );
    let server = match db {
        Db::MySql => "was rejected: Data too long for column 'name' (error 1406, SQLSTATE 22001)",
        Db::Postgres => {
            ", column 'name' was rejected: value too long for type character varying(5) (SQLSTATE 22001)"
        }
    };
    assert!(err.contains(server), "{err}");
    // The rows before the bad one were written.
    assert_eq!(contents(db, &table), vec!["1|ok|1"]);
    db.sql(&format!("DROP TABLE {}", db.quote(&table)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_refusal_names_the_row_column_and_message() {
    too_long_fails_naming_row_and_column(Db::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refusal_names_the_row_column_and_message() {
    too_long_fails_naming_row_and_column(Db::Postgres).await;
}

async fn ignore_errors_skips_and_counts(db: Db) {
    let (table, sluice) = setup(db, "bad_skip", ", 'sink.ignore-errors' = 'true'").await;
    let job = run(&sluice, ROWS).await.expect("insert").expect("a job");
    job.wait().await.expect("the job skips the bad rows");
    assert_eq!(contents(db, &table), vec!["1|ok|1", "3|fine|3", "5|last|5"]);
    let mut r = sluice
        .execute_sql(&format!("DESCRIBE JOB '{}'", job.id()))
        .await
        .expect("describe");
    let Some(StatementResult::Rows { batches, .. }) = r.pop() else {
        panic!("rows");
    };
    let b = &batches[0];
    let sink = (0..b.num_rows())
        .find(|i| b.column(0).as_string::<i32>().value(*i).contains("Sink: t"))
        .expect("the sink operator");
    assert_eq!(
        b.column(3).as_string::<i32>().value(sink),
        "2",
        "records skipped"
    );
    assert!(
        b.column(5)
            .as_string::<i32>()
            .value(sink)
            .starts_with("3 rows in "),
        "{}",
        b.column(5).as_string::<i32>().value(sink)
    );
    db.sql(&format!("DROP TABLE {}", db.quote(&table)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_ignore_errors_skips_and_counts() {
    ignore_errors_skips_and_counts(Db::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_ignore_errors_skips_and_counts() {
    ignore_errors_skips_and_counts(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_never_show() {
    let secret = "hunter2-not-the-password";
    let sluice = Sluice::new();
    run(
        &sluice,
        &format!(
            "CREATE TABLE t (id INT) WITH ('connector' = 'jdbc', 'url' = '{}',
               'table-name' = 'nowhere', 'username' = 'root', 'password' = '{secret}')",
            Db::MySql.url()
        ),
    )
    .await
    .expect("ddl");
    let mut r = sluice
        .execute_sql("SHOW CREATE TABLE t")
        .await
        .expect("show");
    let Some(StatementResult::Explain(ddl)) = r.pop() else {
        panic!("SHOW CREATE TABLE returns text");
    };
    assert!(ddl.contains("'password' = '******'"), "{ddl}");
    assert!(!ddl.contains(secret), "{ddl}");
    let job = run(&sluice, "INSERT INTO t VALUES (1)")
        .await
        .expect("insert")
        .expect("a job");
    let err = job.wait().await.expect_err("wrong password").to_string();
    assert!(err.contains("Access denied for user 'root'"), "{err}");
    assert!(!err.contains(secret), "{err}");
}
