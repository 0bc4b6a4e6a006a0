//! Turning the graph into chain tasks: which nodes fuse into one task, which
//! channels connect the chains, and the operator for each node.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use tokio::sync::mpsc;

use super::CollectSender;
use super::chain::{ChainTask, Head, Tail};
use super::edge::Edge;
use super::inputs::InputWatermarks;
use crate::config::SessionConfig;
use crate::connector::{ChangelogMode, ScanContext, SinkContext};
use crate::error::{Result, SluiceError};
use crate::planner::graph::{NodeOp, StreamGraph, StreamNode};
use crate::runtime::aggregate::GroupAggregateOperator;
use crate::runtime::job::{JobInfo, OperatorInfo};
use crate::runtime::metrics::OperatorMetrics;
use crate::runtime::operator::{CalcOperator, CorrelateOperator, LimitOperator, Operator};
use crate::runtime::over::OverAggregateOperator;
use crate::runtime::rank::{TopNOperator, WindowTopNOperator};
use crate::runtime::time::WatermarkAssigner;
use crate::runtime::window::{
    SessionWindowOperator, WindowAggregateOperator, WindowAssignOperator, WindowSpec,
};

/// True when rows pass from `up` to `down` instance by instance (no
/// exchange): same parallelism and no re-keying.
fn forward(up: &StreamNode, down: &StreamNode) -> bool {
    up.parallelism == down.parallelism && (down.input_keys.is_none() || down.parallelism == 1)
}

/// The first input slot of each of `node`'s inputs.
fn slot_offsets(graph: &StreamGraph, node: &StreamNode) -> Vec<usize> {
    let mut offsets = Vec::with_capacity(node.inputs.len());
    let mut next = 0;
    for i in &node.inputs {
        offsets.push(next);
        let up = &graph.nodes[*i];
        next += if forward(up, node) { 1 } else { up.parallelism };
    }
    offsets.push(next);
    offsets
}

pub(super) fn build_tasks(
    graph: &StreamGraph,
    job: &Arc<JobInfo>,
    config: &SessionConfig,
    collect: Option<(CollectSender, SchemaRef)>,
) -> Result<Vec<ChainTask>> {
    let n = graph.nodes.len();
    let mut chain_of = vec![usize::MAX; n];
    let mut chains: Vec<Vec<usize>> = Vec::new();
    for node in &graph.nodes {
        let joinable = node.inputs.len() == 1 && !matches!(node.op, NodeOp::Union) && {
            let inp = node.inputs[0];
            graph.consumers(inp).len() == 1
                && forward(&graph.nodes[inp], node)
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

    let capacity = config.channel_capacity();
    let mut receivers: Vec<Vec<Option<mpsc::Receiver<_>>>> = Vec::new();
    let mut senders: Vec<Vec<mpsc::Sender<_>>> = Vec::new();
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
            let mut splits = 1;
            let (head_impl, slots) = match &head.op {
                NodeOp::Source {
                    source, projection, ..
                } => {
                    let reader = source.open(ScanContext {
                        projection: projection.clone(),
                        instance: inst,
                        parallelism,
                        batch_size: config.batch_size(),
                        metrics: Arc::clone(&metrics),
                    })?;
                    splits = reader.split_count();
                    (Head::Source(reader), 1)
                }
                NodeOp::Values { batches } => (Head::Values(batches.clone().into_iter()), 1),
                _ => {
                    let rx = receivers[ci][inst]
                        .take()
                        .ok_or_else(|| SluiceError::execution("channel taken twice"))?;
                    let slots = *slot_offsets(graph, head).last().unwrap_or(&1);
                    (Head::Channel(rx), slots)
                }
            };
            let mut ops: Vec<Box<dyn Operator>> = Vec::new();
            for id in chain {
                if let Some(op) = operator_for(&graph.nodes[*id], splits, &metrics)? {
                    ops.push(op);
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
                        let k = down.inputs.iter().position(|i| *i == last.id).unwrap_or(0);
                        let offset = slot_offsets(graph, down)[k];
                        let (txs, slots) = if forward(last, down) {
                            (vec![senders[cc][inst].clone()], vec![offset])
                        } else {
                            let txs = senders[cc].clone();
                            let slots = vec![offset + inst; txs.len()];
                            (txs, slots)
                        };
                        let closed = vec![false; txs.len()];
                        edges.push(Edge {
                            senders: txs,
                            slots,
                            hash: down.input_keys.clone(),
                            next: inst,
                            closed,
                        });
                    }
                    Tail::Edges(edges)
                }
            };
            tasks.push(ChainTask {
                head: head_impl,
                inputs: InputWatermarks::new(slots),
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

/// The operator that runs `node` inside a chain (`None` for heads and tails).
pub(super) fn operator_for(
    node: &StreamNode,
    splits: usize,
    metrics: &Arc<OperatorMetrics>,
) -> Result<Option<Box<dyn Operator>>> {
    Ok(Some(match &node.op {
        NodeOp::Calc { steps } => Box::new(CalcOperator::new(
            steps.clone(),
            node.changelog != ChangelogMode::AppendOnly,
        )),
        NodeOp::Limit { skip, fetch } => Box::new(LimitOperator::new(*skip, *fetch)),
        NodeOp::Watermark { expr, settings } => {
            Box::new(WatermarkAssigner::new(Arc::clone(expr), *settings, splits))
        }
        NodeOp::WindowAssign {
            spec,
            time_col,
            panes,
        } => Box::new(WindowAssignOperator::new(
            *spec,
            *time_col,
            *panes,
            Arc::clone(&node.schema),
        )),
        NodeOp::WindowAggregate(spec) if matches!(spec.window, WindowSpec::Session { .. }) => {
            Box::new(SessionWindowOperator::new(
                spec.as_ref().clone(),
                Arc::clone(metrics),
            )?)
        }
        NodeOp::WindowAggregate(spec) => Box::new(WindowAggregateOperator::new(
            spec.as_ref().clone(),
            Arc::clone(metrics),
        )?),
        NodeOp::TopN(spec) => Box::new(TopNOperator::new(spec.as_ref().clone())?),
        NodeOp::Correlate(spec) => Box::new(CorrelateOperator::new(
            spec.as_ref().clone(),
            node.changelog != ChangelogMode::AppendOnly,
        )),
        NodeOp::OverAggregate(spec) => Box::new(OverAggregateOperator::new(
            spec.as_ref().clone(),
            Arc::clone(metrics),
        )?),
        NodeOp::WindowTopN(spec) => Box::new(WindowTopNOperator::new(
            spec.as_ref().clone(),
            Arc::clone(metrics),
        )),
        NodeOp::GroupAggregate(spec) => {
            Box::new(GroupAggregateOperator::new(spec.as_ref().clone())?)
        }
        NodeOp::Source { .. }
        | NodeOp::Values { .. }
        | NodeOp::Union
        | NodeOp::Sink { .. }
        | NodeOp::Collect => return Ok(None),
    }))
}
