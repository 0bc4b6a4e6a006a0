//! Turns a streaming graph into running tasks. Nodes are chained into one
//! task when data can pass between them without a channel (single consumer,
//! same parallelism), as Flink chains operators; chains are connected by
//! bounded channels, which is the back-pressure.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::job::{JobInfo, JobStatus, OperatorInfo};
use super::message::Message;
use super::metrics::OperatorMetrics;
use super::operator::{CalcOperator, LimitOperator, Operator};
use crate::config::SessionConfig;
use crate::connector::{ScanContext, SinkContext, SinkWriter, SourceReader};
use crate::error::{Result, SluiceError};
use crate::planner::graph::{NodeOp, StreamGraph};

/// Where a SELECT's rows go.
pub type CollectSender = mpsc::Sender<Result<RecordBatch>>;

enum Head {
    Source(Box<dyn SourceReader>),
    Values(std::vec::IntoIter<RecordBatch>),
    Channel {
        rx: mpsc::Receiver<Message>,
        expected_ends: usize,
    },
}

struct Edge {
    senders: Vec<mpsc::Sender<Message>>,
    next: usize,
    closed: Vec<bool>,
}

enum Tail {
    Sink {
        writer: Box<dyn SinkWriter>,
        schema: SchemaRef,
        table: String,
    },
    Collect(CollectSender, SchemaRef),
    Edges(Vec<Edge>),
}

/// One task: a head, fused operators, a tail.
struct ChainTask {
    head: Head,
    ops: Vec<Box<dyn Operator>>,
    tail: Tail,
    metrics: Arc<OperatorMetrics>,
    cancel: watch::Receiver<bool>,
}

/// Starts `graph` as job `job`. Returns at once; the job runs in the
/// background and updates `job`'s status when it ends.
pub fn spawn_job(
    graph: StreamGraph,
    job: Arc<JobInfo>,
    config: &SessionConfig,
    collect: Option<(CollectSender, SchemaRef)>,
) -> Result<()> {
    let tasks = build_tasks(&graph, &job, config, collect.clone())?;
    job.set_status(JobStatus::Running);
    let collect_tx = collect.map(|(tx, _)| tx);
    tokio::spawn(async move {
        let mut set = JoinSet::new();
        for t in tasks {
            set.spawn(t.run());
        }
        let mut first_err: Option<SluiceError> = None;
        while let Some(res) = set.join_next().await {
            let err = match res {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => e,
                Err(join) => SluiceError::execution(format!("an operator task panicked: {join}")),
            };
            if first_err.is_none() {
                log::error!("job {} failed: {err}", job.id);
                first_err = Some(err);
                // Stop the sources; the rest drains and flushes.
                job.cancel();
            }
        }
        match first_err {
            Some(e) => {
                let msg = e.to_string();
                if let Some(tx) = &collect_tx {
                    let _ = tx.send(Err(e)).await;
                }
                job.set_status(JobStatus::Failed(msg));
            }
            None if job.is_cancel_requested() => job.set_status(JobStatus::Canceled),
            None => job.set_status(JobStatus::Finished),
        }
    });
    Ok(())
}

fn build_tasks(
    graph: &StreamGraph,
    job: &Arc<JobInfo>,
    config: &SessionConfig,
    collect: Option<(CollectSender, SchemaRef)>,
) -> Result<Vec<ChainTask>> {
    let n = graph.nodes.len();
    // Chain assignment.
    let mut chain_of = vec![usize::MAX; n];
    let mut chains: Vec<Vec<usize>> = Vec::new();
    for node in &graph.nodes {
        let joinable = node.inputs.len() == 1 && !matches!(node.op, NodeOp::Union) && {
            let inp = node.inputs[0];
            graph.consumers(inp).len() == 1
                && graph.nodes[inp].parallelism == node.parallelism
                && chains[chain_of[inp]].last() == Some(&inp)
        };
        if joinable {
            let c = chain_of[node.inputs[0]];
            chains[c].push(node.id);
            chain_of[node.id] = c;
        } else {
            chain_of[node.id] = chains.len();
            chains.push(vec![node.id]);
        }
    }

    // Channels into every chain head that reads from other chains.
    let capacity = config.channel_capacity();
    let mut receivers: Vec<Vec<Option<mpsc::Receiver<Message>>>> = Vec::new();
    let mut senders: Vec<Vec<mpsc::Sender<Message>>> = Vec::new();
    for chain in &chains {
        let head = &graph.nodes[chain[0]];
        let (mut txs, mut rxs) = (Vec::new(), Vec::new());
        if !head.inputs.is_empty() {
            for _ in 0..head.parallelism {
                let (tx, rx) = mpsc::channel(capacity);
                txs.push(tx);
                rxs.push(Some(rx));
            }
        }
        senders.push(txs);
        receivers.push(rxs);
    }

    let mut tasks = Vec::new();
    let mut operators = Vec::new();
    for (ci, chain) in chains.iter().enumerate() {
        let head = &graph.nodes[chain[0]];
        let last = &graph.nodes[*chain.last().unwrap_or(&chain[0])];
        let parallelism = head.parallelism;
        let name: Vec<String> = chain.iter().map(|id| graph.nodes[*id].name()).collect();
        let name = name.join(" -> ");
        for inst in 0..parallelism {
            let metrics = Arc::new(OperatorMetrics::default());
            operators.push(OperatorInfo {
                name: if parallelism > 1 {
                    format!("{name} ({}/{parallelism})", inst + 1)
                } else {
                    name.clone()
                },
                metrics: Arc::clone(&metrics),
            });
            let head_impl = match &head.op {
                NodeOp::Source {
                    source, projection, ..
                } => Head::Source(source.open(ScanContext {
                    projection: projection.clone(),
                    instance: inst,
                    parallelism,
                    batch_size: config.batch_size(),
                    metrics: Arc::clone(&metrics),
                })?),
                NodeOp::Values { batches } => Head::Values(batches.clone().into_iter()),
                _ => {
                    let expected_ends = head
                        .inputs
                        .iter()
                        .map(|i| {
                            let up = &graph.nodes[*i];
                            if up.parallelism == head.parallelism {
                                1
                            } else {
                                up.parallelism
                            }
                        })
                        .sum();
                    let rx = receivers[ci][inst]
                        .take()
                        .ok_or_else(|| SluiceError::execution("channel taken twice"))?;
                    Head::Channel { rx, expected_ends }
                }
            };
            let mut ops: Vec<Box<dyn Operator>> = Vec::new();
            for id in chain {
                match &graph.nodes[*id].op {
                    NodeOp::Calc { steps } => ops.push(Box::new(CalcOperator::new(steps.clone()))),
                    NodeOp::Limit { skip, fetch } => {
                        ops.push(Box::new(LimitOperator::new(*skip, *fetch)))
                    }
                    _ => {}
                }
            }
            let tail = match &last.op {
                NodeOp::Sink { sink, table, .. } => Tail::Sink {
                    writer: sink.open(SinkContext {
                        job_id: job.id.clone(),
                        instance: inst,
                        parallelism,
                        metrics: Arc::clone(&metrics),
                    })?,
                    schema: sink.schema(),
                    table: table.clone(),
                },
                NodeOp::Collect => match &collect {
                    Some((tx, schema)) => Tail::Collect(tx.clone(), schema.clone()),
                    None => return Err(SluiceError::execution("collect node without a client")),
                },
                _ => {
                    let mut edges = Vec::new();
                    for c in graph.consumers(last.id) {
                        let cc = chain_of[c];
                        let down = &graph.nodes[c];
                        let txs = if down.parallelism == parallelism {
                            vec![senders[cc][inst].clone()]
                        } else {
                            senders[cc].clone()
                        };
                        let closed = vec![false; txs.len()];
                        edges.push(Edge {
                            senders: txs,
                            next: inst,
                            closed,
                        });
                    }
                    Tail::Edges(edges)
                }
            };
            tasks.push(ChainTask {
                head: head_impl,
                ops,
                tail,
                metrics,
                cancel: job.cancel_signal(),
            });
        }
    }
    *job.operators.lock().expect("operators poisoned") = operators;
    Ok(tasks)
}

impl ChainTask {
    async fn run(mut self) -> Result<()> {
        let mut ends = 0usize;
        loop {
            let msg = match &mut self.head {
                Head::Source(reader) => {
                    if *self.cancel.borrow() {
                        Message::End
                    } else {
                        tokio::select! {
                            biased;
                            _ = self.cancel.wait_for(|c| *c) => Message::End,
                            r = reader.next_batch() => match r? {
                                Some(b) => Message::Batch(b),
                                None => Message::End,
                            },
                        }
                    }
                }
                Head::Values(it) => match it.next() {
                    Some(b) if !*self.cancel.borrow() => Message::Batch(b),
                    _ => Message::End,
                },
                Head::Channel { rx, expected_ends } => match rx.recv().await {
                    Some(Message::End) => {
                        ends += 1;
                        if ends < *expected_ends {
                            continue;
                        }
                        Message::End
                    }
                    Some(m) => m,
                    None => Message::End,
                },
            };
            match msg {
                Message::Batch(b) => {
                    self.metrics.add_rows_in(b.num_rows());
                    let mut cur = Some(b);
                    for op in self.ops.iter_mut() {
                        match cur.take() {
                            Some(b) => cur = op.process(b)?,
                            None => break,
                        }
                    }
                    if let Some(b) = cur {
                        self.metrics.add_rows_out(b.num_rows());
                        if !self.emit(b).await? {
                            break;
                        }
                    }
                    if self.ops.iter().any(|o| o.is_done()) {
                        break;
                    }
                }
                Message::Watermark(_) | Message::Barrier(_) => {
                    if let Tail::Edges(edges) = &mut self.tail {
                        broadcast(edges, msg).await;
                    }
                }
                Message::End => break,
            }
        }
        self.finish().await
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
                    open |= send_round_robin(e, Message::Batch(batch.clone())).await;
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
                broadcast(edges, Message::End).await;
                Ok(())
            }
        }
    }
}

/// Gives a batch the sink's (or client's) column names and types. Fails
/// clearly when a NOT NULL column receives a NULL.
fn relabel(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    for (i, f) in schema.fields().iter().enumerate() {
        if !f.is_nullable() && batch.column(i).null_count() > 0 {
            return Err(SluiceError::execution(format!(
                "column '{}' is NOT NULL, but the query produced NULL for it",
                f.name()
            )));
        }
    }
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(schema),
        batch.columns().to_vec(),
        &datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )?)
}

async fn send_round_robin(edge: &mut Edge, msg: Message) -> bool {
    let n = edge.senders.len();
    for _ in 0..n {
        let i = edge.next % n;
        edge.next = edge.next.wrapping_add(1);
        if edge.closed[i] {
            continue;
        }
        if edge.senders[i].send(msg.clone()).await.is_ok() {
            return true;
        }
        edge.closed[i] = true;
    }
    false
}

async fn broadcast(edges: &mut [Edge], msg: Message) {
    for e in edges.iter_mut() {
        for (i, tx) in e.senders.iter().enumerate() {
            if !e.closed[i] && tx.send(msg.clone()).await.is_err() {
                e.closed[i] = true;
            }
        }
    }
}
