//! The JDBC connector end to end against the machine's MariaDB and
//! PostgreSQL (databases `test`): types, upserts and deletes, scans,
//! incremental sync, flush triggers, bad data and lost connections. Each
//! test creates its own uniquely named tables, so tests run in parallel.

#[path = "jdbc/baddata.rs"]
mod baddata;
#[path = "jdbc/faults.rs"]
mod faults;
#[path = "jdbc/flush.rs"]
mod flush;
#[path = "jdbc/proxy.rs"]
mod proxy;
#[path = "jdbc/scan.rs"]
mod scan;
#[path = "jdbc/support.rs"]
mod support;
#[path = "jdbc/types.rs"]
mod types;
#[path = "jdbc/upsert.rs"]
mod upsert;
