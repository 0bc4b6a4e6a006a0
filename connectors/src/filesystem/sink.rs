//! The filesystem sink: each instance writes rolling part files into the
//! table's directory, named like Flink's `part-<uuid>-<instance>-<counter>`
//! plus the format's extension. A file is written as a hidden
//! `.part-….inprogress` file (so readers of the directory skip it) and renamed
//! to its final name when it rolls: when it reaches
//! `sink.rolling-policy.file-size`, when `rollover-interval` has passed since
//! it was opened or `inactivity-interval` since its last write (checked on
//! every write and flush), and at end of input.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use sluice_engine::connector::{MetadataColumn, SinkContext, SinkTable, SinkWriter};
use sluice_engine::{Result, SluiceError};
use tokio::io::AsyncWriteExt;

use crate::ConnectorError;
use crate::formats::{Format, RecordEncoder};

/// When a part file is finished and a new one started.
#[derive(Debug, Clone)]
pub struct RollingPolicy {
    /// Roll once a file holds at least this many bytes.
    pub file_size: u64,
    /// Roll a file this long after it was opened.
    pub rollover_interval: Duration,
    /// Roll a file that has not been written to for this long.
    pub inactivity_interval: Option<Duration>,
    /// How often Flink checks the time-based conditions. Sluice checks them
    /// on every write and flush instead; kept for completeness.
    pub check_interval: Duration,
}

/// The writable half of a filesystem table.
#[derive(Debug)]
pub struct FilesystemSink {
    dir: PathBuf,
    format: Arc<dyn Format>,
    /// Physical columns plus persisted metadata columns.
    schema: SchemaRef,
    /// Non-VIRTUAL metadata columns: the filesystem cannot write them.
    persisted_metadata: Vec<String>,
    policy: RollingPolicy,
    parallelism: Option<usize>,
    /// One random id per job, shared by its instances, so part files of one
    /// job group together and never collide with another job's.
    job_ids: Mutex<HashMap<String, String>>,
}

impl FilesystemSink {
    pub fn new(
        dir: PathBuf,
        format: Arc<dyn Format>,
        physical: SchemaRef,
        metadata: &[MetadataColumn],
        policy: RollingPolicy,
        parallelism: Option<usize>,
    ) -> Self {
        let persisted: Vec<&MetadataColumn> = metadata.iter().filter(|m| !m.is_virtual).collect();
        let mut fields: Vec<Field> = physical
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.extend(
            persisted
                .iter()
                .map(|m| Field::new(&m.name, m.data_type.clone(), true)),
        );
        Self {
            dir,
            format,
            schema: Arc::new(Schema::new(fields)),
            persisted_metadata: persisted.iter().map(|m| m.name.clone()).collect(),
            policy,
            parallelism,
            job_ids: Mutex::new(HashMap::new()),
        }
    }

    fn job_uuid(&self, job_id: &str) -> String {
        let mut ids = self.job_ids.lock().unwrap_or_else(|e| e.into_inner());
        ids.entry(job_id.to_string())
            .or_insert_with(random_uuid)
            .clone()
    }
}

/// A random (version 4) UUID in its usual text form.
fn random_uuid() -> String {
    let n: u128 = rand::random();
    let n = (((n & !(0xf << 76)) | (0x4 << 76)) & !(0x3 << 62)) | (0x2 << 62);
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

impl SinkTable for FilesystemSink {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn parallelism(&self) -> Option<usize> {
        self.parallelism
    }

    fn open(&self, ctx: SinkContext) -> Result<Box<dyn SinkWriter>> {
        if let Some(column) = self.persisted_metadata.first() {
            return Err(SluiceError::plan(format!(
                "metadata column '{column}' is read-only for connector 'filesystem'; \
                 declare it VIRTUAL to exclude it from INSERT"
            )));
        }
        Ok(Box::new(PartWriter {
            dir: self.dir.clone(),
            prefix: format!("part-{}-{}-", self.job_uuid(&ctx.job_id), ctx.instance),
            extension: self.format.file_extension(),
            counter: 0,
            encoder: self.format.encoder()?,
            policy: self.policy.clone(),
            current: None,
            buf: Vec::new(),
            dir_checked: false,
        }))
    }
}

/// The part file being written.
struct InProgress {
    file: tokio::fs::File,
    temp: PathBuf,
    target: PathBuf,
    size: u64,
    opened: Instant,
    last_write: Instant,
}

/// One instance of the filesystem sink.
struct PartWriter {
    dir: PathBuf,
    /// `part-<uuid>-<instance>-`.
    prefix: String,
    extension: &'static str,
    /// Number of the next part file.
    counter: u64,
    encoder: Box<dyn RecordEncoder>,
    policy: RollingPolicy,
    current: Option<InProgress>,
    /// Reused encoding buffer.
    buf: Vec<u8>,
    dir_checked: bool,
}

impl PartWriter {
    async fn open_part(&mut self) -> Result<InProgress> {
        if !self.dir_checked {
            tokio::fs::create_dir_all(&self.dir).await.map_err(|e| {
                ConnectorError::io(format!("creating directory {}", self.dir.display()), e)
            })?;
            self.dir_checked = true;
        }
        let name = format!("{}{}{}", self.prefix, self.counter, self.extension);
        self.counter += 1;
        let target = self.dir.join(&name);
        let temp = self.dir.join(format!(".{name}.inprogress"));
        let file = tokio::fs::File::create(&temp)
            .await
            .map_err(|e| ConnectorError::io(format!("creating {}", temp.display()), e))?;
        let now = Instant::now();
        Ok(InProgress {
            file,
            temp,
            target,
            size: 0,
            opened: now,
            last_write: now,
        })
    }

    /// True when the time-based rolling conditions hold for `part`.
    fn time_to_roll(&self, part: &InProgress) -> bool {
        part.opened.elapsed() >= self.policy.rollover_interval
            || self
                .policy
                .inactivity_interval
                .is_some_and(|i| part.last_write.elapsed() >= i)
    }

    /// Finishes the current part file: durable, then visible under its name.
    async fn roll(&mut self) -> Result<()> {
        let Some(mut part) = self.current.take() else {
            return Ok(());
        };
        let what = format!("finishing part file {}", part.target.display());
        part.file
            .flush()
            .await
            .map_err(|e| ConnectorError::io(what.clone(), e))?;
        part.file
            .sync_all()
            .await
            .map_err(|e| ConnectorError::io(what.clone(), e))?;
        drop(part.file);
        tokio::fs::rename(&part.temp, &part.target)
            .await
            .map_err(|e| ConnectorError::io(what, e))?;
        Ok(())
    }
}

#[async_trait]
impl SinkWriter for PartWriter {
    async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.buf.clear();
        self.encoder.encode(&batch, &mut self.buf)?;
        if self.current.as_ref().is_some_and(|p| self.time_to_roll(p)) {
            self.roll().await?;
        }
        let mut part = match self.current.take() {
            Some(p) => p,
            None => self.open_part().await?,
        };
        let written = part.file.write_all(&self.buf).await;
        written.map_err(|e| ConnectorError::io(format!("writing {}", part.temp.display()), e))?;
        part.size += self.buf.len() as u64;
        part.last_write = Instant::now();
        let full = part.size >= self.policy.file_size;
        self.current = Some(part);
        if full {
            self.roll().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if self.current.as_ref().is_some_and(|p| self.time_to_roll(p)) {
            return self.roll().await;
        }
        if let Some(part) = self.current.as_mut() {
            let what = format!("flushing {}", part.temp.display());
            part.file
                .flush()
                .await
                .map_err(|e| ConnectorError::io(what.clone(), e))?;
            part.file
                .sync_data()
                .await
                .map_err(|e| ConnectorError::io(what, e))?;
        }
        Ok(())
    }

    async fn finish(&mut self) -> Result<()> {
        self.roll().await
    }
}
