//! Rendering and writing of print lines.

use std::io::Write;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Int8Type};
use datafusion::arrow::record_batch::RecordBatch;
use sluice_engine::connector::{ROW_KIND_COLUMN, RowKind, SinkWriter};
use sluice_engine::display::{DisplayStyle, RowFormatter};
use sluice_engine::runtime::OperatorMetrics;
use sluice_engine::{Result, SluiceError};

use crate::ConnectorError;

/// Which standard stream a print sink writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Stdout,
    Stderr,
}

/// The prefix of every line, as Flink's `PrintSinkOutputWriter` builds it:
/// the identifier, then `:{instance+1}` when there is more than one
/// instance, then `> ` when anything came before. An empty identifier
/// counts as none.
pub fn line_prefix(identifier: Option<&str>, instance: usize, parallelism: usize) -> String {
    let mut prefix = identifier.unwrap_or_default().to_string();
    if parallelism > 1 {
        if !prefix.is_empty() {
            prefix.push(':');
        }
        prefix.push_str(&(instance + 1).to_string());
    }
    if !prefix.is_empty() {
        prefix.push_str("> ");
    }
    prefix
}

/// Appends one line per row to `out`: `{prefix}{kind}[v1, v2, ...]\n`,
/// with values rendered like Flink's `Row.toString()`. The row kind comes
/// from the [`ROW_KIND_COLUMN`] column when present (not printed), else `+I`.
pub fn render_batch(out: &mut String, prefix: &str, batch: &RecordBatch) -> Result<()> {
    let schema = batch.schema();
    let kind_index = schema.index_of(ROW_KIND_COLUMN).ok();
    let kinds = match kind_index {
        Some(i) => {
            let column = batch.column(i);
            if column.data_type() != &DataType::Int8 {
                return Err(SluiceError::connector(
                    "print",
                    format!(
                        "column {ROW_KIND_COLUMN} must be TINYINT, got {}",
                        column.data_type()
                    ),
                ));
            }
            Some(column.as_primitive::<Int8Type>())
        }
        None => None,
    };
    let values = batch
        .columns()
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != kind_index)
        .map(|(_, c)| c.as_ref());
    let formatter = RowFormatter::new(values, DisplayStyle::Print);
    for row in 0..batch.num_rows() {
        let kind = match kinds {
            Some(k) if k.is_valid(row) => RowKind::from_i8(k.value(row)).ok_or_else(|| {
                SluiceError::connector("print", format!("invalid row kind {}", k.value(row)))
            })?,
            _ => RowKind::Insert,
        };
        out.push_str(prefix);
        out.push_str(kind.short());
        out.push('[');
        formatter.write(out, row);
        out.push_str("]\n");
    }
    Ok(())
}

/// One print instance: renders a batch into one buffer, then writes it with
/// one call on the locked stream and flushes, so lines of concurrent
/// instances never interleave mid-line and show up promptly.
pub(crate) struct PrintWriter {
    prefix: String,
    target: Target,
    metrics: Arc<OperatorMetrics>,
    buffer: String,
}

impl PrintWriter {
    pub(crate) fn new(prefix: String, target: Target, metrics: Arc<OperatorMetrics>) -> Self {
        Self {
            prefix,
            target,
            metrics,
            buffer: String::new(),
        }
    }

    fn emit(&self, bytes: &[u8]) -> Result<()> {
        let result = match self.target {
            Target::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes).and_then(|()| out.flush())
            }
            Target::Stderr => {
                let mut out = std::io::stderr().lock();
                out.write_all(bytes).and_then(|()| out.flush())
            }
        };
        result.map_err(|source| {
            ConnectorError::Io {
                context: format!("print sink: writing to {:?}", self.target).to_lowercase(),
                source,
            }
            .into()
        })
    }
}

#[async_trait]
impl SinkWriter for PrintWriter {
    async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        self.buffer.clear();
        render_batch(&mut self.buffer, &self.prefix, &batch)?;
        self.emit(self.buffer.as_bytes())?;
        self.metrics.add_rows_in(batch.num_rows());
        // Do not keep a huge buffer alive after an unusually large batch.
        if self.buffer.capacity() > 1 << 24 {
            self.buffer = String::new();
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        self.emit(&[])
    }

    async fn finish(&mut self) -> Result<()> {
        self.emit(&[])
    }
}
