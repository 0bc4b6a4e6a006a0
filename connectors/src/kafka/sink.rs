//! The Kafka sink (and upsert-kafka's). Rows are sent as they arrive;
//! a flush (checkpoint barrier, end of input, or a second after records are
//! still unacknowledged) waits for every acknowledgement, so with
//! `at-least-once` nothing acknowledged to the runtime is lost, and a failed
//! delivery surfaces within about a second. upsert-kafka with
//! `sink.buffer-flush.*` goes through the shared buffering layer, which keeps
//! only the last change per key between flushes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use datafusion::arrow::array::{AsArray, Int8Array, RecordBatch};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use rdkafka::config::FromClientConfigAndContext;
use rdkafka::producer::ThreadedProducer;
use sluice_engine::connector::{
    ChangelogMode, ROW_KIND_COLUMN, SinkContext, SinkTable, SinkWriter,
};
use sluice_engine::runtime::OperatorMetrics;
use sluice_engine::{Result, SluiceError};

use super::client::describe;
use super::codec::KafkaCodec;
use super::metadata::{KafkaMetadata, MetaSource, RecordKey, not_writable};
use super::options::{DeliveryGuarantee, KafkaOptions, Topics};
use super::producer::{Deliveries, DeliveryContext, Layout, Mode, RowProducer, TopicTarget};
use crate::sink::buffered::{
    BufferOptions, BufferedWriter, ChangeBatch, FlushPolicy, FlushWriter, RetryPolicy, SinkLabel,
    WriteError,
};

/// How long records may stay unacknowledged before the writer asks for a
/// flush, so a failed delivery fails the job promptly.
const ACK_CHECK: Duration = Duration::from_secs(1);

/// The writable half of a kafka or upsert-kafka table.
#[derive(Debug)]
pub struct KafkaSink {
    table: String,
    /// Physical columns, then non-virtual metadata columns.
    schema: SchemaRef,
    physical: SchemaRef,
    codec: KafkaCodec,
    metadata: Vec<KafkaMetadata>,
    options: KafkaOptions,
    /// upsert-kafka's primary key.
    upsert_key: Option<Vec<String>>,
}

impl KafkaSink {
    pub fn new(
        table: &str,
        physical: &SchemaRef,
        codec: KafkaCodec,
        metadata: Vec<KafkaMetadata>,
        options: KafkaOptions,
        upsert_key: Option<Vec<String>>,
    ) -> Self {
        let mut fields: Vec<Field> = physical
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.extend(
            metadata
                .iter()
                .filter(|m| !m.is_virtual)
                .map(|m| Field::new(&m.name, m.data_type.clone(), true)),
        );
        Self {
            table: table.to_string(),
            schema: Arc::new(Schema::new(fields)),
            physical: physical.clone(),
            codec,
            metadata,
            options,
            upsert_key,
        }
    }

    fn written(&self, key: RecordKey) -> Option<String> {
        self.metadata
            .iter()
            .find(|m| !m.is_virtual && m.source == MetaSource::Record(key))
            .map(|m| m.name.clone())
    }

    /// Checks the sink-only rules and lays out the columns.
    fn layout(&self) -> Result<Layout> {
        if let Some(m) = self
            .metadata
            .iter()
            .find(|m| !m.is_virtual && !matches!(&m.source, MetaSource::Record(k) if k.writable()))
        {
            return Err(not_writable(&self.table, m));
        }
        let topic_column = self.written(RecordKey::Topic);
        let topic = match (&self.options.topics, topic_column) {
            (Some(Topics::List(l)), None) if l.len() == 1 => TopicTarget::Fixed(l[0].clone()),
            (None, None) => {
                return Err(SluiceError::Options {
                    table: self.table.clone(),
                    message: "Either 'topic' or 'topic-pattern' must be set.".to_string(),
                });
            }
            (Some(_), None) => {
                return Err(SluiceError::Options {
                    table: self.table.clone(),
                    message: "to write to several topics (a 'topic' list or 'topic-pattern'), the \
                              table needs a writable 'topic' metadata column naming each row's \
                              topic"
                        .to_string(),
                });
            }
            (allowed, Some(name)) => TopicTarget::Column {
                name,
                allowed: allowed.clone(),
            },
        };
        let names = |fields: &[usize]| -> Vec<String> {
            fields
                .iter()
                .map(|i| self.physical.field(*i).name().clone())
                .collect()
        };
        Ok(Layout {
            key_columns: names(&self.codec.key_fields),
            value_columns: names(&self.codec.value_fields),
            timestamp: self.written(RecordKey::Timestamp),
            headers: self.written(RecordKey::Headers),
            topic,
        })
    }

    fn mode(&self) -> Mode {
        if self.upsert_key.is_some() {
            Mode::Upsert
        } else if self.codec.value_is_changelog() {
            Mode::Changelog
        } else {
            Mode::Append
        }
    }
}

impl SinkTable for KafkaSink {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn accepted_changelog(&self) -> ChangelogMode {
        match (&self.upsert_key, self.codec.value_is_changelog()) {
            (Some(pk), _) => ChangelogMode::Upsert(pk.clone()),
            (None, true) => ChangelogMode::Retract,
            (None, false) => ChangelogMode::AppendOnly,
        }
    }

    fn parallelism(&self) -> Option<usize> {
        self.options.sink_parallelism
    }

    fn open(&self, ctx: SinkContext) -> Result<Box<dyn SinkWriter>> {
        let layout = self.layout()?;
        let deliveries = Arc::new(Deliveries::default());
        let config = self.options.properties.client_config(
            &[("client.id", "sluice"), ("partitioner", "murmur2_random")],
            &[],
        );
        let producer = ThreadedProducer::from_config_and_context(
            &config,
            DeliveryContext(Arc::clone(&deliveries)),
        )
        .map_err(|e| {
            SluiceError::connector(
                "kafka",
                format!(
                    "table '{}': creating the producer: {}",
                    self.table,
                    describe(&e)
                ),
            )
        })?;
        let key = match &self.codec.key_format {
            Some(f) => Some(f.message_encoder()?),
            None => None,
        };
        let rows = RowProducer::new(
            producer,
            deliveries,
            layout,
            self.mode(),
            key,
            self.codec.value_format.message_encoder()?,
            self.options.partitioner,
            ctx.instance,
        );
        match (self.options.buffer, &self.upsert_key) {
            (Some(buffer), Some(pk)) => {
                let key: Vec<usize> = pk
                    .iter()
                    .filter_map(|k| self.schema.index_of(k).ok())
                    .collect();
                let options = BufferOptions {
                    flush: FlushPolicy {
                        max_rows: buffer.max_rows,
                        max_bytes: None,
                        interval: buffer.interval,
                    },
                    // librdkafka retries sends itself until message.timeout.ms.
                    retry: RetryPolicy {
                        max_retries: 0,
                        ..RetryPolicy::default()
                    },
                    ignore_errors: false,
                };
                let label = SinkLabel {
                    connector: "upsert-kafka",
                    table: self.table.clone(),
                    target: self.options.properties.bootstrap().to_string(),
                };
                let writer = BufferedWriter::new(
                    FlushedProducer(rows),
                    self.schema.clone(),
                    options,
                    ctx.metrics,
                    label,
                );
                Ok(Box::new(InSchemaOrder {
                    schema: self.schema.clone(),
                    inner: writer.with_upsert_key(key),
                }))
            }
            _ => Ok(Box::new(KafkaWriter {
                rows,
                delivery: self.options.delivery,
                metrics: ctx.metrics,
                acked_at_last_flush: 0,
                unacked_since: None,
            })),
        }
    }
}

/// Splits the runtime's batch into rows and row kinds.
fn split_kinds(batch: &RecordBatch) -> (RecordBatch, Option<Int8Array>) {
    let n = batch.num_columns();
    if n > 0 && batch.schema().field(n - 1).name() == ROW_KIND_COLUMN {
        let kinds = batch
            .column(n - 1)
            .as_primitive_opt::<datafusion::arrow::datatypes::Int8Type>()
            .cloned();
        let mut rows = batch.clone();
        rows.remove_column(n - 1);
        (rows, kinds)
    } else {
        (batch.clone(), None)
    }
}

/// Sends rows as they come; flushes wait for acknowledgements.
struct KafkaWriter {
    rows: RowProducer,
    delivery: DeliveryGuarantee,
    metrics: Arc<OperatorMetrics>,
    acked_at_last_flush: u64,
    /// When records were first seen unacknowledged after the last flush.
    unacked_since: Option<tokio::time::Instant>,
}

impl KafkaWriter {
    async fn complete(&mut self, wait: bool) -> Result<()> {
        let start = Instant::now();
        if wait {
            self.rows.wait_acknowledged().await?;
        } else {
            self.rows.deliveries().failure()?;
        }
        let acked = self.rows.deliveries().acked();
        self.metrics
            .add_flush((acked - self.acked_at_last_flush) as usize, start.elapsed());
        self.acked_at_last_flush = acked;
        self.unacked_since = None;
        Ok(())
    }
}

#[async_trait]
impl SinkWriter for KafkaWriter {
    async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        let (rows, kinds) = split_kinds(&batch);
        self.rows.send(&rows, kinds.as_ref()).await?;
        if self.unacked_since.is_none() && self.rows.deliveries().outstanding() > 0 {
            self.unacked_since = Some(tokio::time::Instant::now());
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        self.complete(self.delivery == DeliveryGuarantee::AtLeastOnce)
            .await
    }

    fn flush_deadline(&self) -> Option<tokio::time::Instant> {
        self.unacked_since.map(|t| t + ACK_CHECK)
    }

    async fn finish(&mut self) -> Result<()> {
        // Even with 'none', the end of input waits: the job reports success
        // only for records the brokers have.
        self.complete(true).await
    }
}

/// upsert-kafka's writer under the buffering layer: each flush sends the
/// compacted rows and waits for their acknowledgements.
struct FlushedProducer(RowProducer);

#[async_trait]
impl FlushWriter for FlushedProducer {
    async fn write(&mut self, batch: &ChangeBatch) -> std::result::Result<(), WriteError> {
        let kinds: Option<Int8Array> = (!batch.is_append_only()).then(|| {
            (0..batch.num_rows())
                .map(|r| Some(batch.kind(r) as i8))
                .collect()
        });
        let fatal = |e: SluiceError| WriteError::Fatal(e.to_string());
        self.0
            .send(batch.rows(), kinds.as_ref())
            .await
            .map_err(fatal)?;
        self.0.wait_acknowledged().await.map_err(fatal)
    }
}

/// Hands the inner writer its columns in [`SinkTable::schema`]'s order (the
/// runtime sends them in declaration order, where metadata columns may come
/// first), by name; the row-kind column stays last.
struct InSchemaOrder<W> {
    schema: SchemaRef,
    inner: W,
}

#[async_trait]
impl<W: SinkWriter> SinkWriter for InSchemaOrder<W> {
    async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        let (rows, kinds) = split_kinds(&batch);
        let mut fields: Vec<Field> = Vec::with_capacity(self.schema.fields().len() + 1);
        let mut columns = Vec::with_capacity(self.schema.fields().len() + 1);
        for f in self.schema.fields() {
            let c = rows.column_by_name(f.name()).ok_or_else(|| {
                SluiceError::execution(format!("kafka sink: the input lacks column '{}'", f.name()))
            })?;
            fields.push(Field::new(f.name(), c.data_type().clone(), true));
            columns.push(c.clone());
        }
        if let Some(k) = kinds {
            fields.push(Field::new(
                ROW_KIND_COLUMN,
                datafusion::arrow::datatypes::DataType::Int8,
                false,
            ));
            columns.push(Arc::new(k));
        }
        let ordered = RecordBatch::try_new_with_options(
            Arc::new(Schema::new(fields)),
            columns,
            &datafusion::arrow::array::RecordBatchOptions::new()
                .with_row_count(Some(batch.num_rows())),
        )?;
        self.inner.write(ordered).await
    }

    async fn flush(&mut self) -> Result<()> {
        self.inner.flush().await
    }

    fn flush_deadline(&self) -> Option<tokio::time::Instant> {
        self.inner.flush_deadline()
    }

    async fn finish(&mut self) -> Result<()> {
        self.inner.finish().await
    }
}
