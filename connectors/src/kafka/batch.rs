//! A batch of fetched messages of one partition, laid out column-wise as
//! the fetch thread polls them (payloads back to back, offsets, timestamps,
//! and headers and leader epochs only when a column reads them).

use datafusion::arrow::array::{BinaryBuilder, MapArray, MapBuilder, MapFieldNames, StringBuilder};
use rdkafka::Timestamp;
use rdkafka::message::{BorrowedMessage, Headers, Message};

use crate::formats::messages::Messages;

/// Messages of one partition, in offset order.
#[derive(Debug)]
pub struct FetchedBatch {
    /// Index of the partition among the instance's splits.
    pub split: usize,
    pub keys: Messages,
    pub values: Messages,
    pub offsets: Vec<i64>,
    /// Milliseconds; -1 when the record has none (as Flink reports it).
    pub timestamps: Vec<i64>,
    /// 0 none, 1 create time, 2 log-append time.
    pub timestamp_types: Vec<u8>,
    /// Only when the `leader-epoch` column is read.
    pub leader_epochs: Option<Vec<Option<i32>>>,
    /// Only when the `headers` column is read.
    pub headers: Option<MapArray>,
}

impl FetchedBatch {
    /// Number of messages.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }
}

/// Column builders for the messages of one partition.
pub struct Pending {
    keys: Messages,
    values: Messages,
    offsets: Vec<i64>,
    timestamps: Vec<i64>,
    timestamp_types: Vec<u8>,
    leader_epochs: Option<Vec<Option<i32>>>,
    headers: Option<MapBuilder<StringBuilder, BinaryBuilder>>,
}

impl Pending {
    pub fn new(want_headers: bool, want_leader_epoch: bool) -> Self {
        Self {
            keys: Messages::default(),
            values: Messages::default(),
            offsets: Vec::new(),
            timestamps: Vec::new(),
            timestamp_types: Vec::new(),
            leader_epochs: want_leader_epoch.then(Vec::new),
            headers: want_headers.then(|| {
                MapBuilder::new(
                    Some(MapFieldNames {
                        entry: "entries".to_string(),
                        key: "key".to_string(),
                        value: "value".to_string(),
                    }),
                    StringBuilder::new(),
                    BinaryBuilder::new(),
                )
            }),
        }
    }

    pub fn push(&mut self, m: &BorrowedMessage<'_>) {
        self.keys.push(m.key());
        self.values.push(m.payload());
        self.offsets.push(m.offset());
        let (ts, kind) = match m.timestamp() {
            Timestamp::NotAvailable => (-1, 0),
            Timestamp::CreateTime(t) => (t, 1),
            Timestamp::LogAppendTime(t) => (t, 2),
        };
        self.timestamps.push(ts);
        self.timestamp_types.push(kind);
        if let Some(epochs) = &mut self.leader_epochs {
            // SAFETY: the message pointer is valid while `m` is borrowed.
            let epoch = unsafe { rdkafka::bindings::rd_kafka_message_leader_epoch(m.ptr()) };
            epochs.push((epoch >= 0).then_some(epoch));
        }
        if let Some(h) = &mut self.headers {
            if let Some(headers) = m.headers() {
                for header in headers.iter() {
                    h.keys().append_value(header.key);
                    h.values().append_option(header.value);
                }
            }
            // A map builder only fails when keys and values disagree in
            // length, which the loop above rules out.
            let _ = h.append(true);
        }
    }

    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    pub fn take(&mut self, split: usize) -> FetchedBatch {
        let want_headers = self.headers.is_some();
        let want_epoch = self.leader_epochs.is_some();
        let mut done = std::mem::replace(self, Pending::new(want_headers, want_epoch));
        FetchedBatch {
            split,
            keys: done.keys,
            values: done.values,
            offsets: done.offsets,
            timestamps: done.timestamps,
            timestamp_types: done.timestamp_types,
            leader_epochs: done.leader_epochs,
            headers: done.headers.as_mut().map(|h| h.finish()),
        }
    }
}
