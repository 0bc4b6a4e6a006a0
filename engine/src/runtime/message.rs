//! What flows along the channels between operators.

use datafusion::arrow::record_batch::RecordBatch;

/// An event-time watermark in epoch milliseconds: no later row will carry an
/// event time at or below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Watermark(pub i64);

/// A checkpoint barrier (Chandy–Lamport, aligned). Injected at the sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointBarrier {
    /// Monotonically increasing checkpoint id.
    pub id: u64,
}

/// One message on an operator's input channel.
#[derive(Debug, Clone)]
pub enum Message {
    /// A batch of rows; for an updating stream the row kind is a column.
    Batch(RecordBatch),
    /// Event time has advanced.
    Watermark(Watermark),
    /// The sender will be silent for a while (an idle source split): do not
    /// hold the watermark back waiting for it. Its next message ends that.
    Idle,
    /// Snapshot your state, then forward the barrier.
    Barrier(CheckpointBarrier),
    /// The input has ended; nothing follows.
    End,
}

/// A message and the input slot it arrived on, so an operator with several
/// upstream instances can track each one's watermark.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// Index of the sending instance among the receiver's inputs.
    pub slot: usize,
    pub message: Message,
}
