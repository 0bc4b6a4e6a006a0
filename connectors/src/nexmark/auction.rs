//! Auction events, drawn in the reference's order: seller, category,
//! initial bid, expiry, item name, description, reserve, then `extra`.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::DataType;
use sluice_engine::Result;

use super::columns::{StrCol, int64, row, string, timestamp_ms};
use super::java_random::JavaRandom;
use super::model::{
    FIRST_AUCTION_ID, FIRST_CATEGORY_ID, FIRST_PERSON_ID, Model, NUM_IN_FLIGHT_AUCTIONS,
    java_round, next_long,
};
use super::strings::{push_next_extra, push_next_string};

/// Categories are `10..10 + NUM_CATEGORIES`.
const NUM_CATEGORIES: i32 = 5;
/// Hot sellers are the first of each block of this many people.
const HOT_SELLER_RATIO: i64 = 100;

/// A log-uniform price between 1.00 and 1,000,000.00 (in cents).
pub(crate) fn next_price(rng: &mut JavaRandom) -> i64 {
    java_round(10f64.powf(rng.next_double() * 6.0) * 100.0)
}

/// The `auction` ROW's fields under construction.
pub(crate) struct AuctionCols {
    id: Vec<i64>,
    item_name: StrCol,
    description: StrCol,
    initial_bid: Vec<i64>,
    reserve: Vec<i64>,
    date_time: Vec<i64>,
    expires: Vec<i64>,
    seller: Vec<i64>,
    category: Vec<i64>,
    extra: StrCol,
}

impl AuctionCols {
    pub(crate) fn with_capacity(rows: usize, avg_size: usize) -> Self {
        AuctionCols {
            id: Vec::with_capacity(rows),
            item_name: StrCol::with_capacity(rows, 11),
            description: StrCol::with_capacity(rows, 51),
            initial_bid: Vec::with_capacity(rows),
            reserve: Vec::with_capacity(rows),
            date_time: Vec::with_capacity(rows),
            expires: Vec::with_capacity(rows),
            seller: Vec::with_capacity(rows),
            category: Vec::with_capacity(rows),
            extra: StrCol::with_capacity(rows, avg_size),
        }
    }

    /// A row that is not an auction: placeholders under a NULL row.
    pub(crate) fn push_absent(&mut self) {
        self.id.push(0);
        self.item_name.commit();
        self.description.commit();
        self.initial_bid.push(0);
        self.reserve.push(0);
        self.date_time.push(0);
        self.expires.push(0);
        self.seller.push(0);
        self.category.push(0);
        self.extra.commit();
    }

    /// Generates the auction of event `event_id`, this instance's event
    /// number `event_number`, at `timestamp`.
    pub(crate) fn push(&mut self, model: &Model, event_id: i64, event_number: i64, timestamp: i64) {
        let rng = &mut JavaRandom::new(event_id);
        self.id
            .push(model.last_base0_auction_id(event_id) + FIRST_AUCTION_ID);

        let seller = if rng.next_int_bounded(model.hot_sellers_ratio) > 0 {
            (model.last_base0_person_id(event_id) / HOT_SELLER_RATIO) * HOT_SELLER_RATIO
        } else {
            model.next_base0_person_id(event_id, rng)
        };
        self.seller.push(seller + FIRST_PERSON_ID);
        self.category
            .push(FIRST_CATEGORY_ID + i64::from(rng.next_int_bounded(NUM_CATEGORIES)));
        let initial_bid = next_price(rng);
        self.initial_bid.push(initial_bid);
        self.expires
            .push(timestamp + auction_length_ms(model, event_number, timestamp, rng));
        let name_len = push_next_string(rng, 20, b' ', &mut self.item_name.bytes);
        self.item_name.commit();
        let desc_len = push_next_string(rng, 100, b' ', &mut self.description.bytes);
        self.description.commit();
        self.reserve.push(initial_bid + next_price(rng));
        self.date_time.push(timestamp);

        let current = 8 + name_len + desc_len + 8 + 8 + 8 + 8 + 8;
        push_next_extra(
            rng,
            current as i32,
            model.avg_auction_size,
            &mut self.extra.bytes,
        );
        self.extra.commit();
    }

    /// The `auction` column; `nulls` marks the rows that are auctions.
    pub(crate) fn finish(
        self,
        data_type: &DataType,
        nulls: Option<NullBuffer>,
    ) -> Result<ArrayRef> {
        let children = vec![
            int64(self.id, nulls.clone()),
            string(self.item_name, nulls.clone())?,
            string(self.description, nulls.clone())?,
            int64(self.initial_bid, nulls.clone()),
            int64(self.reserve, nulls.clone()),
            timestamp_ms(self.date_time, nulls.clone()),
            timestamp_ms(self.expires, nulls.clone()),
            int64(self.seller, nulls.clone()),
            int64(self.category, nulls.clone()),
            string(self.extra, nulls.clone())?,
        ];
        row(data_type, children, nulls)
    }
}

/// How long an auction stays open: on average twice the event time it
/// takes until `NUM_IN_FLIGHT_AUCTIONS` more auctions exist, so about that
/// many are open at any time.
fn auction_length_ms(
    model: &Model,
    event_number: i64,
    timestamp: i64,
    rng: &mut JavaRandom,
) -> i64 {
    let events_for_auctions =
        (NUM_IN_FLIGHT_AUCTIONS * model.total_proportion) / model.auction_proportion;
    let future_auction = model.timestamp(event_number + events_for_auctions);
    let horizon_ms = future_auction - timestamp;
    1 + next_long(rng, (horizon_ms * 2).max(1))
}
