//! One parallel instance of a datagen source: its share of the rows and of
//! every sequence, throttled to its share of `rows-per-second`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use sluice_engine::Result;
use sluice_engine::connector::{ScanContext, SourceReader};
use tokio::time::Instant;

use super::DatagenSpec;
use super::field::Generator;
use super::generator::{Clock, random_array, sequence_array};

/// Keeps a batch's variable-length data well below Arrow's `i32` offsets.
const MAX_BATCH_BYTES: u64 = 1 << 30;

/// The part `instance` of `parallelism` gets of `total` items when they are
/// split into contiguous ranges, the remainder going to the low instances:
/// `(offset, count)`.
pub(crate) fn split(total: u64, parallelism: usize, instance: usize) -> (u64, u64) {
    let p = parallelism.max(1) as u64;
    let i = (instance as u64).min(p - 1);
    let (base, rem) = (total / p, total % p);
    let count = base + u64::from(i < rem);
    let offset = i * base + i.min(rem);
    (offset, count)
}

/// Paces batches to a rate like Flink's throttler: a burst of at most one
/// second's rows, then a pause; falling behind (back-pressure) is forgiven
/// rather than caught up in a burst.
#[derive(Debug)]
struct Throttle {
    rows_per_second: u64,
    start: Option<Instant>,
    emitted: u64,
}

impl Throttle {
    fn elapsed_for(&self, rows: u64) -> Duration {
        Duration::from_secs_f64(rows as f64 / self.rows_per_second as f64)
    }

    async fn wait(&mut self) {
        let now = Instant::now();
        let start = *self.start.get_or_insert(now);
        let due = start + self.elapsed_for(self.emitted);
        if due > now {
            tokio::time::sleep_until(due).await;
        } else if now.duration_since(due) > Duration::from_secs(1) {
            self.start = now.checked_sub(self.elapsed_for(self.emitted));
        }
    }
}

/// Generates one instance's batches.
pub(crate) struct DatagenReader {
    spec: Arc<DatagenSpec>,
    /// Indices of the fields to produce.
    columns: Vec<usize>,
    schema: SchemaRef,
    /// Next value of each sequence field (indexed like `spec.fields`).
    next: Vec<i64>,
    /// Rows left for this instance; `None` when unbounded.
    remaining: Option<u64>,
    batch_rows: usize,
    throttle: Throttle,
    rng: SmallRng,
}

impl DatagenReader {
    pub(crate) fn new(spec: Arc<DatagenSpec>, ctx: &ScanContext) -> Result<Self> {
        let schema = ctx.project_schema(&spec.schema)?;
        let columns = ctx
            .projection
            .clone()
            .unwrap_or_else(|| (0..spec.fields.len()).collect());
        let (p, i) = (ctx.parallelism.max(1), ctx.instance);

        let mut remaining = spec.number_of_rows.map(|n| split(n, p, i).1);
        let mut next = vec![0i64; spec.fields.len()];
        for (f, field) in spec.fields.iter().enumerate() {
            if let (Generator::Sequence { start, .. }, Some(len)) =
                (&field.generator, field.sequence_len())
            {
                let (offset, count) = split(len, p, i);
                // offset < len, so start + offset is within start..=end.
                next[f] = (i128::from(*start) + i128::from(offset)) as i64;
                remaining = Some(remaining.map_or(count, |r| r.min(count)));
            }
        }

        let rows_per_second = split(spec.rows_per_second, p, i).1.max(1);
        let row_bytes = columns
            .iter()
            .filter_map(|c| spec.fields.get(*c))
            .fold(1u64, |acc, f| acc.saturating_add(f.max_row_bytes()));
        let byte_cap = usize::try_from((MAX_BATCH_BYTES / row_bytes).max(1)).unwrap_or(usize::MAX);
        let rate_cap = usize::try_from(rows_per_second).unwrap_or(usize::MAX);
        let batch_rows = ctx.batch_size.max(1).min(byte_cap).min(rate_cap);

        Ok(Self {
            spec,
            columns,
            schema,
            next,
            remaining,
            batch_rows,
            throttle: Throttle {
                rows_per_second,
                start: None,
                emitted: 0,
            },
            rng: SmallRng::from_rng(&mut rand::rng()),
        })
    }

    /// Generates the next `n` rows, without throttling.
    pub(crate) fn generate(&mut self, n: usize) -> Result<RecordBatch> {
        let clock = Clock::now();
        let mut arrays = Vec::with_capacity(self.columns.len());
        for &c in &self.columns {
            let field = &self.spec.fields[c];
            let array = match field.generator {
                Generator::Sequence { .. } => sequence_array(field, self.next[c], n)?,
                _ => random_array(field, n, &mut self.rng, &clock)?,
            };
            arrays.push(array);
        }
        for (f, field) in self.spec.fields.iter().enumerate() {
            if matches!(field.generator, Generator::Sequence { .. }) {
                self.next[f] = self.next[f].saturating_add(n as i64);
            }
        }
        let options = RecordBatchOptions::new().with_row_count(Some(n));
        Ok(RecordBatch::try_new_with_options(
            self.schema.clone(),
            arrays,
            &options,
        )?)
    }

    /// Rows the next batch holds: `None` once the instance is done.
    fn next_size(&self) -> Option<usize> {
        match self.remaining {
            Some(0) => None,
            Some(r) => Some(
                usize::try_from(r)
                    .unwrap_or(usize::MAX)
                    .min(self.batch_rows),
            ),
            None => Some(self.batch_rows),
        }
    }
}

#[async_trait]
impl SourceReader for DatagenReader {
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let Some(n) = self.next_size() else {
            return Ok(None);
        };
        self.throttle.wait().await;
        let batch = self.generate(n)?;
        self.throttle.emitted += n as u64;
        if let Some(r) = self.remaining.as_mut() {
            *r -= n as u64;
        }
        Ok(Some(batch))
    }
}
