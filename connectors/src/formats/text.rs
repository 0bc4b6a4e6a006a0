//! Flink's textual renderings of values, byte for byte, so files written by
//! Sluice diff clean against files written by Flink:
//!
//! * timestamps: `yyyy-MM-dd HH:mm:ss[.fffffffff]` with trailing zeros of the
//!   fraction dropped (Java's `appendFraction(NANO_OF_SECOND, 0, 9, true)`),
//!   `T` instead of the space for ISO-8601, a trailing `Z` for TIMESTAMP_LTZ;
//! * FLOAT / DOUBLE: Java's `Float.toString` / `Double.toString` (`1.0`,
//!   `1.0E-5`), which is what Jackson writes;
//! * DECIMAL: Java's `BigDecimal.toString` (`1E-7` for tiny values) or
//!   `toPlainString`.

use chrono::{DateTime, Datelike, NaiveDate, Timelike};
use datafusion::arrow::datatypes::TimeUnit;

/// Nanoseconds per unit of `unit`.
fn nanos_per(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

/// Splits a value in `unit` into whole seconds and nanoseconds (always
/// non-negative, as Java's `LocalDateTime` does for times before 1970).
pub fn split_seconds(value: i64, unit: TimeUnit) -> (i64, u32) {
    let per_second = 1_000_000_000 / nanos_per(unit);
    let secs = value.div_euclid(per_second);
    let nanos = value.rem_euclid(per_second) * nanos_per(unit);
    (secs, nanos as u32)
}

/// `v` in decimal, left-padded with zeros to `width` digits (no allocation:
/// this runs for every date and time field written).
fn push_padded(out: &mut Vec<u8>, v: u32, width: usize) {
    let mut digits = [0u8; 10];
    let mut start = digits.len();
    let mut n = v;
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for _ in digits.len() - start..width {
        out.push(b'0');
    }
    out.extend_from_slice(&digits[start..]);
}

/// `.fffffffff` without trailing zeros; nothing when `nanos` is zero.
fn push_fraction(out: &mut Vec<u8>, nanos: u32) {
    if nanos == 0 {
        return;
    }
    let mut digits = [b'0'; 9];
    let mut n = nanos;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let len = 9 - digits.iter().rev().take_while(|d| **d == b'0').count();
    out.push(b'.');
    out.extend_from_slice(&digits[..len]);
}

/// `yyyy-MM-dd` like Java's `ISO_LOCAL_DATE` (sign and 5+ digits outside
/// years 0..=9999).
fn push_date(out: &mut Vec<u8>, date: NaiveDate) {
    let year = date.year();
    if (0..=9999).contains(&year) {
        push_padded(out, year as u32, 4);
    } else {
        out.push(if year < 0 { b'-' } else { b'+' });
        push_padded(out, year.unsigned_abs(), 4);
    }
    out.push(b'-');
    push_padded(out, date.month(), 2);
    out.push(b'-');
    push_padded(out, date.day(), 2);
}

/// Writes a DATE given as days since 1970-01-01; false when out of range.
pub fn write_date(out: &mut Vec<u8>, days: i64) -> bool {
    let Some(date) = i32::try_from(days)
        .ok()
        .and_then(|d| d.checked_add(719_163))
        .and_then(NaiveDate::from_num_days_from_ce_opt)
    else {
        return false;
    };
    push_date(out, date);
    true
}

/// Writes a TIME given as nanoseconds of the day: `HH:mm:ss`, plus the
/// trimmed fraction when `with_fraction` (Flink's JSON writes whole seconds
/// only; its CSV writes the fraction).
pub fn write_time(out: &mut Vec<u8>, nanos_of_day: i64, with_fraction: bool) {
    let nanos_of_day = nanos_of_day.rem_euclid(86_400 * 1_000_000_000);
    let secs = (nanos_of_day / 1_000_000_000) as u32;
    push_padded(out, secs / 3600, 2);
    out.push(b':');
    push_padded(out, secs / 60 % 60, 2);
    out.push(b':');
    push_padded(out, secs % 60, 2);
    if with_fraction {
        push_fraction(out, (nanos_of_day % 1_000_000_000) as u32);
    }
}

/// Writes a timestamp (`value` in `unit` since the epoch, read as UTC wall
/// time) with `separator` between date and time and a `Z` when `zulu`.
/// Returns false when the value is outside chrono's range.
pub fn write_timestamp(
    out: &mut Vec<u8>,
    value: i64,
    unit: TimeUnit,
    separator: u8,
    zulu: bool,
) -> bool {
    let (secs, nanos) = split_seconds(value, unit);
    let Some(ts) = DateTime::from_timestamp(secs, nanos) else {
        return false;
    };
    let ts = ts.naive_utc();
    push_date(out, ts.date());
    out.push(separator);
    push_padded(out, ts.hour(), 2);
    out.push(b':');
    push_padded(out, ts.minute(), 2);
    out.push(b':');
    push_padded(out, ts.second(), 2);
    push_fraction(out, ts.nanosecond());
    if zulu {
        out.push(b'Z');
    }
    true
}

/// Java's `Double.toString` / `Float.toString` from Rust's shortest
/// round-trip scientific rendering (`{:e}`), e.g. `1.2e-5` → `1.2E-5`,
/// `1e2` → `100.0`. `sci` must be that rendering of a finite value.
fn push_java_floating(out: &mut Vec<u8>, sci: &str) {
    let (negative, sci) = match sci.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, sci),
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    if negative {
        out.push(b'-');
    }
    if digits.bytes().all(|d| d == b'0') {
        out.extend_from_slice(b"0.0");
        return;
    }
    if (-3..7).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            let (int, frac) = if digits.len() > int_len {
                digits.split_at(int_len)
            } else {
                (digits.as_str(), "")
            };
            out.extend_from_slice(int.as_bytes());
            for _ in int.len()..int_len {
                out.push(b'0');
            }
            out.push(b'.');
            out.extend_from_slice(if frac.is_empty() {
                b"0"
            } else {
                frac.as_bytes()
            });
        } else {
            out.extend_from_slice(b"0.");
            for _ in 0..(-exp - 1) {
                out.push(b'0');
            }
            out.extend_from_slice(digits.as_bytes());
        }
    } else {
        let (first, rest) = digits.split_at(1);
        out.extend_from_slice(first.as_bytes());
        out.push(b'.');
        out.extend_from_slice(if rest.is_empty() {
            b"0"
        } else {
            rest.as_bytes()
        });
        out.push(b'E');
        out.extend_from_slice(exp.to_string().as_bytes());
    }
}

/// Java's `Double.toString` for a finite value.
pub fn write_java_double(out: &mut Vec<u8>, v: f64) {
    push_java_floating(out, &format!("{v:e}"));
}

/// Java's `Float.toString` for a finite value.
pub fn write_java_float(out: &mut Vec<u8>, v: f32) {
    push_java_floating(out, &format!("{v:e}"));
}

/// Java's name for a non-finite floating value (`NaN`, `Infinity`,
/// `-Infinity`), or `None` when the value is finite.
pub fn non_finite_name(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v.is_infinite() {
        Some(if v > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        None
    }
}

/// Writes a decimal given as its unscaled integer's decimal digits (with an
/// optional leading `-`) and its scale, like Java's `BigDecimal.toString`
/// (`plain` = false: scientific notation when the exponent is below -6) or
/// `toPlainString` (`plain` = true).
pub fn write_decimal(out: &mut Vec<u8>, unscaled: &str, scale: i8, plain: bool) {
    let (negative, digits) = match unscaled.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, unscaled),
    };
    let scale = i64::from(scale);
    let adjusted = -scale + (digits.len() as i64 - 1);
    if negative {
        out.push(b'-');
    }
    if plain || (scale >= 0 && adjusted >= -6) {
        if scale <= 0 {
            out.extend_from_slice(digits.as_bytes());
            if digits != "0" {
                for _ in 0..-scale {
                    out.push(b'0');
                }
            }
        } else if digits.len() as i64 > scale {
            let (int, frac) = digits.split_at(digits.len() - scale as usize);
            out.extend_from_slice(int.as_bytes());
            out.push(b'.');
            out.extend_from_slice(frac.as_bytes());
        } else {
            out.extend_from_slice(b"0.");
            for _ in 0..(scale - digits.len() as i64) {
                out.push(b'0');
            }
            out.extend_from_slice(digits.as_bytes());
        }
    } else {
        let (first, rest) = digits.split_at(1);
        out.extend_from_slice(first.as_bytes());
        if !rest.is_empty() {
            out.push(b'.');
            out.extend_from_slice(rest.as_bytes());
        }
        out.push(b'E');
        if adjusted >= 0 {
            out.push(b'+');
        }
        out.extend_from_slice(adjusted.to_string().as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn doubles_render_like_java() {
        assert_eq!(s(|o| write_java_double(o, 1.0)), "1.0");
        assert_eq!(s(|o| write_java_double(o, -0.0)), "-0.0");
        assert_eq!(s(|o| write_java_double(o, 123.456)), "123.456");
        assert_eq!(s(|o| write_java_double(o, 0.001)), "0.001");
        assert_eq!(s(|o| write_java_double(o, 0.0001)), "1.0E-4");
        assert_eq!(s(|o| write_java_double(o, 1234567.0)), "1234567.0");
        assert_eq!(s(|o| write_java_double(o, 12345678.0)), "1.2345678E7");
        assert_eq!(s(|o| write_java_double(o, 1e20)), "1.0E20");
        assert_eq!(s(|o| write_java_float(o, 0.1)), "0.1");
    }

    #[test]
    fn decimals_render_like_big_decimal() {
        assert_eq!(s(|o| write_decimal(o, "12345", 2, false)), "123.45");
        assert_eq!(s(|o| write_decimal(o, "-5", 3, false)), "-0.005");
        assert_eq!(s(|o| write_decimal(o, "0", 2, false)), "0.00");
        assert_eq!(s(|o| write_decimal(o, "1", 7, false)), "1E-7");
        assert_eq!(s(|o| write_decimal(o, "123", 10, false)), "1.23E-8");
        assert_eq!(s(|o| write_decimal(o, "1", 7, true)), "0.0000001");
        assert_eq!(s(|o| write_decimal(o, "42", 0, false)), "42");
    }

    #[test]
    fn timestamps_trim_the_fraction() {
        let ms = 1_704_164_645_120; // 2024-01-02 03:04:05.12
        assert_eq!(
            s(|o| assert!(write_timestamp(o, ms, TimeUnit::Millisecond, b' ', false))),
            "2024-01-02 03:04:05.12"
        );
        assert_eq!(
            s(|o| assert!(write_timestamp(
                o,
                ms - 120,
                TimeUnit::Millisecond,
                b'T',
                true
            ))),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(
            s(|o| assert!(write_timestamp(o, -1, TimeUnit::Millisecond, b' ', false))),
            "1969-12-31 23:59:59.999"
        );
        assert_eq!(s(|o| write_time(o, 3_723_500_000_000, true)), "01:02:03.5");
        assert_eq!(s(|o| write_time(o, 3_723_500_000_000, false)), "01:02:03");
        assert_eq!(s(|o| assert!(write_date(o, 19_724))), "2024-01-02");
    }
}
