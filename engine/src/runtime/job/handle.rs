use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tokio::sync::watch;

use crate::error::{Result, SluiceError};
use crate::runtime::OperatorMetrics;

/// Flink's job states, as `SHOW JOBS` prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStatus {
    Created,
    Running,
    Finished,
    Canceled,
    /// Failed with this error message.
    Failed(String),
}

impl JobStatus {
    /// True once the job can change no more.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobStatus::Finished | JobStatus::Canceled | JobStatus::Failed(_)
        )
    }
    /// The state name without the error.
    pub fn name(&self) -> &'static str {
        match self {
            JobStatus::Created => "CREATED",
            JobStatus::Running => "RUNNING",
            JobStatus::Finished => "FINISHED",
            JobStatus::Canceled => "CANCELED",
            JobStatus::Failed(_) => "FAILED",
        }
    }
}

/// One operator instance of a job, with its live counters.
#[derive(Debug, Clone)]
pub struct OperatorInfo {
    /// e.g. `Source: orders[0]` or `Calc(filter, project)[1]`.
    pub name: String,
    pub metrics: Arc<OperatorMetrics>,
}

/// Everything the registry knows about one job.
#[derive(Debug)]
pub struct JobInfo {
    /// 32 hex digits, like Flink's job ids.
    pub id: String,
    /// `insert-into_default_catalog.default_database.sink` or the statement.
    pub name: String,
    pub start_time: SystemTime,
    pub operators: Mutex<Vec<OperatorInfo>>,
    status: watch::Sender<JobStatus>,
    cancel: watch::Sender<bool>,
}

impl JobInfo {
    /// A new job in state CREATED.
    pub fn new(id: String, name: String) -> Arc<JobInfo> {
        Arc::new(JobInfo {
            id,
            name,
            start_time: SystemTime::now(),
            operators: Mutex::new(Vec::new()),
            status: watch::Sender::new(JobStatus::Created),
            cancel: watch::Sender::new(false),
        })
    }
    /// The current state.
    pub fn status(&self) -> JobStatus {
        self.status.borrow().clone()
    }
    /// Moves the job to `status` unless it already ended.
    pub fn set_status(&self, status: JobStatus) {
        self.status.send_if_modified(|s| {
            if s.is_terminal() {
                false
            } else {
                *s = status;
                true
            }
        });
    }
    /// Asks the job to stop: sources end, sinks flush, state CANCELED.
    pub fn cancel(&self) {
        self.cancel.send_replace(true);
    }
    /// True once cancellation was requested.
    pub fn is_cancel_requested(&self) -> bool {
        *self.cancel.borrow()
    }
    /// A receiver that changes to `true` when cancellation is requested.
    pub fn cancel_signal(&self) -> watch::Receiver<bool> {
        self.cancel.subscribe()
    }
    /// Waits until the job ends; `Ok` for FINISHED and CANCELED.
    pub async fn wait(&self) -> Result<()> {
        let mut rx = self.status.subscribe();
        let status = rx
            .wait_for(|s| s.is_terminal())
            .await
            .map_err(|_| SluiceError::execution("job registry dropped"))?
            .clone();
        match status {
            JobStatus::Failed(e) => Err(SluiceError::Execution(format!(
                "job {} failed: {e}",
                self.id
            ))),
            _ => Ok(()),
        }
    }
}

/// A cheap handle to a running or finished job.
#[derive(Debug, Clone)]
pub struct JobHandle {
    pub info: Arc<JobInfo>,
}

impl JobHandle {
    /// The job's id.
    pub fn id(&self) -> &str {
        &self.info.id
    }
    /// Requests a clean stop.
    pub fn cancel(&self) {
        self.info.cancel()
    }
    /// Waits for the job to end.
    pub async fn wait(&self) -> Result<()> {
        self.info.wait().await
    }
    /// The current state.
    pub fn status(&self) -> JobStatus {
        self.info.status()
    }
}
