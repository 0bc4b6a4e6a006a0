//! `LPAD(string, length, pad)` / `RPAD(string, length, pad)`: padded or
//! cut to `length` characters; NULL for a negative length or an empty pad.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use crate::builtins::function::{Arg, Builtin, Ctx};

/// Lengths beyond this are refused rather than allocated.
const MAX_LEN: i64 = 1 << 28;

const FORMS: &[&[Arg]] = &[&[Arg::Str, Arg::Int, Arg::Str]];

pub fn lpad() -> Arc<ScalarUDF> {
    Builtin::new(
        "lpad",
        "LPAD(string, length, pad)",
        FORMS,
        |_| Ok(DataType::Utf8),
        |ctx, args| eval(ctx, args, true),
    )
    .udf()
}

pub fn rpad() -> Arc<ScalarUDF> {
    Builtin::new(
        "rpad",
        "RPAD(string, length, pad)",
        FORMS,
        |_| Ok(DataType::Utf8),
        |ctx, args| eval(ctx, args, false),
    )
    .udf()
}

fn pad_into(out: &mut String, base: &str, len: usize, pad: &str, left: bool) {
    let base_len = base.chars().count();
    let fill = len.saturating_sub(base_len);
    let mut filler = pad.chars().cycle().take(fill);
    if left {
        out.extend(&mut filler);
        out.extend(base.chars().take(len - fill));
    } else {
        out.extend(base.chars().take(len));
        out.extend(filler);
    }
}

fn eval(ctx: &Ctx<'_>, args: &[ArrayRef], left: bool) -> Result<ArrayRef> {
    let s = args[0].as_string::<i32>();
    let len = args[1].as_primitive::<Int64Type>();
    let pad = args[2].as_string::<i32>();
    let mut out = StringBuilder::with_capacity(ctx.rows, s.value_data().len());
    let mut buf = String::new();
    for i in 0..ctx.rows {
        if s.is_null(i) || len.is_null(i) || pad.is_null(i) {
            out.append_null();
            continue;
        }
        let (l, p) = (len.value(i), pad.value(i));
        if l < 0 || p.is_empty() {
            out.append_null();
            continue;
        }
        if l > MAX_LEN {
            let name = if left { "LPAD" } else { "RPAD" };
            return exec_err!("{name}: length {l} is too large (at most {MAX_LEN})");
        }
        buf.clear();
        pad_into(&mut buf, s.value(i), l as usize, p, left);
        out.append_value(&buf);
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::pad_into;

    fn pad(s: &str, n: usize, p: &str, left: bool) -> String {
        let mut out = String::new();
        pad_into(&mut out, s, n, p, left);
        out
    }

    #[test]
    fn flink_examples() {
        assert_eq!(pad("hi", 4, "??", true), "??hi");
        assert_eq!(pad("hi", 1, "??", true), "h");
        assert_eq!(pad("hi", 5, "ab", true), "abahi");
        assert_eq!(pad("hi", 4, "??", false), "hi??");
        assert_eq!(pad("hi", 1, "??", false), "h");
        assert_eq!(pad("hi", 5, "ab", false), "hiaba");
    }
}
