//! Parsing a string with a compiled pattern.

use chrono::{NaiveDate, NaiveDateTime};

use super::{DAYS, Field, Item, MONTHS, Parsed};
use crate::builtins::datetime::zone::Zone;

/// Widths a numeric field accepts when parsing: `(min, max)`.
fn numeric_width(f: Field, n: usize) -> Option<(usize, usize)> {
    match f {
        Field::Year | Field::YearOfEra => Some(match n {
            2 => (2, 2),
            1 => (1, 19),
            _ => (n, 19),
        }),
        Field::Month | Field::Quarter if n > 2 => None,
        Field::Fraction => Some((n, n)),
        Field::NanoOfSecond | Field::MilliOfDay => Some((n, 19)),
        Field::DayOfYear
        | Field::Month
        | Field::Day
        | Field::Quarter
        | Field::ClockHourOfAmPm
        | Field::HourOfAmPm
        | Field::ClockHourOfDay
        | Field::Hour
        | Field::Minute
        | Field::Second => Some(if n == 1 { (1, 19) } else { (n, n) }),
        _ => None,
    }
}

pub(super) fn parse_seq(items: &[Item], s: &[u8], pos: &mut usize, p: &mut Parsed) -> Option<()> {
    for (i, item) in items.iter().enumerate() {
        match item {
            Item::Literal(lit) => {
                let b = lit.as_bytes();
                if s.len() < *pos + b.len() || &s[*pos..*pos + b.len()] != b {
                    return None;
                }
                *pos += b.len();
            }
            Item::Optional(inner) => {
                let (save_pos, save) = (*pos, p.clone());
                if parse_seq(inner, s, pos, p).is_none() {
                    *pos = save_pos;
                    *p = save;
                }
            }
            Item::Field(f, n) => {
                if let Some((min, max)) = numeric_width(*f, *n) {
                    // Adjacent value parsing: a variable-width number leaves
                    // room for the fixed-width numbers right after it
                    // (`yyyyMMdd`).
                    let reserve: usize = if min != max {
                        items[i + 1..]
                            .iter()
                            .map_while(|it| match it {
                                Item::Field(f2, n2) => match numeric_width(*f2, *n2) {
                                    Some((a, b)) if a == b => Some(a),
                                    _ => None,
                                },
                                _ => None,
                            })
                            .sum()
                    } else {
                        0
                    };
                    let digits = s[*pos..].iter().take_while(|b| b.is_ascii_digit()).count();
                    let take = digits.saturating_sub(reserve).min(max);
                    if take < min {
                        return None;
                    }
                    let text = std::str::from_utf8(&s[*pos..*pos + take]).ok()?;
                    *pos += take;
                    set_number(p, *f, *n, text)?;
                } else {
                    parse_text_field(p, *f, *n, s, pos)?;
                }
            }
        }
    }
    Some(())
}

fn set_number(p: &mut Parsed, f: Field, n: usize, text: &str) -> Option<()> {
    if f == Field::Fraction {
        let mut digits = text.to_string();
        while digits.len() < 9 {
            digits.push('0');
        }
        p.nano = Some(digits[..9].parse().ok()?);
        return Some(());
    }
    let v: i64 = text.parse().ok()?;
    let small = |max: i64| (0..=max).contains(&v).then_some(v as u32);
    match f {
        Field::Year | Field::YearOfEra => {
            let y = if n == 2 { 2000 + v } else { v };
            let y = i32::try_from(y).ok()?;
            if f == Field::Year {
                p.year = Some(y);
            } else {
                p.year_of_era = Some(y);
            }
        }
        Field::DayOfYear => p.day_of_year = Some(small(366)?),
        Field::Month => p.month = Some(small(12)?),
        Field::Day => p.day = Some(small(31)?),
        Field::Quarter => {
            small(4)?;
        }
        Field::ClockHourOfAmPm => {
            let h = small(12)?;
            p.hour_of_ampm = Some(h % 12);
        }
        Field::HourOfAmPm => p.hour_of_ampm = Some(small(11)?),
        Field::ClockHourOfDay => p.hour = Some(small(24)? % 24),
        Field::Hour => p.hour = Some(small(23)?),
        Field::Minute => p.minute = Some(small(59)?),
        Field::Second => p.second = Some(small(59)?),
        Field::NanoOfSecond => p.nano = Some(small(999_999_999)?),
        Field::MilliOfDay => {
            let ms = small(86_399_999)?;
            p.hour = Some(ms / 3_600_000);
            p.minute = Some(ms / 60_000 % 60);
            p.second = Some(ms / 1000 % 60);
            p.nano = Some(ms % 1000 * 1_000_000);
        }
        _ => return None,
    }
    Some(())
}

/// Matches one of `names` (or its three-letter abbreviation when `n` < 4),
/// ignoring case; returns its index.
fn match_name(s: &[u8], pos: &mut usize, names: &[&str], n: usize) -> Option<usize> {
    let rest = &s[*pos..];
    for (i, name) in names.iter().enumerate() {
        let cand = if n >= 4 { name } else { &name[..3] };
        let b = cand.as_bytes();
        if rest.len() >= b.len() && rest[..b.len()].eq_ignore_ascii_case(b) {
            *pos += b.len();
            return Some(i);
        }
    }
    None
}

fn parse_text_field(p: &mut Parsed, f: Field, n: usize, s: &[u8], pos: &mut usize) -> Option<()> {
    match f {
        Field::Month => p.month = Some(match_name(s, pos, &MONTHS, n)? as u32 + 1),
        Field::DayName => {
            match_name(s, pos, &DAYS, n)?;
        }
        Field::AmPm => p.pm = Some(match_name(s, pos, &["AM", "PM"], 4)? == 1),
        Field::Era => {
            let bc = match_name(s, pos, &["AD", "BC"], 4)? == 1;
            p.bc = bc;
        }
        Field::Quarter => {
            let rest = &s[*pos..];
            if rest.len() < 2 || !rest[0].eq_ignore_ascii_case(&b'Q') {
                return None;
            }
            *pos += 2;
        }
        Field::Offset(_) => p.offset_secs = Some(parse_offset(s, pos)?),
        Field::ZoneName => {
            let len = s[*pos..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || b"/_+-:".contains(b))
                .count();
            let id = std::str::from_utf8(&s[*pos..*pos + len]).ok()?;
            p.zone = Some(Zone::parse(id)?);
            *pos += len;
        }
        _ => return None,
    }
    Some(())
}

/// `Z`, `GMT`, `UTC`, or `[GMT|UTC]+HH[[:]MM[[:]SS]]`.
fn parse_offset(s: &[u8], pos: &mut usize) -> Option<i32> {
    let rest = &s[*pos..];
    if rest.first() == Some(&b'Z') {
        *pos += 1;
        return Some(0);
    }
    let mut i = 0;
    for prefix in [&b"GMT"[..], b"UTC"] {
        if rest.starts_with(prefix) {
            i = 3;
        }
    }
    let sign = match rest.get(i) {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ if i == 3 => {
            *pos += 3;
            return Some(0);
        }
        _ => return None,
    };
    i += 1;
    let mut secs = 0i32;
    for (k, mult) in [3600, 60, 1].iter().enumerate() {
        if k > 0 && rest.get(i) == Some(&b':') {
            i += 1;
        }
        let d = rest[i.min(rest.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
            .min(2);
        if d == 0 {
            if k == 0 {
                return None;
            }
            break;
        }
        let v: i32 = std::str::from_utf8(&rest[i..i + d]).ok()?.parse().ok()?;
        secs += v * mult;
        i += d;
    }
    *pos += i;
    Some(sign * secs)
}

impl Parsed {
    /// The wall-clock date-time, missing fields defaulted as Flink does.
    /// `None` when the fields do not make a valid date-time.
    pub fn datetime(&self) -> Option<NaiveDateTime> {
        let year = match (self.year, self.year_of_era) {
            (Some(y), _) => y,
            (None, Some(y)) if self.bc => 1 - y,
            (None, Some(y)) => y,
            (None, None) => 1970,
        };
        let date = match (self.month, self.day, self.day_of_year) {
            (None, None, Some(doy)) => NaiveDate::from_yo_opt(year, doy)?,
            (m, d, _) => {
                let month = m.unwrap_or(1);
                let day = d.unwrap_or(1);
                // Java's SMART resolution: a day past the month's end (up to
                // 31) becomes the month's last day.
                NaiveDate::from_ymd_opt(year, month, day).or_else(|| {
                    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
                    let next = first.checked_add_months(chrono::Months::new(1))?;
                    next.pred_opt()
                })?
            }
        };
        let hour = match (self.hour, self.hour_of_ampm, self.pm) {
            (Some(h), _, _) => h,
            (None, Some(h), pm) => h + if pm == Some(true) { 12 } else { 0 },
            (None, None, _) => 0,
        };
        date.and_hms_nano_opt(
            hour,
            self.minute.unwrap_or(0),
            self.second.unwrap_or(0),
            self.nano.unwrap_or(0),
        )
    }

    /// The offset the parsed text names (explicit offset or zone), if any.
    pub fn explicit_zone(&self) -> Option<Zone> {
        match (self.offset_secs, self.zone) {
            (Some(secs), _) => chrono::FixedOffset::east_opt(secs).map(Zone::Fixed),
            (None, z) => z,
        }
    }
}
