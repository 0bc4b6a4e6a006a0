//! Flink's JSON functions: `JSON_VALUE`, `JSON_QUERY`, `JSON_EXISTS`
//! (queries with SQL/JSON paths), `JSON_OBJECT` and `JSON_ARRAY`
//! (constructors).

mod construct;
mod path;
mod query;
mod write;

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

pub use construct::{JSON_ARRAY_NULL_ON_NULL, JSON_OBJECT_ABSENT_ON_NULL};

/// Every JSON built-in.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    let mut f = vec![
        query::json_value(),
        query::json_query(),
        query::json_exists(),
    ];
    f.extend(construct::functions());
    f
}
