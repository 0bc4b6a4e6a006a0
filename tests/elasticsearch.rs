//! The Elasticsearch sinks end to end against a stand-in server that speaks
//! the `_bulk` NDJSON API (tests/elasticsearch/server.rs): SQL jobs through
//! the `sluice` facade, and the sink opened directly where a test needs
//! exact row kinds. Every request the server receives is checked.

#[path = "elasticsearch/server.rs"]
mod server;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{Int8Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use serde_json::{Value, json};
use server::EsServer;
use sluice::{JobHandle, JobStatus, ROW_KIND_COLUMN, Sluice, StatementResult};
use sluice_connectors::elasticsearch::ElasticsearchConnector;
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{Connector, SinkContext, SinkWriter, TableContext};
use sluice_engine::runtime::OperatorMetrics;

async fn run(sluice: &Sluice, sql: &str) -> sluice::Result<Option<JobHandle>> {
    let mut job = None;
    for r in sluice.execute_sql(sql).await? {
        if let StatementResult::Job(j) = r {
            job = Some(j);
        }
    }
    Ok(job)
}

/// Runs `sql` (DDL then one INSERT) and waits for the job.
async fn job(sluice: &Sluice, sql: &str) -> sluice::Result<()> {
    run(sluice, sql).await?.expect("a job").wait().await
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn doc(es: &EsServer, index: &str, id: &str) -> Value {
    es.docs()
        .get(&(index.to_string(), id.to_string()))
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_updating_query_upserts_documents_by_primary_key() {
    let es = EsServer::start().await;
    let s = Sluice::new();
    job(
        &s,
        &format!(
            "CREATE TABLE counts (name STRING, region STRING, cnt BIGINT,
               PRIMARY KEY (name, region) NOT ENFORCED)
             WITH ('connector' = 'elasticsearch-7', 'hosts' = '{}', 'index' = 'counts',
               'document-id.key-delimiter' = '$');
             INSERT INTO counts SELECT name, region, COUNT(*) FROM (VALUES
               ('a', 'eu'), ('b', 'us'), ('a', 'eu'), ('a', 'us'), ('a', 'eu')) AS t(name, region)
             GROUP BY name, region",
            es.url()
        ),
    )
    .await
    .expect("job succeeds");
    es.assert_no_violations();
    let docs = es.docs();
    assert_eq!(docs.len(), 3, "{docs:?}");
    assert_eq!(
        doc(&es, "counts", "a$eu"),
        json!({"name": "a", "region": "eu", "cnt": 3})
    );
    assert_eq!(
        doc(&es, "counts", "a$us"),
        json!({"name": "a", "region": "us", "cnt": 1})
    );
    assert_eq!(
        doc(&es, "counts", "b$us"),
        json!({"name": "b", "region": "us", "cnt": 1})
    );
    // Every action was an upsert by id: update + doc_as_upsert.
    for r in es.requests() {
        assert_eq!(r.path, "/_bulk");
        assert_eq!(r.headers["content-type"], "application/x-ndjson");
        assert!(!r.headers.contains_key("authorization"));
        for a in &r.actions {
            assert_eq!(a.op, "update");
            assert_eq!(a.index, "counts");
            assert!(a.doc_type.is_none(), "no _type for elasticsearch-7");
            let id = a.id.as_deref().unwrap();
            let d = &a.source.as_ref().unwrap()["doc"];
            assert_eq!(
                id,
                format!(
                    "{}${}",
                    d["name"].as_str().unwrap(),
                    d["region"].as_str().unwrap()
                )
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_only_tables_get_server_generated_ids_and_refuse_updates() {
    let es = EsServer::start().await;
    let s = Sluice::new();
    job(
        &s,
        &format!(
            "CREATE TABLE logs (msg STRING, n INT) WITH ('connector' = 'elasticsearch-8',
               'hosts' = '{}', 'index' = 'logs');
             INSERT INTO logs VALUES ('x', 1), ('y', 2), ('x', 3)",
            es.url()
        ),
    )
    .await
    .expect("job succeeds");
    es.assert_no_violations();
    let actions: Vec<_> = es.requests().into_iter().flat_map(|r| r.actions).collect();
    assert_eq!(actions.len(), 3);
    for a in &actions {
        assert_eq!(a.op, "index");
        assert!(a.id.is_none(), "no _id: Elasticsearch generates it");
    }
    let sources: Vec<Value> = actions.iter().map(|a| a.source.clone().unwrap()).collect();
    assert_eq!(sources[0], json!({"msg": "x", "n": 1}));
    assert_eq!(es.docs().len(), 3);
    // An updating query cannot go to a table without a key.
    let err = run(
        &s,
        "INSERT INTO logs SELECT msg, CAST(COUNT(*) AS INT) FROM (VALUES ('a'), ('a')) AS t(msg) GROUP BY msg",
    )
    .await
    .expect_err("planning fails")
    .to_string();
    assert!(err.to_lowercase().contains("append"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_requests_hold_at_most_max_actions() {
    let es = EsServer::start().await;
    let s = Sluice::new();
    job(
        &s,
        &format!(
            "CREATE TABLE gen (id BIGINT, v STRING) WITH ('connector' = 'datagen',
               'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '25',
               'fields.v.length' = '4');
             CREATE TABLE out (id BIGINT, v STRING, PRIMARY KEY (id) NOT ENFORCED) WITH (
               'connector' = 'elasticsearch-7', 'hosts' = '{}', 'index' = 'items',
               'sink.bulk-flush.max-actions' = '10', 'sink.bulk-flush.interval' = '0');
             INSERT INTO out SELECT id, v FROM gen",
            es.url()
        ),
    )
    .await
    .expect("job succeeds");
    es.assert_no_violations();
    let sizes: Vec<usize> = es.requests().iter().map(|r| r.actions.len()).collect();
    assert_eq!(sizes, vec![10, 10, 5]);
    let ids: Vec<String> = es.docs().keys().map(|(_, id)| id.clone()).collect();
    assert_eq!(ids.len(), 25);
    assert!(ids.contains(&"1".to_string()) && ids.contains(&"25".to_string()));
    // One keep-alive connection carried every request.
    assert_eq!(es.connections(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_arrive_after_the_flush_interval() {
    let es = EsServer::start().await;
    let s = Sluice::new();
    let job = run(
        &s,
        &format!(
            "CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '20');
             CREATE TABLE out (id BIGINT) WITH ('connector' = 'elasticsearch-7',
               'hosts' = '{}', 'index' = 'ticks', 'sink.bulk-flush.interval' = '200ms');
             INSERT INTO out SELECT id FROM gen",
            es.url()
        ),
    )
    .await
    .expect("statements run")
    .expect("a job");
    eventually("three interval flushes", || es.requests().len() >= 3).await;
    assert_eq!(job.status(), JobStatus::Running);
    for r in es.requests() {
        // Far below max-actions (1000): each request was sent by the timer.
        assert!(
            !r.actions.is_empty() && r.actions.len() < 50,
            "{}",
            r.actions.len()
        );
    }
    job.cancel();
    job.wait().await.expect("a cancelled job stops cleanly");
    es.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_indices_auth_path_prefix_and_host_failover() {
    let es = EsServer::start().await;
    es.require_auth("elastic", "s3cr3t");
    // A port nobody listens on: the sink fails over to the next host.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let s = Sluice::new();
    job(
        &s,
        &format!(
            "CREATE TABLE events (id INT, kind STRING, ts TIMESTAMP(3), PRIMARY KEY (id) NOT ENFORCED)
             WITH ('connector' = 'elasticsearch-6', 'hosts' = 'http://{dead};{}',
               'index' = 'log-{{ts|yyyy-MM-dd}}', 'document-type' = '_doc',
               'username' = 'elastic', 'password' = 's3cr3t', 'connection.path-prefix' = 'es');
             CREATE TABLE by_kind (id INT, kind STRING, PRIMARY KEY (id) NOT ENFORCED)
             WITH ('connector' = 'elasticsearch-7', 'hosts' = '{}', 'index' = 'k-{{kind}}',
               'username' = 'elastic', 'password' = 's3cr3t');
             EXECUTE STATEMENT SET BEGIN
             INSERT INTO events VALUES
               (1, 'click', TIMESTAMP '2024-03-01 10:00:00'),
               (2, 'view', TIMESTAMP '2024-03-02 23:59:59.999'),
               (3, 'click', TIMESTAMP '2024-03-01 00:00:00');
             INSERT INTO by_kind VALUES (1, 'click'), (2, 'view'), (3, 'click');
             END",
            es.url(),
            es.url()
        ),
    )
    .await
    .expect("job succeeds");
    es.assert_no_violations();
    let docs = es.docs();
    let keys: Vec<(String, String)> = docs.keys().cloned().collect();
    for k in [
        ("log-2024-03-01", "1"),
        ("log-2024-03-02", "2"),
        ("log-2024-03-01", "3"),
        ("k-click", "1"),
        ("k-view", "2"),
        ("k-click", "3"),
    ] {
        assert!(
            keys.contains(&(k.0.to_string(), k.1.to_string())),
            "{k:?} missing from {keys:?}"
        );
    }
    assert_eq!(
        docs[&("log-2024-03-02".into(), "2".into())]["ts"],
        json!("2024-03-02 23:59:59.999")
    );
    let requests = es.requests();
    let expected_auth = "Basic ZWxhc3RpYzpzM2NyM3Q=";
    for r in &requests {
        assert_eq!(r.headers["authorization"], expected_auth);
        let es6 = r.actions.iter().any(|a| a.index.starts_with("log-"));
        if es6 {
            assert_eq!(r.path, "/es/_bulk");
            assert!(
                r.actions
                    .iter()
                    .all(|a| a.doc_type.as_deref() == Some("_doc"))
            );
        } else {
            assert_eq!(r.path, "/_bulk");
            assert!(r.actions.iter().all(|a| a.doc_type.is_none()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_fails_without_showing_it() {
    let es = EsServer::start().await;
    es.require_auth("elastic", "right");
    let s = Sluice::new();
    let err = job(
        &s,
        &format!(
            "CREATE TABLE t (id INT) WITH ('connector' = 'elasticsearch-7', 'hosts' = '{}',
               'index' = 'i', 'username' = 'elastic', 'password' = 'wrong-pw-123');
             INSERT INTO t VALUES (1)",
            es.url()
        ),
    )
    .await
    .expect_err("the job fails")
    .to_string();
    assert!(
        err.contains("HTTP 401") && err.contains("security_exception"),
        "{err}"
    );
    assert!(!err.contains("wrong-pw-123"), "{err}");
    let shown = format!(
        "{:?}",
        s.execute_sql("SHOW CREATE TABLE t")
            .await
            .expect("show create table")
    );
    assert!(!shown.contains("wrong-pw-123"), "{shown}");
}

/// The sink of an elasticsearch-7 table `t (id BIGINT, name STRING, age
/// STRING)` keyed by `id`, opened as the runtime opens it.
fn writer(es: &EsServer, options: &[(&str, &str)]) -> Box<dyn SinkWriter> {
    let mut values: BTreeMap<String, String> = [
        ("hosts", es.url()),
        ("index", "people".to_string()),
        ("sink.bulk-flush.interval", "0".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in options {
        values.insert(k.to_string(), v.to_string());
    }
    let mut opts = ConnectorOptions::new("people", values);
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("age", DataType::Utf8, true),
    ]));
    ElasticsearchConnector::all()[1]
        .create(TableContext {
            table_name: "people",
            physical_schema: schema,
            metadata_columns: &[],
            primary_key: &["id".to_string()],
            partition_keys: &[],
            options: &mut opts,
        })
        .expect("valid table")
        .sink()
        .expect("a sink")
        .open(SinkContext {
            job_id: "test".into(),
            instance: 0,
            parallelism: 1,
            metrics: Arc::new(OperatorMetrics::default()),
        })
        .expect("opens")
}

/// Rows `(id, name, age)` with row kinds (0 = +I, 2 = +U, 3 = -D).
fn changes(rows: &[(i64, &str, &str)], kinds: &[i8]) -> RecordBatch {
    let names: Vec<&str> = rows.iter().map(|r| r.1).collect();
    let ages: Vec<&str> = rows.iter().map(|r| r.2).collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("age", DataType::Utf8, true),
            Field::new(ROW_KIND_COLUMN, DataType::Int8, false),
        ])),
        vec![
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(names)),
            Arc::new(StringArray::from(ages)),
            Arc::new(Int8Array::from(kinds.to_vec())),
        ],
    )
    .expect("valid batch")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_become_delete_actions() {
    let es = EsServer::start().await;
    let mut w = writer(&es, &[]);
    w.write(changes(
        &[(1, "ann", "30"), (2, "bob", "40"), (3, "cy", "50")],
        &[0, 0, 0],
    ))
    .await
    .expect("write");
    w.flush().await.expect("flush");
    // +U 1, -D 2, and a -D of a document that never existed.
    w.write(changes(
        &[(1, "ann", "31"), (2, "bob", "40"), (9, "x", "1")],
        &[2, 3, 3],
    ))
    .await
    .expect("write");
    w.finish().await.expect("finish");
    es.assert_no_violations();
    let requests = es.requests();
    assert_eq!(requests.len(), 2);
    let ops: Vec<(String, Option<String>)> = requests[1]
        .actions
        .iter()
        .map(|a| (a.op.clone(), a.id.clone()))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("update".to_string(), Some("1".to_string())),
            ("delete".to_string(), Some("2".to_string())),
            ("delete".to_string(), Some("9".to_string())),
        ]
    );
    assert!(requests[1].actions[1].source.is_none());
    let ids: Vec<String> = es.docs().keys().map(|(_, id)| id.clone()).collect();
    assert_eq!(ids, vec!["1", "3"]);
    assert_eq!(doc(&es, "people", "1")["age"], json!("31"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_rejected_items_of_a_bulk_are_sent_again() {
    for handler in [
        // The layer retries rejected rows with the back-off policy...
        vec![
            ("sink.bulk-flush.backoff.strategy", "CONSTANT"),
            ("sink.bulk-flush.backoff.max-retries", "3"),
            ("sink.bulk-flush.backoff.delay", "10ms"),
        ],
        // ... or the writer resends them until taken.
        vec![("failure-handler", "retry-rejected")],
    ] {
        let es = EsServer::start().await;
        es.reject_once(&["2", "4"]);
        let mut w = writer(&es, &handler);
        let rows: Vec<(i64, &str, &str)> = (1..=5).map(|i| (i, "n", "1")).collect();
        w.write(changes(&rows, &[0; 5])).await.expect("write");
        w.finish()
            .await
            .expect("the rejected items are retried and taken");
        es.assert_no_violations();
        let requests = es.requests();
        let ids = |i: usize| -> Vec<String> {
            requests[i]
                .actions
                .iter()
                .map(|a| a.id.clone().unwrap())
                .collect()
        };
        assert_eq!(requests.len(), 2, "{handler:?}");
        assert_eq!(ids(0), vec!["1", "2", "3", "4", "5"]);
        assert_eq!(ids(1), vec!["2", "4"], "only the rejected items again");
        assert_eq!(es.docs().len(), 5);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_backoff_a_rejection_fails_the_job() {
    let es = EsServer::start().await;
    es.reject_once(&["1"]);
    let mut w = writer(&es, &[]);
    w.write(changes(&[(1, "n", "1")], &[0]))
        .await
        .expect("buffered");
    let err = w
        .finish()
        .await
        .expect_err("DISABLED back-off: no retry")
        .to_string();
    assert!(err.contains("es_rejected_execution_exception"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_error_fails_the_job_naming_the_document() {
    let es = EsServer::start().await;
    es.numeric_field("age");
    let s = Sluice::new();
    let err = job(
        &s,
        &format!(
            "CREATE TABLE people (id BIGINT, name STRING, age STRING, PRIMARY KEY (id) NOT ENFORCED)
             WITH ('connector' = 'elasticsearch-7', 'hosts' = '{}', 'index' = 'people');
             INSERT INTO people VALUES (1, 'ann', '30'), (2, 'bob', 'forty'), (3, 'cy', '50')",
            es.url()
        ),
    )
    .await
    .expect_err("the job fails")
    .to_string();
    for part in [
        "elasticsearch-7",
        "table 'people'",
        "+I[2, bob, forty]",
        "document _id '2' in index 'people'",
        "status 400",
        "failed to parse field [age] of type [long]",
    ] {
        assert!(err.contains(part), "missing {part:?} in: {err}");
    }
    es.assert_no_violations();
    // The other documents of the bulk were written, once.
    assert_eq!(es.docs().len(), 2);
    assert_eq!(es.requests().len(), 1);

    // failure-handler = ignore: the document is skipped and counted.
    let es = EsServer::start().await;
    es.numeric_field("age");
    let mut w = writer(&es, &[("failure-handler", "ignore")]);
    w.write(changes(&[(1, "ann", "30"), (2, "bob", "forty")], &[0, 0]))
        .await
        .expect("write");
    w.finish().await.expect("ignored");
    assert_eq!(es.docs().len(), 1);
}
