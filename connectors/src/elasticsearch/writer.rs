//! One Elasticsearch sink instance: each flush is one `_bulk` request whose
//! per-item results are handled item by item. Items refused with 429
//! (`es_rejected_execution_exception`) are retried alone — by the buffering
//! layer with the `sink.bulk-flush.backoff.*` policy, or, with
//! `'failure-handler' = 'retry-rejected'`, here until Elasticsearch takes
//! them. Items refused for their content name the document and the
//! server's reason.

use std::sync::Arc;

use async_trait::async_trait;

use super::bulk::{self, Bulk, DocIds, Outcome, Settings};
use super::http::{HttpClient, Response};
use crate::formats::RecordEncoder;
use crate::sink::buffered::{ChangeBatch, FlushWriter, RetryPolicy, RowError, WriteError};

const NDJSON: &str = "application/x-ndjson";

pub(super) struct EsWriter {
    pub(super) client: HttpClient,
    pub(super) settings: Arc<Settings>,
    pub(super) encoder: Box<dyn RecordEncoder>,
    /// `failure-handler = retry-rejected`: how long to wait between resends
    /// of rejected items (resent until taken).
    pub(super) retry_rejected: Option<RetryPolicy>,
}

/// How a whole-request failure (not a per-item one) is treated.
fn request_failure(response: &Response) -> WriteError {
    let reason = bulk::request_error(&response.body);
    let status = response.status;
    let msg = format!("_bulk request failed with HTTP {status}: {reason}");
    match status {
        // Too large: the layer splits the batch until it fits.
        413 => WriteError::Rejected(msg),
        408 | 429 | 500..=599 => WriteError::Retryable(msg),
        401 | 403 => WriteError::Fatal(format!(
            "{msg} (check 'username' and 'password' and the user's privileges)"
        )),
        _ => WriteError::Fatal(msg),
    }
}

impl EsWriter {
    async fn send(&mut self, body: &[u8]) -> Result<Response, WriteError> {
        self.client
            .post("/_bulk", NDJSON, body)
            .await
            .map_err(|e| WriteError::Retryable(e.to_string()))
    }
}

#[async_trait]
impl FlushWriter for EsWriter {
    async fn write(&mut self, batch: &ChangeBatch) -> Result<(), WriteError> {
        let bulk: Bulk = bulk::build(&self.settings, self.encoder.as_mut(), batch)?;
        let mut pending: Vec<usize> = (0..bulk.items.len()).collect();
        let mut errors: Vec<RowError> = Vec::new();
        let mut resend = 0u32;
        loop {
            let first = pending.len() == bulk.items.len();
            let outcome = if first {
                self.send(&bulk.body).await
            } else {
                let body = bulk.subset(&pending);
                self.send(&body).await
            };
            let response = match outcome {
                Ok(r) if r.status == 200 => r,
                Ok(r) if first => return Err(request_failure(&r)),
                Err(e) if first => return Err(e),
                // Some items are already written: hand only the pending
                // ones back to the layer.
                Ok(r) => {
                    return Err(rows_error(&bulk, &pending, errors, &request_failure(&r)));
                }
                Err(e) => return Err(rows_error(&bulk, &pending, errors, &e)),
            };
            let outcomes =
                bulk::parse_response(&response.body, pending.len()).map_err(WriteError::Fatal)?;
            let mut again = Vec::new();
            let mut again_msg = String::new();
            for (item, outcome) in pending.iter().zip(outcomes) {
                let row = bulk.items[*item].row;
                match outcome {
                    Outcome::Done => {}
                    Outcome::Reject(msg) => errors.push(RowError::rejected(row, msg)),
                    Outcome::Retry(msg) => {
                        if again.is_empty() {
                            again_msg = msg.clone();
                        }
                        match &self.retry_rejected {
                            Some(_) => again.push(*item),
                            None => errors.push(RowError::retryable(row, msg)),
                        }
                    }
                }
            }
            let Some(policy) = &self.retry_rejected else {
                break;
            };
            if again.is_empty() {
                break;
            }
            let wait = policy.backoff(resend);
            log::warn!(
                "elasticsearch: {} rejected item(s) sent again in {wait:?} ('failure-handler' = 'retry-rejected'): {again_msg}",
                again.len()
            );
            tokio::time::sleep(wait).await;
            resend = resend.saturating_add(1);
            pending = again;
        }
        if errors.is_empty() {
            Ok(())
        } else {
            errors.sort_by_key(|e| e.row);
            Err(WriteError::Rows(errors))
        }
    }

    /// A row is named with its document id and index.
    fn describe_row(&self, batch: &ChangeBatch, row: usize) -> String {
        let mut index = String::new();
        let _ = self
            .settings
            .index
            .for_batch(batch.rows())
            .write(row, &mut index);
        let full = batch.describe_row(row, 300);
        if self.settings.key.is_empty() {
            format!("{full} (index '{index}')")
        } else {
            let mut id = String::new();
            DocIds::new(&self.settings, batch.rows()).write(row, &mut id);
            format!("{full} (document _id '{id}', index '{index}')")
        }
    }
}

/// After a partial success, the items still pending fail with `cause`:
/// retried alone when it is transient; otherwise the job fails.
fn rows_error(
    bulk: &Bulk,
    pending: &[usize],
    mut errors: Vec<RowError>,
    cause: &WriteError,
) -> WriteError {
    if !matches!(cause, WriteError::Retryable(_)) {
        return WriteError::Fatal(cause.to_string());
    }
    let msg = cause.to_string();
    for item in pending {
        errors.push(RowError::retryable(bulk.items[*item].row, msg.clone()));
    }
    errors.sort_by_key(|e| e.row);
    WriteError::Rows(errors)
}
