//! The Kafka source. Each parallel instance reads the partitions Flink's
//! rule gives it (see [`super::assignment`]); partitions are its splits, and
//! every batch it returns holds records of one partition, so the runtime
//! tracks a watermark per partition. Offsets are resolved when the instance
//! opens; a fetch thread polls librdkafka (see [`super::fetch`]).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use rdkafka::Offset;
use rdkafka::consumer::BaseConsumer;
use sluice_engine::connector::{
    ChangelogMode, ROW_KIND_COLUMN, ScanContext, SourceReader, SourceTable,
};
use sluice_engine::runtime::OperatorMetrics;
use sluice_engine::{Result, SluiceError};

use super::assignment::owner;
use super::batch::FetchedBatch;
use super::client::describe;
use super::codec::KafkaCodec;
use super::fetch::{self, Discovery, FetchEvent, FetchPlan, Fetcher};
use super::metadata::{KafkaMetadata, MetaSource, RecordKey};
use super::offsets::{self, Reset, Split};
use super::options::{BoundedMode, KafkaOptions, StartupMode};
use super::rows::RowAssembler;
use crate::upsert_kafka::normalize::UpsertNormalizer;

/// librdkafka's default `socket.timeout.ms`.
const DEFAULT_SOCKET_TIMEOUT: Duration = Duration::from_secs(60);

/// The readable half of a kafka or upsert-kafka table.
#[derive(Debug)]
pub struct KafkaSource {
    table: String,
    /// Physical columns followed by metadata columns.
    schema: SchemaRef,
    physical_len: usize,
    codec: KafkaCodec,
    metadata: Vec<KafkaMetadata>,
    options: KafkaOptions,
    /// upsert-kafka: normalize upserts into a changelog.
    upsert: bool,
}

impl KafkaSource {
    pub fn new(
        table: &str,
        physical: &SchemaRef,
        codec: KafkaCodec,
        metadata: Vec<KafkaMetadata>,
        options: KafkaOptions,
        upsert: bool,
    ) -> Self {
        let mut fields: Vec<Field> = physical
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.extend(
            metadata
                .iter()
                .map(|m| Field::new(&m.name, m.data_type.clone(), true)),
        );
        Self {
            table: table.to_string(),
            schema: Arc::new(Schema::new(fields)),
            physical_len: physical.fields().len(),
            codec,
            metadata,
            options,
            upsert,
        }
    }

    fn consumer(&self) -> Result<BaseConsumer> {
        let props = &self.options.properties;
        let group = props.group_id().is_some();
        let reset = match self.options.startup {
            StartupMode::Latest | StartupMode::Timestamp(_) => "latest",
            _ => "earliest",
        };
        // librdkafka assigns partitions only within a group; without the
        // user's, a private one (as Flink's random `KafkaSource-..` group)
        // that never commits.
        let private_group = format!("sluice-{}-{:016x}", self.table, rand::random::<u64>());
        let mut config = props.client_config(
            &[
                ("client.id", "sluice"),
                ("enable.auto.commit", if group { "true" } else { "false" }),
                ("auto.offset.reset", reset),
            ],
            &[
                ("enable.auto.offset.store", "false"),
                ("enable.partition.eof", "true"),
            ],
        );
        if !group {
            config.set("group.id", &private_group);
        }
        config.create().map_err(|e| {
            SluiceError::connector(
                "kafka",
                format!(
                    "table '{}': creating the consumer: {}",
                    self.table,
                    describe(&e)
                ),
            )
        })
    }

    fn wants(&self, projection: &[usize], key: RecordKey) -> bool {
        projection.iter().any(|i| {
            i.checked_sub(self.physical_len)
                .and_then(|m| self.metadata.get(m))
                .is_some_and(|m| m.source == MetaSource::Record(key))
        })
    }
}

impl SourceTable for KafkaSource {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn is_bounded(&self) -> bool {
        self.options.is_bounded()
    }

    fn parallelism(&self) -> Option<usize> {
        self.options.scan_parallelism
    }

    fn changelog_mode(&self) -> ChangelogMode {
        if self.upsert || self.codec.value_is_changelog() {
            ChangelogMode::Retract
        } else {
            ChangelogMode::AppendOnly
        }
    }

    fn open(&self, ctx: ScanContext) -> Result<Box<dyn SourceReader>> {
        let Some(topics) = self.options.topics.clone() else {
            return Err(SluiceError::Options {
                table: self.table.clone(),
                message: "Either 'topic' or 'topic-pattern' must be set.".to_string(),
            });
        };
        let projection: Vec<usize> = ctx
            .projection
            .clone()
            .unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        let projected = ctx.project_schema(&self.schema)?;
        let assembler = RowAssembler::new(
            projected.clone(),
            self.physical_len,
            &projection,
            &self.codec,
            &self.metadata,
            ctx.batch_size,
        )?;

        let consumer = self.consumer()?;
        let props = &self.options.properties;
        let bounded = self.options.is_bounded();
        let discovery = self.options.discovery_interval.filter(|_| !bounded);
        let parallelism = ctx.parallelism.max(1);
        let splits: Vec<Split> = offsets::list_partitions(&consumer, &topics, discovery.is_none())?
            .into_iter()
            .filter(|s| owner(&s.topic, s.partition, parallelism) == ctx.instance)
            .collect();
        let group = props.group_id();
        let reset = Reset::from_property(props.get("auto.offset.reset"));
        let mut starts =
            offsets::start_offsets(&consumer, &splits, &self.options.startup, group, reset)?;
        let stops = offsets::stop_offsets(&consumer, &splits, &self.options.bounded, group)?;
        // The reader also skips records older than a startup timestamp, up
        // to where the partition ended when the job started: a broker that
        // cannot look offsets up by time (librdkafka's mock answers "none",
        // some Kafka-compatible brokers answer too early) is then still
        // exact. Where the broker answered "none", reading starts at the
        // beginning.
        let mut skips = vec![None; splits.len()];
        if let StartupMode::Timestamp(ts) = self.options.startup {
            for ((s, start), skip) in splits.iter().zip(starts.iter_mut()).zip(skips.iter_mut()) {
                let (low, high) = offsets::watermarks(&consumer, s)?;
                if high > low {
                    if *start == Offset::End {
                        *start = Offset::Beginning;
                    }
                    *skip = Some((ts, high));
                }
            }
        }
        let stop_timestamp = match self.options.bounded {
            BoundedMode::Timestamp(ts) => Some(ts),
            _ => None,
        };
        if bounded {
            // Stop offsets are compared with numbers, so starts must be numbers.
            for (s, start) in splits.iter().zip(starts.iter_mut()) {
                *start = Offset::Offset(offsets::concrete(&consumer, s, *start)?);
            }
        }
        let unreachable_timeout = props
            .get("socket.timeout.ms")
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(DEFAULT_SOCKET_TIMEOUT, Duration::from_millis);
        let plan = FetchPlan {
            splits: splits.clone(),
            starts,
            stops,
            skips,
            stop_timestamp,
            bounded,
            batch_size: ctx.batch_size,
            want_headers: self.wants(&projection, RecordKey::Headers),
            want_leader_epoch: self.wants(&projection, RecordKey::LeaderEpoch),
            discovery: discovery.map(|interval| Discovery {
                interval,
                topics,
                instance: ctx.instance,
                parallelism,
            }),
            store_offsets: group.is_some(),
            unreachable_timeout,
        };
        let fetcher = fetch::start(
            consumer,
            plan,
            format!("kafka-{}-{}", self.table, ctx.instance),
        )
        .map_err(|e| SluiceError::execution(format!("starting the kafka fetch thread: {e}")))?;
        let normalizer = if self.upsert {
            Some(UpsertNormalizer::new(&projected)?)
        } else {
            None
        };
        let changelog = self.changelog_mode() != ChangelogMode::AppendOnly;
        let mut out_fields: Vec<Field> = projected
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        if changelog {
            out_fields.push(Field::new(ROW_KIND_COLUMN, DataType::Int8, false));
        }
        Ok(Box::new(KafkaReader {
            fetcher,
            splits,
            assembler,
            normalizer,
            out_schema: Arc::new(Schema::new(out_fields)),
            changelog,
            metrics: ctx.metrics,
            last_split: 0,
        }))
    }
}

/// One instance of the Kafka source.
struct KafkaReader {
    fetcher: Fetcher,
    splits: Vec<Split>,
    assembler: RowAssembler,
    normalizer: Option<UpsertNormalizer>,
    /// The projected columns, plus the row kind for a changelog.
    out_schema: SchemaRef,
    changelog: bool,
    metrics: std::sync::Arc<OperatorMetrics>,
    last_split: usize,
}

impl KafkaReader {
    fn rows(&mut self, batch: &FetchedBatch) -> Result<RecordBatch> {
        let split = self.splits.get(batch.split).ok_or_else(|| {
            SluiceError::execution(format!("unknown kafka split {}", batch.split))
        })?;
        let assembled = self.assembler.assemble(batch, split, &self.metrics)?;
        if let Some(n) = &mut self.normalizer {
            return n.normalize(
                &assembled.batch,
                assembled.origins.values(),
                &batch.keys,
                &batch.values,
            );
        }
        if !self.changelog {
            return Ok(assembled.batch);
        }
        let kinds: ArrayRef = match assembled.kinds {
            Some(k) => Arc::new(k),
            None => Arc::new(datafusion::arrow::array::Int8Array::from(vec![
                0i8;
                assembled
                    .batch
                    .num_rows(
                    )
            ])),
        };
        let mut columns = assembled.batch.columns().to_vec();
        columns.push(kinds);
        Ok(RecordBatch::try_new_with_options(
            self.out_schema.clone(),
            columns,
            &datafusion::arrow::array::RecordBatchOptions::new()
                .with_row_count(Some(assembled.batch.num_rows())),
        )?)
    }
}

#[async_trait]
impl SourceReader for KafkaReader {
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            let Some(event) = self.fetcher.events.recv().await else {
                return Err(SluiceError::execution(
                    "the kafka fetch thread stopped unexpectedly",
                ));
            };
            match event {
                FetchEvent::Batch(batch) => {
                    self.metrics
                        .add_bytes_in(batch.keys.byte_len() + batch.values.byte_len());
                    let rows = self.rows(&batch)?;
                    if let Some(last) = batch.offsets.last() {
                        // Handed on: the group may commit past it
                        // (librdkafka commits the stored offset + 1).
                        let _ = self.fetcher.handed_on.send((batch.split, *last));
                    }
                    if rows.num_rows() == 0 {
                        continue;
                    }
                    self.last_split = batch.split;
                    return Ok(Some(rows));
                }
                FetchEvent::Discovered(new) => self.splits.extend(new),
                FetchEvent::End => return Ok(None),
                FetchEvent::Failed(e) => return Err(e),
            }
        }
    }

    fn split_count(&self) -> usize {
        self.splits.len()
    }

    fn last_split(&self) -> usize {
        self.last_split
    }
}
