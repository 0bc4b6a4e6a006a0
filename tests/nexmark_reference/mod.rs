//! The reference files' line format (tests/data/nexmark): one line per
//! event with its numbers in the clear and its strings as a length and an
//! FNV-1a hash. Shared by the connector's unit tests (by `#[path]`) and the
//! SQL tests, so both compare generated rows the same way.

use datafusion::arrow::array::{Array, AsArray, StructArray};
use datafusion::arrow::datatypes::{Int32Type, Int64Type, TimestampMillisecondType};
use datafusion::arrow::record_batch::RecordBatch;

/// 2024-01-01 00:00:00 UTC, the reference files' base time.
pub const BASE: i64 = 1_704_067_200_000;

fn fnv(parts: &[&str]) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for (i, p) in parts.iter().enumerate() {
        let sep: &[u8] = if i > 0 { b"|" } else { b"" };
        for b in sep.iter().chain(p.as_bytes()) {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    format!("{h:08x}")
}

/// The reference file's line of each row of `event_type, person, auction, bid`.
pub fn lines(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        let kind = b.column(0).as_primitive::<Int32Type>();
        let (p, a, d) = (
            b.column(1).as_struct(),
            b.column(2).as_struct(),
            b.column(3).as_struct(),
        );
        let int = |s: &StructArray, f: &str, i: usize| {
            s.column_by_name(f)
                .expect(f)
                .as_primitive::<Int64Type>()
                .value(i)
        };
        let ts = |s: &StructArray, f: &str, i: usize| {
            s.column_by_name(f)
                .expect(f)
                .as_primitive::<TimestampMillisecondType>()
                .value(i)
                - BASE
        };
        let st = |s: &StructArray, f: &str, i: usize| -> String {
            s.column_by_name(f)
                .expect(f)
                .as_string::<i32>()
                .value(i)
                .to_string()
        };
        for i in 0..b.num_rows() {
            let (valid, line) = match kind.value(i) {
                0 => (
                    p.is_valid(i) && a.is_null(i) && d.is_null(i),
                    format!(
                        "0,{},,,,,,,,,,{},{},{}",
                        int(p, "id", i),
                        ts(p, "dateTime", i),
                        st(p, "extra", i).len(),
                        fnv(&[
                            &st(p, "name", i),
                            &st(p, "emailAddress", i),
                            &st(p, "creditCard", i),
                            &st(p, "city", i),
                            &st(p, "state", i),
                            &st(p, "extra", i),
                        ])
                    ),
                ),
                1 => (
                    a.is_valid(i) && p.is_null(i) && d.is_null(i),
                    format!(
                        "1,{},{},{},{},{},{},,,,,{},{},{}",
                        int(a, "id", i),
                        int(a, "seller", i),
                        int(a, "category", i),
                        int(a, "initialBid", i),
                        int(a, "reserve", i),
                        ts(a, "expires", i),
                        ts(a, "dateTime", i),
                        st(a, "extra", i).len(),
                        fnv(&[
                            &st(a, "itemName", i),
                            &st(a, "description", i),
                            &st(a, "extra", i)
                        ])
                    ),
                ),
                _ => (
                    d.is_valid(i) && p.is_null(i) && a.is_null(i),
                    format!(
                        "2,,,,,,,{},{},{},{},{},{},{}",
                        int(d, "auction", i),
                        int(d, "bidder", i),
                        int(d, "price", i),
                        st(d, "channel", i),
                        ts(d, "dateTime", i),
                        st(d, "extra", i).len(),
                        fnv(&[&st(d, "url", i), &st(d, "extra", i)])
                    ),
                ),
            };
            assert!(valid, "row {line}: only its own ROW may be non-NULL");
            out.push(line);
        }
    }
    out
}
