//! The `_bulk` API: one flush becomes one NDJSON body of actions (with a
//! primary key, `update` with `doc_as_upsert` for `+I`/`+U` — Flink's
//! upsert — and `delete` for `-D`/`-U`; without one, `index` with a
//! server-generated id), and the response's per-item results become
//! per-row outcomes, so a few refused documents never fail or repeat the
//! rest of the request.

use std::ops::Range;

use datafusion::arrow::array::RecordBatch;
use serde_json::Value;
use sluice_engine::display::{DisplayStyle, ValueFormatter};

use super::index::IndexGenerator;
use crate::formats::RecordEncoder;
use crate::sink::buffered::{ChangeBatch, WriteError};

/// How rows become actions; fixed for a table.
#[derive(Debug, Clone)]
pub struct Settings {
    pub index: IndexGenerator,
    /// `document-type` (Elasticsearch 6 only).
    pub document_type: Option<String>,
    /// Primary key columns; empty for append-only tables.
    pub key: Vec<usize>,
    /// `document-id.key-delimiter`.
    pub delimiter: String,
}

/// The action an item performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Index,
    Update,
    Delete,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Index => "index",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

/// One action of a bulk request.
#[derive(Debug, Clone)]
pub struct Item {
    /// The row of the flushed batch it came from.
    pub row: usize,
    /// Its lines (action and source) in [`Bulk::body`].
    pub range: Range<usize>,
}

/// A bulk request body and its items, in order.
#[derive(Debug)]
pub struct Bulk {
    pub body: Vec<u8>,
    pub items: Vec<Item>,
}

impl Bulk {
    /// The body of only the items at `picked` (indices into `items`).
    pub fn subset(&self, picked: &[usize]) -> Vec<u8> {
        let mut out = Vec::with_capacity(picked.iter().map(|i| self.items[*i].range.len()).sum());
        for i in picked {
            out.extend_from_slice(&self.body[self.items[*i].range.clone()]);
        }
        out
    }
}

/// Builds the bulk body for `batch`. Documents are encoded in one pass by
/// the json format's vectorized encoder; each action line is written
/// directly, so no row becomes a `serde_json::Value`.
pub fn build(
    settings: &Settings,
    encoder: &mut dyn RecordEncoder,
    batch: &ChangeBatch,
) -> Result<Bulk, WriteError> {
    let rows = batch.rows();
    let n = batch.num_rows();
    let upsert = !settings.key.is_empty();
    let mut docs = Vec::new();
    encoder
        .encode(rows, &mut docs)
        .map_err(|e| WriteError::Fatal(format!("encoding documents as JSON: {e}")))?;
    let mut doc_ranges = Vec::with_capacity(n);
    let mut start = 0;
    for (i, b) in docs.iter().enumerate() {
        if *b == b'\n' {
            doc_ranges.push(start..i);
            start = i + 1;
        }
    }
    if doc_ranges.len() != n {
        return Err(WriteError::Fatal(format!(
            "the json encoder wrote {} documents for {n} rows",
            doc_ranges.len()
        )));
    }
    let index = settings.index.for_batch(rows);
    let ids = DocIds::new(settings, rows);
    let mut body = Vec::with_capacity(docs.len() + n * 64);
    let mut items = Vec::with_capacity(n);
    let mut name = String::new();
    let mut id = String::new();
    for (row, doc) in doc_ranges.into_iter().enumerate() {
        let op = match (upsert, batch.is_retraction(row)) {
            (true, false) => Op::Update,
            (true, true) => Op::Delete,
            (false, false) => Op::Index,
            (false, true) => {
                return Err(WriteError::Fatal(format!(
                    "row {} deletes, but a table without a primary key is append-only",
                    batch.describe_row(row, 200)
                )));
            }
        };
        name.clear();
        index
            .write(row, &mut name)
            .map_err(|e| WriteError::Fatal(format!("naming the index: {e}")))?;
        let begin = body.len();
        body.extend_from_slice(b"{\"");
        body.extend_from_slice(op.name().as_bytes());
        body.extend_from_slice(b"\":{\"_index\":");
        json_string(&mut body, &name);
        if let Some(t) = &settings.document_type {
            body.extend_from_slice(b",\"_type\":");
            json_string(&mut body, t);
        }
        if upsert {
            id.clear();
            ids.write(row, &mut id);
            body.extend_from_slice(b",\"_id\":");
            json_string(&mut body, &id);
        }
        body.extend_from_slice(b"}}\n");
        match op {
            Op::Update => {
                body.extend_from_slice(b"{\"doc\":");
                body.extend_from_slice(&docs[doc]);
                body.extend_from_slice(b",\"doc_as_upsert\":true}\n");
            }
            Op::Index => {
                body.extend_from_slice(&docs[doc]);
                body.push(b'\n');
            }
            Op::Delete => {}
        }
        items.push(Item {
            row,
            range: begin..body.len(),
        });
    }
    Ok(Bulk { body, items })
}

/// Document ids: the primary key columns as text, joined by the delimiter.
pub struct DocIds<'a> {
    columns: Vec<ValueFormatter<'a>>,
    delimiter: &'a str,
}

impl<'a> DocIds<'a> {
    pub fn new(settings: &'a Settings, rows: &'a RecordBatch) -> Self {
        Self {
            columns: settings
                .key
                .iter()
                .map(|c| ValueFormatter::new(rows.column(*c).as_ref(), DisplayStyle::Print))
                .collect(),
            delimiter: &settings.delimiter,
        }
    }

    /// Appends row `row`'s id (as Flink's `KeyExtractor` renders it).
    pub fn write(&self, row: usize, out: &mut String) {
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push_str(self.delimiter);
            }
            c.write(out, row);
        }
    }
}

/// Appends `s` as a JSON string.
fn json_string(out: &mut Vec<u8>, s: &str) {
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// What happened to one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Refused for now (429 `es_rejected_execution_exception`, or the shard
    /// was unavailable): send it again.
    Retry(String),
    /// Refused for its content (mapping, parse, conflict): the message names
    /// the document and the server's reason.
    Reject(String),
}

/// Reads a `_bulk` response for `sent` items, in order.
pub fn parse_response(body: &[u8], sent: usize) -> Result<Vec<Outcome>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "unreadable _bulk response ({e}): {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        )
    })?;
    let items = v
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| "the _bulk response has no 'items'".to_string())?;
    if items.len() != sent {
        return Err(format!(
            "the _bulk response has {} items for {sent} actions",
            items.len()
        ));
    }
    if v.get("errors") == Some(&Value::Bool(false)) {
        return Ok(vec![Outcome::Done; sent]);
    }
    Ok(items.iter().map(item_outcome).collect())
}

fn item_outcome(item: &Value) -> Outcome {
    // `{"update": {...}}`: one key, the action.
    let Some((action, result)) = item.as_object().and_then(|o| o.iter().next()) else {
        return Outcome::Reject(format!("malformed _bulk item: {item}"));
    };
    let Some(error) = result.get("error") else {
        return Outcome::Done;
    };
    let status = result.get("status").and_then(Value::as_u64).unwrap_or(0);
    let kind = error_type(error);
    let mut reason = describe_error(error);
    let id = result.get("_id").and_then(Value::as_str);
    let index = result.get("_index").and_then(Value::as_str).unwrap_or("?");
    let document = match id {
        Some(id) => format!("document _id '{id}' in index '{index}'"),
        None => format!("a document in index '{index}'"),
    };
    reason = format!("{action} of {document} failed with status {status}: {reason}");
    if status == 429 || kind == "es_rejected_execution_exception" || matches!(status, 502..=504) {
        Outcome::Retry(reason)
    } else {
        Outcome::Reject(reason)
    }
}

fn error_type(error: &Value) -> &str {
    error.get("type").and_then(Value::as_str).unwrap_or("")
}

/// `type: reason (caused by type: reason)`, or the raw text.
pub fn describe_error(error: &Value) -> String {
    match error {
        Value::String(s) => s.clone(),
        Value::Object(_) => {
            let mut out = format!(
                "{}: {}",
                error_type(error),
                error.get("reason").and_then(Value::as_str).unwrap_or("")
            );
            if let Some(cause) = error.get("caused_by") {
                out.push_str(&format!(
                    " (caused by {}: {})",
                    error_type(cause),
                    cause.get("reason").and_then(Value::as_str).unwrap_or("")
                ));
            }
            out
        }
        other => other.to_string(),
    }
}

/// The server's explanation in a whole-request error body, if it has one.
pub fn request_error(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => match v.get("error") {
            Some(e) => describe_error(e),
            None => v.to_string(),
        },
        Err(_) => String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
    }
}
