//! One running chain instance: a head (source, literal rows, or channel),
//! fused operators, and a tail (sink, client, or channels onward).

use std::sync::Arc;

use datafusion::arrow::array::RecordBatchOptions;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::CollectSender;
use super::edge::Edge;
use super::inputs::{Combined, InputWatermarks};
use crate::connector::{ROW_KIND_COLUMN, SinkWriter, SourceReader, row_kind_field};
use crate::error::{Result, SluiceError};
use crate::runtime::message::{Envelope, Message, Watermark};
use crate::runtime::metrics::OperatorMetrics;
use crate::runtime::operator::{BatchOrigin, Event, Operator, now_millis, pass};

/// The slot reported when every sender of a channel is gone.
const ALL_GONE: usize = usize::MAX;

/// A batch (or the end) from a source reader, with the split it came from.
pub(super) type ReaderItem = (usize, Result<Option<RecordBatch>>);

pub(super) enum Head {
    /// A source reader not started yet.
    Source(Box<dyn SourceReader>),
    /// A source reader running in its own task (so waiting for data never
    /// blocks timers).
    Reader(mpsc::Receiver<ReaderItem>),
    Values(std::vec::IntoIter<RecordBatch>),
    Channel(mpsc::Receiver<Envelope>),
}

pub(super) enum Tail {
    Sink {
        writer: Box<dyn SinkWriter>,
        schema: SchemaRef,
        table: String,
    },
    Collect(CollectSender, SchemaRef),
    Edges(Vec<Edge>),
}

/// One task: a head, fused operators, a tail.
pub(super) struct ChainTask {
    pub head: Head,
    pub inputs: InputWatermarks,
    pub ops: Vec<Box<dyn Operator>>,
    pub tail: Tail,
    pub metrics: Arc<OperatorMetrics>,
    pub cancel: watch::Receiver<bool>,
}

impl ChainTask {
    pub async fn run(mut self) -> Result<()> {
        if matches!(self.head, Head::Source(_)) {
            let head = std::mem::replace(&mut self.head, Head::Values(Vec::new().into_iter()));
            self.head = spawn_reader(head, self.cancel.clone());
        }
        let tick = self.ops.iter().filter_map(|o| o.tick_interval()).min();
        let mut next_tick = tick.map(|d| Instant::now() + d);
        loop {
            let flush_at = match &self.tail {
                Tail::Sink { writer, .. } => writer.flush_deadline(),
                _ => None,
            };
            let wake = match (next_tick, flush_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let next = match wake {
                None => next_message(&mut self.head, &self.cancel).await?,
                Some(at) => tokio::select! {
                    m = next_message(&mut self.head, &self.cancel) => m?,
                    _ = tokio::time::sleep_until(at) => {
                        if next_tick.is_some_and(|t| t <= Instant::now()) {
                            next_tick = tick.map(|d| Instant::now() + d);
                            if !self.on_tick().await? {
                                break;
                            }
                        }
                        if flush_at.is_some_and(|t| t <= Instant::now())
                            && let Tail::Sink { writer, .. } = &mut self.tail
                        {
                            writer.flush().await?;
                        }
                        continue;
                    }
                },
            };
            let (slot, msg, origin) = next;
            let open = match msg {
                Message::Batch(b) => {
                    self.inputs.on_batch(slot);
                    self.metrics.add_rows_in(b.num_rows());
                    self.drive(0, vec![Event::Batch(b)], origin).await?
                }
                Message::Watermark(Watermark(w)) => {
                    let c = self.inputs.on_watermark(slot, w);
                    self.combined(c).await?
                }
                Message::Idle => {
                    let c = self.inputs.on_idle(slot);
                    self.combined(c).await?
                }
                Message::Barrier(b) => {
                    match &mut self.tail {
                        Tail::Edges(edges) => {
                            for e in edges.iter_mut() {
                                e.broadcast(&Message::Barrier(b)).await;
                            }
                        }
                        Tail::Sink { writer, .. } => writer.flush().await?,
                        Tail::Collect(..) => {}
                    }
                    true
                }
                Message::End => {
                    let c = self.inputs.on_end(slot);
                    let open = self.combined(c).await?;
                    if slot == ALL_GONE || self.inputs.all_ended() {
                        break;
                    }
                    open
                }
            };
            if !open || self.ops.iter().any(|o| o.is_done()) {
                break;
            }
        }
        for i in 0..self.ops.len() {
            let mut out = Vec::new();
            self.ops[i].on_end(&mut out)?;
            if !self.drive(i + 1, out, BatchOrigin::default()).await? {
                break;
            }
        }
        self.finish().await
    }

    async fn combined(&mut self, c: Combined) -> Result<bool> {
        match c {
            Combined::Nothing => Ok(true),
            Combined::Watermark(w) => {
                self.drive(0, vec![Event::Watermark(w)], BatchOrigin::default())
                    .await
            }
            Combined::Idle => {
                self.drive(0, vec![Event::Idle], BatchOrigin::default())
                    .await
            }
        }
    }

    async fn on_tick(&mut self) -> Result<bool> {
        let now = now_millis();
        for i in 0..self.ops.len() {
            let mut out = Vec::new();
            self.ops[i].on_tick(now, &mut out)?;
            if !self.drive(i + 1, out, BatchOrigin::default()).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Runs `events` through the operators from `start` on, then hands
    /// what comes out to the tail. `false` once nobody downstream listens.
    async fn drive(
        &mut self,
        start: usize,
        events: Vec<Event>,
        origin: BatchOrigin,
    ) -> Result<bool> {
        let start = start.min(self.ops.len());
        for ev in pass(&mut self.ops[start..], events, origin)? {
            match ev {
                Event::Batch(b) => {
                    if b.num_rows() == 0 {
                        continue;
                    }
                    self.metrics.add_rows_out(b.num_rows());
                    if !self.emit(b).await? {
                        return Ok(false);
                    }
                }
                Event::Watermark(w) => {
                    if let Tail::Sink { writer, .. } = &mut self.tail {
                        writer.on_watermark(w).await?;
                    }
                    self.broadcast(Message::Watermark(Watermark(w))).await
                }
                Event::Idle => self.broadcast(Message::Idle).await,
            }
        }
        Ok(true)
    }

    async fn broadcast(&mut self, msg: Message) {
        if let Tail::Edges(edges) = &mut self.tail {
            for e in edges.iter_mut() {
                e.broadcast(&msg).await;
            }
        }
    }

    /// Sends a batch on; `false` when nobody downstream wants more.
    async fn emit(&mut self, batch: RecordBatch) -> Result<bool> {
        match &mut self.tail {
            Tail::Sink {
                writer,
                schema,
                table,
            } => {
                let batch = relabel(batch, schema).map_err(|e| {
                    SluiceError::execution(format!("writing to table '{table}': {e}"))
                })?;
                writer.write(batch).await?;
                Ok(true)
            }
            Tail::Collect(tx, schema) => {
                let batch = relabel(batch, schema)?;
                Ok(tx.send(Ok(batch)).await.is_ok())
            }
            Tail::Edges(edges) => {
                let mut open = false;
                for e in edges.iter_mut() {
                    open |= e.send_batch(batch.clone()).await?;
                }
                Ok(open)
            }
        }
    }

    async fn finish(mut self) -> Result<()> {
        match &mut self.tail {
            Tail::Sink { writer, .. } => writer.finish().await,
            Tail::Collect(..) => Ok(()),
            Tail::Edges(edges) => {
                for e in edges.iter_mut() {
                    e.broadcast(&Message::End).await;
                }
                Ok(())
            }
        }
    }
}

/// Moves a source reader into its own task. Receiving from a channel is
/// cancel-safe, so the chain can wait on data and timers at once, which a
/// reader's own `next_batch` future need not be.
fn spawn_reader(head: Head, mut cancel: watch::Receiver<bool>) -> Head {
    let Head::Source(mut reader) = head else {
        return head;
    };
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(async move {
        loop {
            let r = tokio::select! {
                biased;
                _ = cancel.wait_for(|c| *c) => Ok(None),
                r = reader.next_batch() => r,
            };
            let last = !matches!(r, Ok(Some(_)));
            if tx.send((reader.last_split(), r)).await.is_err() || last {
                break;
            }
        }
    });
    Head::Reader(rx)
}

/// The next message for a chain's head, with its input slot.
async fn next_message(
    head: &mut Head,
    cancel: &watch::Receiver<bool>,
) -> Result<(usize, Message, BatchOrigin)> {
    Ok(match head {
        Head::Source(_) => return Err(SluiceError::execution("source reader not started")),
        Head::Reader(rx) => match rx.recv().await {
            Some((split, Ok(Some(b)))) => (0, Message::Batch(b), BatchOrigin { split }),
            Some((_, Err(e))) => return Err(e),
            Some((_, Ok(None))) | None => (0, Message::End, BatchOrigin::default()),
        },
        Head::Values(it) => match it.next() {
            Some(b) if !*cancel.borrow() => (0, Message::Batch(b), BatchOrigin::default()),
            _ => (0, Message::End, BatchOrigin::default()),
        },
        Head::Channel(rx) => match rx.recv().await {
            Some(env) => (env.slot, env.message, BatchOrigin::default()),
            // Every sender is gone without an End (an upstream task
            // failed): this input is over.
            None => (ALL_GONE, Message::End, BatchOrigin::default()),
        },
    })
}

/// Gives a batch the sink's (or client's) column names and types, keeping
/// the row-kind column of an updating stream. Fails clearly when a NOT NULL
/// column receives a NULL.
fn relabel(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    for (i, f) in schema.fields().iter().enumerate() {
        if !f.is_nullable() && batch.column(i).null_count() > 0 {
            return Err(SluiceError::execution(format!(
                "column '{}' is NOT NULL, but the query produced NULL for it",
                f.name()
            )));
        }
    }
    let schema = if batch.num_columns() == schema.fields().len() + 1
        && batch.schema().field(batch.num_columns() - 1).name() == ROW_KIND_COLUMN
    {
        let mut fields: Vec<_> = schema.fields().iter().cloned().collect();
        fields.push(Arc::new(row_kind_field()));
        Arc::new(Schema::new(fields))
    } else {
        Arc::clone(schema)
    };
    Ok(RecordBatch::try_new_with_options(
        schema,
        batch.columns().to_vec(),
        &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )?)
}
