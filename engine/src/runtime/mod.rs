//! The streaming runtime: one tokio task per chain of fused operators per
//! parallel instance, connected by bounded channels that carry [`Message`]s.

pub mod aggregate;
pub mod executor;
pub mod job;
mod message;
mod metrics;
pub mod operator;
pub mod over;
pub mod rank;
mod state;
pub mod time;
pub mod window;

pub use job::{JobHandle, JobInfo, JobRegistry, JobStatus};
pub use message::{CheckpointBarrier, Envelope, Message, Watermark};
pub use metrics::{MetricsSnapshot, OperatorMetrics};
pub use state::OperatorState;
