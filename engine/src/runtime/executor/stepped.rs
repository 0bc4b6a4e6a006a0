//! A job run one input batch at a time on the caller's task: the same
//! operators the executor would chain, fed the batches its source yields,
//! read up front. It is how checkpointing is tested: every operator's state
//! can be snapshotted between any two batches and restored into a freshly
//! planned copy of the job, whose output must go on exactly where the first
//! one's would have.
//!
//! Timers do not run (nothing here waits), so a job stepped this way should
//! emit watermarks per batch (`pipeline.auto-watermark-interval` = 0) and
//! use event time.

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;

use super::build::operator_for;
use crate::config::SessionConfig;
use crate::connector::ScanContext;
use crate::error::{Result, SluiceError};
use crate::planner::graph::{NodeOp, StreamGraph};
use crate::runtime::metrics::OperatorMetrics;
use crate::runtime::operator::{BatchOrigin, Event, Operator, pass};

/// Where a stepped job stands: how many input batches it consumed (the
/// source offset) and each operator's state, in chain order (empty for a
/// stateless operator).
#[derive(Debug, Clone)]
pub struct JobSnapshot {
    pub position: usize,
    pub operators: Vec<Vec<RecordBatch>>,
}

/// The job.
pub struct SteppedJob {
    inputs: Vec<(usize, RecordBatch)>,
    ops: Vec<Box<dyn Operator>>,
    position: usize,
    ended: bool,
}

impl SteppedJob {
    /// Builds the operators of `graph`, which must be one chain from one
    /// source at parallelism 1, and reads the source to its end.
    pub(crate) async fn open(graph: &StreamGraph, config: &SessionConfig) -> Result<Self> {
        let metrics = Arc::new(OperatorMetrics::default());
        let mut inputs = Vec::new();
        let mut ops = Vec::new();
        let mut splits = 1;
        for node in &graph.nodes {
            if node.parallelism != 1 || node.inputs.len() > 1 || graph.consumers(node.id).len() > 1
            {
                return Err(SluiceError::not_supported(format!(
                    "stepping a job that is not one chain (at {})",
                    node.name()
                )));
            }
            match &node.op {
                NodeOp::Source {
                    source, projection, ..
                } => {
                    let mut reader = source.open(ScanContext {
                        projection: projection.clone(),
                        instance: 0,
                        parallelism: 1,
                        batch_size: config.batch_size(),
                        metrics: Arc::clone(&metrics),
                    })?;
                    splits = reader.split_count();
                    while let Some(b) = reader.next_batch().await? {
                        inputs.push((reader.last_split(), b));
                    }
                }
                NodeOp::Values { batches } => inputs.extend(batches.iter().map(|b| (0, b.clone()))),
                _ => ops.extend(operator_for(node, splits, &metrics)?),
            }
        }
        Ok(SteppedJob {
            inputs,
            ops,
            position: 0,
            ended: false,
        })
    }

    /// How many input batches there are.
    pub fn input_batches(&self) -> usize {
        self.inputs.len()
    }

    /// Feeds the next input batch, or — after the last one — ends the
    /// input. Returns what the chain emitted; `None` once it has ended.
    pub fn step(&mut self) -> Result<Option<Vec<Event>>> {
        if let Some((split, batch)) = self.inputs.get(self.position).cloned() {
            self.position += 1;
            let origin = BatchOrigin { split };
            return pass(&mut self.ops, vec![Event::Batch(batch)], origin).map(Some);
        }
        if self.ended {
            return Ok(None);
        }
        self.ended = true;
        let mut emitted = Vec::new();
        for i in 0..self.ops.len() {
            let mut out = Vec::new();
            self.ops[i].on_end(&mut out)?;
            emitted.extend(pass(&mut self.ops[i + 1..], out, BatchOrigin::default())?);
        }
        Ok(Some(emitted))
    }

    /// Every operator's state and the input position.
    pub fn snapshot(&mut self) -> Result<JobSnapshot> {
        let operators = self
            .ops
            .iter_mut()
            .map(|op| op.state().map_or(Ok(Vec::new()), |s| s.snapshot()))
            .collect::<Result<Vec<_>>>()?;
        Ok(JobSnapshot {
            position: self.position,
            operators,
        })
    }

    /// Restores a snapshot taken from a job planned from the same SQL; the
    /// next step continues after the input it had consumed.
    pub fn restore(&mut self, snapshot: &JobSnapshot) -> Result<()> {
        if snapshot.operators.len() != self.ops.len() {
            return Err(SluiceError::state(format!(
                "the snapshot has {} operators, the job {}",
                snapshot.operators.len(),
                self.ops.len()
            )));
        }
        for (op, state) in self.ops.iter_mut().zip(&snapshot.operators) {
            match op.state() {
                Some(s) => s.restore(state)?,
                None if state.is_empty() => {}
                None => return Err(SluiceError::state("state for a stateless operator")),
            }
        }
        self.position = snapshot.position;
        Ok(())
    }
}
