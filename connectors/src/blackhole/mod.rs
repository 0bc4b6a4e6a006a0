//! The `blackhole` sink: accepts any rows and discards them, like
//! `/dev/null`. Useful to measure a query's throughput without a real sink.
//! It has no options besides `connector`.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use sluice_engine::Result;
use sluice_engine::connector::{
    ChangelogMode, Connector, ConnectorTable, SinkContext, SinkTable, SinkWriter, SourceTable,
    TableContext,
};
use sluice_engine::runtime::OperatorMetrics;

/// Factory for `'connector' = 'blackhole'`.
#[derive(Debug)]
pub struct BlackholeConnector;

/// The runtime half of a blackhole table (a sink only).
#[derive(Debug)]
struct BlackholeTable {
    sink: Arc<BlackholeSink>,
}

#[derive(Debug)]
struct BlackholeSink {
    schema: SchemaRef,
}

impl Connector for BlackholeConnector {
    fn name(&self) -> &'static str {
        "blackhole"
    }

    fn create(&self, ctx: TableContext<'_>) -> Result<Arc<dyn ConnectorTable>> {
        ctx.reject_metadata("blackhole")?;
        ctx.options.finish("blackhole")?;
        Ok(Arc::new(BlackholeTable {
            sink: Arc::new(BlackholeSink {
                schema: ctx.physical_schema.clone(),
            }),
        }))
    }
}

impl ConnectorTable for BlackholeTable {
    fn source(&self) -> Option<Arc<dyn SourceTable>> {
        None
    }

    fn sink(&self) -> Option<Arc<dyn SinkTable>> {
        Some(self.sink.clone())
    }
}

impl SinkTable for BlackholeSink {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Every change is accepted (and dropped).
    fn accepted_changelog(&self) -> ChangelogMode {
        ChangelogMode::Retract
    }

    fn open(&self, ctx: SinkContext) -> Result<Box<dyn SinkWriter>> {
        Ok(Box::new(BlackholeWriter {
            metrics: ctx.metrics,
        }))
    }
}

/// Counts rows, keeps nothing.
struct BlackholeWriter {
    metrics: Arc<OperatorMetrics>,
}

#[async_trait]
impl SinkWriter for BlackholeWriter {
    async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        self.metrics.add_rows_in(batch.num_rows());
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    async fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use datafusion::arrow::array::{ArrayRef, Int32Array};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use sluice_engine::catalog::ConnectorOptions;

    use super::*;

    fn create(options: &[(&str, &str)]) -> Result<Arc<dyn ConnectorTable>> {
        let values: BTreeMap<String, String> = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut opts = ConnectorOptions::new("t", values);
        BlackholeConnector.create(TableContext {
            table_name: "t",
            physical_schema: Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true)])),
            metadata_columns: &[],
            primary_key: &[],
            partition_keys: &[],
            options: &mut opts,
        })
    }

    #[tokio::test]
    async fn discards_and_counts_rows() {
        let sink = create(&[]).unwrap().sink().unwrap();
        assert_eq!(sink.accepted_changelog(), ChangelogMode::Retract);
        let metrics = Arc::new(OperatorMetrics::default());
        let mut writer = sink
            .open(SinkContext {
                job_id: "j".into(),
                instance: 0,
                parallelism: 1,
                metrics: metrics.clone(),
            })
            .unwrap();
        let batch = RecordBatch::try_from_iter(vec![(
            "a",
            Arc::new(Int32Array::from(vec![1, 2, 3])) as ArrayRef,
        )])
        .unwrap();
        writer.write(batch.clone()).await.unwrap();
        writer.write(batch).await.unwrap();
        writer.finish().await.unwrap();
        assert_eq!(metrics.snapshot().rows_in, 6);
    }

    #[test]
    fn rejects_every_option() {
        let err = create(&[("path", "/tmp")]).unwrap_err().to_string();
        assert!(err.contains("unsupported option 'path'"), "{err}");
        assert!(err.contains("valid options are: connector"), "{err}");
    }
}
