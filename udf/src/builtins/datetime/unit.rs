//! Time units as Flink's `TIMESTAMPADD`, `TIMESTAMPDIFF`, `FLOOR`/`CEIL ..
//! TO` and `EXTRACT` name them.

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveDateTime, Timelike};
use datafusion::common::{Result, exec_err};

/// A time unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Millennium,
    Century,
    Decade,
    Year,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
    Nanosecond,
}

impl Unit {
    /// Parses a unit name (case-insensitive; `SQL_TSI_` prefixes and plural
    /// forms accepted), naming `function` in the error.
    pub fn parse(name: &str, function: &str) -> Result<Unit> {
        let n = name.trim().to_ascii_uppercase();
        let n = n.strip_prefix("SQL_TSI_").unwrap_or(&n);
        let n = n.strip_suffix('S').filter(|s| !s.is_empty()).unwrap_or(n);
        Ok(match n {
            "MILLENNIUM" | "MILLENNIA" => Unit::Millennium,
            "CENTURY" | "CENTURIE" => Unit::Century,
            "DECADE" => Unit::Decade,
            "YEAR" => Unit::Year,
            "QUARTER" => Unit::Quarter,
            "MONTH" => Unit::Month,
            "WEEK" => Unit::Week,
            "DAY" => Unit::Day,
            "HOUR" => Unit::Hour,
            "MINUTE" => Unit::Minute,
            "SECOND" => Unit::Second,
            "MILLISECOND" => Unit::Millisecond,
            "MICROSECOND" => Unit::Microsecond,
            "NANOSECOND" => Unit::Nanosecond,
            _ => return exec_err!("{function}: unknown time unit '{name}'"),
        })
    }

    /// The unit's length in months, for calendar units.
    pub fn months(self) -> Option<u32> {
        match self {
            Unit::Millennium => Some(12_000),
            Unit::Century => Some(1200),
            Unit::Decade => Some(120),
            Unit::Year => Some(12),
            Unit::Quarter => Some(3),
            Unit::Month => Some(1),
            _ => None,
        }
    }

    /// The unit's exact length, for units of fixed length.
    pub fn duration(self) -> Option<Duration> {
        match self {
            Unit::Week => Some(Duration::weeks(1)),
            Unit::Day => Some(Duration::days(1)),
            Unit::Hour => Some(Duration::hours(1)),
            Unit::Minute => Some(Duration::minutes(1)),
            Unit::Second => Some(Duration::seconds(1)),
            Unit::Millisecond => Some(Duration::milliseconds(1)),
            Unit::Microsecond => Some(Duration::microseconds(1)),
            Unit::Nanosecond => Some(Duration::nanoseconds(1)),
            _ => None,
        }
    }

    /// Whether adding this unit to a DATE keeps it a DATE.
    pub fn is_date_unit(self) -> bool {
        self.months().is_some() || matches!(self, Unit::Week | Unit::Day)
    }
}

/// `dt` plus `n` units (`None` on overflow). Months clamp to the end of the
/// month, as Flink does (`2024-01-31` plus one month is `2024-02-29`).
pub fn add(dt: NaiveDateTime, unit: Unit, n: i64) -> Option<NaiveDateTime> {
    if let Some(m) = unit.months() {
        let total = n.checked_mul(i64::from(m))?;
        let months = Months::new(u32::try_from(total.unsigned_abs()).ok()?);
        return if total >= 0 {
            dt.checked_add_months(months)
        } else {
            dt.checked_sub_months(months)
        };
    }
    let step = match unit {
        Unit::Nanosecond => Duration::nanoseconds(n),
        Unit::Microsecond => Duration::microseconds(n),
        _ => Duration::try_milliseconds(unit.duration()?.num_milliseconds().checked_mul(n)?)?,
    };
    dt.checked_add_signed(step)
}

/// Whole units from `a` to `b`, truncated toward zero.
pub fn diff(a: NaiveDateTime, b: NaiveDateTime, unit: Unit) -> Option<i64> {
    if let Some(m) = unit.months() {
        return Some(months_between(a, b)? / i64::from(m));
    }
    let delta = b - a;
    Some(match unit {
        Unit::Nanosecond => delta.num_nanoseconds()?,
        Unit::Microsecond => delta.num_microseconds()?,
        _ => delta.num_milliseconds() / unit.duration()?.num_milliseconds(),
    })
}

/// The largest whole number of months that can be added to `a` without
/// passing `b` (negative when `b` is before `a`).
fn months_between(a: NaiveDateTime, b: NaiveDateTime) -> Option<i64> {
    if b < a {
        return months_between(b, a).map(|m| -m);
    }
    let mut m = (i64::from(b.year()) - i64::from(a.year())) * 12 + i64::from(b.month())
        - i64::from(a.month());
    // The calendar estimate is at most one too many.
    while m > 0 && add(a, Unit::Month, m)? > b {
        m -= 1;
    }
    Some(m)
}

/// `dt` rounded down to a whole `unit`. Weeks start on Sunday, as in Flink.
pub fn floor(dt: NaiveDateTime, unit: Unit) -> Option<NaiveDateTime> {
    let date = dt.date();
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0);
    let year_start = |y: i32| NaiveDate::from_ymd_opt(y, 1, 1).and_then(midnight);
    let y = date.year();
    match unit {
        Unit::Millennium => year_start(if y > 0 { (y - 1) / 1000 * 1000 + 1 } else { y }),
        Unit::Century => year_start(if y > 0 { (y - 1) / 100 * 100 + 1 } else { y }),
        Unit::Decade => year_start(y.div_euclid(10) * 10),
        Unit::Year => year_start(y),
        Unit::Quarter => {
            NaiveDate::from_ymd_opt(y, date.month0() / 3 * 3 + 1, 1).and_then(midnight)
        }
        Unit::Month => NaiveDate::from_ymd_opt(y, date.month(), 1).and_then(midnight),
        Unit::Week => {
            let back = date.weekday().num_days_from_sunday();
            midnight(date - Duration::days(i64::from(back)))
        }
        Unit::Day => midnight(date),
        Unit::Hour => date.and_hms_opt(dt.hour(), 0, 0),
        Unit::Minute => date.and_hms_opt(dt.hour(), dt.minute(), 0),
        Unit::Second => date.and_hms_opt(dt.hour(), dt.minute(), dt.second()),
        Unit::Millisecond => dt.with_nanosecond(dt.nanosecond() / 1_000_000 * 1_000_000),
        Unit::Microsecond => dt.with_nanosecond(dt.nanosecond() / 1000 * 1000),
        Unit::Nanosecond => Some(dt),
    }
}

/// `dt` rounded up to a whole `unit` (unchanged when already whole).
pub fn ceil(dt: NaiveDateTime, unit: Unit) -> Option<NaiveDateTime> {
    let f = floor(dt, unit)?;
    if f == dt {
        return Some(f);
    }
    let step = match unit {
        Unit::Millennium => 1000 * 12,
        Unit::Century => 100 * 12,
        Unit::Decade => 10 * 12,
        _ => return add(f, unit, 1),
    };
    add(f, Unit::Month, step)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn month_arithmetic_clamps_like_flink() {
        assert_eq!(
            add(dt("2024-01-31 10:00:00"), Unit::Month, 1),
            Some(dt("2024-02-29 10:00:00"))
        );
        assert_eq!(
            diff(
                dt("2024-01-31 00:00:00"),
                dt("2024-02-29 00:00:00"),
                Unit::Month
            ),
            Some(1)
        );
        assert_eq!(
            diff(
                dt("2024-01-15 12:00:00"),
                dt("2024-02-15 11:59:59"),
                Unit::Month
            ),
            Some(0)
        );
        assert_eq!(
            diff(
                dt("2024-03-01 00:00:00"),
                dt("2023-01-01 00:00:00"),
                Unit::Year
            ),
            Some(-1)
        );
        assert_eq!(
            diff(
                dt("2003-01-02 10:00:00"),
                dt("2003-01-03 09:59:59"),
                Unit::Day
            ),
            Some(0)
        );
    }

    #[test]
    fn floor_and_ceil() {
        let t = dt("2024-05-15 13:45:30");
        assert_eq!(floor(t, Unit::Quarter), Some(dt("2024-04-01 00:00:00")));
        assert_eq!(floor(t, Unit::Week), Some(dt("2024-05-12 00:00:00")));
        assert_eq!(ceil(t, Unit::Hour), Some(dt("2024-05-15 14:00:00")));
        assert_eq!(
            ceil(dt("2024-05-15 00:00:00"), Unit::Day),
            Some(dt("2024-05-15 00:00:00"))
        );
        assert_eq!(ceil(t, Unit::Year), Some(dt("2025-01-01 00:00:00")));
    }
}
