//! Formatting a date-time with a compiled pattern.

use chrono::{Datelike, NaiveDateTime, Timelike};

use super::{DAYS, Field, FormatZone, Item, MONTHS};
use crate::builtins::datetime::zone::Zone;

fn pad(out: &mut String, v: i64, width: usize) {
    if v < 0 {
        out.push('-');
    }
    let s = v.unsigned_abs().to_string();
    for _ in s.len()..width {
        out.push('0');
    }
    out.push_str(&s);
}

pub(super) fn format_seq(
    items: &[Item],
    dt: &NaiveDateTime,
    zone: Option<FormatZone>,
    out: &mut String,
) -> Result<(), String> {
    for item in items {
        match item {
            Item::Literal(s) => out.push_str(s),
            Item::Optional(inner) => format_seq(inner, dt, zone, out)?,
            Item::Field(f, n) => format_field(*f, *n, dt, zone, out)?,
        }
    }
    Ok(())
}

fn format_field(
    f: Field,
    n: usize,
    dt: &NaiveDateTime,
    zone: Option<FormatZone>,
    out: &mut String,
) -> Result<(), String> {
    let text = |out: &mut String, full: &str| match n {
        1..=3 => out.push_str(&full[..3]),
        4 => out.push_str(full),
        _ => out.push_str(&full[..1]),
    };
    match f {
        Field::Era => out.push_str(match (dt.year() > 0, n) {
            (true, 4) => "Anno Domini",
            (false, 4) => "Before Christ",
            (true, 5) => "A",
            (false, 5) => "B",
            (true, _) => "AD",
            (false, _) => "BC",
        }),
        Field::Year | Field::YearOfEra => {
            let y = if f == Field::YearOfEra && dt.year() <= 0 {
                1 - dt.year()
            } else {
                dt.year()
            };
            if n == 2 {
                pad(out, i64::from(y.rem_euclid(100)), 2);
            } else {
                pad(out, i64::from(y), n);
            }
        }
        Field::DayOfYear => pad(out, i64::from(dt.ordinal()), n),
        Field::Month => match n {
            1 | 2 => pad(out, i64::from(dt.month()), n),
            _ => text(out, MONTHS[dt.month0() as usize]),
        },
        Field::Day => pad(out, i64::from(dt.day()), n),
        Field::Quarter => {
            let q = dt.month0() / 3 + 1;
            match n {
                1 | 2 => pad(out, i64::from(q), n),
                3 => {
                    out.push('Q');
                    pad(out, i64::from(q), 1);
                }
                4 => out.push_str(["1st", "2nd", "3rd", "4th"][q as usize - 1]),
                _ => pad(out, i64::from(q), 1),
            }
            if n == 4 {
                out.push_str(" quarter");
            }
        }
        Field::DayName => text(out, DAYS[dt.weekday().num_days_from_monday() as usize]),
        Field::AmPm => out.push_str(if dt.hour() < 12 { "AM" } else { "PM" }),
        Field::ClockHourOfAmPm => {
            let h = dt.hour() % 12;
            pad(out, i64::from(if h == 0 { 12 } else { h }), n)
        }
        Field::HourOfAmPm => pad(out, i64::from(dt.hour() % 12), n),
        Field::ClockHourOfDay => {
            let h = dt.hour();
            pad(out, i64::from(if h == 0 { 24 } else { h }), n)
        }
        Field::Hour => pad(out, i64::from(dt.hour()), n),
        Field::Minute => pad(out, i64::from(dt.minute()), n),
        Field::Second => pad(out, i64::from(dt.second()), n),
        Field::Fraction => {
            let digits = format!("{:09}", dt.nanosecond() % 1_000_000_000);
            out.push_str(&digits[..n.min(9)]);
        }
        Field::NanoOfSecond => pad(out, i64::from(dt.nanosecond() % 1_000_000_000), n),
        Field::MilliOfDay => {
            let ms = i64::from(dt.num_seconds_from_midnight()) * 1000
                + i64::from(dt.nanosecond() % 1_000_000_000 / 1_000_000);
            pad(out, ms, n)
        }
        Field::Offset(letter) => {
            let Some(z) = zone else {
                return Err(format!(
                    "pattern letter '{letter}' needs a time zone, and a TIMESTAMP has none"
                ));
            };
            format_offset(letter, n, z.offset_secs, out);
        }
        Field::ZoneName => {
            let Some(z) = zone else {
                return Err("zone letters need a time zone, and a TIMESTAMP has none".into());
            };
            match z.zone {
                Zone::Region(tz) => out.push_str(tz.name()),
                Zone::Fixed(_) => format_offset('X', 3, z.offset_secs, out),
            }
        }
    }
    Ok(())
}

fn format_offset(letter: char, n: usize, secs: i32, out: &mut String) {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
    let hhmm = |out: &mut String, colon: bool| {
        out.push(sign);
        out.push_str(&format!("{h:02}"));
        if colon {
            out.push(':');
        }
        out.push_str(&format!("{m:02}"));
        if s != 0 {
            if colon {
                out.push(':');
            }
            out.push_str(&format!("{s:02}"));
        }
    };
    match letter {
        'X' | 'x' if secs == 0 && letter == 'X' => out.push('Z'),
        'X' | 'x' => match n {
            1 => {
                out.push(sign);
                out.push_str(&format!("{h:02}"));
                if m != 0 {
                    out.push_str(&format!("{m:02}"));
                }
            }
            2 | 4 => hhmm(out, false),
            _ => hhmm(out, true),
        },
        'Z' => match n {
            4 => {
                out.push_str("GMT");
                if secs != 0 {
                    hhmm(out, true);
                }
            }
            5 if secs == 0 => out.push('Z'),
            5 => hhmm(out, true),
            _ => hhmm(out, false),
        },
        _ => {
            // 'O': GMT+8 or GMT+08:00.
            out.push_str("GMT");
            if secs != 0 {
                if n == 1 {
                    out.push(sign);
                    out.push_str(&h.to_string());
                    if m != 0 {
                        out.push_str(&format!(":{m:02}"));
                    }
                } else {
                    hhmm(out, true);
                }
            }
        }
    }
}
