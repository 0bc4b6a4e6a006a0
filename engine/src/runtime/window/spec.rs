//! Window arithmetic. Windows are cut into panes ("slices" in Flink): a row
//! is added to exactly one pane, and a window is the combination of the
//! panes it covers. So a HOP window of size 10 s sliding by 2 s keeps five
//! 2-second panes per key, not five copies of every row.
//!
//! All times are epoch milliseconds; a window `[start, end)` fires once the
//! watermark reaches `end - 1`, its last millisecond.

use std::fmt;

/// The windowing function of a window TVF (or legacy group window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd)]
pub enum WindowSpec {
    /// `TUMBLE(.., size [, offset])`.
    Tumble { size: i64, offset: i64 },
    /// `HOP(.., slide, size [, offset])`.
    Hop { slide: i64, size: i64, offset: i64 },
    /// `CUMULATE(.., step, max_size [, offset])`.
    Cumulate { step: i64, size: i64, offset: i64 },
    /// `SESSION(.., gap)`: windows per key, merged when they overlap.
    Session { gap: i64 },
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The start of the `size`-aligned period containing `ts`.
pub fn period_start(ts: i64, offset: i64, size: i64) -> i64 {
    ts - (ts - offset).rem_euclid(size)
}

impl WindowSpec {
    /// Pane length: every window is a whole number of panes.
    pub fn pane(&self) -> i64 {
        match *self {
            WindowSpec::Tumble { size, .. } => size,
            WindowSpec::Hop { slide, size, .. } => gcd(size, slide),
            WindowSpec::Cumulate { step, .. } => step,
            WindowSpec::Session { gap } => gap,
        }
    }

    fn offset(&self) -> i64 {
        match *self {
            WindowSpec::Tumble { offset, .. }
            | WindowSpec::Hop { offset, .. }
            | WindowSpec::Cumulate { offset, .. } => offset,
            WindowSpec::Session { .. } => 0,
        }
    }

    /// The end of the pane `ts` falls into.
    pub fn pane_end(&self, ts: i64) -> i64 {
        period_start(ts, self.offset(), self.pane()) + self.pane()
    }

    /// Every window `(start, end)` containing the pane that ends at `pane_end`.
    pub fn windows_of_pane(&self, pane_end: i64) -> Vec<(i64, i64)> {
        let pane_start = pane_end - self.pane();
        match *self {
            WindowSpec::Tumble { size, .. } => vec![(pane_end - size, pane_end)],
            WindowSpec::Hop {
                slide,
                size,
                offset,
            } => {
                // Starts are slide-aligned, with start <= pane_start and
                // start + size >= pane_end.
                let last = period_start(pane_start, offset, slide);
                let mut out = Vec::new();
                let mut s = last;
                while s + size >= pane_end {
                    out.push((s, s + size));
                    s -= slide;
                }
                out.reverse();
                out
            }
            WindowSpec::Cumulate { step, size, offset } => {
                let start = period_start(pane_start, offset, size);
                let mut out = Vec::new();
                let mut end = pane_end;
                while end <= start + size {
                    out.push((start, end));
                    end += step;
                }
                out
            }
            WindowSpec::Session { .. } => vec![(pane_start, pane_end)],
        }
    }

    /// The ends of the panes making up window `(start, end)`.
    pub fn panes_of_window(&self, start: i64, end: i64) -> impl Iterator<Item = i64> + use<> {
        let pane = self.pane();
        (1..=((end - start) / pane)).map(move |k| start + k * pane)
    }

    /// The end of the last window that contains the pane ending at
    /// `pane_end`: once that window fired, the pane can go.
    pub fn pane_retire_at(&self, pane_end: i64) -> i64 {
        self.windows_of_pane(pane_end)
            .iter()
            .map(|(_, e)| *e)
            .max()
            .unwrap_or(pane_end)
    }

    /// True when every window is one pane (tumbling): no combining needed.
    pub fn single_pane(&self) -> bool {
        matches!(self, WindowSpec::Tumble { .. })
    }
}

impl fmt::Display for WindowSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let off = |o: i64| {
            if o == 0 {
                String::new()
            } else {
                format!(", offset={o}ms")
            }
        };
        match *self {
            WindowSpec::Tumble { size, offset } => {
                write!(f, "TUMBLE(size={size}ms{})", off(offset))
            }
            WindowSpec::Hop {
                slide,
                size,
                offset,
            } => write!(f, "HOP(slide={slide}ms, size={size}ms{})", off(offset)),
            WindowSpec::Cumulate { step, size, offset } => {
                write!(
                    f,
                    "CUMULATE(step={step}ms, max_size={size}ms{})",
                    off(offset)
                )
            }
            WindowSpec::Session { gap } => write!(f, "SESSION(gap={gap}ms)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tumble_panes_are_windows() {
        let w = WindowSpec::Tumble {
            size: 10,
            offset: 0,
        };
        assert_eq!(w.pane_end(0), 10);
        assert_eq!(w.pane_end(9), 10);
        assert_eq!(w.pane_end(10), 20);
        assert_eq!(w.pane_end(-1), 0);
        assert_eq!(w.windows_of_pane(20), vec![(10, 20)]);
    }

    #[test]
    fn hop_uses_gcd_panes() {
        let w = WindowSpec::Hop {
            slide: 4,
            size: 10,
            offset: 0,
        };
        assert_eq!(w.pane(), 2);
        assert_eq!(w.pane_end(5), 6);
        // Pane [4,6) is in windows starting at 4, 0 and -4.
        assert_eq!(w.windows_of_pane(6), vec![(-4, 6), (0, 10), (4, 14)]);
        assert_eq!(
            w.panes_of_window(0, 10).collect::<Vec<_>>(),
            vec![2, 4, 6, 8, 10]
        );
        assert_eq!(w.pane_retire_at(6), 14);
    }

    #[test]
    fn cumulate_windows_grow_within_max() {
        let w = WindowSpec::Cumulate {
            step: 2,
            size: 6,
            offset: 0,
        };
        assert_eq!(w.windows_of_pane(4), vec![(0, 4), (0, 6)]);
        assert_eq!(w.windows_of_pane(8), vec![(6, 8), (6, 10), (6, 12)]);
    }

    #[test]
    fn offset_shifts_windows() {
        let w = WindowSpec::Tumble {
            size: 10,
            offset: 3,
        };
        assert_eq!(w.pane_end(2), 3);
        assert_eq!(w.pane_end(3), 13);
    }
}
