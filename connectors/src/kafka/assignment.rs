//! Which source instance reads which partition: Flink's rule
//! (`KafkaSourceEnumerator.getSplitOwner`), so a partition keeps its reader
//! when partitions are added and the spread matches Flink's:
//! `start = ((topic.hashCode() * 31) & 0x7FFFFFFF) % parallelism`, then
//! partition `p` goes to `(start + p) % parallelism`.

/// Java's `String.hashCode` (over UTF-16 code units, wrapping).
fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The instance (`0..parallelism`) that reads `partition` of `topic`.
pub fn owner(topic: &str, partition: i32, parallelism: usize) -> usize {
    let n = parallelism.max(1) as i64;
    let start = i64::from(java_hash(topic).wrapping_mul(31) & 0x7FFF_FFFF) % n;
    ((start + i64::from(partition)) % n) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_java() {
        // "hello".hashCode() == 99162322 in Java.
        assert_eq!(java_hash("hello"), 99_162_322);
        // A value that overflows: "polygenelubricants".hashCode() == Integer.MIN_VALUE.
        assert_eq!(java_hash("polygenelubricants"), i32::MIN);
        assert_eq!(java_hash(""), 0);
    }

    #[test]
    fn partitions_spread_evenly() {
        let mut counts = [0; 3];
        for p in 0..9 {
            counts[owner("orders", p, 3)] += 1;
        }
        assert_eq!(counts, [3, 3, 3]);
        assert_eq!(owner("orders", 5, 1), 0);
    }
}
