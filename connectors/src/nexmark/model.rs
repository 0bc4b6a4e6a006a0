//! The reference event model without the random parts: which event id is
//! a person, auction or bid, the dense id sequences, the "last" and
//! "random recent" person and auction ids, event timestamps, and how the
//! id space is split between parallel instances.

use super::config::NexmarkConfig;
use super::java_random::JavaRandom;

/// Person and auction ids are offset by this so small runs still find matches.
pub(crate) const FIRST_PERSON_ID: i64 = 1000;
pub(crate) const FIRST_AUCTION_ID: i64 = 1000;
pub(crate) const FIRST_CATEGORY_ID: i64 = 10;
/// Yet-to-be-created person and auction ids a random pick may land on.
const ID_LEAD: i64 = 10;
/// People a random seller or bidder is drawn from (`numActivePeople`).
const NUM_ACTIVE_PEOPLE: i64 = 1000;
/// Auctions a random bid is drawn from (`numInFlightAuctions`).
pub(crate) const NUM_IN_FLIGHT_AUCTIONS: i64 = 100;

/// `event_type` values, as the reference's `Event.Type`.
pub(crate) const PERSON: i32 = 0;
pub(crate) const AUCTION: i32 = 1;
pub(crate) const BID: i32 = 2;

/// What one source instance generates from: the model parameters and its
/// own timeline. Every instance starts at the same base time and spaces its
/// events `instances` times wider, so all together run at the configured rate.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub person_proportion: i64,
    pub auction_proportion: i64,
    pub total_proportion: i64,
    pub hot_auction_ratio: i32,
    pub hot_bidders_ratio: i32,
    pub hot_sellers_ratio: i32,
    pub avg_person_size: i32,
    pub avg_auction_size: i32,
    pub avg_bid_size: i32,
    pub base_time: i64,
    /// Microseconds between two events of this instance.
    pub inter_event_delay_us: f64,
}

impl Model {
    /// The model of an instance of a source split `instances` ways.
    pub(crate) fn new(config: &NexmarkConfig, instances: usize) -> Model {
        Model {
            person_proportion: i64::from(config.person_proportion),
            auction_proportion: i64::from(config.auction_proportion),
            total_proportion: config.total_proportion(),
            hot_auction_ratio: config.hot_auction_ratio,
            hot_bidders_ratio: config.hot_bidders_ratio,
            hot_sellers_ratio: config.hot_sellers_ratio,
            avg_person_size: config.avg_person_size,
            avg_auction_size: config.avg_auction_size,
            avg_bid_size: config.avg_bid_size,
            base_time: config.base_time,
            // Same operations, same order, as the reference: the rounding
            // of this double decides which millisecond an event lands in.
            inter_event_delay_us: 1_000_000.0 / f64::from(config.first_event_rate)
                * instances as f64,
        }
    }

    /// The kind of event `event_id` is: fixed by its place in the mix.
    pub(crate) fn kind(&self, event_id: i64) -> i32 {
        let rem = event_id % self.total_proportion;
        if rem < self.person_proportion {
            PERSON
        } else if rem < self.person_proportion + self.auction_proportion {
            AUCTION
        } else {
            BID
        }
    }

    /// Event time (epoch ms) of this instance's event number `n`.
    pub(crate) fn timestamp(&self, event_number: i64) -> i64 {
        self.base_time + (event_number as f64 * self.inter_event_delay_us) as i64 / 1000
    }

    /// The last person id (from 0) created at or before `event_id`.
    pub(crate) fn last_base0_person_id(&self, event_id: i64) -> i64 {
        let epoch = event_id / self.total_proportion;
        let mut offset = event_id % self.total_proportion;
        if offset >= self.person_proportion {
            offset = self.person_proportion - 1;
        }
        epoch * self.person_proportion + offset
    }

    /// The last auction id (from 0) created at or before `event_id`.
    pub(crate) fn last_base0_auction_id(&self, event_id: i64) -> i64 {
        let mut epoch = event_id / self.total_proportion;
        let mut offset = event_id % self.total_proportion;
        if offset < self.person_proportion {
            epoch -= 1;
            offset = self.auction_proportion - 1;
        } else if offset >= self.person_proportion + self.auction_proportion {
            offset = self.auction_proportion - 1;
        } else {
            offset -= self.person_proportion;
        }
        epoch * self.auction_proportion + offset
    }

    /// A random recently active person (from 0), a few ids ahead included.
    pub(crate) fn next_base0_person_id(&self, event_id: i64, rng: &mut JavaRandom) -> i64 {
        let people = self.last_base0_person_id(event_id) + 1;
        let active = people.min(NUM_ACTIVE_PEOPLE);
        let n = next_long(rng, active + ID_LEAD);
        people - active + n
    }

    /// A random auction likely still open (from 0), a few ids ahead included.
    pub(crate) fn next_base0_auction_id(&self, event_id: i64, rng: &mut JavaRandom) -> i64 {
        let max = self.last_base0_auction_id(event_id);
        let min = (max - NUM_IN_FLIGHT_AUCTIONS).max(0);
        min + next_long(rng, max - min + 1 + ID_LEAD)
    }
}

/// The reference's `LongGenerator.nextLong`: uniform below `n` through
/// `nextInt` when `n` fits, else the (skewed) `abs(nextLong() % n)`.
pub(crate) fn next_long(rng: &mut JavaRandom, n: i64) -> i64 {
    if n < i64::from(i32::MAX) {
        // Always positive here: `n` counts ids plus a positive lead or is
        // clamped to at least 1 by the caller.
        i64::from(rng.next_int_bounded(n.max(1) as i32))
    } else {
        (rng.next_long() % n).wrapping_abs()
    }
}

/// The reference's `Math.round` of a positive double.
pub(crate) fn java_round(x: f64) -> i64 {
    // Ties go up in Java and away from zero in Rust: the same for x >= 0.
    (x.round()) as i64
}

/// One instance's share of the event ids, as the reference's
/// `GeneratorConfig.split`: contiguous ranges, the last taking the remainder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Split {
    /// Added to the event number (from 1) to give the event id.
    pub first_event_id: i64,
    /// Events this instance generates.
    pub events: i64,
}

impl Split {
    /// Instance `instance` of `instances`.
    pub(crate) fn new(config: &NexmarkConfig, instances: usize, instance: usize) -> Split {
        let n = instances.max(1) as i64;
        let i = (instance as i64).min(n - 1);
        let max_events = config.max_events();
        let (first, max_i, stop_i) = if n == 1 {
            (1, max_events, config.stop_at)
        } else {
            let sub_max = max_events / n;
            let sub_stop = config.stop_at / n;
            let last = i == n - 1;
            (
                1 + i * sub_max,
                if last {
                    max_events - sub_max * (n - 1)
                } else {
                    sub_max
                },
                if last {
                    config.stop_at - sub_stop * (n - 1)
                } else {
                    sub_stop
                },
            )
        };
        let events = if config.stop_at < 0 {
            max_i
        } else {
            stop_i.min(max_i)
        };
        Split {
            first_event_id: first,
            events,
        }
    }
}
