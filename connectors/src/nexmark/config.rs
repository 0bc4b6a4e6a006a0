//! The `nexmark` table's WITH options: the reference generator's keys and
//! defaults, plus `base-time` and `scan.parallelism`.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use sluice_engine::Result;
use sluice_engine::catalog::ConnectorOptions;

/// A validated `nexmark` table configuration.
#[derive(Debug, Clone)]
pub(crate) struct NexmarkConfig {
    /// Events per second over all instances (`first-event.rate`): sets the
    /// event-time spacing, and the emit rate when `max-emit-speed` is false.
    pub first_event_rate: i32,
    /// `events.num`; 0 means "as many as the counters allow".
    pub events_num: i64,
    pub person_proportion: i32,
    pub auction_proportion: i32,
    pub bid_proportion: i32,
    pub avg_person_size: i32,
    pub avg_auction_size: i32,
    pub avg_bid_size: i32,
    pub hot_auction_ratio: i32,
    pub hot_bidders_ratio: i32,
    pub hot_sellers_ratio: i32,
    /// `keep-alive`: stay running (idle) after the last event.
    pub keep_alive: bool,
    /// `stop-at`: stop after this many events (over all instances); -1 = never.
    pub stop_at: i64,
    /// `max-emit-speed`: emit as fast as possible instead of pacing events
    /// by their timestamps.
    pub max_emit_speed: bool,
    /// Epoch milliseconds of event number 0's timestamp.
    pub base_time: i64,
    /// `scan.parallelism`, when set.
    pub parallelism: Option<usize>,
}

impl NexmarkConfig {
    /// Takes the connector's options; `now_ms` is the default `base-time`.
    pub(crate) fn from_options(opts: &mut ConnectorOptions, now_ms: i64) -> Result<Self> {
        let first_event_rate = positive_int(opts, "first-event.rate", 10_000)?;
        // The reference reads `next-event.rate` but only ever uses the first rate.
        positive_int(opts, "next-event.rate", 10_000)?;
        let events_num = opts
            .parse::<i64>("events.num", "a non-negative integer")?
            .unwrap_or(0);
        if events_num < 0 {
            return Err(opts.error("events.num", "must not be negative"));
        }
        let person_proportion = non_negative_int(opts, "person.proportion", 1)?;
        let auction_proportion = non_negative_int(opts, "auction.proportion", 3)?;
        let bid_proportion = non_negative_int(opts, "bid.proportion", 46)?;
        let total = i64::from(person_proportion)
            + i64::from(auction_proportion)
            + i64::from(bid_proportion);
        if total == 0 || total > i64::from(i32::MAX) {
            return Err(opts.error(
                "person.proportion",
                format!(
                    "the person, auction and bid proportions must add up to between 1 and {}",
                    i32::MAX
                ),
            ));
        }
        let avg_person_size = size(opts, "person.avg-size", 200)?;
        let avg_auction_size = size(opts, "auction.avg-size", 500)?;
        let avg_bid_size = size(opts, "bid.avg-size", 100)?;
        let hot_auction_ratio = positive_int(opts, "bid.hot-ratio.auctions", 2)?;
        let hot_bidders_ratio = positive_int(opts, "bid.hot-ratio.bidders", 4)?;
        let hot_sellers_ratio = positive_int(opts, "auction.hot-ratio.sellers", 4)?;
        // Read and validated like the reference, which has no use for them
        // either: its generator always runs at `first-event.rate`.
        opts.one_of("rate.shape", &["SQUARE", "SINE"])?;
        opts.duration("rate.period")?;
        opts.bool("rate.limited")?;
        let keep_alive = opts.bool("keep-alive")?.unwrap_or(false);
        let stop_at = opts
            .parse::<i64>("stop-at", "an integer (-1 for no stop)")?
            .unwrap_or(-1);
        let max_emit_speed = opts.bool("max-emit-speed")?.unwrap_or(true);
        let base_time = match opts.string("base-time") {
            None => now_ms,
            Some(v) => parse_base_time(&v).ok_or_else(|| {
                opts.error(
                    "base-time",
                    format!(
                        "expected epoch milliseconds or a timestamp such as \
                         '2024-01-01 00:00:00' (UTC) or '2024-01-01T00:00:00+01:00', got '{v}'"
                    ),
                )
            })?,
        };
        let parallelism = opts.parse::<usize>("scan.parallelism", "a positive integer")?;
        if parallelism == Some(0) {
            return Err(opts.error("scan.parallelism", "must be positive"));
        }
        Ok(NexmarkConfig {
            first_event_rate,
            events_num,
            person_proportion,
            auction_proportion,
            bid_proportion,
            avg_person_size,
            avg_auction_size,
            avg_bid_size,
            hot_auction_ratio,
            hot_bidders_ratio,
            hot_sellers_ratio,
            keep_alive,
            stop_at,
            max_emit_speed,
            base_time,
            parallelism,
        })
    }

    /// Sum of the three proportions (validated to fit an `i32`).
    pub(crate) fn total_proportion(&self) -> i64 {
        i64::from(self.person_proportion)
            + i64::from(self.auction_proportion)
            + i64::from(self.bid_proportion)
    }

    /// Events the whole source may generate. With `events.num` = 0 the
    /// reference scales `Long.MAX_VALUE` down so byte estimates cannot
    /// overflow; that count is also where the parallel splits start.
    pub(crate) fn max_events(&self) -> i64 {
        if self.events_num > 0 {
            return self.events_num;
        }
        let largest = self
            .avg_person_size
            .max(self.avg_auction_size)
            .max(self.avg_bid_size)
            .max(1);
        i64::MAX / (self.total_proportion() * i64::from(largest))
    }

    /// True when the source ends by itself.
    pub(crate) fn is_bounded(&self) -> bool {
        !self.keep_alive && (self.events_num > 0 || self.stop_at >= 0)
    }
}

fn positive_int(opts: &mut ConnectorOptions, key: &str, default: i32) -> Result<i32> {
    let v = opts
        .parse::<i32>(key, "a positive integer")?
        .unwrap_or(default);
    if v <= 0 {
        return Err(opts.error(key, format!("must be positive, got {v}")));
    }
    Ok(v)
}

fn non_negative_int(opts: &mut ConnectorOptions, key: &str, default: i32) -> Result<i32> {
    let v = opts
        .parse::<i32>(key, "a non-negative integer")?
        .unwrap_or(default);
    if v < 0 {
        return Err(opts.error(key, format!("must not be negative, got {v}")));
    }
    Ok(v)
}

/// A Flink memory size such as `200b` or `1kb`, as the reference's `int`.
fn size(opts: &mut ConnectorOptions, key: &str, default: i32) -> Result<i32> {
    match opts.memory_size(key)? {
        None => Ok(default),
        Some(b) => i32::try_from(b)
            .map_err(|_| opts.error(key, format!("must be below 2gb, got {b} bytes"))),
    }
}

/// `base-time`: epoch milliseconds, or a timestamp. A timestamp without a
/// zone is UTC, so the first event's `dateTime` (a zone-less TIMESTAMP(3))
/// prints exactly as written.
pub(crate) fn parse_base_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(ms) = s.parse::<i64>() {
        return Some(ms);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}
