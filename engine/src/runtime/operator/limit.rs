//! LIMIT/OFFSET over a bounded input (rejected at planning otherwise).

use datafusion::arrow::record_batch::RecordBatch;

use super::{BatchOrigin, Event, Operator};
use crate::error::Result;

/// Skips `skip` rows, then passes at most `fetch` rows.
pub struct LimitOperator {
    skip: usize,
    remaining: Option<usize>,
}

impl LimitOperator {
    pub fn new(skip: usize, fetch: Option<usize>) -> Self {
        LimitOperator {
            skip,
            remaining: fetch,
        }
    }
}

impl Operator for LimitOperator {
    fn process(
        &mut self,
        mut batch: RecordBatch,
        _origin: BatchOrigin,
        out: &mut Vec<Event>,
    ) -> Result<()> {
        if self.skip > 0 {
            let s = self.skip.min(batch.num_rows());
            self.skip -= s;
            batch = batch.slice(s, batch.num_rows() - s);
        }
        if let Some(r) = self.remaining.as_mut() {
            let take = (*r).min(batch.num_rows());
            *r -= take;
            batch = batch.slice(0, take);
        }
        if batch.num_rows() > 0 {
            out.push(Event::Batch(batch));
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.remaining == Some(0)
    }
}
