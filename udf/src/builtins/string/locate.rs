//! `LOCATE(needle, haystack[, start])`: the 1-based position of the first
//! `needle` in `haystack` at or after `start` (1 by default); 0 when absent.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Builder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::builtins::function::{Arg, Builtin, Ctx};

pub fn udf() -> Arc<ScalarUDF> {
    Builtin::new(
        "locate",
        "LOCATE(string1, string2[, integer])",
        &[&[Arg::Str, Arg::Str], &[Arg::Str, Arg::Str, Arg::Int]],
        |_| Ok(DataType::Int32),
        eval,
    )
    .udf()
}

fn locate(needle: &str, haystack: &str, start: i64) -> i32 {
    let skip = usize::try_from(start.max(1) - 1).unwrap_or(usize::MAX);
    let Some((from, _)) = haystack.char_indices().nth(skip).or_else(|| {
        // Starting right at the end still finds an empty needle.
        (skip == haystack.chars().count()).then_some((haystack.len(), ' '))
    }) else {
        return 0;
    };
    match haystack[from..].find(needle) {
        Some(b) => (haystack[..from + b].chars().count() + 1) as i32,
        None => 0,
    }
}

fn eval(ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let needle = args[0].as_string::<i32>();
    let hay = args[1].as_string::<i32>();
    let start = args.get(2).map(|a| a.as_primitive::<Int64Type>());
    let mut out = Int32Builder::with_capacity(ctx.rows);
    for i in 0..ctx.rows {
        if needle.is_null(i) || hay.is_null(i) || start.is_some_and(|s| s.is_null(i)) {
            out.append_null();
            continue;
        }
        let from = start.map_or(1, |s| s.value(i));
        out.append_value(locate(needle.value(i), hay.value(i), from));
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::locate;

    #[test]
    fn positions() {
        assert_eq!(locate("l", "hello", 1), 3);
        assert_eq!(locate("l", "hello", 4), 4);
        assert_eq!(locate("l", "hello", 5), 0);
        assert_eq!(locate("x", "hello", 1), 0);
        assert_eq!(locate("é", "héllo", 1), 2);
        assert_eq!(locate("", "abc", 1), 1);
    }
}
