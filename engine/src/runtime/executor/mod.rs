//! Turns a streaming graph into running tasks. Nodes are chained into one
//! task when data can pass between them without a channel (single consumer,
//! same parallelism), as Flink chains operators; chains are connected by
//! bounded channels, which is the back-pressure.

mod build;
mod chain;
mod edge;
mod inputs;
mod stepped;

pub use stepped::{JobSnapshot, SteppedJob};

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::job::{JobInfo, JobStatus};
use crate::config::SessionConfig;
use crate::error::{Result, SluiceError};
use crate::planner::graph::StreamGraph;

/// Where a SELECT's rows go.
pub type CollectSender = mpsc::Sender<Result<RecordBatch>>;

/// Starts `graph` as job `job`. Returns at once; the job runs in the
/// background and updates `job`'s status when it ends.
pub fn spawn_job(
    graph: StreamGraph,
    job: Arc<JobInfo>,
    config: &SessionConfig,
    collect: Option<(CollectSender, SchemaRef)>,
) -> Result<()> {
    let tasks = build::build_tasks(&graph, &job, config, collect.clone())?;
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
