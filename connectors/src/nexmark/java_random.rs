//! `java.util.Random`, bit for bit. The reference generator draws every
//! value of an event from a `java.util.Random` seeded with the event's id, so
//! reproducing its output row for row needs the JDK's exact 48-bit linear
//! congruential generator and its exact derivations of `nextInt(bound)`,
//! `nextLong()` and `nextDouble()` (Java 17 semantics).

const MULTIPLIER: i64 = 0x5_DEEC_E66D;
const ADDEND: i64 = 0xB;
const MASK: i64 = (1 << 48) - 1;
/// `0x1.0p-53`: maps 53 random bits onto `[0, 1)`.
const DOUBLE_UNIT: f64 = 1.0 / (1u64 << 53) as f64;

/// A `java.util.Random` with the JDK's algorithm.
#[derive(Debug, Clone)]
pub(crate) struct JavaRandom {
    seed: i64,
}

impl JavaRandom {
    /// `new Random(seed)`: the seed is scrambled exactly as the JDK does.
    pub(crate) fn new(seed: i64) -> Self {
        JavaRandom {
            seed: (seed ^ MULTIPLIER) & MASK,
        }
    }

    /// `next(bits)`: advances the generator and returns its top `bits` bits
    /// as a Java `int` (so 32 bits may be negative).
    fn next(&mut self, bits: u32) -> i32 {
        self.seed = self.seed.wrapping_mul(MULTIPLIER).wrapping_add(ADDEND) & MASK;
        // Java's `(int)` keeps the low 32 bits, which `as` does too.
        (self.seed >> (48 - bits)) as i32
    }

    /// `nextInt()`: any `int`.
    pub(crate) fn next_int(&mut self) -> i32 {
        self.next(32)
    }

    /// `nextInt(bound)`: uniform in `0..bound`, with the JDK's rejection
    /// loop (whose overflow test relies on `int` wrap-around). `bound` must
    /// be positive; callers validate that.
    pub(crate) fn next_int_bounded(&mut self, bound: i32) -> i32 {
        debug_assert!(bound > 0, "nextInt bound must be positive");
        let mut r = self.next(31);
        let m = bound.wrapping_sub(1);
        if bound & m == 0 {
            // A power of two: take the high bits.
            return ((i64::from(bound) * i64::from(r)) >> 31) as i32;
        }
        let mut u = r;
        loop {
            r = u % bound;
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }

    /// `nextLong()`: two 32-bit draws, the second sign-extended and added.
    pub(crate) fn next_long(&mut self) -> i64 {
        let hi = i64::from(self.next(32)) << 32;
        hi.wrapping_add(i64::from(self.next(32)))
    }

    /// `nextDouble()`: 26 + 27 random bits scaled onto `[0, 1)`.
    pub(crate) fn next_double(&mut self) -> f64 {
        let hi = i64::from(self.next(26)) << 27;
        (hi + i64::from(self.next(27))) as f64 * DOUBLE_UNIT
    }
}

#[cfg(test)]
mod tests {
    use super::JavaRandom;

    // Expected values printed by JDK 17's `java.util.Random` with the same
    // seeds and calls.
    #[test]
    fn matches_the_jdk() {
        let mut r = JavaRandom::new(42);
        assert_eq!(r.next_int(), -1_170_105_035);
        assert_eq!(r.next_int_bounded(100), 63);
        assert_eq!(r.next_long(), -5_843_495_416_241_995_736);
        assert_eq!(r.next_double(), 0.308_719_455_332_659_76);
        assert_eq!(r.next_int_bounded(16), 4);
        assert_eq!(r.next_int_bounded(1_000_000_007), 519_796_911);

        let mut r = JavaRandom::new(-7);
        assert_eq!(r.next_int(), 1_155_869_324);
        assert_eq!(r.next_int_bounded(10), 7);
        assert_eq!(r.next_double(), 0.673_181_190_279_803_8);
        assert_eq!(r.next_long(), -8_826_958_116_857_042_465);

        let mut r = JavaRandom::new(i64::MIN);
        assert_eq!(r.next_int_bounded(13), 5);
        let price = (10f64.powf(r.next_double() * 6.0) * 100.0).round() as i64;
        assert_eq!(price, 9_741_951);
    }

    /// A bound just under 2^31 takes the rejection loop often.
    #[test]
    fn rejection_loop_matches_the_jdk() {
        let mut r = JavaRandom::new(123_456_789);
        let sum: i64 = (0..1000)
            .map(|_| i64::from(r.next_int_bounded(i32::MAX - 5)))
            .sum();
        assert_eq!(sum, 1_068_887_722_076);
    }
}
