//! Flink's temporal functions.

mod arith;
mod convert_tz;
mod date_format;
mod extract;
mod floor_ceil;
mod from_unixtime;
pub mod pattern;
pub mod temporal;
mod to_date;
mod to_timestamp;
mod to_timestamp_ltz;
mod unit;
mod unix_timestamp;
pub mod zone;

use std::sync::Arc;

use datafusion::common::{Result, exec_datafusion_err};
use datafusion::logical_expr::ScalarUDF;

use pattern::JavaPattern;

pub use extract::extract_udf;
pub use floor_ceil::{CEIL_TO, FLOOR_TO};

/// Every temporal built-in.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    let mut f = vec![
        date_format::udf(),
        to_timestamp::udf(),
        to_timestamp_ltz::udf(),
        to_date::udf(),
        unix_timestamp::udf(),
        from_unixtime::udf(),
        convert_tz::udf(),
        arith::timestampadd(),
        arith::timestampdiff(),
        floor_ceil::floor_to(),
        floor_ceil::ceil_to(),
    ];
    f.extend(extract::functions());
    f
}

/// Compiles the patterns of one batch, reusing the last one while the
/// pattern column repeats (it is almost always a constant).
#[derive(Default)]
pub struct PatternCache {
    last: Option<(String, JavaPattern)>,
}

impl PatternCache {
    /// The compiled `pattern`; an invalid pattern is an error naming
    /// `function`.
    pub fn get(&mut self, function: &str, pattern: &str) -> Result<&JavaPattern> {
        let entry = match self.last.take() {
            Some((p, c)) if p == pattern => (p, c),
            _ => {
                let compiled = JavaPattern::compile(pattern).map_err(|e| {
                    exec_datafusion_err!("{function}: invalid date-time pattern '{pattern}': {e}")
                })?;
                (pattern.to_string(), compiled)
            }
        };
        Ok(&self.last.insert(entry).1)
    }
}
