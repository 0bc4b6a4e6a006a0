//! The fetch thread of one source instance: it owns the librdkafka consumer,
//! polls it, and hands the reader batches of raw messages, each from one
//! partition, with the per-message columns (offset, timestamp, headers, ...)
//! already laid out column-wise. It also stops each partition at its stop
//! offset, discovers new partitions, stores the offsets the reader has handed
//! on (librdkafka commits them to the group), and fails on fatal errors or a
//! cluster unreachable for longer than `socket.timeout.ms`.
//!
//! A thread rather than a task: librdkafka's poll blocks, and the consumer
//! must be dropped where it cannot stall the async runtime.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{Offset, TopicPartitionList};
use sluice_engine::SluiceError;
use tokio::sync::mpsc;

use super::assignment::owner;
use super::batch::{FetchedBatch, Pending};
use super::client::describe;
use super::offsets::{Split, is_fatal};
use super::options::Topics;

/// What the fetch thread tells the reader.
#[derive(Debug)]
pub enum FetchEvent {
    Batch(Box<FetchedBatch>),
    /// Newly discovered partitions, appended to the splits in this order.
    Discovered(Vec<Split>),
    /// Every partition reached its stop offset.
    End,
    Failed(SluiceError),
}

/// Periodic partition discovery.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub interval: Duration,
    pub topics: Topics,
    pub instance: usize,
    pub parallelism: usize,
}

/// Everything the fetch thread needs.
pub struct FetchPlan {
    pub splits: Vec<Split>,
    pub starts: Vec<Offset>,
    /// Per split, the offset before which it stops (`None`: never).
    pub stops: Vec<Option<i64>>,
    /// Per split, `(ts, until)`: skip records older than `ts` (ms) until the
    /// first that is not, or offset `until` (a start by timestamp the broker
    /// could not resolve).
    pub skips: Vec<Option<(i64, i64)>>,
    /// `scan.bounded.timestamp-millis`: a split also ends at its first
    /// record at or after this time.
    pub stop_timestamp: Option<i64>,
    /// The input ends once every split is done (true even with no split).
    pub bounded: bool,
    pub batch_size: usize,
    pub want_headers: bool,
    pub want_leader_epoch: bool,
    pub discovery: Option<Discovery>,
    /// Store handed-on offsets for the group to commit.
    pub store_offsets: bool,
    /// How long the cluster may be unreachable before the source fails.
    pub unreachable_timeout: Duration,
}

/// The reader's handle on its fetch thread; dropping it stops the thread.
pub struct Fetcher {
    pub events: mpsc::Receiver<FetchEvent>,
    /// `(split, offset)` of the last message handed on, for the group commit.
    pub handed_on: std_mpsc::Sender<(usize, i64)>,
    stop: Arc<AtomicBool>,
}

impl Drop for Fetcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Starts the fetch thread for `consumer` (already configured, not yet
/// assigned).
pub fn start(consumer: BaseConsumer, plan: FetchPlan, name: String) -> std::io::Result<Fetcher> {
    let (tx, events) = mpsc::channel(4);
    let (handed_on, handed_rx) = std_mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = Arc::clone(&stop);
    std::thread::Builder::new().name(name).spawn(move || {
        let mut state = FetchState::new(consumer, plan, tx, handed_rx, thread_stop);
        if let Err(e) = state.run() {
            let _ = state.tx.blocking_send(FetchEvent::Failed(e));
        }
        // The consumer is dropped here, on this thread: closing it commits
        // the stored offsets and may wait for the broker.
    })?;
    Ok(Fetcher {
        events,
        handed_on,
        stop,
    })
}

struct SplitState {
    split: Split,
    start: Offset,
    stop: Option<i64>,
    skip: Option<(i64, i64)>,
    done: bool,
    pending: Pending,
}

struct FetchState {
    consumer: Arc<BaseConsumer>,
    splits: Vec<SplitState>,
    /// Split indices by partition number (then matched by topic).
    by_partition: HashMap<i32, Vec<usize>>,
    batch_size: usize,
    want_headers: bool,
    want_leader_epoch: bool,
    discovery: Option<Discovery>,
    next_discovery: Option<Instant>,
    store_offsets: bool,
    stop_timestamp: Option<i64>,
    unreachable_timeout: Duration,
    unreachable_since: Option<Instant>,
    next_probe: Instant,
    bounded: bool,
    tx: mpsc::Sender<FetchEvent>,
    handed_on: std_mpsc::Receiver<(usize, i64)>,
    stop: Arc<AtomicBool>,
}

/// Poll wait when nothing is buffered: short enough to notice a stop soon.
const IDLE_POLL: Duration = Duration::from_millis(100);

/// The reader went away: stop quietly.
#[derive(Debug)]
struct Gone;

type Step = Result<(), Halt>;

/// Why the fetch loop ends early.
#[derive(Debug)]
enum Halt {
    Gone,
    Failed(SluiceError),
}

impl From<Gone> for Halt {
    fn from(_: Gone) -> Self {
        Halt::Gone
    }
}

fn kafka_failure(what: &str, e: &KafkaError) -> Halt {
    Halt::Failed(SluiceError::connector(
        "kafka",
        format!("{what}: {}", describe(e)),
    ))
}

impl FetchState {
    fn new(
        consumer: BaseConsumer,
        plan: FetchPlan,
        tx: mpsc::Sender<FetchEvent>,
        handed_on: std_mpsc::Receiver<(usize, i64)>,
        stop: Arc<AtomicBool>,
    ) -> Self {
        let bounded = plan.bounded;
        let mut s = Self {
            consumer: Arc::new(consumer),
            splits: Vec::new(),
            by_partition: HashMap::new(),
            batch_size: plan.batch_size.max(1),
            want_headers: plan.want_headers,
            want_leader_epoch: plan.want_leader_epoch,
            next_discovery: plan.discovery.as_ref().map(|d| Instant::now() + d.interval),
            discovery: if bounded { None } else { plan.discovery },
            store_offsets: plan.store_offsets,
            stop_timestamp: plan.stop_timestamp,
            unreachable_timeout: plan.unreachable_timeout,
            unreachable_since: None,
            next_probe: Instant::now(),
            bounded,
            tx,
            handed_on,
            stop,
        };
        let splits = plan
            .splits
            .into_iter()
            .zip(plan.starts)
            .zip(plan.stops)
            .zip(plan.skips);
        for (((split, start), stop), skip) in splits {
            s.add_split(split, start, stop, skip);
        }
        s
    }

    fn add_split(
        &mut self,
        split: Split,
        start: Offset,
        stop: Option<i64>,
        skip: Option<(i64, i64)>,
    ) {
        let done = match (start, stop) {
            (_, Some(i64::MIN)) => true,
            (Offset::Offset(o), Some(s)) => o >= s,
            _ => false,
        };
        self.by_partition
            .entry(split.partition)
            .or_default()
            .push(self.splits.len());
        self.splits.push(SplitState {
            split,
            start,
            stop,
            skip,
            done,
            pending: Pending::new(self.want_headers, self.want_leader_epoch),
        });
    }

    fn split_of(&self, topic: &str, partition: i32) -> Option<usize> {
        self.by_partition
            .get(&partition)?
            .iter()
            .copied()
            .find(|i| self.splits[*i].split.topic == topic)
    }

    /// Runs until every split is done (bounded), the reader is gone, or a
    /// failure; a failure is returned, everything else is `Ok`.
    fn run(&mut self) -> Result<(), SluiceError> {
        let result = self.run_loop();
        self.drain_handed_on();
        match result {
            Ok(()) | Err(Halt::Gone) => Ok(()),
            Err(Halt::Failed(e)) => Err(e),
        }
    }

    /// The reader hands on its last batches after this loop has ended:
    /// store them before the consumer closes (closing commits them).
    fn drain_handed_on(&mut self) {
        loop {
            match self.handed_on.recv_timeout(IDLE_POLL) {
                Ok((i, last)) => self.store(i, last),
                Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
                Err(std_mpsc::RecvTimeoutError::Timeout) => {
                    if self.stop.load(Ordering::Relaxed) {
                        self.store_handed_on();
                        return;
                    }
                }
            }
        }
    }

    /// Stores `last + 1`, the next offset to read, for the group commit.
    fn store(&self, i: usize, last: i64) {
        if !self.store_offsets {
            return;
        }
        if let Some(s) = self.splits.get(i)
            && let Err(e) = self
                .consumer
                .store_offset(&s.split.topic, s.split.partition, last)
        {
            log::debug!("kafka source: storing offset {last} of {}: {e}", s.split);
        }
    }

    fn run_loop(&mut self) -> Step {
        self.assign(0)?;
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Err(Halt::Gone);
            }
            self.store_handed_on();
            self.discover()?;
            self.check_reachable()?;
            if self.bounded && self.splits.iter().all(|s| s.done) {
                self.flush_all()?;
                self.send(FetchEvent::End)?;
                return Ok(());
            }
            let buffered = self.splits.iter().any(|s| s.pending.len() > 0);
            let wait = if buffered { Duration::ZERO } else { IDLE_POLL };
            // The message borrows the consumer, not the state.
            let consumer = Arc::clone(&self.consumer);
            match consumer.poll(wait) {
                None => self.flush_all()?,
                Some(Ok(m)) => {
                    self.unreachable_since = None;
                    self.on_message(&m)?;
                }
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    self.unreachable_since = None;
                    self.on_eof(p)?;
                }
                Some(Err(KafkaError::MessageConsumption(code)))
                | Some(Err(KafkaError::MessageConsumptionFatal(code)))
                    if is_fatal(code) =>
                {
                    return Err(Halt::Failed(SluiceError::connector(
                        "kafka",
                        format!("consuming failed: {code}"),
                    )));
                }
                Some(Err(KafkaError::MessageConsumption(
                    rdkafka::types::RDKafkaErrorCode::AllBrokersDown,
                ))) => {
                    log::warn!("kafka source: all brokers are down; librdkafka keeps retrying");
                    self.unreachable_since.get_or_insert_with(Instant::now);
                }
                Some(Err(e)) => log::warn!("kafka source: {e} (librdkafka retries)"),
            }
        }
    }

    /// Assigns splits `from..` that are not done, at their start offsets.
    fn assign(&mut self, from: usize) -> Step {
        let mut tpl = TopicPartitionList::new();
        for s in self.splits[from..].iter().filter(|s| !s.done) {
            tpl.add_partition_offset(&s.split.topic, s.split.partition, s.start)
                .map_err(|e| kafka_failure("building a partition list", &e))?;
        }
        if tpl.count() == 0 {
            return Ok(());
        }
        let result = if from == 0 {
            self.consumer.assign(&tpl)
        } else {
            self.consumer.incremental_assign(&tpl)
        };
        result.map_err(|e| kafka_failure("assigning partitions", &e))
    }

    fn send(&self, event: FetchEvent) -> Result<(), Gone> {
        self.tx.blocking_send(event).map_err(|_| Gone)
    }

    fn flush(&mut self, i: usize) -> Step {
        if self.splits[i].pending.len() > 0 {
            let batch = self.splits[i].pending.take(i);
            self.send(FetchEvent::Batch(Box::new(batch)))?;
        }
        Ok(())
    }

    fn flush_all(&mut self) -> Step {
        for i in 0..self.splits.len() {
            self.flush(i)?;
        }
        Ok(())
    }

    fn on_message(&mut self, m: &BorrowedMessage<'_>) -> Step {
        let Some(i) = self.split_of(m.topic(), m.partition()) else {
            return Ok(());
        };
        let s = &mut self.splits[i];
        if s.done {
            return Ok(());
        }
        let ts = m.timestamp().to_millis().unwrap_or(-1);
        if let Some((from, until)) = s.skip {
            if m.offset() < until && ts < from {
                return Ok(());
            }
            s.skip = None;
        }
        if s.stop.is_some_and(|stop| m.offset() >= stop)
            || self.stop_timestamp.is_some_and(|t| ts >= t)
        {
            self.finish_split(i)?;
            return Ok(());
        }
        s.pending.push(m);
        let reached = s.stop.is_some_and(|stop| m.offset() + 1 >= stop);
        if reached {
            self.finish_split(i)?;
        } else if s.pending.len() >= self.batch_size {
            self.flush(i)?;
        }
        Ok(())
    }

    /// A split reached its stop offset: hand on what is buffered and stop
    /// fetching it.
    fn finish_split(&mut self, i: usize) -> Step {
        self.flush(i)?;
        let s = &mut self.splits[i];
        s.done = true;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&s.split.topic, s.split.partition);
        if let Err(e) = self.consumer.pause(&tpl) {
            log::warn!("kafka source: pausing {}: {e}", s.split);
        }
        Ok(())
    }

    /// The end of a partition's log: a bounded split whose position passed
    /// its stop offset (a gap in offsets: compaction, transaction markers)
    /// is done.
    fn on_eof(&mut self, partition: i32) -> Step {
        let candidates: Vec<usize> = self
            .by_partition
            .get(&partition)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|i| !self.splits[*i].done && self.splits[*i].stop.is_some())
                    .collect()
            })
            .unwrap_or_default();
        if candidates.is_empty() {
            return self.flush_all();
        }
        let positions = self
            .consumer
            .position()
            .map_err(|e| kafka_failure("reading consumer positions", &e))?
            .to_topic_map();
        for i in candidates {
            let s = &self.splits[i];
            let position = positions.get(&(s.split.topic.clone(), s.split.partition));
            if let (Some(Offset::Offset(p)), Some(stop)) = (position, s.stop)
                && *p >= stop
            {
                self.finish_split(i)?;
            }
        }
        self.flush_all()
    }

    /// Stores the offsets the reader handed on; librdkafka commits them to
    /// the group (`enable.auto.commit`) periodically and on close.
    fn store_handed_on(&mut self) {
        while let Ok((i, last)) = self.handed_on.try_recv() {
            self.store(i, last);
        }
    }

    /// Every `scan.topic-partition-discovery.interval`: new partitions of
    /// this instance start from their earliest offset, as in Flink.
    fn discover(&mut self) -> Step {
        let (Some(d), Some(at)) = (&self.discovery, self.next_discovery) else {
            return Ok(());
        };
        if Instant::now() < at {
            return Ok(());
        }
        let d = d.clone();
        self.next_discovery = Some(Instant::now() + d.interval);
        let found = match super::offsets::list_partitions(&self.consumer, &d.topics, false) {
            Ok(f) => f,
            Err(e) => {
                log::warn!("kafka source: partition discovery failed: {e}");
                return Ok(());
            }
        };
        let new: Vec<Split> = found
            .into_iter()
            .filter(|s| owner(&s.topic, s.partition, d.parallelism) == d.instance)
            .filter(|s| self.split_of(&s.topic, s.partition).is_none())
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        let from = self.splits.len();
        for s in &new {
            log::info!("kafka source: discovered partition {s}");
            self.add_split(s.clone(), Offset::Beginning, None, None);
        }
        self.assign(from)?;
        self.send(FetchEvent::Discovered(new))?;
        Ok(())
    }

    /// While all brokers are down, probes the cluster now and then; fails
    /// once it has been unreachable for longer than the timeout.
    fn check_reachable(&mut self) -> Step {
        let Some(since) = self.unreachable_since else {
            return Ok(());
        };
        if Instant::now() < self.next_probe {
            return Ok(());
        }
        self.next_probe = Instant::now() + Duration::from_secs(1);
        match self
            .consumer
            .fetch_metadata(None, Duration::from_millis(500))
        {
            Ok(_) => {
                self.unreachable_since = None;
                Ok(())
            }
            Err(e) if since.elapsed() >= self.unreachable_timeout => Err(kafka_failure(
                &format!(
                    "no Kafka broker reachable for {} s (socket.timeout.ms)",
                    self.unreachable_timeout.as_secs()
                ),
                &e,
            )),
            Err(_) => Ok(()),
        }
    }
}
