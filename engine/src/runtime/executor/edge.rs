//! The channels out of a chain: forward, round robin, or hashed by key (the
//! exchange in front of a keyed operator, so every row of a key meets the
//! same instance and its state).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::common::hash_utils::{RandomState, create_hashes};
use datafusion::physical_expr::PhysicalExpr;
use tokio::sync::mpsc;

use super::super::message::{Envelope, Message};
use crate::error::Result;

/// Fixed seed: the same key goes to the same instance in every run, which
/// keeps state placement reproducible.
const HASH_SEED: RandomState = RandomState::with_seed(0x5eed);

/// One output edge of a chain instance.
pub struct Edge {
    pub senders: Vec<mpsc::Sender<Envelope>>,
    /// Our slot number at each receiver.
    pub slots: Vec<usize>,
    /// `Some(keys)`: hash partitioning by these expressions.
    pub hash: Option<Vec<Arc<dyn PhysicalExpr>>>,
    pub next: usize,
    pub closed: Vec<bool>,
}

impl Edge {
    fn open(&self) -> bool {
        self.closed.iter().any(|c| !c)
    }

    async fn send_to(&mut self, i: usize, message: Message) -> bool {
        if self.closed[i] {
            return false;
        }
        let env = Envelope {
            slot: self.slots[i],
            message,
        };
        if self.senders[i].send(env).await.is_err() {
            self.closed[i] = true;
            return false;
        }
        true
    }

    /// Sends a batch on; `false` once every receiver is gone.
    pub async fn send_batch(&mut self, batch: RecordBatch) -> Result<bool> {
        let n = self.senders.len();
        if n == 1 {
            self.send_to(0, Message::Batch(batch)).await;
            return Ok(self.open());
        }
        let parts = match &self.hash {
            Some(keys) => Some(partition(&batch, keys, n)?),
            None => None,
        };
        match parts {
            Some(parts) => {
                for (i, part) in parts.into_iter().enumerate() {
                    if let Some(p) = part {
                        self.send_to(i, Message::Batch(p)).await;
                    }
                }
            }
            None => {
                for _ in 0..n {
                    let i = self.next % n;
                    self.next = self.next.wrapping_add(1);
                    if self.send_to(i, Message::Batch(batch.clone())).await {
                        break;
                    }
                }
            }
        }
        Ok(self.open())
    }

    /// Sends a control message (watermark, idle, barrier, end) to every receiver.
    pub async fn broadcast(&mut self, message: &Message) {
        for i in 0..self.senders.len() {
            self.send_to(i, message.clone()).await;
        }
    }
}

/// Splits `batch` by the hash of `keys` into `n` parts.
fn partition(
    batch: &RecordBatch,
    keys: &[Arc<dyn PhysicalExpr>],
    n: usize,
) -> Result<Vec<Option<RecordBatch>>> {
    let rows = batch.num_rows();
    if keys.is_empty() {
        // A global operator runs as one instance.
        let mut out = vec![None; n];
        out[0] = Some(batch.clone());
        return Ok(out);
    }
    let arrays = keys
        .iter()
        .map(|k| k.evaluate(batch).and_then(|v| v.into_array(rows)))
        .collect::<datafusion::error::Result<Vec<ArrayRef>>>()?;
    let mut hashes = vec![0u64; rows];
    create_hashes(&arrays, &HASH_SEED, &mut hashes)?;
    let mut indices: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (row, h) in hashes.iter().enumerate() {
        indices[(*h % n as u64) as usize].push(row as u32);
    }
    indices
        .into_iter()
        .map(|idx| {
            if idx.is_empty() {
                Ok(None)
            } else if idx.len() == rows {
                Ok(Some(batch.clone()))
            } else {
                Ok(Some(take_record_batch(batch, &UInt32Array::from(idx))?))
            }
        })
        .collect()
}
