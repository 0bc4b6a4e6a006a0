//! Digests as lower-case hex strings, as Flink returns them: `MD5`, `SHA1`,
//! `SHA224`, `SHA256`, `SHA384`, `SHA512`, `SHA2(string, bits)`; and
//! `HASH_CODE(string)`, Flink's `Math.abs(String.hashCode())`.

use std::fmt::Write as _;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

use crate::builtins::function::{Arg, Builtin, Ctx};

fn hex_digest<D: Digest>(input: &[u8], out: &mut String) {
    out.clear();
    for b in D::digest(input) {
        let _ = write!(out, "{b:02x}");
    }
}

/// Digests every string of `arr` with `D`.
fn digest_all<D: Digest>(ctx: &Ctx<'_>, arr: &ArrayRef) -> ArrayRef {
    let s = arr.as_string::<i32>();
    let mut out = StringBuilder::with_capacity(ctx.rows, ctx.rows * 64);
    let mut buf = String::new();
    for v in s.iter() {
        match v {
            Some(v) => {
                hex_digest::<D>(v.as_bytes(), &mut buf);
                out.append_value(&buf);
            }
            None => out.append_null(),
        }
    }
    Arc::new(out.finish())
}

macro_rules! digests {
    ($($name:literal, $syntax:literal, $d:ty;)*) => {
        fn fixed_digests() -> Vec<Arc<ScalarUDF>> {
            vec![$(Builtin::new(
                $name,
                $syntax,
                &[&[Arg::Str]],
                |_| Ok(DataType::Utf8),
                |ctx, args| Ok(digest_all::<$d>(ctx, &args[0])),
            )
            .udf(),)*]
        }
    };
}

digests! {
    "md5", "MD5(string)", Md5;
    "sha1", "SHA1(string)", Sha1;
    "sha224", "SHA224(string)", Sha224;
    "sha256", "SHA256(string)", Sha256;
    "sha384", "SHA384(string)", Sha384;
    "sha512", "SHA512(string)", Sha512;
}

fn sha2(ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let s = args[0].as_string::<i32>();
    let bits = args[1].as_primitive::<Int64Type>();
    let mut out = StringBuilder::with_capacity(ctx.rows, ctx.rows * 64);
    let mut buf = String::new();
    for i in 0..ctx.rows {
        if s.is_null(i) || bits.is_null(i) {
            out.append_null();
            continue;
        }
        let v = s.value(i).as_bytes();
        match bits.value(i) {
            224 => hex_digest::<Sha224>(v, &mut buf),
            256 => hex_digest::<Sha256>(v, &mut buf),
            384 => hex_digest::<Sha384>(v, &mut buf),
            512 => hex_digest::<Sha512>(v, &mut buf),
            b => {
                return exec_err!("SHA2: unsupported hash length {b}; use 224, 256, 384 or 512");
            }
        }
        out.append_value(&buf);
    }
    Ok(Arc::new(out.finish()))
}

/// Java's `String.hashCode` over UTF-16 code units.
fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

fn hash_code(_ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    // Flink's HASH_CODE maps NULL to Integer.MIN_VALUE, and keeps
    // Math.abs's overflow for MIN_VALUE itself.
    let out: Int32Array = args[0]
        .as_string::<i32>()
        .iter()
        .map(|v| Some(v.map_or(i32::MIN, |s| java_hash(s).wrapping_abs())))
        .collect();
    Ok(Arc::new(out))
}

/// Every hash built-in.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    let mut f = fixed_digests();
    f.push(
        Builtin::new(
            "sha2",
            "SHA2(string, hash_length)",
            &[&[Arg::Str, Arg::Int]],
            |_| Ok(DataType::Utf8),
            sha2,
        )
        .udf(),
    );
    f.push(
        Builtin::new(
            "hash_code",
            "HASH_CODE(string)",
            &[&[Arg::Str]],
            |_| Ok(DataType::Int32),
            hash_code,
        )
        .udf(),
    );
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_string_hash() {
        assert_eq!(java_hash(""), 0);
        assert_eq!(java_hash("hello"), 99_162_322);
        assert_eq!(java_hash("polygenelubricants"), i32::MIN);
    }
}
