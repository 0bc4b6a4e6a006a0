//! The filesystem sink: each instance writes rolling part files into the
//! table's directory (into `k=v/` partition directories for a `PARTITIONED
//! BY` table, one open file per partition), named like Flink's
//! `part-<uuid>-<instance>-<counter>` plus the format's extension. A file is
//! written as a hidden `.part-….inprogress` file (so readers of the directory
//! skip it) and renamed to its final name when it rolls: when it reaches
//! `sink.rolling-policy.file-size`, when `rollover-interval` has passed since
//! it was opened or `inactivity-interval` since its last write (checked on
//! every write and flush), when its partition is committed, and at end of
//! input.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use sluice_engine::connector::{MetadataColumn, SinkContext, SinkTable, SinkWriter};
use sluice_engine::{Result, SluiceError};

use super::commit::CommitPolicy;
use super::partition::Partitioning;
use super::writer::PartWriter;
use crate::formats::Format;

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
    partitioning: Option<Arc<Partitioning>>,
    commit: Option<CommitPolicy>,
    /// One random id per job, shared by its instances, so part files of one
    /// job group together and never collide with another job's.
    job_ids: Mutex<HashMap<String, String>>,
}

/// How a sink lays out and commits partitions.
#[derive(Debug, Clone, Default)]
pub struct SinkPartitions {
    pub partitioning: Option<Partitioning>,
    pub commit: Option<CommitPolicy>,
}

impl FilesystemSink {
    pub fn new(
        dir: PathBuf,
        format: Arc<dyn Format>,
        physical: SchemaRef,
        metadata: &[MetadataColumn],
        policy: RollingPolicy,
        parallelism: Option<usize>,
        partitions: SinkPartitions,
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
            partitioning: partitions.partitioning.map(Arc::new),
            commit: partitions.commit,
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
        if self.commit.is_some() && ctx.parallelism > 1 {
            // Each instance would commit on its own, so a success file could
            // appear while another instance still writes the partition.
            return Err(SluiceError::not_supported(format!(
                "partition commit with {} parallel sink instances; set \
                 'sink.parallelism' = '1'",
                ctx.parallelism
            )));
        }
        Ok(Box::new(PartWriter {
            dir: self.dir.clone(),
            prefix: format!("part-{}-{}-", self.job_uuid(&ctx.job_id), ctx.instance),
            extension: self.format.file_extension(),
            counter: 0,
            encoder: self.format.encoder()?,
            policy: self.policy.clone(),
            partitioning: self.partitioning.clone(),
            commit: self.commit.clone(),
            open: HashMap::new(),
            uncommitted: HashMap::new(),
            created_dirs: HashSet::new(),
            watermark: None,
            buf: Vec::new(),
            path: String::new(),
        }))
    }
}
