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
    /// EXPLAIN, SHOW CREATE TABLE/VIEW: text to print as it is.
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
