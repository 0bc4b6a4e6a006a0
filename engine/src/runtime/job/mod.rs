//! Jobs: what `INSERT INTO` and `SELECT` start, and the registry `SHOW JOBS`
//! reads.

mod handle;
mod registry;

pub use handle::{JobHandle, JobInfo, JobStatus, OperatorInfo};
pub use registry::JobRegistry;
