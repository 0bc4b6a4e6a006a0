//! A session: the catalog, `SET` options and jobs of one user, and the entry
//! point that runs statements.

mod functions;
mod jobs;
mod result;
mod show;
mod udf;

pub use result::{QueryResult, StatementResult};

use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use datafusion::execution::session_state::SessionState;

use crate::catalog::{Catalog, CatalogView, resolve_name};
use crate::config::SessionConfig;
use crate::connector::ConnectorRegistry;
use crate::error::{Result, SluiceError};
use crate::planner::{self, create_table::create_table};
use crate::runtime::JobRegistry;
use crate::sql::{FlinkStatement, parse_sql};

/// Flink's answer to a successful DDL or SET.
pub const OK_MESSAGE: &str = "[INFO] Execute statement succeeded.";

/// One user's session. Every method takes `&self`; clones share the session.
#[derive(Debug, Clone)]
pub struct Session {
    inner: Arc<SessionInner>,
}

#[derive(Debug)]
struct SessionInner {
    registry: ConnectorRegistry,
    /// Functions change when UDFs are registered.
    state: RwLock<SessionState>,
    catalog: Mutex<Catalog>,
    config: Mutex<SessionConfig>,
    functions: Mutex<functions::UserFunctions>,
    jobs: JobRegistry,
}

impl Session {
    /// A session whose connectors come from `registry`.
    pub fn new(registry: ConnectorRegistry) -> Self {
        // Flink's built-in functions and syntax forms over DataFusion's.
        let state = sluice_udf::with_flink_builtins(planner::new_session_state());
        Session {
            inner: Arc::new(SessionInner {
                registry,
                state: RwLock::new(state),
                catalog: Mutex::new(Catalog::default()),
                config: Mutex::new(SessionConfig::default()),
                functions: Mutex::default(),
                jobs: JobRegistry::default(),
            }),
        }
    }

    fn catalog(&self) -> MutexGuard<'_, Catalog> {
        self.inner.catalog.lock().expect("catalog lock poisoned")
    }

    fn config(&self) -> SessionConfig {
        self.inner
            .config
            .lock()
            .expect("config lock poisoned")
            .clone()
    }

    /// The session's jobs.
    pub fn jobs(&self) -> &JobRegistry {
        &self.inner.jobs
    }

    /// Splits and parses `sql` (one or more `;`-separated statements).
    pub fn parse(&self, sql: &str) -> Result<Vec<FlinkStatement>> {
        parse_sql(sql)
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

    /// Runs one parsed statement.
    pub async fn execute(&self, stmt: FlinkStatement) -> Result<StatementResult> {
        match stmt {
            FlinkStatement::CreateTable(ct) => {
                let name = resolve_name(&ct.name)?;
                let mut catalog = self.catalog();
                if catalog.exists(&name) {
                    if ct.if_not_exists {
                        return Ok(ok());
                    }
                    return Err(SluiceError::Catalog(format!(
                        "Could not execute CreateTable in path \
                         `default_catalog`.`default_database`.`{name}`: a table or view named \
                         '{name}' already exists"
                    )));
                }
                let table = create_table(&ct, &catalog, &self.inner.registry, &self.state())?;
                catalog.add_table(table);
                Ok(ok())
            }
            FlinkStatement::CreateView(cv) => {
                let name = resolve_name(&cv.name)?;
                let mut catalog = self.catalog();
                if catalog.exists(&name) {
                    if cv.if_not_exists {
                        return Ok(ok());
                    }
                    return Err(SluiceError::Catalog(format!(
                        "Could not execute CreateView in path \
                         `default_catalog`.`default_database`.`{name}`: a table or view named \
                         '{name}' already exists"
                    )));
                }
                let query_sql = cv.query.to_string();
                let plan = planner::plan_query(
                    *cv.query,
                    &cv.hints,
                    &catalog,
                    &self.inner.registry,
                    &self.state(),
                )?;
                let plan = planner::rename_columns(plan, &cv.columns)?;
                catalog.add_view(CatalogView {
                    name,
                    query_sql,
                    plan,
                    temporary: cv.temporary,
                });
                Ok(ok())
            }
            FlinkStatement::CreateFunction(f) => self.create_function(*f),
            FlinkStatement::DropFunction { name, if_exists } => {
                self.drop_function(&name, if_exists)
            }
            FlinkStatement::DescribeFunction { name, extended } => {
                self.describe_function(&name, extended)
            }
            FlinkStatement::DropTable { name, if_exists } => {
                let name = resolve_name(&name)?;
                let mut catalog = self.catalog();
                if catalog.drop_table(&name) || if_exists {
                    Ok(ok())
                } else if catalog.view(&name).is_some() {
                    Err(SluiceError::Catalog(format!(
                        "'{name}' is a view; use DROP VIEW {name}"
                    )))
                } else {
                    Err(SluiceError::Catalog(format!(
                        "Table with identifier 'default_catalog.default_database.{name}' does not exist."
                    )))
                }
            }
            FlinkStatement::DropView { name, if_exists } => {
                let name = resolve_name(&name)?;
                let mut catalog = self.catalog();
                if catalog.drop_view(&name) || if_exists {
                    Ok(ok())
                } else if catalog.table(&name).is_some() {
                    Err(SluiceError::Catalog(format!(
                        "'{name}' is a table; use DROP TABLE {name}"
                    )))
                } else {
                    Err(SluiceError::Catalog(format!(
                        "View with identifier 'default_catalog.default_database.{name}' does not exist."
                    )))
                }
            }
            FlinkStatement::Set { key, value } => match (key, value) {
                (Some(k), Some(v)) => {
                    self.inner
                        .config
                        .lock()
                        .expect("config lock poisoned")
                        .set(&k, &v)?;
                    if k == crate::config::LOCAL_TIME_ZONE {
                        self.set_time_zone(Some(v.trim()));
                    }
                    Ok(ok())
                }
                _ => Ok(show::key_values(self.config().entries())),
            },
            FlinkStatement::Reset(key) => {
                self.inner
                    .config
                    .lock()
                    .expect("config lock poisoned")
                    .reset(key.as_deref());
                if key
                    .as_deref()
                    .is_none_or(|k| k == crate::config::LOCAL_TIME_ZONE)
                {
                    self.set_time_zone(None);
                }
                Ok(ok())
            }
            FlinkStatement::Show(kind) => self.show(kind),
            FlinkStatement::Describe(name) => self.describe(&resolve_name(&name)?),
            FlinkStatement::DescribeJob(id) => self.describe_job(&id),
            FlinkStatement::Explain(inner) => self.explain(*inner),
            FlinkStatement::Query { query, hints } => self.run_query(*query, &hints),
            FlinkStatement::Insert { .. } | FlinkStatement::StatementSet(_) => {
                self.run_inserts(stmt_inserts(stmt))
            }
            FlinkStatement::StopJob { id, with_savepoint } => {
                if with_savepoint {
                    return Err(SluiceError::not_supported(
                        "STOP JOB .. WITH SAVEPOINT (checkpoints and savepoints)",
                    ));
                }
                let Some(job) = self.inner.jobs.get(&id) else {
                    return Err(SluiceError::plan(format!(
                        "Could not find a job with id '{id}'"
                    )));
                };
                job.cancel();
                job.wait().await.ok();
                Ok(ok())
            }
        }
    }

    /// The value of a `SET` option (or its default when Sluice knows it).
    pub fn config_value(&self, key: &str) -> Option<String> {
        self.config().get(key)
    }

    /// Table and view names, for completion.
    pub fn table_names(&self) -> Vec<String> {
        let c = self.catalog();
        let mut v = c.table_names();
        v.extend(c.view_names());
        v
    }

    /// Column names of a table or view, for completion.
    pub fn column_names(&self, table: &str) -> Vec<String> {
        let c = self.catalog();
        if let Some(t) = c.table(table) {
            return t.columns.iter().map(|c| c.name.clone()).collect();
        }
        if let Some(v) = c.view(table) {
            return v
                .plan
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
        }
        Vec::new()
    }

    /// Function names, for completion and SHOW FUNCTIONS.
    pub fn function_names(&self) -> Vec<String> {
        let s = self.state();
        let mut v: Vec<String> = s
            .scalar_functions()
            .keys()
            .chain(s.aggregate_functions().keys())
            .chain(s.window_functions().keys())
            .chain(s.table_functions().keys())
            .cloned()
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

fn ok() -> StatementResult {
    StatementResult::Message(OK_MESSAGE.to_string())
}

/// The INSERTs of an INSERT or a statement set.
fn stmt_inserts(s: FlinkStatement) -> Vec<FlinkStatement> {
    match s {
        FlinkStatement::StatementSet(v) => v,
        other => vec![other],
    }
}
