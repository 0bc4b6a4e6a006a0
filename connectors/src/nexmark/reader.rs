//! One parallel instance of a `nexmark` source: its split of the event ids,
//! generated a batch at a time straight into Arrow buffers. Only the
//! projected columns are built, and an event kind whose ROW is not read is
//! not generated at all (each event has its own random seed, so skipping
//! one changes nothing about the others).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, Int32Array};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use sluice_engine::Result;
use sluice_engine::connector::{ScanContext, SourceReader};
use tokio::time::Instant;

use super::auction::AuctionCols;
use super::bid::BidCols;
use super::config::NexmarkConfig;
use super::model::{AUCTION, BID, Model, PERSON, Split};
use super::person::PersonCols;
use super::schema::Column;

/// Keeps a batch's string data well below Arrow's `i32` offsets.
const MAX_BATCH_BYTES: usize = 1 << 30;

/// Generates one instance's batches.
pub(crate) struct NexmarkReader {
    model: Model,
    split: Split,
    /// Events this instance has generated so far.
    count: i64,
    /// Projected columns in output order, with their declared types.
    columns: Vec<(Column, DataType)>,
    schema: SchemaRef,
    batch_rows: usize,
    keep_alive: bool,
    /// `None` at max emit speed; otherwise when event time `base_time` is
    /// due on the wall clock (set by the first batch).
    pacing: Option<Option<Instant>>,
}

impl NexmarkReader {
    pub(crate) fn new(
        config: &NexmarkConfig,
        table_schema: &SchemaRef,
        columns: &[Column],
        ctx: &ScanContext,
    ) -> Result<Self> {
        let schema = ctx.project_schema(table_schema)?;
        let indices = ctx
            .projection
            .clone()
            .unwrap_or_else(|| (0..columns.len()).collect());
        let columns = indices
            .iter()
            .map(|&i| (columns[i], table_schema.field(i).data_type().clone()))
            .collect();
        let instances = ctx.parallelism.max(1);
        let largest = config
            .avg_person_size
            .max(config.avg_auction_size)
            .max(config.avg_bid_size)
            .max(0) as usize;
        let byte_cap = MAX_BATCH_BYTES / (largest * 2 + 1024);
        Ok(NexmarkReader {
            model: Model::new(config, instances),
            split: Split::new(config, instances, ctx.instance),
            count: 0,
            columns,
            schema,
            batch_rows: ctx.batch_size.clamp(1, byte_cap.max(1)),
            keep_alive: config.keep_alive,
            pacing: (!config.max_emit_speed).then_some(None),
        })
    }

    /// Generates up to `n` events; with `ts_limit`, stops before the first
    /// event whose timestamp is later (but always generates one).
    pub(crate) fn generate(&mut self, n: usize, ts_limit: Option<i64>) -> Result<RecordBatch> {
        let wants = |c: Column| self.columns.iter().any(|(x, _)| *x == c);
        let m = &self.model;
        let total = m.total_proportion.max(1) as usize;
        let share = |avg: i32, prop: i64| (avg.max(0) as usize * prop as usize) / total + 1;
        let mut person = wants(Column::Person)
            .then(|| PersonCols::with_capacity(n, share(m.avg_person_size, m.person_proportion)));
        let mut auction = wants(Column::Auction).then(|| {
            AuctionCols::with_capacity(n, share(m.avg_auction_size, m.auction_proportion))
        });
        let bid_proportion = m.total_proportion - m.person_proportion - m.auction_proportion;
        let mut bid = wants(Column::Bid)
            .then(|| BidCols::with_capacity(n, share(m.avg_bid_size, bid_proportion)));

        let mut kinds: Vec<i32> = Vec::with_capacity(n);
        for _ in 0..n {
            let number = self.count + 1;
            let ts = m.timestamp(number);
            if ts_limit.is_some_and(|limit| ts > limit) && !kinds.is_empty() {
                break;
            }
            let id = self.split.first_event_id + number;
            let kind = m.kind(id);
            kinds.push(kind);
            if let Some(p) = person.as_mut() {
                if kind == PERSON {
                    p.push(m, id, ts);
                } else {
                    p.push_absent();
                }
            }
            if let Some(a) = auction.as_mut() {
                if kind == AUCTION {
                    a.push(m, id, number, ts);
                } else {
                    a.push_absent();
                }
            }
            if let Some(b) = bid.as_mut() {
                if kind == BID {
                    b.push(m, id, ts);
                } else {
                    b.push_absent();
                }
            }
            self.count += 1;
        }

        let rows = kinds.len();
        let validity = |k: i32| {
            let nulls = NullBuffer::new(BooleanBuffer::collect_bool(rows, |i| kinds[i] == k));
            (nulls.null_count() > 0).then_some(nulls)
        };
        let type_of = |c: Column| {
            self.columns
                .iter()
                .find(|(x, _)| *x == c)
                .map(|(_, t)| t.clone())
                .unwrap_or_else(|| c.data_type())
        };
        let person = person
            .map(|p| p.finish(&type_of(Column::Person), validity(PERSON)))
            .transpose()?;
        let auction = auction
            .map(|a| a.finish(&type_of(Column::Auction), validity(AUCTION)))
            .transpose()?;
        let bid = bid
            .map(|b| b.finish(&type_of(Column::Bid), validity(BID)))
            .transpose()?;
        let event_type: ArrayRef = Arc::new(Int32Array::new(ScalarBuffer::from(kinds), None));
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter()
            .filter_map(|(c, _)| match c {
                Column::EventType => Some(event_type.clone()),
                Column::Person => person.clone(),
                Column::Auction => auction.clone(),
                Column::Bid => bid.clone(),
            })
            .collect();
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        Ok(RecordBatch::try_new_with_options(
            self.schema.clone(),
            arrays,
            &options,
        )?)
    }

    /// Events this instance has left.
    fn remaining(&self) -> i64 {
        self.split.events - self.count
    }
}

#[async_trait]
impl SourceReader for NexmarkReader {
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.remaining() <= 0 {
            if self.keep_alive {
                // Like the reference: stay up, idle, until the job is stopped.
                std::future::pending::<()>().await;
            }
            return Ok(None);
        }
        let n = usize::try_from(self.remaining())
            .unwrap_or(usize::MAX)
            .min(self.batch_rows);
        let ts_limit = match self.pacing.as_mut() {
            None => None,
            Some(start) => {
                // Event time runs at wall-clock speed from the first batch:
                // wait for the next event, then emit everything now due.
                let start = *start.get_or_insert_with(Instant::now);
                let next_ts = self.model.timestamp(self.count + 1);
                let offset = u64::try_from(next_ts - self.model.base_time).unwrap_or(0);
                tokio::time::sleep_until(start + Duration::from_millis(offset)).await;
                let elapsed = i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX);
                Some(self.model.base_time.saturating_add(elapsed))
            }
        };
        self.generate(n, ts_limit).map(Some)
    }
}
