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
    .constant_arguments()
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
        // One ASCII byte (`'/'`, `','`, the common case): a plain byte scan.
        // `str::split(char)` compares each candidate with `memcmp` and costs
        // several times more on short strings such as URLs.
        [b] if b.is_ascii() => {
            let (start, end) = byte_piece(s.as_bytes(), *b, index)?;
            // An ASCII byte is never inside a multi-byte character, so both
            // ends are character boundaries.
            s.get(start..end)
        }
        _ => s.split(sep).nth(index),
    }
}

/// The byte range of piece `index` of `s` split at every `sep`.
fn byte_piece(s: &[u8], sep: u8, index: usize) -> Option<(usize, usize)> {
    let mut start = 0;
    let mut n = 0;
    for (i, &b) in s.iter().enumerate() {
        if b == sep {
            if n == index {
                return Some((start, i));
            }
            n += 1;
            start = i + 1;
        }
    }
    (n == index).then_some((start, s.len()))
}

fn eval(ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let s = args[0].as_string::<i32>();
    let sep = args[1].as_string::<i32>();
    let idx = args[2].as_primitive::<Int64Type>();
    let mut out = StringBuilder::with_capacity(ctx.rows, s.value_data().len());
    for i in 0..ctx.rows {
        let (r, sr, ir) = (ctx.row(0, i), ctx.row(1, i), ctx.row(2, i));
        if s.is_null(r) || sep.is_null(sr) || idx.is_null(ir) {
            out.append_null();
            continue;
        }
        let v = usize::try_from(idx.value(ir))
            .ok()
            .and_then(|n| piece(s.value(r), sep.value(sr), n));
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
        assert_eq!(piece("/a/", "/", 0), Some(""));
        assert_eq!(piece("/a/", "/", 2), Some(""));
        assert_eq!(piece("é/ü", "/", 1), Some("ü"));
        assert_eq!(piece("a,b", ",", 0), Some("a"));
    }
}
