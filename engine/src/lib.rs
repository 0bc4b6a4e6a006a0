//! The Sluice engine: the Flink SQL dialect, the catalog, the planner that
//! lowers DataFusion logical plans to a streaming graph, and the runtime that
//! runs that graph as tokio tasks connected by bounded channels.

pub mod catalog;
pub mod config;
pub mod connector;
pub mod display;
pub mod error;
pub mod local_time;
pub mod planner;
pub mod runtime;
pub mod session;
pub mod sql;

pub use error::{Result, SluiceError};
