//! Building blocks shared by sinks. [`buffered`] is the one buffering layer
//! every external-system sink (JDBC, Redis, Elasticsearch, HBase) writes
//! through: batching, upsert compaction, flush timing, retries and metrics.

pub mod buffered;
