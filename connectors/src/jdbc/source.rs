//! The JDBC source: a bounded scan of one table, optionally split into
//! numeric ranges read in parallel (`scan.partition.*`) or limited to rows
//! past the previous run's progress (`scan.incremental.*`).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use futures::TryStreamExt;
use sluice_engine::connector::{ScanContext, SourceReader, SourceTable};
use sluice_engine::{Result, SluiceError};
use sqlx::AssertSqlSafe;
use sqlx::mysql::MySqlArguments;
use sqlx::postgres::PgArguments;
use tokio::sync::mpsc;

use super::decode::{BatchBuilder, select_expr};
use super::incremental::{Bound, StateFile, last_value};
use super::pool::{self, ConnectConfig, JdbcPool};

/// `scan.partition.*`: the table read as `num` ranges of `column`.
#[derive(Debug, Clone)]
pub struct Partitioning {
    pub column: usize,
    pub num: usize,
    pub lower: i64,
    pub upper: i64,
}

impl Partitioning {
    /// The inclusive ranges, as Flink's numeric partitioning computes them:
    /// `num` ranges covering `lower..=upper`, the first ones one longer when
    /// the span does not divide evenly.
    pub fn ranges(&self) -> Vec<(i64, i64)> {
        let span = (i128::from(self.upper) - i128::from(self.lower) + 1) as u128;
        let num = self.num as u128;
        let small = span / num;
        let big_count = span % num;
        let mut out = Vec::with_capacity(self.num);
        let mut start = i128::from(self.lower);
        for i in 0..num {
            let len = small + u128::from(i < big_count);
            let end = start + len as i128 - 1;
            out.push((start as i64, end as i64));
            start = end + 1;
        }
        out
    }
}

/// `scan.incremental.*`.
#[derive(Debug, Clone)]
pub struct Incremental {
    pub column: usize,
    /// `scan.incremental.start`, used when no run has finished yet.
    pub start: Option<Bound>,
    pub state: StateFile,
}

/// The readable half of a JDBC table.
#[derive(Debug)]
pub struct JdbcSource {
    pub(super) table: String,
    pub(super) table_name: String,
    pub(super) config: ConnectConfig,
    pub(super) schema: SchemaRef,
    pub(super) partitioning: Option<Partitioning>,
    pub(super) incremental: Option<Incremental>,
    pub(super) fetch_size: Option<usize>,
}

impl SourceTable for JdbcSource {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn is_bounded(&self) -> bool {
        true
    }

    /// One reader per partition; a plain scan is one reader (several would
    /// each read the whole table).
    fn parallelism(&self) -> Option<usize> {
        Some(self.partitioning.as_ref().map_or(1, |p| p.num))
    }

    fn open(&self, ctx: ScanContext) -> Result<Box<dyn SourceReader>> {
        let output = ctx.project_schema(&self.schema)?;
        let projection: Vec<usize> = ctx
            .projection
            .clone()
            .unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        // The incremental column is read even when the query does not use
        // it: progress is taken from it.
        let mut read = projection.clone();
        let progress_column =
            self.incremental
                .as_ref()
                .map(|inc| match read.iter().position(|c| *c == inc.column) {
                    Some(p) => p,
                    None => {
                        read.push(inc.column);
                        read.len() - 1
                    }
                });
        let read_schema = Arc::new(self.schema.project(&read)?);
        let dialect = self.config.url.dialect;
        let mut sql = format!(
            "SELECT {} FROM {}",
            read.iter()
                .map(|c| {
                    let f = self.schema.field(*c);
                    select_expr(dialect, f.name(), f.data_type())
                })
                .collect::<Vec<_>>()
                .join(", "),
            dialect.quote_table(&self.table_name)
        );
        if read.is_empty() {
            // `SELECT COUNT(*)`-style queries project nothing: read a constant.
            sql = format!("SELECT 1 FROM {}", dialect.quote_table(&self.table_name));
        }
        let ranges: Vec<(i64, i64)> = match &self.partitioning {
            Some(p) => p
                .ranges()
                .into_iter()
                .enumerate()
                .filter(|(i, _)| i % ctx.parallelism == ctx.instance)
                .map(|(_, r)| r)
                .collect(),
            None => Vec::new(),
        };
        let scan = Scan {
            sql,
            dialect,
            partition_column: self
                .partitioning
                .as_ref()
                .map(|p| dialect.quote(self.schema.field(p.column).name())),
            ranges,
            incremental: self
                .incremental
                .clone()
                .map(|inc| (dialect.quote(self.schema.field(inc.column).name()), inc)),
            read_schema,
            output,
            progress_column,
            batch_size: self.fetch_size.unwrap_or(ctx.batch_size).max(1),
            label: format!(
                "table '{}' ({} in {})",
                self.table,
                self.table_name,
                self.config.url.display()
            ),
        };
        Ok(Box::new(JdbcReader {
            config: self.config.clone(),
            scan: Some(scan),
            rx: None,
            task: None,
            state: None,
        }))
    }
}

/// What one reader instance runs.
struct Scan {
    /// `SELECT ... FROM t`, without WHERE.
    sql: String,
    dialect: super::dialect::Dialect,
    partition_column: Option<String>,
    /// This instance's partitions; empty without partitioning.
    ranges: Vec<(i64, i64)>,
    incremental: Option<(String, Incremental)>,
    read_schema: SchemaRef,
    output: SchemaRef,
    progress_column: Option<usize>,
    batch_size: usize,
    label: String,
}

/// What the producer task sends.
enum Item {
    Batch(RecordBatch),
    /// The scan ended; the incremental progress to record, if any.
    Done(Option<String>),
}

/// One source instance. The query runs in its own task (it owns the
/// connection and the row stream) and hands over finished batches.
struct JdbcReader {
    config: ConnectConfig,
    scan: Option<Scan>,
    rx: Option<mpsc::Receiver<Result<Item>>>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// Where to record progress once the last batch was taken.
    state: Option<StateFile>,
}

impl Drop for JdbcReader {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

#[async_trait]
impl SourceReader for JdbcReader {
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if let Some(scan) = self.scan.take() {
            let (tx, rx) = mpsc::channel(2);
            self.state = scan.incremental.as_ref().map(|(_, inc)| inc.state.clone());
            let pool = self.config.pool(1);
            self.task = Some(tokio::spawn(produce(pool, scan, tx)));
            self.rx = Some(rx);
        }
        let Some(rx) = &mut self.rx else {
            return Ok(None);
        };
        match rx.recv().await {
            Some(Ok(Item::Batch(b))) => Ok(Some(b)),
            Some(Ok(Item::Done(progress))) => {
                self.rx = None;
                if let (Some(state), Some(last)) = (&self.state, progress) {
                    state
                        .store(&last)
                        .map_err(|e| SluiceError::connector("jdbc", e))?;
                }
                Ok(None)
            }
            Some(Err(e)) => {
                self.rx = None;
                Err(e)
            }
            None => {
                self.rx = None;
                Err(SluiceError::connector(
                    "jdbc",
                    "the scan task stopped unexpectedly",
                ))
            }
        }
    }
}

/// Runs the scan and sends batches; errors name the table and the server.
async fn produce(pool: JdbcPool, scan: Scan, tx: mpsc::Sender<Result<Item>>) {
    let label = scan.label.clone();
    let result = run_scan(&pool, scan, &tx).await;
    match &pool {
        JdbcPool::MySql(p) => p.close().await,
        JdbcPool::Postgres(p) => p.close().await,
    }
    let item = result
        .map(Item::Done)
        .map_err(|e| SluiceError::connector("jdbc", format!("{label}: reading failed: {e}")));
    let _ = tx.send(item).await;
}

/// One statement to run: the SQL and its parameters.
struct Query {
    sql: String,
    params: Vec<Bound>,
}

fn queries(scan: &Scan) -> Result<Vec<Query>, String> {
    if let Some(col) = &scan.partition_column {
        let d = scan.dialect;
        return Ok(scan
            .ranges
            .iter()
            .map(|(lo, hi)| {
                let mut sql = format!("{} WHERE {col} BETWEEN ", scan.sql);
                d.placeholder(&mut sql, 1);
                sql.push_str(" AND ");
                d.placeholder(&mut sql, 2);
                Query {
                    sql,
                    params: vec![Bound::Int(*lo), Bound::Int(*hi)],
                }
            })
            .collect());
    }
    if let Some((col, inc)) = &scan.incremental {
        let data_type = scan
            .read_schema
            .field(scan.progress_column.unwrap_or(0))
            .data_type();
        let mut sql = scan.sql.clone();
        let mut params = Vec::new();
        let from_state = inc
            .state
            .load()?
            .map(|last| Bound::parse(&last, data_type))
            .transpose()
            .map_err(|e| format!("state file {}: {e}", inc.state.path().display()))?;
        match (from_state, &inc.start) {
            (Some(last), _) => {
                sql.push_str(&format!(" WHERE {col} > "));
                scan.dialect.placeholder(&mut sql, 1);
                params.push(last);
            }
            (None, Some(start)) => {
                sql.push_str(&format!(" WHERE {col} >= "));
                scan.dialect.placeholder(&mut sql, 1);
                params.push(start.clone());
            }
            (None, None) => {}
        }
        sql.push_str(&format!(" ORDER BY {col}"));
        return Ok(vec![Query { sql, params }]);
    }
    Ok(vec![Query {
        sql: scan.sql.clone(),
        params: Vec::new(),
    }])
}

async fn run_scan(
    pool: &JdbcPool,
    scan: Scan,
    tx: &mpsc::Sender<Result<Item>>,
) -> Result<Option<String>, String> {
    let mut builder = BatchBuilder::new(scan.read_schema.clone())?;
    let mut progress = None;
    for q in queries(&scan)? {
        macro_rules! stream {
            ($pool:expr, $args:ty, $push:ident) => {{
                let mut args = <$args>::default();
                for p in &q.params {
                    p.bind(&mut args).map_err(|e| e.to_string())?;
                }
                let mut rows = sqlx::query_with(AssertSqlSafe(q.sql.clone()), args).fetch($pool);
                while let Some(row) = rows.try_next().await.map_err(|e| pool::describe(&e))? {
                    builder.$push(&row)?;
                    if builder.len() >= scan.batch_size {
                        let batch = output(&scan, builder.finish()?, &mut progress)?;
                        if tx.send(Ok(Item::Batch(batch))).await.is_err() {
                            return Ok(None);
                        }
                    }
                }
            }};
        }
        match pool {
            JdbcPool::MySql(p) => stream!(p, MySqlArguments, push_mysql),
            JdbcPool::Postgres(p) => stream!(p, PgArguments, push_pg),
        }
    }
    if !builder.is_empty() {
        let batch = output(&scan, builder.finish()?, &mut progress)?;
        if tx.send(Ok(Item::Batch(batch))).await.is_err() {
            return Ok(None);
        }
    }
    Ok(progress)
}

/// Notes the progress value and cuts the batch down to the output columns.
fn output(
    scan: &Scan,
    batch: RecordBatch,
    progress: &mut Option<String>,
) -> Result<RecordBatch, String> {
    if let Some(c) = scan.progress_column
        && let Some(v) = last_value(&batch, c)
    {
        *progress = Some(v);
    }
    let n = scan.output.fields().len();
    if batch.num_columns() == n {
        return Ok(batch);
    }
    let columns = batch.columns()[..n].to_vec();
    let options =
        datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(scan.output.clone(), columns, &options)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_cover_the_range_like_flink() {
        let p = Partitioning {
            column: 0,
            num: 3,
            lower: 1,
            upper: 10,
        };
        assert_eq!(p.ranges(), vec![(1, 4), (5, 7), (8, 10)]);
        let p = Partitioning {
            column: 0,
            num: 2,
            lower: i64::MIN,
            upper: i64::MAX,
        };
        assert_eq!(p.ranges(), vec![(i64::MIN, -1), (0, i64::MAX)]);
    }
}
