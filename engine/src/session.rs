//! A session: the catalog, `SET` options and jobs of one user, and the entry
//! point that runs statements.

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use tokio::sync::mpsc;

use crate::error::Result;
use crate::runtime::JobHandle;

/// What running one statement produced.
#[derive(Debug)]
pub enum StatementResult {
    /// DDL, SET, STOP JOB ...: a one-line message such as
    /// `[INFO] Execute statement succeeded.`
    Message(String),
    /// SHOW / DESCRIBE: a small table.
    Rows {
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    },
    /// EXPLAIN: the plans as text.
    Explain(String),
    /// INSERT INTO / statement set: a job running in the background.
    Job(JobHandle),
    /// SELECT: rows as they arrive.
    Query(QueryResult),
}

/// The streaming result of a `SELECT`.
#[derive(Debug)]
pub struct QueryResult {
    /// Result columns (without the row kind).
    pub schema: SchemaRef,
    /// True when the query produces updates (`-U`, `+U`, `-D`), in which case
    /// each batch has a trailing row-kind column
    /// ([`crate::connector::ROW_KIND_COLUMN`]).
    pub is_changelog: bool,
    /// Batches as they are produced; closed when the query ends or is
    /// cancelled. An `Err` is the job's failure.
    pub batches: mpsc::Receiver<Result<RecordBatch>>,
    /// The job computing the result; cancel it to stop the query.
    pub job: JobHandle,
}

use std::sync::Arc;

use crate::connector::ConnectorRegistry;
use crate::sql::FlinkStatement;

/// One user's session. Cheap to share: every method takes `&self`.
#[derive(Debug)]
pub struct Session {
    inner: Arc<SessionInner>,
}

#[derive(Debug)]
struct SessionInner {
    _registry: ConnectorRegistry,
}

impl Session {
    /// A session whose connectors come from `registry`.
    pub fn new(registry: ConnectorRegistry) -> Self {
        Session {
            inner: Arc::new(SessionInner {
                _registry: registry,
            }),
        }
    }

    /// Splits and parses `sql` (one or more `;`-separated statements).
    pub fn parse(&self, sql: &str) -> Result<Vec<FlinkStatement>> {
        let _ = sql;
        todo!("planner in progress")
    }

    /// Runs one parsed statement.
    pub async fn execute(&self, stmt: FlinkStatement) -> Result<StatementResult> {
        let _ = (stmt, &self.inner);
        todo!("planner in progress")
    }

    /// Parses and runs every statement of `sql` in order, returning each
    /// result (a SELECT's result streams; consume it before the next).
    pub async fn execute_sql(&self, sql: &str) -> Result<Vec<StatementResult>> {
        let mut out = Vec::new();
        for stmt in self.parse(sql)? {
            out.push(self.execute(stmt).await?);
        }
        Ok(out)
    }

    /// The value of a `SET` option, if set (or its default when known).
    pub fn config_value(&self, key: &str) -> Option<String> {
        let _ = key;
        None
    }

    /// Table and view names, for completion.
    pub fn table_names(&self) -> Vec<String> {
        Vec::new()
    }

    /// Column names of a table or view, for completion.
    pub fn column_names(&self, table: &str) -> Vec<String> {
        let _ = table;
        Vec::new()
    }

    /// Function names, for completion.
    pub fn function_names(&self) -> Vec<String> {
        Vec::new()
    }
}
