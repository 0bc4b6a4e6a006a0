//! `STR_TO_MAP(string[, pair_delimiter, key_value_delimiter])`: a
//! `MAP<STRING, STRING>` from text such as `a=1,b=2`. Both delimiters are
//! regular expressions (`,` and `=` by default); a pair without the
//! key-value delimiter maps its key to NULL; a repeated key keeps its last
//! value.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, MapBuilder, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_datafusion_err};
use datafusion::logical_expr::ScalarUDF;
use regex::Regex;

use crate::builtins::function::{Arg, Builtin, Ctx};

fn builder(rows: usize) -> MapBuilder<StringBuilder, StringBuilder> {
    MapBuilder::with_capacity(None, StringBuilder::new(), StringBuilder::new(), rows)
}

/// `MAP<STRING, STRING>` as the builder makes it.
pub fn map_type() -> DataType {
    builder(0).finish().data_type().clone()
}

pub fn udf() -> Arc<ScalarUDF> {
    Builtin::new(
        "str_to_map",
        "STR_TO_MAP(string[, pair_delimiter, key_value_delimiter])",
        &[&[Arg::Str], &[Arg::Str, Arg::Str, Arg::Str]],
        |_| Ok(map_type()),
        eval,
    )
    .udf()
}

/// Java's `String.split`: trailing empty pieces are dropped.
fn java_split<'a>(re: &Regex, s: &'a str) -> Vec<&'a str> {
    let mut parts: Vec<&str> = re.split(s).collect();
    // A zero-width match at the start makes no leading empty piece.
    if parts.len() > 1 && parts[0].is_empty() && re.find(s).is_some_and(|m| m.end() == 0) {
        parts.remove(0);
    }
    while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

fn compile(cache: &mut Option<(String, Regex)>, p: &str) -> Result<Regex> {
    if let Some((k, r)) = cache
        && k == p
    {
        return Ok(r.clone());
    }
    let r = Regex::new(p).map_err(|e| {
        exec_datafusion_err!("STR_TO_MAP: invalid delimiter regular expression '{p}': {e}")
    })?;
    *cache = Some((p.to_string(), r.clone()));
    Ok(r)
}

fn eval(ctx: &Ctx<'_>, args: &[ArrayRef]) -> Result<ArrayRef> {
    let text = args[0].as_string::<i32>();
    let pair_d = args.get(1).map(|a| a.as_string::<i32>());
    let kv_d = args.get(2).map(|a| a.as_string::<i32>());
    let (mut pc, mut kc) = (None, None);
    let mut out = builder(ctx.rows);
    let mut entries: Vec<(&str, Option<&str>)> = Vec::new();
    for i in 0..ctx.rows {
        if text.is_null(i)
            || pair_d.is_some_and(|a| a.is_null(i))
            || kv_d.is_some_and(|a| a.is_null(i))
        {
            out.append(false)?;
            continue;
        }
        let s = text.value(i);
        entries.clear();
        if !s.is_empty() {
            let pr = compile(&mut pc, pair_d.map_or(",", |a| a.value(i)))?;
            let kr = compile(&mut kc, kv_d.map_or("=", |a| a.value(i)))?;
            for pair in java_split(&pr, s) {
                let mut kv = kr.splitn(pair, 2);
                let k = kv.next().unwrap_or(pair);
                let entry = match kv.next() {
                    Some(v) => (k, Some(v)),
                    None => (pair, None),
                };
                match entries.iter_mut().find(|(k2, _)| *k2 == entry.0) {
                    Some(e) => e.1 = entry.1,
                    None => entries.push(entry),
                }
            }
        }
        for (k, v) in &entries {
            out.keys().append_value(k);
            out.values().append_option(*v);
        }
        out.append(true)?;
    }
    Ok(Arc::new(out.finish()))
}
