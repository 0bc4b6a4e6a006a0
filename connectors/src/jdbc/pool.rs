//! Connections: one sqlx pool per table and job side (shared by its
//! parallel instances), and what a database error means for the buffering
//! layer (retry, locate the row, or give up).

use std::time::Duration;

use sqlx::mysql::{
    MySqlConnectOptions, MySqlDatabaseError, MySqlPool, MySqlPoolOptions, MySqlSslMode,
};
use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgPool, PgPoolOptions, PgSslMode};

use super::dialect::Dialect;
use super::url::JdbcUrl;
use crate::sink::buffered::WriteError;

/// How to reach the database; never printed with the password.
#[derive(Clone)]
pub struct ConnectConfig {
    pub url: JdbcUrl,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `connection.max-retry-timeout`: how long to keep trying to get a
    /// connection before one attempt counts as failed.
    pub connect_timeout: Duration,
}

impl std::fmt::Debug for ConnectConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectConfig")
            .field("url", &self.url.display())
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "******"))
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// A pool of connections to one database.
#[derive(Debug, Clone)]
pub enum JdbcPool {
    MySql(MySqlPool),
    Postgres(PgPool),
}

impl ConnectConfig {
    /// A pool that connects on first use (so creating it needs no server),
    /// holding at most `max_connections`.
    pub fn pool(&self, max_connections: u32) -> JdbcPool {
        let url = &self.url;
        let user = self
            .username
            .clone()
            .or_else(|| url.properties.get("user").cloned());
        // An empty password means none (MySQL would otherwise try one).
        let password = self
            .password
            .clone()
            .or_else(|| url.properties.get("password").cloned())
            .filter(|p| !p.is_empty());
        match url.dialect {
            Dialect::MySql => {
                // No TLS backend is compiled in yet.
                let mut o = MySqlConnectOptions::new()
                    .host(&url.host)
                    .port(url.port)
                    .ssl_mode(MySqlSslMode::Disabled);
                if let Some(u) = &user {
                    o = o.username(u);
                }
                if let Some(p) = &password {
                    o = o.password(p);
                }
                if let Some(db) = &url.database {
                    o = o.database(db);
                }
                JdbcPool::MySql(
                    MySqlPoolOptions::new()
                        .max_connections(max_connections)
                        .min_connections(0)
                        .acquire_timeout(self.connect_timeout)
                        .connect_lazy_with(o),
                )
            }
            Dialect::Postgres => {
                let mut o = PgConnectOptions::new_without_pgpass()
                    .host(&url.host)
                    .port(url.port)
                    .ssl_mode(PgSslMode::Disable)
                    .application_name("sluice");
                if let Some(u) = &user {
                    o = o.username(u);
                }
                if let Some(p) = &password {
                    o = o.password(p);
                }
                if let Some(db) = &url.database {
                    o = o.database(db);
                }
                JdbcPool::Postgres(
                    PgPoolOptions::new()
                        .max_connections(max_connections)
                        .min_connections(0)
                        .acquire_timeout(self.connect_timeout)
                        .connect_lazy_with(o),
                )
            }
        }
    }
}

/// What a failure means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The data was refused (too long, wrong type, constraint).
    Data,
    /// Retrying the same statement cannot work (no table, no permission).
    Fatal,
    /// Anything else: connection lost, timeout, deadlock, shutdown.
    Transient,
}

/// MySQL/MariaDB error numbers that mean "this row's data was refused",
/// whatever SQLSTATE the server attaches.
const MYSQL_DATA_ERRORS: &[u16] = &[
    1048, // column cannot be null
    1062, // duplicate entry
    1263, // NULL supplied to NOT NULL column
    1264, // out of range value
    1265, // data truncated
    1292, // incorrect value
    1364, // field doesn't have a default value
    1366, // incorrect string/integer value
    1406, // data too long
    1411, // incorrect value for function
    1451, // foreign key: row is referenced
    1452, // foreign key: no parent row
    1690, // value out of range
    3819, // check constraint violated (MySQL)
    4025, // CONSTRAINT failed (MariaDB)
];

/// MySQL/MariaDB error numbers that retrying cannot fix.
const MYSQL_FATAL_ERRORS: &[u16] = &[
    1044, 1045, // access denied
    1049, // unknown database
    1054, // unknown column
    1064, // syntax error
    1142, 1143, // command/column denied
    1146, // table doesn't exist
];

/// Classifies a sqlx error.
pub fn classify(e: &sqlx::Error) -> ErrorClass {
    match e {
        sqlx::Error::Database(db) => {
            if let Some(my) = db.try_downcast_ref::<MySqlDatabaseError>() {
                if MYSQL_DATA_ERRORS.contains(&my.number()) {
                    return ErrorClass::Data;
                }
                if MYSQL_FATAL_ERRORS.contains(&my.number()) {
                    return ErrorClass::Fatal;
                }
            }
            let code = db.code().map(|c| c.to_string()).unwrap_or_default();
            match code.get(..2) {
                // data exception, integrity constraint violation
                Some("22") | Some("23") => ErrorClass::Data,
                // syntax/access rule, authorization, unknown catalog/schema
                Some("42") | Some("28") | Some("3D") | Some("3F") => ErrorClass::Fatal,
                _ => ErrorClass::Transient,
            }
        }
        sqlx::Error::Encode(_) => ErrorClass::Data,
        sqlx::Error::Configuration(_)
        | sqlx::Error::InvalidArgument(_)
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. } => ErrorClass::Fatal,
        _ => ErrorClass::Transient,
    }
}

/// The server's message with its code and details, e.g.
/// `value too long for type character varying(5) (SQLSTATE 22001)`.
pub fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
                let mut s = format!("{} (SQLSTATE {})", pg.message(), pg.code());
                if let Some(d) = pg.detail() {
                    s.push_str(": ");
                    s.push_str(d);
                }
                return s;
            }
            if let Some(my) = db.try_downcast_ref::<MySqlDatabaseError>() {
                return format!(
                    "{} (error {}, SQLSTATE {})",
                    my.message(),
                    my.number(),
                    my.code().unwrap_or("HY000")
                );
            }
            db.message().to_string()
        }
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection \
             (connection.max-retry-timeout); is the database reachable?"
            .to_string(),
        other => other.to_string(),
    }
}

/// The column a PostgreSQL error names, if any.
pub fn error_column(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<PgDatabaseError>()
            .and_then(|pg| pg.column())
            .map(str::to_string),
        _ => None,
    }
}

/// A sqlx error as the buffering layer's verdict on a whole batch.
pub fn write_error(e: &sqlx::Error) -> WriteError {
    let msg = describe(e);
    match classify(e) {
        ErrorClass::Data => WriteError::Rejected(msg),
        ErrorClass::Fatal => WriteError::Fatal(msg),
        ErrorClass::Transient => WriteError::Retryable(msg),
    }
}
