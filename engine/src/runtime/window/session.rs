//! Session windows: per key, a window grows while rows keep arriving within
//! `gap` of each other. A row bridging two sessions merges them (their
//! partial accumulator states are merged). A session fires once the
//! watermark passes its end (last row + gap).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Accumulator;

use super::aggregate::{WindowAggregateSpec, window_batch};
use super::assign::millis;
use super::spec::WindowSpec;
use crate::error::Result;
use crate::runtime::OperatorMetrics;
use crate::runtime::aggregate::functions::{evaluate_all, merge_states};
use crate::runtime::aggregate::keys::{Key, KeyCodec};
use crate::runtime::operator::{BatchOrigin, Event, Operator};
use crate::runtime::state::{OperatorState, RowWriter, SnapshotReader, SnapshotWriter};

struct Session {
    start: i64,
    /// Exclusive: last row's time + gap.
    end: i64,
    accs: Vec<Box<dyn Accumulator>>,
}

/// The session window aggregate.
pub struct SessionWindowOperator {
    spec: WindowAggregateSpec,
    gap: i64,
    codec: KeyCodec,
    sessions: HashMap<Key, Vec<Session>>,
    watermark: i64,
    metrics: Arc<OperatorMetrics>,
}

impl SessionWindowOperator {
    pub fn new(spec: WindowAggregateSpec, metrics: Arc<OperatorMetrics>) -> Result<Self> {
        let gap = match spec.window {
            WindowSpec::Session { gap } => gap,
            _ => 1,
        };
        let codec = KeyCodec::new(spec.keys.clone(), &spec.key_types)?;
        Ok(SessionWindowOperator {
            spec,
            gap,
            codec,
            sessions: HashMap::new(),
            watermark: i64::MIN,
            metrics,
        })
    }

    fn fire(&mut self, wm: i64, out: &mut Vec<Event>) -> Result<()> {
        if wm <= self.watermark {
            return Ok(());
        }
        self.watermark = wm;
        let mut fired: BTreeMap<(i64, Key), (i64, Vec<ScalarValue>)> = BTreeMap::new();
        for (key, list) in self.sessions.iter_mut() {
            let mut keep = Vec::new();
            for mut s in list.drain(..) {
                if s.end - 1 <= wm {
                    let vals = evaluate_all(&mut s.accs)?;
                    fired.insert((s.end, key.clone()), (s.start, vals));
                } else {
                    keep.push(s);
                }
            }
            *list = keep;
        }
        self.sessions.retain(|_, l| !l.is_empty());
        if fired.is_empty() {
            return Ok(());
        }
        let keys = self.codec.decode(fired.keys().map(|(_, k)| k))?;
        let bounds: Vec<(i64, i64)> = fired.iter().map(|((e, _), (s, _))| (*s, *e)).collect();
        let values: Vec<Vec<ScalarValue>> = fired.into_values().map(|(_, v)| v).collect();
        out.push(Event::Batch(window_batch(
            &self.spec, &keys, &bounds, &values,
        )?));
        Ok(())
    }
}

impl Operator for SessionWindowOperator {
    fn process(&mut self, batch: RecordBatch, _: BatchOrigin, _out: &mut Vec<Event>) -> Result<()> {
        // The assigner put each row's own window [ts, ts + gap) in the pane column.
        let ends = millis(batch.column(self.spec.pane_col))?;
        let grouped = self.codec.group(&batch)?;
        let inputs = self.spec.calls.inputs(&batch)?;
        let mut late = 0;
        for (row, g) in grouped.group_of_row.iter().enumerate() {
            if ends.is_null(row) {
                continue;
            }
            let end = ends.value(row);
            let start = end - self.gap;
            let key = &grouped.keys[*g as usize];
            if !self.sessions.contains_key(key) {
                self.sessions.insert(key.clone(), Vec::new());
            }
            let list = self.sessions.get_mut(key).expect("inserted above");
            let overlaps = |s: &Session| s.start < end && start < s.end;
            let mut hits = list.iter().enumerate().filter(|(_, s)| overlaps(s));
            let first = hits.next().map(|(i, _)| i);
            let more = hits.next().is_some();
            match (first, more) {
                (None, _) if end - 1 <= self.watermark => {
                    late += 1;
                    if list.is_empty() {
                        self.sessions.remove(key);
                    }
                }
                (None, _) => {
                    let mut session = Session {
                        start,
                        end,
                        accs: self.spec.calls.accumulators()?,
                    };
                    inputs.apply(&mut session.accs, row, 1, false)?;
                    list.push(session);
                }
                // The usual case, a row extending its key's one open
                // session: update it in place, no merge.
                (Some(i), false) => {
                    let s = &mut list[i];
                    s.start = s.start.min(start);
                    s.end = s.end.max(end);
                    inputs.apply(&mut s.accs, row, 1, false)?;
                }
                // A bridging row: merge every session it touches.
                (Some(_), true) => {
                    let (overlapping, rest): (Vec<Session>, Vec<Session>) =
                        list.drain(..).partition(overlaps);
                    *list = rest;
                    let mut merged = Session {
                        start,
                        end,
                        accs: self.spec.calls.accumulators()?,
                    };
                    for mut s in overlapping {
                        merged.start = merged.start.min(s.start);
                        merged.end = merged.end.max(s.end);
                        merge_states(&mut merged.accs, &mut s.accs)?;
                    }
                    inputs.apply(&mut merged.accs, row, 1, false)?;
                    list.push(merged);
                }
            }
        }
        if late > 0 {
            self.metrics.add_late_dropped(late);
        }
        Ok(())
    }

    fn on_watermark(&mut self, watermark: i64, out: &mut Vec<Event>) -> Result<()> {
        if !self.spec.proctime {
            self.fire(watermark, out)?;
        }
        out.push(Event::Watermark(watermark));
        Ok(())
    }

    fn tick_interval(&self) -> Option<std::time::Duration> {
        self.spec
            .proctime
            .then(|| std::time::Duration::from_millis(50))
    }

    fn on_tick(&mut self, now: i64, out: &mut Vec<Event>) -> Result<()> {
        if self.spec.proctime {
            self.fire(now - 1, out)?;
        }
        Ok(())
    }

    fn on_end(&mut self, out: &mut Vec<Event>) -> Result<()> {
        self.fire(i64::MAX, out)
    }

    fn state(&mut self) -> Option<&mut dyn OperatorState> {
        Some(self)
    }
}

/// The watermark, then one row per open session: key, bounds, accumulators.
impl OperatorState for SessionWindowOperator {
    fn snapshot(&mut self) -> Result<Vec<RecordBatch>> {
        let mut w = SnapshotWriter::new();
        w.watermark(self.watermark)?;
        let mut rows = Vec::new();
        for (key, list) in self.sessions.iter_mut() {
            for s in list.iter_mut() {
                let row = RowWriter::new().bytes(key).i64(s.start).i64(s.end);
                rows.push(row.accumulators(&mut s.accs)?);
            }
        }
        w.rows("sessions", rows)?;
        Ok(w.finish())
    }

    fn restore(&mut self, snapshot: &[RecordBatch]) -> Result<()> {
        let r = SnapshotReader::new(snapshot, &["meta", "sessions"])?;
        self.watermark = r.watermark()?;
        self.sessions.clear();
        for mut row in r.rows("sessions") {
            let key = row.bytes()?;
            let session = Session {
                start: row.i64()?,
                end: row.i64()?,
                accs: row.accumulators(&self.spec.calls)?,
            };
            self.sessions.entry(key).or_default().push(session);
        }
        Ok(())
    }
}
