//! One HBase sink instance. In `put` mode a flush is `putMultiple` for the
//! upserted rows and `deleteMultiple` for the deleted ones (split into
//! calls of about 1 MiB, pipelined on one connection); both are idempotent,
//! so a failed flush is simply written again. In `increment` mode the
//! flush's changes are summed per row key (a retraction subtracts) and sent
//! as one pipelined `increment` call per key.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};

use super::bytes::CellEncoder;
use super::client::{Calls, Exchange, ThriftClient};
use super::schema::HBaseSchema;
use super::service::{self, DELETE_MULTIPLE, INCREMENT, PUT_MULTIPLE};
use super::thrift::Reply;
use crate::sink::buffered::{ChangeBatch, FlushWriter, RowError, WriteError};

/// Start a new call once the open one holds this many bytes (HBase's
/// framed transport refuses frames over 2 MiB by default).
const MAX_CALL_BYTES: usize = 1 << 20;
/// HBase's longest row key (`Short.MAX_VALUE`).
const MAX_ROW_KEY: usize = 32767;

/// `sink.write-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Put,
    Increment,
}

pub(super) struct HBaseWriter {
    pub(super) client: ThriftClient,
    pub(super) table: Vec<u8>,
    pub(super) schema: Arc<HBaseSchema>,
    pub(super) mode: WriteMode,
    pub(super) null_literal: Vec<u8>,
    pub(super) ignore_null: bool,
}

/// The encoders of one batch: the row key and every qualifier.
struct Encoders<'a> {
    key: CellEncoder<'a>,
    key_name: String,
    /// `(family, qualifier, encoder)` in schema order.
    cells: Vec<(&'a [u8], &'a [u8], CellEncoder<'a>)>,
}

impl<'a> Encoders<'a> {
    fn new(schema: &'a HBaseSchema, rows: &'a RecordBatch) -> Result<Self, WriteError> {
        let unsupported = || WriteError::Fatal("a column type the HBase sink cannot encode".into());
        let key =
            CellEncoder::new(rows.column(schema.row_key).as_ref(), None).ok_or_else(unsupported)?;
        let mut cells = Vec::with_capacity(schema.cells());
        for family in &schema.families {
            let column = rows.column(family.column);
            let parent: &dyn Array = column.as_ref();
            let strukt = column.as_struct();
            for q in &family.qualifiers {
                let encoder = CellEncoder::new(strukt.column(q.field).as_ref(), Some(parent))
                    .ok_or_else(unsupported)?;
                cells.push((family.name.as_slice(), q.name.as_slice(), encoder));
            }
        }
        Ok(Self {
            key,
            key_name: rows.schema().field(schema.row_key).name().clone(),
            cells,
        })
    }

    /// Writes row `row`'s key into `out`, or says why the row has none.
    fn row_key(&self, row: usize, out: &mut Vec<u8>) -> Result<(), RowError> {
        out.clear();
        let reject = |m: &str| RowError::rejected(row, m).with_column(self.key_name.clone());
        if self.key.is_null(row) {
            return Err(reject("the row key is NULL"));
        }
        self.key.write(row, out);
        if out.is_empty() {
            return Err(reject(
                "the row key is empty; HBase refuses zero-length row keys",
            ));
        }
        if out.len() > MAX_ROW_KEY {
            return Err(reject(&format!(
                "the row key is {} bytes; HBase allows at most {MAX_ROW_KEY}",
                out.len()
            )));
        }
        Ok(())
    }
}

/// Calls of one method, cut at about [`MAX_CALL_BYTES`].
struct Chunker {
    method: &'static str,
    /// `(start of the call, where the list size goes, items so far)`.
    open: Option<(usize, usize, i32)>,
}

impl Chunker {
    fn new(method: &'static str) -> Self {
        Self { method, open: None }
    }

    /// Makes sure a call is open; returns its list-size position.
    fn ensure(&mut self, client: &mut ThriftClient, calls: &mut Calls, table: &[u8]) {
        if self.open.is_none() {
            let start = calls.w.buf.len();
            calls.begin(self.method, client.next_seqid());
            let at = service::multiple_args_begin(&mut calls.w, table);
            self.open = Some((start, at, 0));
        }
    }

    /// Counts an item written into the open call; ends the call when full.
    fn added(&mut self, calls: &mut Calls) {
        if let Some((start, _, n)) = &mut self.open {
            *n += 1;
            if calls.w.buf.len() - *start >= MAX_CALL_BYTES {
                self.finish(calls);
            }
        }
    }

    fn finish(&mut self, calls: &mut Calls) {
        if let Some((_, at, n)) = self.open.take() {
            calls.w.patch_i32(at, n);
            service::args_end(&mut calls.w);
            calls.end();
        }
    }
}

#[async_trait]
impl FlushWriter for HBaseWriter {
    async fn write(&mut self, batch: &ChangeBatch) -> Result<(), WriteError> {
        match self.mode {
            WriteMode::Put => self.write_mutations(batch).await,
            WriteMode::Increment => self.write_increments(batch).await,
        }
    }

    /// Rows are named by their row key too.
    fn describe_row(&self, batch: &ChangeBatch, row: usize) -> String {
        format!(
            "{} (row key {})",
            batch.describe_row(row, 300),
            batch.describe_columns(row, &[self.schema.row_key])
        )
    }
}

impl HBaseWriter {
    async fn write_mutations(&mut self, batch: &ChangeBatch) -> Result<(), WriteError> {
        let mut errors = Vec::new();
        let calls = self.mutation_calls(batch, &mut errors)?;
        if !calls.is_empty() {
            let exchange = self.client.exchange(&calls).await;
            check_replies(&exchange)?;
        }
        finish(errors)
    }

    /// Encodes the batch's puts and deletes.
    fn mutation_calls(
        &mut self,
        batch: &ChangeBatch,
        errors: &mut Vec<RowError>,
    ) -> Result<Calls, WriteError> {
        let rows = batch.rows();
        let enc = Encoders::new(&self.schema, rows)?;
        let (writes, deletes) = batch.split_retractions();
        let mut calls = self.client.calls();
        let mut key = Vec::new();
        let mut value = Vec::new();
        let mut puts = Chunker::new(PUT_MULTIPLE);
        for &r in &writes {
            let r = r as usize;
            if let Err(e) = enc.row_key(r, &mut key) {
                errors.push(e);
                continue;
            }
            puts.ensure(&mut self.client, &mut calls, &self.table);
            let before = calls.w.buf.len();
            let at = service::put_begin(&mut calls.w, &key);
            let mut n = 0;
            for (family, qualifier, cell) in &enc.cells {
                value.clear();
                if cell.is_null(r) {
                    if self.ignore_null {
                        continue;
                    }
                    if cell.is_string() {
                        value.extend_from_slice(&self.null_literal);
                    }
                } else {
                    cell.write(r, &mut value);
                }
                service::column_value(&mut calls.w, family, qualifier, &value);
                n += 1;
            }
            if n == 0 {
                // Every value NULL and skipped: nothing to put.
                calls.w.buf.truncate(before);
                continue;
            }
            calls.w.patch_i32(at, n);
            service::put_end(&mut calls.w);
            puts.added(&mut calls);
        }
        puts.finish(&mut calls);
        let mut dels = Chunker::new(DELETE_MULTIPLE);
        for &r in &deletes {
            let r = r as usize;
            if let Err(e) = enc.row_key(r, &mut key) {
                errors.push(e);
                continue;
            }
            dels.ensure(&mut self.client, &mut calls, &self.table);
            service::delete(
                &mut calls.w,
                &key,
                enc.cells.iter().map(|(f, q, _)| (*f, *q)),
            );
            dels.added(&mut calls);
        }
        dels.finish(&mut calls);
        Ok(calls)
    }

    async fn write_increments(&mut self, batch: &ChangeBatch) -> Result<(), WriteError> {
        let rows = batch.rows();
        let enc = Encoders::new(&self.schema, rows)?;
        let mut errors = Vec::new();
        // Per row key, in first-seen order: the rows and the summed amounts.
        let mut slots: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut sums: Vec<Counters> = Vec::new();
        let mut key = Vec::new();
        let mut amounts: Vec<Option<i64>> = Vec::with_capacity(enc.cells.len());
        'rows: for r in 0..batch.num_rows() {
            if let Err(e) = enc.row_key(r, &mut key) {
                errors.push(e);
                continue;
            }
            let negate = batch.is_retraction(r);
            let slot = *slots.entry(key.clone()).or_insert_with(|| {
                sums.push(Counters {
                    key: key.clone(),
                    rows: Vec::new(),
                    totals: vec![None; enc.cells.len()],
                });
                sums.len() - 1
            });
            amounts.clear();
            for (c, (_, q, cell)) in enc.cells.iter().enumerate() {
                let delta = if cell.is_null(r) {
                    None
                } else {
                    let v = cell.i64(r).unwrap_or(0);
                    let v = if negate { v.checked_neg() } else { Some(v) };
                    let total = v.and_then(|v| v.checked_add(sums[slot].totals[c].unwrap_or(0)));
                    let Some(total) = total else {
                        errors.push(
                            RowError::rejected(r, "the counter's increment overflows BIGINT")
                                .with_column(String::from_utf8_lossy(q).into_owned()),
                        );
                        continue 'rows;
                    };
                    Some(total)
                };
                amounts.push(delta);
            }
            let entry = &mut sums[slot];
            entry.rows.push(r);
            for (c, a) in amounts.iter().enumerate() {
                if a.is_some() {
                    entry.totals[c] = *a;
                }
            }
        }
        let mut calls = self.client.calls();
        let mut sent: Vec<usize> = Vec::new();
        for (i, Counters { key, totals, .. }) in sums.iter().enumerate() {
            let columns: Vec<(&[u8], &[u8], i64)> = enc
                .cells
                .iter()
                .zip(totals)
                .filter_map(|((f, q, _), t)| t.map(|t| (*f, *q, t)))
                .collect();
            if columns.is_empty() {
                continue;
            }
            calls.begin(INCREMENT, self.client.next_seqid());
            service::increment_args(&mut calls.w, &self.table, key, columns.into_iter());
            calls.end();
            sent.push(i);
        }
        if !calls.is_empty() {
            let exchange = self.client.exchange(&calls).await;
            for (n, &i) in sent.iter().enumerate() {
                let rows_of = &sums[i].rows;
                let outcome = match exchange.replies.get(n) {
                    Some(Reply::Ok) => continue,
                    Some(reply) => classify(reply),
                    // Unknown whether it was applied: sent again
                    // (at-least-once, see the docs).
                    None => WriteError::Retryable(
                        exchange
                            .failure
                            .clone()
                            .unwrap_or_else(|| "no reply".into()),
                    ),
                };
                match outcome {
                    WriteError::Fatal(m) => return Err(WriteError::Fatal(m)),
                    WriteError::Retryable(m) => {
                        errors.extend(rows_of.iter().map(|r| RowError::retryable(*r, m.clone())))
                    }
                    other => {
                        let m = other.to_string();
                        errors.extend(rows_of.iter().map(|r| RowError::rejected(*r, m.clone())))
                    }
                }
            }
        }
        finish(errors)
    }
}

/// The summed increments of one row key within a flush.
struct Counters {
    key: Vec<u8>,
    /// The batch rows that contributed.
    rows: Vec<usize>,
    /// Per qualifier (schema order); `None` when every value was NULL.
    totals: Vec<Option<i64>>,
}

fn finish(mut errors: Vec<RowError>) -> Result<(), WriteError> {
    if errors.is_empty() {
        return Ok(());
    }
    errors.sort_by_key(|e| e.row);
    Err(WriteError::Rows(errors))
}

/// The worst outcome of a round trip of idempotent mutations.
fn check_replies(exchange: &Exchange) -> Result<(), WriteError> {
    let mut worst: Option<WriteError> = None;
    for reply in &exchange.replies {
        if *reply == Reply::Ok {
            continue;
        }
        let e = classify(reply);
        let rank = |e: &WriteError| match e {
            WriteError::Fatal(_) => 3,
            WriteError::Rejected(_) => 2,
            _ => 1,
        };
        if worst.as_ref().is_none_or(|w| rank(&e) > rank(w)) {
            worst = Some(e);
        }
    }
    match (worst, &exchange.failure) {
        (Some(e @ (WriteError::Fatal(_) | WriteError::Rejected(_))), _) => Err(e),
        (_, Some(f)) => Err(WriteError::Retryable(f.clone())),
        (Some(e), None) => Err(e),
        (None, None) => Ok(()),
    }
}

/// What a failed call means for the rows in it.
fn classify(reply: &Reply) -> WriteError {
    match reply {
        Reply::Ok => WriteError::Retryable("no error".into()),
        Reply::IoError { message, can_retry } => {
            let msg = format!("TIOError: {message}");
            let config = ["TableNotFoundException", "NoSuchColumnFamilyException"]
                .iter()
                .any(|k| message.contains(k));
            if config {
                WriteError::Fatal(msg)
            } else if message.contains("IllegalArgumentException") {
                WriteError::Rejected(msg)
            } else if *can_retry == Some(false) {
                WriteError::Fatal(msg)
            } else {
                WriteError::Retryable(msg)
            }
        }
        Reply::IllegalArgument(m) => WriteError::Rejected(format!("TIllegalArgument: {m}")),
        Reply::Application { message, kind } => WriteError::Fatal(format!(
            "the Thrift gateway failed the call ({message}, TApplicationException type {kind}); \
             is 'thrift.address' HBase's thrift2 server (hbase thrift2) with the same transport \
             ('thrift.framed')?"
        )),
    }
}
