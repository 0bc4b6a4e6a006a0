//! One instance of the filesystem sink: its open part files (one per
//! partition), rolling, and partition commit.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use datafusion::arrow::array::{RecordBatch, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use sluice_engine::connector::SinkWriter;
use sluice_engine::{Result, SluiceError};
use tokio::io::AsyncWriteExt;

use super::commit::CommitPolicy;
use super::partition::Partitioning;
use super::sink::RollingPolicy;
use crate::ConnectorError;
use crate::formats::RecordEncoder;

/// The part file being written.
pub(super) struct InProgress {
    file: tokio::fs::File,
    temp: PathBuf,
    target: PathBuf,
    size: u64,
    opened: Instant,
    last_write: Instant,
}

/// A partition written to since it was last committed.
pub(super) struct Uncommitted {
    /// When it was first written (process-time trigger).
    created: Instant,
    /// Its time (partition-time trigger), epoch ms.
    time: Option<i64>,
}

/// One instance of the filesystem sink.
pub(super) struct PartWriter {
    pub(super) dir: PathBuf,
    /// `part-<uuid>-<instance>-`.
    pub(super) prefix: String,
    pub(super) extension: &'static str,
    /// Number of the next part file.
    pub(super) counter: u64,
    pub(super) encoder: Box<dyn RecordEncoder>,
    pub(super) policy: RollingPolicy,
    pub(super) partitioning: Option<Arc<Partitioning>>,
    pub(super) commit: Option<CommitPolicy>,
    /// Open part files by partition path (`""` when unpartitioned).
    pub(super) open: HashMap<String, InProgress>,
    pub(super) uncommitted: HashMap<String, Uncommitted>,
    /// Partition directories known to exist.
    pub(super) created_dirs: HashSet<String>,
    pub(super) watermark: Option<i64>,
    /// Reused encoding buffer.
    pub(super) buf: Vec<u8>,
    /// Reused partition path buffer.
    pub(super) path: String,
}

impl PartWriter {
    async fn open_part(&mut self, partition: &str) -> Result<InProgress> {
        let dir = self.dir.join(partition);
        if !self.created_dirs.contains(partition) {
            tokio::fs::create_dir_all(&dir).await.map_err(|e| {
                ConnectorError::io(format!("creating directory {}", dir.display()), e)
            })?;
            self.created_dirs.insert(partition.to_string());
        }
        let name = format!("{}{}{}", self.prefix, self.counter, self.extension);
        self.counter += 1;
        let target = dir.join(&name);
        let temp = dir.join(format!(".{name}.inprogress"));
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

    /// Finishes `partition`'s part file: durable, then visible under its name.
    async fn roll(&mut self, partition: &str) -> Result<()> {
        let Some(mut part) = self.open.remove(partition) else {
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

    /// Rolls every part file whose time-based condition holds.
    async fn roll_due(&mut self) -> Result<()> {
        let due: Vec<String> = self
            .open
            .iter()
            .filter(|(_, p)| self.time_to_roll(p))
            .map(|(k, _)| k.clone())
            .collect();
        for partition in due {
            self.roll(&partition).await?;
        }
        Ok(())
    }

    /// Appends `self.buf` to `partition`'s part file, rolling it as the
    /// policy says.
    async fn append(&mut self, partition: &str) -> Result<()> {
        if self
            .open
            .get(partition)
            .is_some_and(|p| self.time_to_roll(p))
        {
            self.roll(partition).await?;
        }
        let mut part = match self.open.remove(partition) {
            Some(p) => p,
            None => self.open_part(partition).await?,
        };
        let written = part.file.write_all(&self.buf).await;
        written.map_err(|e| ConnectorError::io(format!("writing {}", part.temp.display()), e))?;
        part.size += self.buf.len() as u64;
        part.last_write = Instant::now();
        let full = part.size >= self.policy.file_size;
        self.open.insert(partition.to_string(), part);
        if full {
            self.roll(partition).await?;
        }
        Ok(())
    }

    /// Notes that `partition` has new data to commit.
    fn touch(&mut self, partition: &str) -> Result<()> {
        let Some(commit) = &self.commit else {
            return Ok(());
        };
        if self.uncommitted.contains_key(partition) {
            return Ok(());
        }
        let time = match (&commit.extractor, &self.partitioning) {
            (Some(extractor), Some(p)) => {
                let values = p.values_of(partition)?;
                let named: Vec<(String, Option<String>)> =
                    p.keys.iter().map(|(k, _)| k.clone()).zip(values).collect();
                let time = extractor
                    .extract(&named)
                    .map_err(|e| SluiceError::execution(format!("partition '{partition}': {e}")))?;
                Some(time)
            }
            _ => None,
        };
        self.uncommitted.insert(
            partition.to_string(),
            Uncommitted {
                created: Instant::now(),
                time,
            },
        );
        Ok(())
    }

    /// Commits the partitions whose trigger fired (all of them at `end`):
    /// finishes their files, then writes their success files.
    async fn commit_due(&mut self, end: bool) -> Result<()> {
        let Some(commit) = self.commit.clone() else {
            return Ok(());
        };
        let due: Vec<String> = self
            .uncommitted
            .iter()
            .filter(|(_, u)| end || commit.is_due(u.created, u.time, self.watermark))
            .map(|(k, _)| k.clone())
            .collect();
        for partition in due {
            self.roll(&partition).await?;
            let marker = self.dir.join(&partition).join(&commit.success_file);
            tokio::fs::write(&marker, b"").await.map_err(|e| {
                ConnectorError::io(format!("writing success file {}", marker.display()), e)
            })?;
            self.uncommitted.remove(&partition);
        }
        Ok(())
    }

    /// The rows of `batch` grouped by partition path, in order of first
    /// appearance.
    fn group_by_partition(
        &mut self,
        p: &Partitioning,
        batch: &RecordBatch,
    ) -> Vec<(String, Vec<u32>)> {
        let mut groups: Vec<(String, Vec<u32>)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut last: Option<usize> = None;
        let mut paths = p.paths(batch.columns());
        for row in 0..batch.num_rows() {
            self.path.clear();
            paths.write(row, &mut self.path);
            // Rows of one partition usually come in runs.
            let g = match last.filter(|&g| groups[g].0 == self.path) {
                Some(g) => g,
                None => *index.entry(self.path.clone()).or_insert_with(|| {
                    groups.push((self.path.clone(), Vec::new()));
                    groups.len() - 1
                }),
            };
            groups[g].1.push(row as u32);
            last = Some(g);
        }
        groups
    }

    /// Writes a partitioned batch: each partition's file columns into that
    /// partition's file.
    async fn write_partitioned(&mut self, p: &Partitioning, batch: &RecordBatch) -> Result<()> {
        let groups = self.group_by_partition(p, batch);
        let files = batch.project(&p.file_columns)?;
        for (partition, rows) in groups {
            let rows = if rows.len() == batch.num_rows() {
                files.clone()
            } else {
                take_record_batch(&files, &UInt32Array::from(rows))?
            };
            self.buf.clear();
            self.encoder.encode(&rows, &mut self.buf)?;
            self.touch(&partition)?;
            self.append(&partition).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl SinkWriter for PartWriter {
    async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        match self.partitioning.clone() {
            Some(p) => self.write_partitioned(&p, &batch).await?,
            None => {
                self.buf.clear();
                self.encoder.encode(&batch, &mut self.buf)?;
                self.append("").await?;
            }
        }
        self.commit_due(false).await
    }

    async fn flush(&mut self) -> Result<()> {
        self.roll_due().await?;
        for part in self.open.values_mut() {
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
        self.commit_due(false).await
    }

    fn flush_deadline(&self) -> Option<tokio::time::Instant> {
        // A process-time commit must happen even when no row arrives.
        let commit = self.commit.as_ref()?;
        let oldest = self.uncommitted.values().map(|u| u.created).min()?;
        (commit.trigger == super::commit::Trigger::ProcessTime)
            .then(|| tokio::time::Instant::from_std(oldest + commit.delay))
    }

    async fn on_watermark(&mut self, watermark: i64) -> Result<()> {
        self.watermark = Some(watermark);
        self.commit_due(false).await
    }

    async fn finish(&mut self) -> Result<()> {
        let open: Vec<String> = self.open.keys().cloned().collect();
        for partition in open {
            self.roll(&partition).await?;
        }
        self.commit_due(true).await
    }
}
