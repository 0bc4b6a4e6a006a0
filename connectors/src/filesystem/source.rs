//! The bounded filesystem source. Each instance takes every P-th file of the
//! sorted listing (file i → instance i % P), reads it in chunks of a few MiB
//! cut at record boundaries (the format decides where those are), decodes
//! each chunk in one vectorized pass, appends the metadata columns (and, for
//! a partitioned table, the partition columns its directory names) and ends
//! when its files are done.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use sluice_engine::connector::{ScanContext, SourceReader, SourceTable};
use sluice_engine::runtime::OperatorMetrics;
use sluice_engine::{Result, SluiceError};
use tokio::io::AsyncReadExt;

use super::listing::{FileEntry, list_files};
use super::metadata::FileMetadata;
use super::partition::{Partitioning, constant_column};
use crate::ConnectorError;
use crate::formats::lines::count_newlines;
use crate::formats::{Format, RecordDecoder, RecordLocation};

/// Bytes read from a file per decode call. Large enough that per-chunk
/// overhead vanishes, small enough to bound memory per instance.
const CHUNK_SIZE: usize = 4 << 20;

/// The readable half of a filesystem table.
#[derive(Debug)]
pub struct FilesystemSource {
    path: PathBuf,
    format: Arc<dyn Format>,
    /// Physical columns followed by metadata columns.
    schema: SchemaRef,
    physical_len: usize,
    metadata: Vec<FileMetadata>,
    partitioning: Option<Arc<Partitioning>>,
    chunk_size: usize,
}

impl FilesystemSource {
    pub fn new(
        path: PathBuf,
        format: Arc<dyn Format>,
        physical: SchemaRef,
        metadata: Vec<FileMetadata>,
        metadata_names: &[String],
        partitioning: Option<Partitioning>,
    ) -> Self {
        let mut fields: Vec<Field> = physical
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.extend(
            metadata
                .iter()
                .zip(metadata_names)
                .map(|(m, name)| Field::new(name, m.data_type.clone(), true)),
        );
        Self {
            path,
            format,
            schema: Arc::new(Schema::new(fields)),
            physical_len: physical.fields().len(),
            metadata,
            partitioning: partitioning.map(Arc::new),
            chunk_size: CHUNK_SIZE,
        }
    }

    /// Reads in smaller chunks (tests exercise records spanning chunks).
    #[cfg(test)]
    pub fn with_chunk_size(mut self, chunk_size: usize) -> Self {
        self.chunk_size = chunk_size.max(1);
        self
    }
}

/// Where an output column comes from.
#[derive(Debug, Clone)]
enum Output {
    /// The decoded batch's column at this position.
    Decoded(usize),
    /// A metadata column, constant per file.
    Metadata(FileMetadata),
    /// The partition column `.0` (index into the partition keys), constant
    /// per file, of type `.1`.
    Partition(usize, DataType),
}

impl SourceTable for FilesystemSource {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn is_bounded(&self) -> bool {
        true
    }

    fn open(&self, ctx: ScanContext) -> Result<Box<dyn SourceReader>> {
        let projection: Vec<usize> = match &ctx.projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        // Where each physical column is in the files (partition columns
        // are not: their directories name them).
        let in_file = |i: usize| match &self.partitioning {
            None => Some(i),
            Some(p) => p.file_columns.iter().position(|c| *c == i),
        };
        // The decoder reads each projected file column once, in file order.
        let mut physical: Vec<usize> = projection
            .iter()
            .filter(|i| **i < self.physical_len)
            .filter_map(|i| in_file(*i))
            .collect();
        physical.sort_unstable();
        physical.dedup();
        let plan = projection
            .iter()
            .map(|&i| match (i < self.physical_len).then(|| in_file(i)) {
                Some(Some(f)) => Ok(Output::Decoded(
                    physical.binary_search(&f).expect("projected above"),
                )),
                Some(None) => {
                    let keys = self.partitioning.as_ref().map_or(&[][..], |p| &p.keys[..]);
                    let k = keys
                        .iter()
                        .position(|(_, c)| *c == i)
                        .expect("a partition column");
                    let data_type = self.schema.field(i).data_type().clone();
                    Ok(Output::Partition(k, data_type))
                }
                None => self
                    .metadata
                    .get(i - self.physical_len)
                    .cloned()
                    .map(Output::Metadata)
                    .ok_or_else(|| SluiceError::plan(format!("projection index {i} out of range"))),
            })
            .collect::<Result<Vec<_>>>()?;
        let decoder = self.format.decoder(Some(&physical), ctx.batch_size)?;
        Ok(Box::new(FilesystemReader {
            root: self.path.clone(),
            partitioning: self.partitioning.clone(),
            schema: ctx.project_schema(&self.schema)?,
            plan,
            decoder,
            instance: ctx.instance,
            parallelism: ctx.parallelism.max(1),
            metrics: ctx.metrics,
            chunk_size: self.chunk_size,
            files: None,
            current: None,
            pending: VecDeque::new(),
        }))
    }
}

/// The file being read.
struct OpenFile {
    entry: FileEntry,
    file: tokio::fs::File,
    /// Read but not yet decoded bytes; always starts at a record boundary.
    buf: Vec<u8>,
    /// 1-based line number of `buf[0]`.
    next_line: u64,
    eof: bool,
    /// `file <path>`, for error messages.
    description: String,
    /// The partition values its directories name (partitioned tables).
    partition: Vec<Option<String>>,
}

/// One instance of the filesystem source.
struct FilesystemReader {
    root: PathBuf,
    partitioning: Option<Arc<Partitioning>>,
    schema: SchemaRef,
    plan: Vec<Output>,
    decoder: Box<dyn RecordDecoder>,
    instance: usize,
    parallelism: usize,
    metrics: Arc<OperatorMetrics>,
    chunk_size: usize,
    /// This instance's files, listed on the first read.
    files: Option<VecDeque<FileEntry>>,
    current: Option<OpenFile>,
    pending: VecDeque<RecordBatch>,
}

impl FilesystemReader {
    /// This instance's share of the listing: file i goes to instance i % P.
    async fn list(
        root: PathBuf,
        instance: usize,
        parallelism: usize,
    ) -> Result<VecDeque<FileEntry>> {
        let all = tokio::task::spawn_blocking(move || list_files(&root))
            .await
            .map_err(|e| SluiceError::execution(format!("listing files failed: {e}")))??;
        Ok(all
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % parallelism == instance)
            .map(|(_, f)| f)
            .collect())
    }

    /// Reads until `chunk_size` more bytes are buffered or the file ends.
    async fn fill(f: &mut OpenFile, chunk_size: usize, metrics: &OperatorMetrics) -> Result<()> {
        let target = f.buf.len() + chunk_size;
        while f.buf.len() < target {
            let start = f.buf.len();
            f.buf.resize(target, 0);
            let read = f.file.read(&mut f.buf[start..]).await;
            let n = read.map_err(|e| ConnectorError::io(format!("reading {}", f.description), e));
            let n = match n {
                Ok(n) => n,
                Err(e) => {
                    f.buf.truncate(start);
                    return Err(e.into());
                }
            };
            f.buf.truncate(start + n);
            metrics.add_bytes_in(n);
            if n == 0 {
                f.eof = true;
                break;
            }
        }
        Ok(())
    }

    /// Adds the metadata and partition columns in projection order.
    fn assemble(&self, decoded: RecordBatch, file: &OpenFile) -> Result<RecordBatch> {
        let rows = decoded.num_rows();
        let columns = self
            .plan
            .iter()
            .map(|o| match o {
                Output::Decoded(pos) => Ok(decoded.column(*pos).clone()),
                Output::Metadata(m) => m.column(&file.entry, rows),
                Output::Partition(k, data_type) => {
                    constant_column(file.partition[*k].as_deref(), data_type, rows)
                        .map_err(|e| SluiceError::execution(format!("{}: {e}", file.description)))
                }
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        Ok(RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )?)
    }

    /// Reads and decodes the next chunk of the current file.
    async fn step(&mut self, mut f: OpenFile) -> Result<Option<OpenFile>> {
        if !f.eof {
            Self::fill(&mut f, self.chunk_size, &self.metrics).await?;
        }
        let complete = self.decoder.complete_prefix(&f.buf, f.eof);
        if complete > 0 {
            let location = RecordLocation::lines(f.description.clone(), f.next_line);
            let chunk = &f.buf[..complete];
            let batches = self.decoder.decode(chunk, &location, &self.metrics)?;
            f.next_line += count_newlines(chunk);
            f.buf.drain(..complete);
            for batch in batches {
                if batch.num_rows() > 0 {
                    let batch = self.assemble(batch, &f)?;
                    self.pending.push_back(batch);
                }
            }
        }
        Ok((!f.eof || !f.buf.is_empty()).then_some(f))
    }
}

#[async_trait]
impl SourceReader for FilesystemReader {
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if let Some(batch) = self.pending.pop_front() {
                return Ok(Some(batch));
            }
            if self.files.is_none() {
                self.files =
                    Some(Self::list(self.root.clone(), self.instance, self.parallelism).await?);
            }
            let f = match self.current.take() {
                Some(f) => f,
                None => {
                    let Some(entry) = self.files.as_mut().and_then(VecDeque::pop_front) else {
                        return Ok(None);
                    };
                    let description = format!("file {}", entry.path.display());
                    let partition = match &self.partitioning {
                        None => Vec::new(),
                        Some(p) => {
                            let relative =
                                entry.path.strip_prefix(&self.root).unwrap_or(&entry.path);
                            p.values_of(&relative.to_string_lossy())?
                        }
                    };
                    let file = tokio::fs::File::open(&entry.path)
                        .await
                        .map_err(|e| ConnectorError::io(format!("opening {description}"), e))?;
                    OpenFile {
                        entry,
                        file,
                        buf: Vec::new(),
                        next_line: 1,
                        eof: false,
                        description,
                        partition,
                    }
                }
            };
            self.current = self.step(f).await?;
        }
    }
}
