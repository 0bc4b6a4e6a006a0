//! Writing rows to Kafka: each batch is encoded column-wise into key and
//! value messages, routed (topic, partition, timestamp, headers) and handed
//! to librdkafka, which batches, compresses and retries on its own.
//! Acknowledgements are counted by a delivery callback; waiting for them is
//! what makes a flush durable (`sink.delivery-guarantee` = `at-least-once`),
//! and a failed delivery fails the job with the topic, partition and reason.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int8Array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Field, Schema, SchemaRef, TimeUnit, TimestampMillisecondType,
};
use rdkafka::ClientContext;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use sluice_engine::connector::{ROW_KIND_COLUMN, RowKind};
use sluice_engine::{Result, SluiceError};

use super::client::describe;
use super::metadata::headers_type;
use super::offsets::REQUEST_TIMEOUT;
use super::options::{PartitionerKind, Topics};
use crate::formats::messages::{MessageEncoder, Messages};

/// Acknowledgements, counted by librdkafka's delivery callback.
#[derive(Debug, Default)]
pub struct Deliveries {
    sent: AtomicU64,
    acked: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Deliveries {
    /// Records handed to librdkafka and not yet acknowledged or failed.
    pub fn outstanding(&self) -> u64 {
        let done = self.acked.load(Ordering::Acquire) + self.failed.load(Ordering::Acquire);
        self.sent.load(Ordering::Acquire).saturating_sub(done)
    }

    /// Records acknowledged so far.
    pub fn acked(&self) -> u64 {
        self.acked.load(Ordering::Acquire)
    }

    /// The first failed delivery, as an error.
    pub fn failure(&self) -> Result<()> {
        let first = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        match &*first {
            None => Ok(()),
            Some(m) => Err(SluiceError::connector("kafka", m.clone())),
        }
    }
}

/// The producer's context: counts deliveries.
#[derive(Debug, Clone)]
pub struct DeliveryContext(pub Arc<Deliveries>);

impl ClientContext for DeliveryContext {}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.0.acked.fetch_add(1, Ordering::AcqRel);
            }
            Err((e, m)) => {
                let mut first = self.0.first_error.lock().unwrap_or_else(|p| p.into_inner());
                if first.is_none() {
                    *first = Some(format!(
                        "delivering a record to topic '{}' (partition {}) failed: {}",
                        m.topic(),
                        m.partition(),
                        describe(e)
                    ));
                }
                drop(first);
                self.0.failed.fetch_add(1, Ordering::AcqRel);
            }
        }
    }
}

/// Where a row goes.
#[derive(Debug, Clone)]
pub enum TopicTarget {
    /// Every row to this topic.
    Fixed(String),
    /// The row's `topic` metadata column, which must name one of `allowed`.
    Column {
        name: String,
        allowed: Option<Topics>,
    },
}

/// Which columns of the sink's rows feed what, by name (the runtime hands
/// the sink its writable columns in declaration order).
#[derive(Debug, Clone)]
pub struct Layout {
    pub key_columns: Vec<String>,
    pub value_columns: Vec<String>,
    pub timestamp: Option<String>,
    pub headers: Option<String>,
    pub topic: TopicTarget,
}

/// What rows mean to the sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plain rows; an append-only format rejects updates itself.
    Append,
    /// The value format is a changelog format: it gets the row kinds.
    Changelog,
    /// upsert-kafka: `+I`/`+U` are values, `-D` tombstones, `-U` nothing.
    Upsert,
}

/// Encodes and sends rows; shared by the direct and the buffered writer.
pub struct RowProducer {
    producer: ThreadedProducer<DeliveryContext>,
    deliveries: Arc<Deliveries>,
    layout: Layout,
    mode: Mode,
    key: Option<Box<dyn MessageEncoder>>,
    value: Box<dyn MessageEncoder>,
    partitioner: PartitionerKind,
    instance: usize,
    /// Partition count per topic (for `fixed` and `round-robin`).
    partitions: HashMap<String, i32>,
    round_robin: u64,
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef> {
    batch.column_by_name(name).ok_or_else(|| {
        SluiceError::execution(format!("kafka sink: the input lacks column '{name}'"))
    })
}

fn project(
    batch: &RecordBatch,
    names: &[String],
    kinds: Option<&Int8Array>,
) -> Result<RecordBatch> {
    let mut fields = Vec::with_capacity(names.len() + 1);
    let mut columns = Vec::with_capacity(names.len() + 1);
    for n in names {
        let c = column(batch, n)?;
        fields.push(Field::new(n, c.data_type().clone(), true));
        columns.push(c.clone());
    }
    if let Some(k) = kinds {
        fields.push(Field::new(ROW_KIND_COLUMN, DataType::Int8, false));
        columns.push(Arc::new(k.clone()));
    }
    Ok(RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)) as SchemaRef,
        columns,
        &datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )?)
}

impl RowProducer {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        producer: ThreadedProducer<DeliveryContext>,
        deliveries: Arc<Deliveries>,
        layout: Layout,
        mode: Mode,
        key: Option<Box<dyn MessageEncoder>>,
        value: Box<dyn MessageEncoder>,
        partitioner: PartitionerKind,
        instance: usize,
    ) -> Self {
        Self {
            producer,
            deliveries,
            layout,
            mode,
            key,
            value,
            partitioner,
            instance,
            partitions: HashMap::new(),
            round_robin: 0,
        }
    }

    /// The acknowledgement counters.
    pub fn deliveries(&self) -> &Arc<Deliveries> {
        &self.deliveries
    }

    /// Number of partitions of `topic` (fetched once, off the async runtime).
    async fn partition_count(&mut self, topic: &str) -> Result<i32> {
        if let Some(n) = self.partitions.get(topic) {
            return Ok(*n);
        }
        let producer = self.producer.clone();
        let t = topic.to_string();
        let count = tokio::task::spawn_blocking(move || -> Result<i32> {
            let m = producer
                .client()
                .fetch_metadata(Some(&t), REQUEST_TIMEOUT)
                .map_err(|e| {
                    SluiceError::connector(
                        "kafka",
                        format!("fetching metadata of topic '{t}': {}", describe(&e)),
                    )
                })?;
            let n = m.topics().first().map_or(0, |t| t.partitions().len());
            Ok(n as i32)
        })
        .await
        .map_err(|e| SluiceError::execution(format!("kafka metadata task: {e}")))??;
        if count == 0 {
            return Err(SluiceError::connector(
                "kafka",
                format!("topic '{topic}' has no partitions (does it exist?)"),
            ));
        }
        self.partitions.insert(topic.to_string(), count);
        Ok(count)
    }

    async fn partition_for(&mut self, topic: &str) -> Result<Option<i32>> {
        Ok(match self.partitioner {
            PartitionerKind::Default => None,
            PartitionerKind::Fixed => {
                Some((self.instance as i32) % self.partition_count(topic).await?)
            }
            PartitionerKind::RoundRobin => {
                let n = self.partition_count(topic).await?;
                self.round_robin += 1;
                Some(((self.round_robin - 1) % n as u64) as i32)
            }
        })
    }

    /// Encodes and sends every row of `batch` (the sink's columns; `kinds`
    /// are the rows' kinds for an updating input).
    pub async fn send(&mut self, batch: &RecordBatch, kinds: Option<&Int8Array>) -> Result<()> {
        self.deliveries.failure()?;
        let rows = batch.num_rows();
        if rows == 0 {
            return Ok(());
        }
        let value_kinds = (self.mode == Mode::Changelog).then_some(kinds).flatten();
        let values =
            self.value
                .encode(&project(batch, &self.layout.value_columns, value_kinds)?)?;
        let keys: Option<Messages> = match &mut self.key {
            Some(k) => Some(k.encode(&project(batch, &self.layout.key_columns, None)?)?),
            None => None,
        };
        let topics = match &self.layout.topic {
            TopicTarget::Fixed(_) => None,
            TopicTarget::Column { name, .. } => Some(cast(column(batch, name)?, &DataType::Utf8)?),
        };
        let timestamps = match &self.layout.timestamp {
            Some(n) => Some(cast(
                column(batch, n)?,
                &DataType::Timestamp(TimeUnit::Millisecond, None),
            )?),
            None => None,
        };
        let headers = match &self.layout.headers {
            Some(n) => Some(cast(column(batch, n)?, &headers_type())?),
            None => None,
        };
        let fixed = match &self.layout.topic {
            TopicTarget::Fixed(t) => t.clone(),
            TopicTarget::Column { .. } => String::new(),
        };
        for row in 0..rows {
            let topic: &str = match &topics {
                None => &fixed,
                Some(t) => {
                    let t = t.as_string::<i32>();
                    if t.is_null(row) {
                        return Err(SluiceError::execution(
                            "kafka sink: the 'topic' metadata column is null".to_string(),
                        ));
                    }
                    let name = t.value(row);
                    if let TopicTarget::Column {
                        allowed: Some(allowed),
                        ..
                    } = &self.layout.topic
                        && !allowed.matches(name)
                    {
                        return Err(SluiceError::execution(format!(
                            "kafka sink: topic '{name}' of the 'topic' metadata column is not \
                             one of the table's topics (option 'topic' or 'topic-pattern')"
                        )));
                    }
                    name
                }
            };
            let kind = kinds
                .filter(|k| k.is_valid(row))
                .and_then(|k| RowKind::from_i8(k.value(row)));
            // An upsert sink is fed by its key: the `+U` after a `-U`
            // replaces the value, so the `-U` writes nothing (as in Flink,
            // whose planner sends an upsert sink no update-before).
            if self.mode == Mode::Upsert && kind == Some(RowKind::UpdateBefore) {
                continue;
            }
            let tombstone = self.mode == Mode::Upsert && kind == Some(RowKind::Delete);
            let payload = if tombstone { None } else { values.get(row) };
            let key = keys.as_ref().and_then(|k| k.get(row));
            let partition = self.partition_for(topic).await?;
            let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic);
            if let Some(p) = payload {
                record = record.payload(p);
            }
            if let Some(k) = key {
                record = record.key(k);
            }
            if let Some(p) = partition {
                record = record.partition(p);
            }
            if let Some(ts) = &timestamps {
                let ts = ts.as_primitive::<TimestampMillisecondType>();
                if ts.is_valid(row) {
                    record = record.timestamp(ts.value(row));
                }
            }
            if let Some(h) = &headers {
                let map = h.as_map();
                if map.is_valid(row) {
                    let keys = map.keys().as_string::<i32>();
                    let values = map.values().as_binary::<i32>();
                    let offsets = map.value_offsets();
                    let mut owned = OwnedHeaders::new();
                    for e in offsets[row] as usize..offsets[row + 1] as usize {
                        owned = owned.insert(Header {
                            key: keys.value(e),
                            value: values.is_valid(e).then(|| values.value(e)),
                        });
                    }
                    record = record.headers(owned);
                }
            }
            produce(&self.producer, &self.deliveries, record).await?;
        }
        Ok(())
    }

    /// Waits until every record sent so far is acknowledged; fails with the
    /// first failed delivery.
    pub fn wait_acknowledged(&self) -> impl Future<Output = Result<()>> + Send + 'static {
        // The future holds only the counters, not the (non-Sync) encoders.
        let deliveries = Arc::clone(&self.deliveries);
        async move {
            let mut pause = Duration::from_micros(200);
            while deliveries.outstanding() > 0 {
                deliveries.failure()?;
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(10));
            }
            deliveries.failure()
        }
    }
}

/// Hands one record to librdkafka, waiting while its queue is full.
async fn produce(
    producer: &ThreadedProducer<DeliveryContext>,
    deliveries: &Deliveries,
    mut record: BaseRecord<'_, [u8], [u8]>,
) -> Result<()> {
    loop {
        match producer.send(record) {
            Ok(()) => {
                deliveries.sent.fetch_add(1, Ordering::AcqRel);
                return Ok(());
            }
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                record = r;
                deliveries.failure()?;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Err((e, r)) => {
                return Err(SluiceError::connector(
                    "kafka",
                    format!(
                        "producing a record to topic '{}': {}",
                        r.topic,
                        describe(&e)
                    ),
                ));
            }
        }
    }
}
