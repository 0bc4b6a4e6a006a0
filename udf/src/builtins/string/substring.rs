//! `SUBSTRING(string FROM start [FOR length])`, also `SUBSTRING(string,
//! start[, length])` and `SUBSTR`: 1-based; a negative start counts from
//! the end; a negative length gives NULL.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::builtins::function::{Arg, Builtin, Ctx};

/// The function `SUBSTRING(s FROM a FOR b)` is planned as.
pub fn substring() -> Arc<ScalarUDF> {
    Builtin::new(
        "substring",
        "SUBSTRING(string FROM start [FOR length])",
        &[&[Arg::Str, Arg::Int], &[Arg::Str, Arg::Int, Arg::Int]],
        |_| Ok(DataType::Utf8),
        eval,
    )
    .aliases(&["substr"])
    .udf()
}

/// Flink's substring on characters; `None` for a negative length.
fn substr(s: &str, start: i64, len: Option<i64>) -> Option<&str> {
    if len.is_some_and(|l| l < 0) {
        return None;
    }
    let chars = s.chars().count() as i64;
    let from = match start {
        0 => 0,
        p if p > 0 => p - 1,
        p => chars + p,
    };
    if from < 0 || from >= chars {
        return Some("");
    }
    let to = match len {
        Some(l) => from.saturating_add(l).min(chars),
        None => chars,
    };
    let byte = |c: i64| s.char_indices().nth(c as usize).map_or(s.len(), |(b, _)| b);
    Some(&s[byte(from)..byte(to)])
}

fn eval(ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let s = args[0].as_string::<i32>();
    let start = args[1].as_primitive::<Int64Type>();
    let len = args.get(2).map(|a| a.as_primitive::<Int64Type>());
    let mut out = StringBuilder::with_capacity(ctx.rows, s.value_data().len());
    for i in 0..ctx.rows {
        if s.is_null(i) || start.is_null(i) || len.is_some_and(|l| l.is_null(i)) {
            out.append_null();
            continue;
        }
        match substr(s.value(i), start.value(i), len.map(|l| l.value(i))) {
            Some(v) => out.append_value(v),
            None => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::substr;

    #[test]
    fn flink_positions() {
        assert_eq!(substr("hello", 2, Some(3)), Some("ell"));
        assert_eq!(substr("hello", 0, Some(2)), Some("he"));
        assert_eq!(substr("hello", -3, None), Some("llo"));
        assert_eq!(substr("hello", -9, None), Some(""));
        assert_eq!(substr("hello", 9, None), Some(""));
        assert_eq!(substr("hello", 2, Some(-1)), None);
        assert_eq!(substr("héllo", 2, Some(2)), Some("él"));
    }
}
