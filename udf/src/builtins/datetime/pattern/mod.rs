//! Java date-time patterns (`yyyy-MM-dd HH:mm:ss.SSS`), as Flink's
//! `DATE_FORMAT`, `TO_TIMESTAMP`, `UNIX_TIMESTAMP` and `FROM_UNIXTIME` take
//! them, compiled once into items that format a date-time into a string or
//! parse one out of a string.
//!
//! The letters follow `java.time.format.DateTimeFormatter`: `G` era, `u`/`y`
//! year, `D` day of year, `M`/`L` month, `d` day, `Q`/`q` quarter, `E` day
//! name, `a` AM/PM, `H`/`k`/`K`/`h` hours, `m`, `s`, `S` fraction, `n` nano of
//! second, `A` milli of day, zone and offset letters `VV`, `z`, `O`, `X`,
//! `x`, `Z`; `'text'` quotes, `''` is a quote, `[..]` an optional section.
//! Week-based letters (`Y`, `w`, `W`, `e`, `c`, `F`) are not supported.

mod format;
mod parse;

use chrono::NaiveDateTime;

use super::zone::Zone;
pub(super) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub(super) const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Era,
    Year,
    YearOfEra,
    DayOfYear,
    Month,
    Day,
    Quarter,
    DayName,
    AmPm,
    /// `h`: 1-12.
    ClockHourOfAmPm,
    /// `K`: 0-11.
    HourOfAmPm,
    /// `k`: 1-24.
    ClockHourOfDay,
    /// `H`: 0-23.
    Hour,
    Minute,
    Second,
    Fraction,
    NanoOfSecond,
    MilliOfDay,
    /// `X` (`Z` for zero), `x`, `Z`, `O`: an offset in one of Java's styles.
    Offset(char),
    /// `z`, `VV`: a zone name or id.
    ZoneName,
}

#[derive(Debug, Clone)]
pub(super) enum Item {
    Literal(String),
    Field(Field, usize),
    Optional(Vec<Item>),
}

/// A compiled Java date-time pattern.
#[derive(Debug, Clone)]
pub struct JavaPattern {
    items: Vec<Item>,
}

/// The time zone a formatted value is in (only needed by zone letters).
#[derive(Debug, Clone, Copy)]
pub struct FormatZone {
    pub offset_secs: i32,
    pub zone: Zone,
}

/// The fields parsed out of a string; absent ones take Flink's defaults
/// (1970-01-01 00:00:00).
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub(super) year: Option<i32>,
    pub(super) year_of_era: Option<i32>,
    pub(super) bc: bool,
    pub(super) day_of_year: Option<u32>,
    pub(super) month: Option<u32>,
    pub(super) day: Option<u32>,
    pub(super) hour: Option<u32>,
    pub(super) hour_of_ampm: Option<u32>,
    pub(super) pm: Option<bool>,
    pub(super) minute: Option<u32>,
    pub(super) second: Option<u32>,
    pub(super) nano: Option<u32>,
    /// An explicit offset, in seconds east of UTC.
    pub offset_secs: Option<i32>,
    /// An explicit zone.
    pub zone: Option<Zone>,
}
impl JavaPattern {
    /// Compiles `pattern`, or explains what is wrong with it.
    pub fn compile(pattern: &str) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let items = compile_seq(&chars, &mut pos, false)?;
        Ok(JavaPattern { items })
    }

    /// Appends `dt` formatted by this pattern to `out`. Zone letters need
    /// `zone`; without one they are an error, as in Java.
    pub fn format(
        &self,
        dt: &NaiveDateTime,
        zone: Option<FormatZone>,
        out: &mut String,
    ) -> Result<(), String> {
        format::format_seq(&self.items, dt, zone, out)
    }

    /// Parses all of `s`, or `None` if it does not match.
    pub fn parse(&self, s: &str) -> Option<Parsed> {
        let mut p = Parsed::default();
        let mut pos = 0;
        parse::parse_seq(&self.items, s.as_bytes(), &mut pos, &mut p)?;
        (pos == s.len()).then_some(p)
    }
}
fn field_for(letter: char, n: usize) -> Result<Field, String> {
    let too_many = |max: usize| {
        if n > max {
            Err(format!("too many pattern letters: '{letter}'"))
        } else {
            Ok(())
        }
    };
    let f = match letter {
        'G' => (too_many(5)?, Field::Era).1,
        'u' => Field::Year,
        'y' => Field::YearOfEra,
        'D' => (too_many(3)?, Field::DayOfYear).1,
        'M' | 'L' => (too_many(5)?, Field::Month).1,
        'd' => (too_many(2)?, Field::Day).1,
        'Q' | 'q' => (too_many(5)?, Field::Quarter).1,
        'E' => (too_many(5)?, Field::DayName).1,
        'a' => (too_many(1)?, Field::AmPm).1,
        'h' => (too_many(2)?, Field::ClockHourOfAmPm).1,
        'K' => (too_many(2)?, Field::HourOfAmPm).1,
        'k' => (too_many(2)?, Field::ClockHourOfDay).1,
        'H' => (too_many(2)?, Field::Hour).1,
        'm' => (too_many(2)?, Field::Minute).1,
        's' => (too_many(2)?, Field::Second).1,
        'S' => (too_many(9)?, Field::Fraction).1,
        'n' => Field::NanoOfSecond,
        'A' => Field::MilliOfDay,
        'X' | 'x' => (too_many(5)?, Field::Offset(letter)).1,
        'Z' => (too_many(5)?, Field::Offset('Z')).1,
        'O' => {
            if n != 1 && n != 4 {
                return Err("pattern letter 'O' must appear once or four times".into());
            }
            Field::Offset('O')
        }
        'z' => (too_many(4)?, Field::ZoneName).1,
        'V' => {
            if n != 2 {
                return Err("pattern letter 'V' must appear twice".into());
            }
            Field::ZoneName
        }
        'Y' | 'w' | 'W' | 'e' | 'c' | 'F' | 'N' | 'B' | 'g' | 'v' => {
            return Err(format!("pattern letter '{letter}' is not supported"));
        }
        _ => return Err(format!("unknown pattern letter: '{letter}'")),
    };
    Ok(f)
}

fn compile_seq(chars: &[char], pos: &mut usize, nested: bool) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    let mut lit = String::new();
    let flush = |lit: &mut String, items: &mut Vec<Item>| {
        if !lit.is_empty() {
            items.push(Item::Literal(std::mem::take(lit)));
        }
    };
    while *pos < chars.len() {
        let c = chars[*pos];
        match c {
            '\'' => {
                *pos += 1;
                if chars.get(*pos) == Some(&'\'') {
                    lit.push('\'');
                    *pos += 1;
                    continue;
                }
                loop {
                    match chars.get(*pos) {
                        None => return Err("unterminated quote".into()),
                        Some('\'') if chars.get(*pos + 1) == Some(&'\'') => {
                            lit.push('\'');
                            *pos += 2;
                        }
                        Some('\'') => {
                            *pos += 1;
                            break;
                        }
                        Some(ch) => {
                            lit.push(*ch);
                            *pos += 1;
                        }
                    }
                }
            }
            '[' => {
                flush(&mut lit, &mut items);
                *pos += 1;
                items.push(Item::Optional(compile_seq(chars, pos, true)?));
            }
            ']' => {
                if !nested {
                    return Err("']' without a matching '['".into());
                }
                flush(&mut lit, &mut items);
                *pos += 1;
                return Ok(items);
            }
            '#' | '{' | '}' => return Err(format!("reserved character '{c}'")),
            c if c.is_ascii_alphabetic() => {
                flush(&mut lit, &mut items);
                let mut n = 0;
                while chars.get(*pos) == Some(&c) {
                    n += 1;
                    *pos += 1;
                }
                items.push(Item::Field(field_for(c, n)?, n));
            }
            c => {
                lit.push(c);
                *pos += 1;
            }
        }
    }
    if nested {
        return Err("'[' without a matching ']'".into());
    }
    flush(&mut lit, &mut items);
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    fn fmt(p: &str, s: &str) -> String {
        let mut out = String::new();
        JavaPattern::compile(p)
            .unwrap()
            .format(&dt(s), None, &mut out)
            .unwrap();
        out
    }

    #[test]
    fn formats_like_java() {
        let t = "2024-01-02 03:04:05.123456";
        assert_eq!(fmt("yyyy-MM-dd HH:mm:ss", t), "2024-01-02 03:04:05");
        assert_eq!(fmt("yy/M/d H:m:s.SSS", t), "24/1/2 3:4:5.123");
        assert_eq!(
            fmt("EEE, d MMM yyyy hh:mm a", t),
            "Tue, 2 Jan 2024 03:04 AM"
        );
        assert_eq!(fmt("EEEE MMMM D", t), "Tuesday January 2");
        assert_eq!(fmt("'Q'Q 'o''clock' SSSSSS", t), "Q1 o'clock 123456");
        assert_eq!(fmt("yyyyMMdd[HH]", t), "2024010203");
    }

    #[test]
    fn rejects_bad_patterns() {
        assert!(JavaPattern::compile("yyyy-bb").is_err());
        assert!(JavaPattern::compile("ddd").is_err());
        assert!(JavaPattern::compile("'open").is_err());
        assert!(JavaPattern::compile("ww").is_err());
    }

    #[test]
    fn parses_like_java() {
        let p = |pat: &str, s: &str| {
            JavaPattern::compile(pat)
                .unwrap()
                .parse(s)
                .and_then(|p| p.datetime())
        };
        assert_eq!(
            p("yyyy-MM-dd HH:mm:ss", "2024-01-02 03:04:05"),
            Some(dt("2024-01-02 03:04:05"))
        );
        assert_eq!(
            p("yyyyMMddHHmmss", "20240102030405"),
            Some(dt("2024-01-02 03:04:05"))
        );
        assert_eq!(
            p("dd/MM/yyyy", "02/01/2024"),
            Some(dt("2024-01-02 00:00:00"))
        );
        assert_eq!(
            p("yyyy-MM-dd HH:mm:ss.SSS", "2024-01-02 03:04:05.120"),
            Some(dt("2024-01-02 03:04:05.12"))
        );
        assert_eq!(p("HH:mm", "03:04"), Some(dt("1970-01-01 03:04:00")));
        assert_eq!(p("yyyy-MM-dd", "2024-1-02"), None);
        assert_eq!(p("yyyy-MM-dd", "2024-01-02 "), None);
        assert_eq!(
            p("MMM d, yyyy h:mm a", "Feb 3, 2024 1:05 PM"),
            Some(dt("2024-02-03 13:05:00"))
        );
        assert_eq!(
            p("yyyy-MM-dd[ HH:mm]", "2024-01-02"),
            Some(dt("2024-01-02 00:00:00"))
        );
        let parsed = JavaPattern::compile("yyyy-MM-dd HH:mm:ss X")
            .unwrap()
            .parse("2024-01-02 03:04:05 +0800")
            .unwrap();
        assert_eq!(parsed.offset_secs, Some(8 * 3600));
    }
}
