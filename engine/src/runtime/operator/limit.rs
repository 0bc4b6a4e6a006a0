//! LIMIT/OFFSET over a bounded input (rejected at planning otherwise).

use datafusion::arrow::record_batch::RecordBatch;

use super::{BatchOrigin, Event, Operator};
use crate::error::Result;
use crate::runtime::state::{OperatorState, RowWriter, SnapshotReader, SnapshotWriter};

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

    fn state(&mut self) -> Option<&mut dyn OperatorState> {
        Some(self)
    }
}

/// The rows still to skip and to pass.
impl OperatorState for LimitOperator {
    fn snapshot(&mut self) -> Result<Vec<RecordBatch>> {
        let mut w = SnapshotWriter::new();
        let remaining = self.remaining.map(|r| r as i64);
        w.meta(RowWriter::new().i64(self.skip as i64).opt_i64(remaining))?;
        Ok(w.finish())
    }

    fn restore(&mut self, snapshot: &[RecordBatch]) -> Result<()> {
        let r = SnapshotReader::new(snapshot, &["meta"])?;
        if let Some(mut m) = r.meta() {
            self.skip = m.i64()?.max(0) as usize;
            self.remaining = m.opt_i64()?.map(|v| v.max(0) as usize);
        }
        Ok(())
    }
}
