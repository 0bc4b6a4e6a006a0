//! Time zones as Flink names them: region ids (`America/Los_Angeles`),
//! Java's legacy three-letter ids (`PST`), and offsets (`+08:00`,
//! `GMT-08:00`, `UTC+8`, `Z`); plus the session time zone.

use chrono::{FixedOffset, LocalResult, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, exec_err};

/// A time zone: a fixed offset or a region with daylight-saving rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    Fixed(FixedOffset),
    Region(Tz),
}

/// Java's `ZoneId.SHORT_IDS`: three-letter ids Flink accepts through
/// `TimeZone.getTimeZone`.
const SHORT_IDS: &[(&str, &str)] = &[
    ("ACT", "Australia/Darwin"),
    ("AET", "Australia/Sydney"),
    ("AGT", "America/Argentina/Buenos_Aires"),
    ("ART", "Africa/Cairo"),
    ("AST", "America/Anchorage"),
    ("BET", "America/Sao_Paulo"),
    ("BST", "Asia/Dhaka"),
    ("CAT", "Africa/Harare"),
    ("CNT", "America/St_Johns"),
    ("CST", "America/Chicago"),
    ("CTT", "Asia/Shanghai"),
    ("EAT", "Africa/Addis_Ababa"),
    ("ECT", "Europe/Paris"),
    ("IET", "America/Indiana/Indianapolis"),
    ("IST", "Asia/Kolkata"),
    ("JST", "Asia/Tokyo"),
    ("MIT", "Pacific/Apia"),
    ("NET", "Asia/Yerevan"),
    ("NST", "Pacific/Auckland"),
    ("PLT", "Asia/Karachi"),
    ("PNT", "America/Phoenix"),
    ("PRT", "America/Puerto_Rico"),
    ("PST", "America/Los_Angeles"),
    ("SST", "Pacific/Guadalcanal"),
    ("VST", "Asia/Ho_Chi_Minh"),
];

impl Zone {
    /// UTC.
    pub const UTC: Zone = Zone::Region(Tz::UTC);

    /// Parses a zone id, or `None` if it names no zone.
    pub fn parse(id: &str) -> Option<Zone> {
        let id = id.trim();
        if let Some((_, region)) = SHORT_IDS.iter().find(|(s, _)| *s == id) {
            return region.parse::<Tz>().ok().map(Zone::Region);
        }
        if let Ok(tz) = id.parse::<Tz>() {
            return Some(Zone::Region(tz));
        }
        if id == "Z" {
            return Some(Zone::Fixed(FixedOffset::east_opt(0)?));
        }
        let rest = ["GMT", "UTC", "UT"]
            .iter()
            .find_map(|p| id.strip_prefix(p))
            .unwrap_or(id);
        if rest.is_empty() {
            return Some(Zone::UTC);
        }
        parse_offset(rest).map(Zone::Fixed)
    }

    /// Parses a zone id or fails naming `what` (the function and argument).
    pub fn parse_or_err(id: &str, what: &str) -> Result<Zone> {
        match Zone::parse(id) {
            Some(z) => Ok(z),
            None => exec_err!("{what}: unknown time zone '{id}'"),
        }
    }

    /// The session time zone (`execution.time_zone`; UTC when unset).
    pub fn session(config: &ConfigOptions) -> Result<Zone> {
        match config.execution.time_zone.as_deref() {
            None | Some("") => Ok(Zone::UTC),
            Some(id) => Zone::parse_or_err(id, "session time zone"),
        }
    }

    /// The wall-clock time in this zone at the UTC instant `utc`.
    pub fn local(&self, utc: NaiveDateTime) -> NaiveDateTime {
        match self {
            Zone::Fixed(o) => utc + *o,
            Zone::Region(tz) => utc + tz.offset_from_utc_datetime(&utc).fix(),
        }
    }

    /// The zone's offset from UTC, in seconds, at the UTC instant `utc`.
    pub fn offset_secs_at(&self, utc: NaiveDateTime) -> i32 {
        match self {
            Zone::Fixed(o) => o.local_minus_utc(),
            Zone::Region(tz) => tz.offset_from_utc_datetime(&utc).fix().local_minus_utc(),
        }
    }

    /// The UTC instant of wall-clock time `local` in this zone. In a
    /// daylight-saving overlap the earlier instant wins; a time in a gap is
    /// moved forward by the gap's length (as `java.time` does).
    pub fn to_utc(&self, local: NaiveDateTime) -> NaiveDateTime {
        match self {
            Zone::Fixed(o) => local - *o,
            Zone::Region(tz) => match tz.offset_from_local_datetime(&local) {
                LocalResult::Single(o) | LocalResult::Ambiguous(o, _) => local - o.fix(),
                LocalResult::None => {
                    // The offset in force before the gap applies, which is
                    // java.time's "move forward by the gap length". A day
                    // earlier is safely before the gap for every offset.
                    let before = local - chrono::Duration::hours(24);
                    local - tz.offset_from_utc_datetime(&before).fix()
                }
            },
        }
    }
}

/// `+8`, `+08`, `+0800`, `+08:00`, `-08:00:00`.
fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, body) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let parts: Vec<&str> = if body.contains(':') {
        body.split(':').collect()
    } else if body.len() <= 2 {
        vec![body]
    } else if body.len() == 4 || body.len() == 6 {
        body.as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap_or(""))
            .collect()
    } else {
        return None;
    };
    let mut secs = 0i32;
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) || i > 2 {
            return None;
        }
        let v: i32 = p.parse().ok()?;
        secs += v * [3600, 60, 1][i];
    }
    if secs > 18 * 3600 {
        return None;
    }
    FixedOffset::east_opt(sign * secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flink_zone_ids() {
        assert_eq!(Zone::parse("UTC"), Some(Zone::Region(Tz::UTC)));
        assert_eq!(
            Zone::parse("PST"),
            Some(Zone::Region(Tz::America__Los_Angeles))
        );
        assert_eq!(
            Zone::parse("GMT-08:00"),
            Some(Zone::Fixed(FixedOffset::west_opt(8 * 3600).unwrap()))
        );
        assert_eq!(
            Zone::parse("+05:30"),
            Some(Zone::Fixed(FixedOffset::east_opt(5 * 3600 + 1800).unwrap()))
        );
        assert_eq!(
            Zone::parse("UTC+8"),
            Some(Zone::Fixed(FixedOffset::east_opt(8 * 3600).unwrap()))
        );
        assert_eq!(Zone::parse("Mars/Olympus"), None);
    }
}
