//! The `print` sink: writes every row to stdout (or stderr) the way Flink's
//! print connector does, e.g. `+I[1, abc]` or `2> -U[1, abc]`.
//!
//! Options: `print-identifier` (a prefix), `standard-error` (default
//! false) and `sink.parallelism`.

mod writer;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use sluice_engine::Result;
use sluice_engine::connector::{
    ChangelogMode, Connector, ConnectorTable, SinkContext, SinkTable, SinkWriter, SourceTable,
    TableContext,
};

pub use writer::{line_prefix, render_batch};

use writer::{PrintWriter, Target};

/// Factory for `'connector' = 'print'`.
#[derive(Debug)]
pub struct PrintConnector;

/// The runtime half of a print table (a sink only).
#[derive(Debug)]
struct PrintTable {
    sink: Arc<PrintSink>,
}

/// The sink side; shared by all instances.
#[derive(Debug)]
struct PrintSink {
    schema: SchemaRef,
    identifier: Option<String>,
    target: Target,
    parallelism: Option<usize>,
}

impl Connector for PrintConnector {
    fn name(&self) -> &'static str {
        "print"
    }

    fn create(&self, ctx: TableContext<'_>) -> Result<Arc<dyn ConnectorTable>> {
        ctx.reject_metadata("print")?;
        let opts = ctx.options;
        let identifier = opts.string("print-identifier");
        let stderr = opts.bool("standard-error")?.unwrap_or(false);
        let parallelism = opts.parse::<usize>("sink.parallelism", "a positive integer")?;
        if parallelism == Some(0) {
            return Err(opts.error("sink.parallelism", "must be positive"));
        }
        opts.finish("print")?;
        Ok(Arc::new(PrintTable {
            sink: Arc::new(PrintSink {
                schema: ctx.physical_schema.clone(),
                identifier,
                target: if stderr {
                    Target::Stderr
                } else {
                    Target::Stdout
                },
                parallelism,
            }),
        }))
    }
}

impl ConnectorTable for PrintTable {
    fn source(&self) -> Option<Arc<dyn SourceTable>> {
        None
    }

    fn sink(&self) -> Option<Arc<dyn SinkTable>> {
        Some(self.sink.clone())
    }
}

impl SinkTable for PrintSink {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Print shows every change, retractions included.
    fn accepted_changelog(&self) -> ChangelogMode {
        ChangelogMode::Retract
    }

    fn parallelism(&self) -> Option<usize> {
        self.parallelism
    }

    fn open(&self, ctx: SinkContext) -> Result<Box<dyn SinkWriter>> {
        let prefix = line_prefix(self.identifier.as_deref(), ctx.instance, ctx.parallelism);
        Ok(Box::new(PrintWriter::new(prefix, self.target, ctx.metrics)))
    }
}
