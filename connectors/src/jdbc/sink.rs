//! The JDBC sink: each flush is one transaction of multi-row INSERTs (upserts
//! with a primary key) and DELETEs by key, values bound as parameters.

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use sluice_engine::Result;
use sluice_engine::connector::{ChangelogMode, SinkContext, SinkTable, SinkWriter};
use sqlx::{Arguments, AssertSqlSafe, Database, Executor, IntoArguments, Pool};

use super::bind::{BindArgs, BoundColumn};
use super::diagnose;
use super::dialect::Statements;
use super::pool::{self, ConnectConfig, ErrorClass, JdbcPool};
use crate::sink::buffered::{
    BufferOptions, BufferedWriter, ChangeBatch, FlushWriter, RowError, SinkLabel, WriteError,
};

/// Keep one statement's variable-length data under this many bytes, well
/// below MySQL's default `max_allowed_packet` (16 MiB in MariaDB).
const MAX_STATEMENT_BYTES: usize = 4 << 20;

/// The writable half of a JDBC table.
#[derive(Debug)]
pub struct JdbcSink {
    pub(super) table: String,
    pub(super) table_name: String,
    pub(super) config: ConnectConfig,
    pub(super) schema: SchemaRef,
    /// Primary key column indices; empty for an append-only table.
    pub(super) key: Vec<usize>,
    pub(super) buffer: BufferOptions,
    pub(super) parallelism: Option<usize>,
}

impl SinkTable for JdbcSink {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// With a primary key: upserts and deletes; without: appends only.
    fn accepted_changelog(&self) -> ChangelogMode {
        if self.key.is_empty() {
            ChangelogMode::AppendOnly
        } else {
            ChangelogMode::Upsert(
                self.key
                    .iter()
                    .map(|i| self.schema.field(*i).name().clone())
                    .collect(),
            )
        }
    }

    fn parallelism(&self) -> Option<usize> {
        self.parallelism
    }

    fn open(&self, ctx: SinkContext) -> Result<Box<dyn SinkWriter>> {
        let columns: Vec<String> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let writer = JdbcWriter {
            config: self.config.clone(),
            pool: None,
            table_name: self.table_name.clone(),
            statements: Statements::new(
                self.config.url.dialect,
                &self.table_name,
                &columns,
                &self.key,
            ),
            key: self.key.clone(),
        };
        let label = SinkLabel {
            connector: "jdbc",
            table: self.table.clone(),
            target: format!("{} in {}", self.table_name, self.config.url.display()),
        };
        let buffered = BufferedWriter::new(
            writer,
            self.schema.clone(),
            self.buffer.clone(),
            ctx.metrics,
            label,
        )
        .with_upsert_key(self.key.clone());
        Ok(Box::new(buffered))
    }
}

/// One sink instance: its own single-connection pool (reconnects after a
/// lost connection) and statement cache.
struct JdbcWriter {
    config: ConnectConfig,
    pool: Option<JdbcPool>,
    table_name: String,
    statements: Statements,
    key: Vec<usize>,
}

/// Why a flush failed inside the transaction.
enum ExecError {
    Sql(sqlx::Error),
    /// A value could not be encoded (e.g. a date out of the database's range).
    Bind {
        column: String,
        message: String,
    },
}

impl From<sqlx::Error> for ExecError {
    fn from(e: sqlx::Error) -> Self {
        ExecError::Sql(e)
    }
}

#[async_trait]
impl FlushWriter for JdbcWriter {
    async fn write(&mut self, batch: &ChangeBatch) -> std::result::Result<(), WriteError> {
        let pool = self.pool.get_or_insert_with(|| self.config.pool(1)).clone();
        let (writes, deletes) = if self.key.is_empty() {
            ((0..batch.num_rows() as u32).collect(), Vec::new())
        } else {
            batch.split_retractions()
        };
        let outcome = match &pool {
            JdbcPool::MySql(p) => {
                flush(p, &mut self.statements, batch, &writes, &deletes, &self.key).await
            }
            JdbcPool::Postgres(p) => {
                flush(p, &mut self.statements, batch, &writes, &deletes, &self.key).await
            }
        };
        match outcome {
            Ok(()) => Ok(()),
            Err(ExecError::Bind { column, message }) if batch.num_rows() == 1 => {
                Err(WriteError::Rows(vec![
                    RowError::rejected(0, message).with_column(column),
                ]))
            }
            Err(ExecError::Bind { column, message }) => Err(WriteError::Rejected(format!(
                "column '{column}': {message}"
            ))),
            Err(ExecError::Sql(e)) => match pool::classify(&e) {
                ErrorClass::Data if batch.num_rows() == 1 => {
                    let mut row =
                        RowError::rejected(0, mysql_without_row_number(pool::describe(&e)));
                    let column = match pool::error_column(&e) {
                        Some(c) => Some(c),
                        None => {
                            diagnose::column_at_fault(&pool, &self.table_name, batch.rows(), 0)
                                .await
                        }
                    };
                    if let Some(c) = column {
                        row = row.with_column(c);
                    }
                    Err(WriteError::Rows(vec![row]))
                }
                _ => Err(pool::write_error(&e)),
            },
        }
    }

    /// Upsert tables are named by their key in errors.
    fn describe_row(&self, batch: &ChangeBatch, row: usize) -> String {
        let full = batch.describe_row(row, 300);
        if self.key.is_empty() {
            full
        } else {
            format!("{full} (key {})", batch.describe_columns(row, &self.key))
        }
    }

    async fn close(&mut self) -> std::result::Result<(), WriteError> {
        match self.pool.take() {
            Some(JdbcPool::MySql(p)) => p.close().await,
            Some(JdbcPool::Postgres(p)) => p.close().await,
            None => {}
        }
        Ok(())
    }
}

/// MySQL says `... at row 3`, counting rows of the statement; the error
/// names the row by its values instead.
fn mysql_without_row_number(msg: String) -> String {
    if let Some(at) = msg.find(" at row ") {
        let tail = &msg[at + 8..];
        let digits = tail.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            return format!("{}{}", &msg[..at], &tail[digits..]);
        }
    }
    msg
}

/// One flush as one transaction: upserts/inserts, then deletes (an upsert
/// flush touches each key once, so the order between them does not matter).
async fn flush<DB>(
    pool: &Pool<DB>,
    statements: &mut Statements,
    batch: &ChangeBatch,
    writes: &[u32],
    deletes: &[u32],
    key: &[usize],
) -> std::result::Result<(), ExecError>
where
    DB: Database,
    DB::Arguments: BindArgs + IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let rows = batch.rows();
    let schema = rows.schema();
    let columns: Vec<BoundColumn<'_>> = rows
        .columns()
        .iter()
        .map(BoundColumn::new)
        .collect::<Option<_>>()
        .ok_or_else(|| ExecError::Bind {
            column: String::new(),
            message: "a column type the JDBC sink cannot bind".into(),
        })?;
    let avg_row_bytes = batch.approx_bytes() / batch.num_rows().max(1) + 1;
    let by_size = (MAX_STATEMENT_BYTES / avg_row_bytes).max(1);

    let mut tx = pool.begin().await?;
    for chunk in writes.chunks(statements.max_insert_rows().min(by_size)) {
        let sql = statements.insert(chunk.len());
        let mut args = DB::Arguments::default();
        args.reserve(chunk.len() * columns.len(), 0);
        for &r in chunk {
            for (c, column) in columns.iter().enumerate() {
                column
                    .bind(&mut args, r as usize)
                    .map_err(|e| ExecError::Bind {
                        column: schema.field(c).name().clone(),
                        message: e.to_string(),
                    })?;
            }
        }
        sqlx::query_with(AssertSqlSafe(sql), args)
            .execute(&mut *tx)
            .await?;
    }
    for chunk in deletes.chunks(statements.max_delete_rows()) {
        let sql = statements.delete(chunk.len());
        let mut args = DB::Arguments::default();
        for &r in chunk {
            for &k in key {
                columns[k]
                    .bind(&mut args, r as usize)
                    .map_err(|e| ExecError::Bind {
                        column: schema.field(k).name().clone(),
                        message: e.to_string(),
                    })?;
            }
        }
        sqlx::query_with(AssertSqlSafe(sql), args)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_mysql_statement_row_numbers() {
        assert_eq!(
            mysql_without_row_number(
                "Data too long for column 'name' at row 37 (error 1406, SQLSTATE 22001)".into()
            ),
            "Data too long for column 'name' (error 1406, SQLSTATE 22001)"
        );
        assert_eq!(mysql_without_row_number("x at row y".into()), "x at row y");
    }
}
