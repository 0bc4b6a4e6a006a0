//! One record per message: how message-oriented connectors (Kafka) use the
//! formats. A batch of message payloads is kept back to back in one buffer,
//! each followed by `\n`, so that a line-oriented decoder (json, csv) reads
//! the whole batch in one vectorized pass; only when that pass fails or
//! yields a different number of rows are the messages decoded one by one, to
//! name the bad message (`topic t, partition 0, offset 17`) or skip it.
//!
//! Decoded rows remember which message they came from ([`Decoded::origins`]):
//! a changelog format may turn one message into several rows (an update is a
//! `-U` and a `+U`) or none (a DDL event), and the connector attaches its own
//! per-message columns (offset, timestamp, ...) by that index.

use std::borrow::Cow;
use std::sync::Arc;

use datafusion::arrow::array::{Int8Array, RecordBatch, RecordBatchOptions, UInt32Array};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::SchemaRef;
use sluice_engine::Result;
use sluice_engine::runtime::OperatorMetrics;

use super::{RecordDecoder, RecordEncoder, RecordLocation};
use crate::ConnectorError;

/// The payloads of a batch of messages; a payload may be null (a Kafka
/// tombstone).
#[derive(Debug, Default, Clone)]
pub struct Messages {
    /// Every non-null payload followed by `\n`.
    data: Vec<u8>,
    /// Per message: start and length of its payload in `data`.
    spans: Vec<Option<(usize, usize)>>,
    /// Some payload itself ends with `\n` (line decoders then need a copy
    /// without it, or they would see an empty record).
    trailing_newline: bool,
}

impl Messages {
    /// An empty batch with room for `messages` payloads of `bytes` in total.
    pub fn with_capacity(messages: usize, bytes: usize) -> Self {
        Self {
            data: Vec::with_capacity(bytes + messages),
            spans: Vec::with_capacity(messages),
            trailing_newline: false,
        }
    }

    /// Appends one message's payload.
    pub fn push(&mut self, payload: Option<&[u8]>) {
        match payload {
            None => self.spans.push(None),
            Some(p) => {
                self.spans.push(Some((self.data.len(), p.len())));
                self.data.extend_from_slice(p);
                self.data.push(b'\n');
                self.trailing_newline |= p.last() == Some(&b'\n');
            }
        }
    }

    /// Number of messages (null ones included).
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when there is no message.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The payload of message `i`; `None` when it is null or out of range.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let (start, len) = (*self.spans.get(i)?)?;
        Some(&self.data[start..start + len])
    }

    /// Total payload bytes.
    pub fn byte_len(&self) -> usize {
        self.data.len() - self.spans.iter().flatten().count()
    }

    /// Indices of the messages whose payload is not null.
    fn present(&self) -> Vec<u32> {
        self.spans
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .map(|(i, _)| i as u32)
            .collect()
    }

    /// Every non-null payload, one per line.
    fn lines(&self) -> Cow<'_, [u8]> {
        if !self.trailing_newline {
            return Cow::Borrowed(&self.data);
        }
        let mut out = Vec::with_capacity(self.data.len());
        for i in 0..self.len() {
            if let Some(p) = self.get(i) {
                out.extend_from_slice(trim_newline(p));
                out.push(b'\n');
            }
        }
        Cow::Owned(out)
    }

    /// Builds a batch from a buffer of `\n`-terminated records that contain
    /// no raw newline themselves (what the json encoder writes).
    fn from_lines(data: Vec<u8>) -> Self {
        let mut spans = Vec::new();
        let mut start = 0;
        for (i, b) in data.iter().enumerate() {
            if *b == b'\n' {
                spans.push(Some((start, i - start)));
                start = i + 1;
            }
        }
        Self {
            data,
            spans,
            trailing_newline: false,
        }
    }
}

/// `p` without one trailing `\n` or `\r\n`.
fn trim_newline(p: &[u8]) -> &[u8] {
    let p = p.strip_suffix(b"\n").unwrap_or(p);
    p.strip_suffix(b"\r").unwrap_or(p)
}

/// What a batch of messages decoded into.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The rows, with the decoder's [`MessageDecoder::schema`].
    pub batch: RecordBatch,
    /// For each row, the index of the message it came from (ascending).
    pub origins: UInt32Array,
    /// For each row its [`sluice_engine::connector::RowKind`], when the format
    /// is a changelog format.
    pub kinds: Option<Int8Array>,
}

impl Decoded {
    /// No rows.
    pub fn empty(schema: SchemaRef, changelog: bool) -> Self {
        Self {
            batch: RecordBatch::new_empty(schema),
            origins: UInt32Array::from(Vec::<u32>::new()),
            kinds: changelog.then(|| Int8Array::from(Vec::<i8>::new())),
        }
    }
}

/// Names a message in error messages, e.g. `topic t, partition 0, offset 17`.
pub type Locate<'a> = &'a dyn Fn(usize) -> String;

/// Decodes batches of messages. One per source instance.
pub trait MessageDecoder: Send {
    /// The schema of decoded rows: the projected physical columns followed
    /// by the requested format metadata columns (never the row kind).
    fn schema(&self) -> SchemaRef;

    /// Decodes `messages`. A malformed message fails with
    /// [`ConnectorError::Malformed`] naming `locate(i)`, unless the format
    /// ignores parse errors: then it is dropped and counted.
    fn decode(
        &mut self,
        messages: &Messages,
        locate: Locate<'_>,
        metrics: &OperatorMetrics,
    ) -> Result<Decoded>;
}

/// Encodes rows as messages. One per sink instance.
pub trait MessageEncoder: Send {
    /// One message per row of `batch`; a `None` payload is a null message.
    fn encode(&mut self, batch: &RecordBatch) -> Result<Messages>;
}

/// A line-oriented [`RecordDecoder`] used one record per message. Null
/// messages produce no row (Flink's json and csv deserializers return null).
pub struct LineMessages {
    inner: Box<dyn RecordDecoder>,
    /// Skip (and count) a message the inner decoder rejects, for wrappers
    /// whose inner decoder does not skip on its own.
    ignore_errors: bool,
}

impl LineMessages {
    pub fn new(inner: Box<dyn RecordDecoder>, ignore_errors: bool) -> Self {
        Self {
            inner,
            ignore_errors,
        }
    }

    /// One message on its own: its row, or `None` when it was skipped.
    fn decode_one(
        &mut self,
        payload: &[u8],
        location: &str,
        metrics: &OperatorMetrics,
    ) -> Result<Option<RecordBatch>> {
        let scratch = OperatorMetrics::default();
        let batches = self.inner.decode(
            trim_newline(payload),
            &RecordLocation::record(location),
            &scratch,
        )?;
        let skipped = scratch.snapshot().records_skipped;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        match rows {
            1 => Ok(Some(concat_batches(&self.inner.schema(), &batches)?)),
            0 => {
                // Skipped as malformed, or held nothing but whitespace: either
                // way it is counted, never dropped silently.
                if skipped == 0 {
                    log::warn!("skipping an empty message at {location}");
                }
                metrics.add_skipped(1);
                Ok(None)
            }
            n => Err(ConnectorError::Malformed {
                location: location.to_string(),
                reason: format!("expected one record per message, found {n}"),
            }
            .into()),
        }
    }
}

impl MessageDecoder for LineMessages {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn decode(
        &mut self,
        messages: &Messages,
        locate: Locate<'_>,
        metrics: &OperatorMetrics,
    ) -> Result<Decoded> {
        let schema = self.inner.schema();
        let present = messages.present();
        if present.is_empty() {
            return Ok(Decoded::empty(schema, false));
        }
        // The fast path: every message in one pass. Its result is only used
        // when it is exactly one row per message with nothing skipped;
        // otherwise the slow path below finds and names the culprit.
        let scratch = OperatorMetrics::default();
        let lines = messages.lines();
        let location = RecordLocation::lines(locate(present[0] as usize), 1);
        if let Ok(batches) = self.inner.decode(&lines, &location, &scratch) {
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            if rows == present.len() && scratch.snapshot().records_skipped == 0 {
                let batch = match batches.len() {
                    1 => batches
                        .into_iter()
                        .next()
                        .unwrap_or_else(|| RecordBatch::new_empty(schema.clone())),
                    _ => concat_batches(&schema, &batches)?,
                };
                return Ok(Decoded {
                    batch,
                    origins: UInt32Array::from(present),
                    kinds: None,
                });
            }
        }
        let mut rows = Vec::with_capacity(present.len());
        let mut origins = Vec::with_capacity(present.len());
        for i in present {
            let Some(payload) = messages.get(i as usize) else {
                continue;
            };
            match self.decode_one(payload, &locate(i as usize), metrics) {
                Ok(Some(row)) => {
                    rows.push(row);
                    origins.push(i);
                }
                Ok(None) => {}
                Err(_) if self.ignore_errors => metrics.add_skipped(1),
                Err(e) => return Err(e),
            }
        }
        let batch = if rows.is_empty() {
            empty_rows(&schema, 0)?
        } else {
            concat_batches(&schema, &rows)?
        };
        Ok(Decoded {
            batch,
            origins: UInt32Array::from(origins),
            kinds: None,
        })
    }
}

/// A [`RecordEncoder`] used one message per row.
pub struct RowMessages {
    inner: Box<dyn RecordEncoder>,
    /// The encoder writes one record per line with no raw newline inside
    /// (json): encode the batch into one buffer and split it at newlines.
    single_line_records: bool,
}

impl RowMessages {
    pub fn new(inner: Box<dyn RecordEncoder>, single_line_records: bool) -> Self {
        Self {
            inner,
            single_line_records,
        }
    }
}

impl MessageEncoder for RowMessages {
    fn encode(&mut self, batch: &RecordBatch) -> Result<Messages> {
        if self.single_line_records {
            let mut data = Vec::with_capacity(batch.num_rows() * 64);
            self.inner.encode(batch, &mut data)?;
            let out = Messages::from_lines(data);
            if out.len() == batch.num_rows() {
                return Ok(out);
            }
        }
        let rows = self.inner.encode_rows(batch)?;
        let bytes = rows.iter().map(Vec::len).sum();
        let mut out = Messages::with_capacity(rows.len(), bytes);
        for r in &rows {
            out.push(Some(r));
        }
        Ok(out)
    }
}

/// A batch of `rows` all-null rows of `schema` (also valid for a schema
/// without columns).
pub(crate) fn empty_rows(schema: &SchemaRef, rows: usize) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(schema),
        schema
            .fields()
            .iter()
            .map(|f| datafusion::arrow::array::new_null_array(f.data_type(), rows))
            .collect(),
        &RecordBatchOptions::new().with_row_count(Some(rows)),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_payloads_and_nulls() {
        let mut m = Messages::default();
        m.push(Some(b"a"));
        m.push(None);
        m.push(Some(b"bc\n"));
        assert_eq!(m.len(), 3);
        assert_eq!(m.get(0), Some(&b"a"[..]));
        assert_eq!(m.get(1), None);
        assert_eq!(m.get(2), Some(&b"bc\n"[..]));
        assert_eq!(m.byte_len(), 4);
        assert_eq!(&*m.lines(), b"a\nbc\n");
        assert_eq!(m.present(), vec![0, 2]);
        let l = Messages::from_lines(b"{}\n{\"a\":1}\n".to_vec());
        assert_eq!(l.len(), 2);
        assert_eq!(l.get(1), Some(&b"{\"a\":1}"[..]));
    }
}
