//! The catalog: tables, views and functions a session knows.

mod options;

pub use options::{is_secret_key, parse_duration, parse_memory_size, ConnectorOptions, MASK};
