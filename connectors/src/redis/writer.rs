//! One Redis sink instance: each flush is one pipeline of the rows'
//! commands, sent on a multiplexed connection; every reply is checked, so a
//! command the server refuses is reported for its row.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Value};

use super::mapping::{Mapping, Rendered};
use crate::sink::buffered::{ChangeBatch, FlushWriter, RowError, WriteError};

/// Server error codes that mean "try again later", not "bad data".
const RETRYABLE_CODES: &[&str] = &[
    "LOADING",
    "BUSY",
    "TRYAGAIN",
    "MASTERDOWN",
    "CLUSTERDOWN",
    "NOREPLICAS",
    "READONLY",
];

pub(super) struct RedisWriter {
    pub(super) client: Client,
    pub(super) connect_timeout: Duration,
    pub(super) conn: Option<MultiplexedConnection>,
    pub(super) mapping: Arc<Mapping>,
}

impl RedisWriter {
    async fn connection(&mut self) -> Result<&mut MultiplexedConnection, WriteError> {
        if self.conn.is_none() {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(self.connect_timeout))
                .set_response_timeout(Some(Duration::from_secs(60)));
            let conn = self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map_err(|e| WriteError::Retryable(format!("connecting: {e}")))?;
            self.conn = Some(conn);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| WriteError::Retryable("no connection".into()))
    }
}

#[async_trait]
impl FlushWriter for RedisWriter {
    async fn write(&mut self, batch: &ChangeBatch) -> Result<(), WriteError> {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        // The row each command belongs to.
        let mut owner: Vec<usize> = Vec::with_capacity(batch.num_rows() * 2);
        let mut errors: Vec<RowError> = Vec::new();
        {
            // Formatters are not `Send`: build the whole pipeline first.
            let rendered = Rendered::new(batch);
            for row in 0..batch.num_rows() {
                match self.mapping.push(&rendered, batch, row, &mut pipe) {
                    Ok(n) => owner.extend(std::iter::repeat_n(row, n)),
                    Err(e) => errors.push(e),
                }
            }
        }
        if !pipe.is_empty() {
            let conn = self.connection().await?;
            let replies: Vec<Value> = match pipe.query_async(conn).await {
                Ok(r) => r,
                Err(e) => {
                    // The connection may be half-broken: start afresh.
                    self.conn = None;
                    return Err(WriteError::Retryable(e.to_string()));
                }
            };
            let mut last_failed = None;
            for (i, reply) in replies.iter().enumerate() {
                let Value::ServerError(err) = reply else {
                    continue;
                };
                let row = owner.get(i).copied().unwrap_or(0);
                // One error per row (its EXPIRE may fail too).
                if last_failed == Some(row) {
                    continue;
                }
                last_failed = Some(row);
                let message = err.to_string();
                errors.push(if RETRYABLE_CODES.contains(&err.code()) {
                    RowError::retryable(row, message)
                } else {
                    RowError::rejected(row, message)
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            errors.sort_by_key(|e| e.row);
            Err(WriteError::Rows(errors))
        }
    }
}
