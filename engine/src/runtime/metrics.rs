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
    late_rows_dropped: AtomicU64,
    flushes: AtomicU64,
    flush_micros_total: AtomicU64,
    flush_micros_max: AtomicU64,
    rows_written: AtomicU64,
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
    /// Rows a window dropped because they arrived behind the watermark.
    pub late_rows_dropped: u64,
    /// Completed sink flushes.
    pub flushes: u64,
    /// Sum and maximum of sink flush latencies, in microseconds.
    pub flush_micros_total: u64,
    pub flush_micros_max: u64,
    /// Rows a sink has durably written (acknowledged by the target).
    pub rows_written: u64,
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
    /// Counts rows a window dropped as late.
    pub fn add_late_dropped(&self, n: usize) {
        self.late_rows_dropped
            .fetch_add(n as u64, Ordering::Relaxed);
    }
    /// Records one completed sink flush of `rows` rows that took `took`.
    pub fn add_flush(&self, rows: usize, took: std::time::Duration) {
        let us = took.as_micros() as u64;
        self.flushes.fetch_add(1, Ordering::Relaxed);
        self.flush_micros_total.fetch_add(us, Ordering::Relaxed);
        self.flush_micros_max.fetch_max(us, Ordering::Relaxed);
        self.rows_written.fetch_add(rows as u64, Ordering::Relaxed);
    }
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            rows_in: self.rows_in.load(Ordering::Relaxed),
            rows_out: self.rows_out.load(Ordering::Relaxed),
            batches_out: self.batches_out.load(Ordering::Relaxed),
            records_skipped: self.records_skipped.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            late_rows_dropped: self.late_rows_dropped.load(Ordering::Relaxed),
            flushes: self.flushes.load(Ordering::Relaxed),
            flush_micros_total: self.flush_micros_total.load(Ordering::Relaxed),
            flush_micros_max: self.flush_micros_max.load(Ordering::Relaxed),
            rows_written: self.rows_written.load(Ordering::Relaxed),
        }
    }
}
