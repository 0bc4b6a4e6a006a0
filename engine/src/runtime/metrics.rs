//! Per-operator counters, shared between the operator task and the job
//! registry (so `SHOW JOBS` / `DESCRIBE JOB` read them live). Relaxed atomics:
//! they are statistics, not synchronization.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one operator instance.
#[derive(Debug, Default)]
pub struct OperatorMetrics {
    rows_in: AtomicU64,
    rows_out: AtomicU64,
    batches_out: AtomicU64,
    records_skipped: AtomicU64,
    bytes_in: AtomicU64,
}

/// A point-in-time copy of [`OperatorMetrics`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MetricsSnapshot {
    pub rows_in: u64,
    pub rows_out: u64,
    pub batches_out: u64,
    /// Malformed records skipped because the user asked for it.
    pub records_skipped: u64,
    pub bytes_in: u64,
}

impl OperatorMetrics {
    pub fn add_rows_in(&self, n: usize) {
        self.rows_in.fetch_add(n as u64, Ordering::Relaxed);
    }
    pub fn add_rows_out(&self, n: usize) {
        self.rows_out.fetch_add(n as u64, Ordering::Relaxed);
        self.batches_out.fetch_add(1, Ordering::Relaxed);
    }
    /// Counts a malformed record skipped under `*.ignore-parse-errors`.
    pub fn add_skipped(&self, n: usize) {
        self.records_skipped.fetch_add(n as u64, Ordering::Relaxed);
    }
    pub fn add_bytes_in(&self, n: usize) {
        self.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
    }
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            rows_in: self.rows_in.load(Ordering::Relaxed),
            rows_out: self.rows_out.load(Ordering::Relaxed),
            batches_out: self.batches_out.load(Ordering::Relaxed),
            records_skipped: self.records_skipped.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
        }
    }
}
