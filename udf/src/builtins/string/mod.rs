//! Flink's string functions.

mod concat;
mod locate;
mod pad;
mod regexp;
mod split_index;
mod str_to_map;
mod substring;

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

pub use substring::substring;

/// Every string built-in.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        concat::udf(),
        substring::substring(),
        locate::udf(),
        pad::lpad(),
        pad::rpad(),
        split_index::udf(),
        regexp::regexp(),
        regexp::regexp_extract(),
        regexp::regexp_replace(),
        str_to_map::udf(),
    ]
}
