//! Sluice's connectors and formats. Each connector lives in its own folder and
//! is registered by name in [`register_all`].

pub mod blackhole;
pub mod datagen;
pub mod elasticsearch;
mod error;
pub mod filesystem;
pub mod formats;
pub mod hbase;
pub mod jdbc;
pub mod kafka;
pub mod nexmark;
pub mod print;
pub mod redis;
pub mod sink;
pub mod upsert_kafka;

pub use error::ConnectorError;

use std::sync::Arc;

use sluice_engine::connector::ConnectorRegistry;

/// Registers every built-in connector.
pub fn register_all(registry: &mut ConnectorRegistry) {
    registry.register(Arc::new(datagen::DatagenConnector));
    registry.register(Arc::new(print::PrintConnector));
    registry.register(Arc::new(blackhole::BlackholeConnector));
    registry.register(Arc::new(filesystem::FilesystemConnector));
    registry.register(Arc::new(jdbc::JdbcConnector));
    registry.register(Arc::new(self::redis::RedisConnector));
    registry.register(Arc::new(nexmark::NexmarkConnector));
    registry.register(Arc::new(kafka::KafkaConnector));
    registry.register(Arc::new(upsert_kafka::UpsertKafkaConnector));
    for es in elasticsearch::ElasticsearchConnector::all() {
        registry.register(Arc::new(es));
    }
    for hbase in hbase::HBaseConnector::all() {
        registry.register(Arc::new(hbase));
    }
}
