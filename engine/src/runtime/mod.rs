//! The streaming runtime: one tokio task per (chained) operator instance,
//! connected by bounded channels that carry [`Message`]s.

pub mod job;
mod message;
mod metrics;
mod state;

pub use job::{JobHandle, JobInfo, JobRegistry, JobStatus};
pub use message::{CheckpointBarrier, Message, Watermark};
pub use metrics::{MetricsSnapshot, OperatorMetrics};
pub use state::OperatorState;
