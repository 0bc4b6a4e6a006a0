//! Combining the watermarks of several inputs: an operator's event time is
//! the minimum over its inputs, except inputs that ended (they can send
//! nothing later) or declared themselves idle (they should not stall the rest).

/// What a chain head should pass on after an input's status changed.
#[derive(Debug, PartialEq, Eq)]
pub enum Combined {
    Nothing,
    Watermark(i64),
    /// Every input that has not ended is idle.
    Idle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Active,
    Idle,
    Ended,
}

/// Per-input watermark and status.
#[derive(Debug)]
pub struct InputWatermarks {
    watermarks: Vec<Option<i64>>,
    status: Vec<Status>,
    /// The last combined watermark passed on; it never decreases.
    current: Option<i64>,
    idle_sent: bool,
}

impl InputWatermarks {
    pub fn new(inputs: usize) -> Self {
        InputWatermarks {
            watermarks: vec![None; inputs.max(1)],
            status: vec![Status::Active; inputs.max(1)],
            current: None,
            idle_sent: false,
        }
    }

    /// True once every input has ended.
    pub fn all_ended(&self) -> bool {
        self.status.iter().all(|s| *s == Status::Ended)
    }

    /// A batch arrived on `slot`: an idle input is active again.
    pub fn on_batch(&mut self, slot: usize) {
        if let Some(s) = self.status.get_mut(slot)
            && *s == Status::Idle
        {
            *s = Status::Active;
            self.idle_sent = false;
        }
    }

    pub fn on_watermark(&mut self, slot: usize, wm: i64) -> Combined {
        self.on_batch(slot);
        if let Some(w) = self.watermarks.get_mut(slot) {
            *w = Some(w.map_or(wm, |old| old.max(wm)));
        }
        self.combine()
    }

    pub fn on_idle(&mut self, slot: usize) -> Combined {
        if let Some(s) = self.status.get_mut(slot)
            && *s == Status::Active
        {
            *s = Status::Idle;
        }
        self.combine()
    }

    pub fn on_end(&mut self, slot: usize) -> Combined {
        if let Some(s) = self.status.get_mut(slot) {
            *s = Status::Ended;
        }
        self.combine()
    }

    fn combine(&mut self) -> Combined {
        let mut min: Option<i64> = None;
        let mut any_active = false;
        for (w, s) in self.watermarks.iter().zip(&self.status) {
            if *s != Status::Active {
                continue;
            }
            any_active = true;
            match w {
                // An active input without a watermark holds everything back.
                None => return Combined::Nothing,
                Some(w) => min = Some(min.map_or(*w, |m: i64| m.min(*w))),
            }
        }
        if !any_active {
            if self.all_ended() {
                return Combined::Nothing;
            }
            // Every input still running is idle: the highest watermark any
            // idle input reached may pass, then say we are idle too.
            let best = self
                .watermarks
                .iter()
                .zip(&self.status)
                .filter(|(_, s)| **s == Status::Idle)
                .filter_map(|(w, _)| *w)
                .max();
            if let Some(b) = best
                && self.current.is_none_or(|c| b > c)
            {
                self.current = Some(b);
                return Combined::Watermark(b);
            }
            if self.idle_sent {
                return Combined::Nothing;
            }
            self.idle_sent = true;
            return Combined::Idle;
        }
        match min {
            Some(m) if self.current.is_none_or(|c| m > c) => {
                self.current = Some(m);
                Combined::Watermark(m)
            }
            _ => Combined::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_over_active_inputs() {
        let mut w = InputWatermarks::new(2);
        assert_eq!(w.on_watermark(0, 10), Combined::Nothing);
        assert_eq!(w.on_watermark(1, 5), Combined::Watermark(5));
        assert_eq!(w.on_watermark(1, 20), Combined::Watermark(10));
        // Never decreases.
        assert_eq!(w.on_watermark(0, 3), Combined::Nothing);
    }

    #[test]
    fn idle_input_stops_holding_back() {
        let mut w = InputWatermarks::new(2);
        assert_eq!(w.on_watermark(0, 10), Combined::Nothing);
        assert_eq!(w.on_idle(1), Combined::Watermark(10));
        assert_eq!(w.on_watermark(0, 12), Combined::Watermark(12));
        // Back from idle with an older watermark: waits for it again.
        assert_eq!(w.on_watermark(1, 11), Combined::Nothing);
        assert_eq!(w.on_watermark(1, 15), Combined::Nothing);
        assert_eq!(w.on_watermark(0, 16), Combined::Watermark(15));
    }

    #[test]
    fn ended_inputs_count_as_done() {
        let mut w = InputWatermarks::new(2);
        w.on_watermark(0, 7);
        assert_eq!(w.on_end(1), Combined::Watermark(7));
        assert!(!w.all_ended());
        w.on_end(0);
        assert!(w.all_ended());
    }

    #[test]
    fn all_idle_is_idle() {
        let mut w = InputWatermarks::new(2);
        assert_eq!(w.on_idle(0), Combined::Nothing);
        assert_eq!(w.on_idle(1), Combined::Idle);
        assert_eq!(w.on_idle(1), Combined::Nothing);
    }
}
