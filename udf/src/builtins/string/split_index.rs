//! `SPLIT_INDEX(string, separator, index)`: the `index`-th (0-based) piece
//! of `string` split at every `separator`; NULL when there is none.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::builtins::function::{Arg, Builtin, Ctx};

pub fn udf() -> Arc<ScalarUDF> {
    Builtin::new(
        "split_index",
        "SPLIT_INDEX(string, separator, index)",
        &[&[Arg::Str, Arg::Str, Arg::Int]],
        |_| Ok(DataType::Utf8),
        eval,
    )
    .udf()
}

/// Flink splits with commons-lang's `splitByWholeSeparatorPreserveAllTokens`:
/// empty pieces are kept, an empty string has no pieces, and an empty
/// separator splits at runs of whitespace.
fn piece<'a>(s: &'a str, sep: &str, index: usize) -> Option<&'a str> {
    if s.is_empty() {
        return None;
    }
    if sep.is_empty() {
        return s.split(char::is_whitespace).nth(index);
    }
    match sep.as_bytes() {
        // One ASCII byte (`'/'`, `','`): a memchr scan, far cheaper than
        // the general substring search.
        [b] if b.is_ascii() => s.split(char::from(*b)).nth(index),
        _ => s.split(sep).nth(index),
    }
}

fn eval(ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let s = args[0].as_string::<i32>();
    let sep = args[1].as_string::<i32>();
    let idx = args[2].as_primitive::<Int64Type>();
    let mut out = StringBuilder::with_capacity(ctx.rows, s.value_data().len());
    for i in 0..ctx.rows {
        if s.is_null(i) || sep.is_null(i) || idx.is_null(i) {
            out.append_null();
            continue;
        }
        let v = usize::try_from(idx.value(i))
            .ok()
            .and_then(|n| piece(s.value(i), sep.value(i), n));
        out.append_option(v);
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::piece;

    #[test]
    fn flink_examples() {
        assert_eq!(piece("a/b/c", "/", 1), Some("b"));
        assert_eq!(piece("a/b/c", "/", 3), None);
        assert_eq!(piece("a//c", "/", 1), Some(""));
        assert_eq!(piece("a::b", "::", 1), Some("b"));
        assert_eq!(piece("", "/", 0), None);
    }
}
