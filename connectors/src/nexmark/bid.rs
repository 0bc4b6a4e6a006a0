//! Bid events, drawn in the reference's order: auction, bidder, price,
//! channel and URL, then `extra`.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::DataType;
use sluice_engine::Result;

use super::auction::next_price;
use super::columns::{StrCol, int64, row, string, timestamp_ms};
use super::java_random::JavaRandom;
use super::model::{FIRST_AUCTION_ID, FIRST_PERSON_ID, Model};
use super::strings::{CHANNELS, CHANNELS_NUMBER, HOT_CHANNELS, push_next_extra};

/// Hot auctions are the first of each block of this many auctions.
const HOT_AUCTION_RATIO: i64 = 100;
/// Hot bidders are the second of each block of this many people.
const HOT_BIDDER_RATIO: i64 = 100;
/// One bid in this many names a hot channel.
const HOT_CHANNELS_RATIO: i32 = 2;
/// The size the reference counts for a bid's fixed fields.
const FIXED_SIZE: i32 = 8 + 8 + 8 + 8;

/// The `bid` ROW's fields under construction.
pub(crate) struct BidCols {
    auction: Vec<i64>,
    bidder: Vec<i64>,
    price: Vec<i64>,
    channel: StrCol,
    url: StrCol,
    date_time: Vec<i64>,
    extra: StrCol,
}

impl BidCols {
    pub(crate) fn with_capacity(rows: usize, avg_size: usize) -> Self {
        BidCols {
            auction: Vec::with_capacity(rows),
            bidder: Vec::with_capacity(rows),
            price: Vec::with_capacity(rows),
            channel: StrCol::with_capacity(rows, 10),
            url: StrCol::with_capacity(rows, 72),
            date_time: Vec::with_capacity(rows),
            extra: StrCol::with_capacity(rows, avg_size),
        }
    }

    /// A row that is not a bid: placeholders under a NULL row.
    pub(crate) fn push_absent(&mut self) {
        self.auction.push(0);
        self.bidder.push(0);
        self.price.push(0);
        self.channel.commit();
        self.url.commit();
        self.date_time.push(0);
        self.extra.commit();
    }

    /// Generates the bid of event `event_id` at `timestamp`.
    pub(crate) fn push(&mut self, model: &Model, event_id: i64, timestamp: i64) {
        let rng = &mut JavaRandom::new(event_id);
        let auction = if rng.next_int_bounded(model.hot_auction_ratio) > 0 {
            (model.last_base0_auction_id(event_id) / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO
        } else {
            model.next_base0_auction_id(event_id, rng)
        };
        self.auction.push(auction + FIRST_AUCTION_ID);

        let bidder = if rng.next_int_bounded(model.hot_bidders_ratio) > 0 {
            (model.last_base0_person_id(event_id) / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1
        } else {
            model.next_base0_person_id(event_id, rng)
        };
        // The reference adds the person id offset twice (once after the
        // channel is drawn): bidders are 2000 above their person ids.
        self.bidder.push(bidder + 2 * FIRST_PERSON_ID);
        self.price.push(next_price(rng));

        let table = &*CHANNELS;
        if rng.next_int_bounded(HOT_CHANNELS_RATIO) > 0 {
            let i = rng.next_int_bounded(HOT_CHANNELS.len() as i32) as usize;
            self.channel.push(HOT_CHANNELS[i].as_bytes());
            self.url.push(table.hot_urls[i].as_bytes());
        } else {
            let i = rng.next_int_bounded(CHANNELS_NUMBER) as usize;
            self.channel.push(table.names[i].as_bytes());
            self.url.push(table.urls[i].as_bytes());
        }
        self.date_time.push(timestamp);

        push_next_extra(rng, FIXED_SIZE, model.avg_bid_size, &mut self.extra.bytes);
        self.extra.commit();
    }

    /// The `bid` column; `nulls` marks the rows that are bids.
    pub(crate) fn finish(
        self,
        data_type: &DataType,
        nulls: Option<NullBuffer>,
    ) -> Result<ArrayRef> {
        let children = vec![
            int64(self.auction, nulls.clone()),
            int64(self.bidder, nulls.clone()),
            int64(self.price, nulls.clone()),
            string(self.channel, nulls.clone())?,
            string(self.url, nulls.clone())?,
            timestamp_ms(self.date_time, nulls.clone()),
            string(self.extra, nulls.clone())?,
        ];
        row(data_type, children, nulls)
    }
}
