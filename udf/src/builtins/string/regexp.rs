//! `REGEXP(string, regex)`, `REGEXP_EXTRACT(string, regex[, index])` and
//! `REGEXP_REPLACE(string, regex, replacement)`.
//!
//! Patterns use Rust's `regex` syntax, which matches Java's for everything
//! but look-around and back-references; a pattern that does not compile is
//! an error naming it. The replacement is literal text, as in Flink.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, BooleanBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, exec_datafusion_err};
use datafusion::logical_expr::ScalarUDF;
use regex::{NoExpand, Regex};

use crate::builtins::function::{Arg, Builtin};

/// Compiles the patterns of one batch, reusing the last one while the
/// pattern repeats (it is a constant in practice).
#[derive(Default)]
struct RegexCache {
    last: Option<(String, Regex)>,
}

impl RegexCache {
    fn get(&mut self, function: &str, pattern: &str) -> Result<&Regex> {
        let entry = match self.last.take() {
            Some((p, r)) if p == pattern => (p, r),
            _ => {
                let r = Regex::new(pattern).map_err(|e| {
                    exec_datafusion_err!("{function}: invalid regular expression '{pattern}': {e}")
                })?;
                (pattern.to_string(), r)
            }
        };
        Ok(&self.last.insert(entry).1)
    }
}

pub fn regexp() -> Arc<ScalarUDF> {
    Builtin::new(
        "regexp",
        "REGEXP(string, regex)",
        &[&[Arg::Str, Arg::Str]],
        |_| Ok(DataType::Boolean),
        |ctx, args| {
            let s = args[0].as_string::<i32>();
            let re = args[1].as_string::<i32>();
            let mut cache = RegexCache::default();
            let mut out = BooleanBuilder::with_capacity(ctx.rows);
            for i in 0..ctx.rows {
                if s.is_null(i) || re.is_null(i) {
                    out.append_null();
                } else if re.value(i).is_empty() {
                    // Flink: an empty pattern matches nothing.
                    out.append_value(false);
                } else {
                    out.append_value(cache.get("REGEXP", re.value(i))?.is_match(s.value(i)));
                }
            }
            Ok(Arc::new(out.finish()))
        },
    )
    .udf()
}

pub fn regexp_extract() -> Arc<ScalarUDF> {
    Builtin::new(
        "regexp_extract",
        "REGEXP_EXTRACT(string, regex[, index])",
        &[&[Arg::Str, Arg::Str], &[Arg::Str, Arg::Str, Arg::Int]],
        |_| Ok(DataType::Utf8),
        |ctx, args| {
            let s = args[0].as_string::<i32>();
            let re = args[1].as_string::<i32>();
            let idx = args.get(2).map(|a| a.as_primitive::<Int64Type>());
            let mut cache = RegexCache::default();
            let mut out = StringBuilder::with_capacity(ctx.rows, s.value_data().len() / 2);
            for i in 0..ctx.rows {
                if s.is_null(i) || re.is_null(i) || idx.is_some_and(|a| a.is_null(i)) {
                    out.append_null();
                    continue;
                }
                // The whole match by default; a group index past the last
                // group, or a group that did not take part, gives NULL.
                let group = idx.map_or(0, |a| a.value(i));
                let r = cache.get("REGEXP_EXTRACT", re.value(i))?;
                let v = usize::try_from(group)
                    .ok()
                    .and_then(|g| r.captures(s.value(i))?.get(g).map(|m| m.as_str()));
                out.append_option(v);
            }
            Ok(Arc::new(out.finish()))
        },
    )
    .udf()
}

pub fn regexp_replace() -> Arc<ScalarUDF> {
    Builtin::new(
        "regexp_replace",
        "REGEXP_REPLACE(string, regex, replacement)",
        &[&[Arg::Str, Arg::Str, Arg::Str]],
        |_| Ok(DataType::Utf8),
        |ctx, args| {
            let s = args[0].as_string::<i32>();
            let re = args[1].as_string::<i32>();
            let rep = args[2].as_string::<i32>();
            let mut cache = RegexCache::default();
            let mut out = StringBuilder::with_capacity(ctx.rows, s.value_data().len());
            for i in 0..ctx.rows {
                if s.is_null(i) || re.is_null(i) || rep.is_null(i) {
                    out.append_null();
                    continue;
                }
                let r = cache.get("REGEXP_REPLACE", re.value(i))?;
                out.append_value(r.replace_all(s.value(i), NoExpand(rep.value(i))));
            }
            Ok(Arc::new(out.finish()))
        },
    )
    .udf()
}
