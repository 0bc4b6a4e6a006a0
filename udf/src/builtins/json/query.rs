//! `JSON_VALUE(json, path)`, `JSON_QUERY(json, path)` and
//! `JSON_EXISTS(json, path)` with Flink's default `ON EMPTY` / `ON ERROR`
//! behaviour: NULL (JSON_VALUE, JSON_QUERY) and FALSE (JSON_EXISTS).
//!
//! `JSON_VALUE` returns a scalar as a STRING (`RETURNING <type>` is a cast
//! of that string); objects and arrays give NULL. `JSON_QUERY` returns an
//! object or array as JSON text; scalars give NULL.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, StringArray, StringBuilder,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_datafusion_err};
use datafusion::logical_expr::ScalarUDF;
use serde_json::Value;

use super::path::{Found, JsonPath};
use super::write::write_json;
use crate::builtins::function::{Arg, Builtin, Ctx};

const FORMS: &[&[Arg]] = &[&[Arg::Str, Arg::Str]];

/// Runs `f` on every row's parsed document and path (`None` when the JSON
/// does not parse); NULL inputs skip `f`.
fn each_row(
    function: &str,
    args: &[ArrayRef],
    mut f: impl FnMut(Option<&Value>, &JsonPath),
    mut null: impl FnMut(),
) -> Result<()> {
    let docs: &StringArray = args[0].as_string::<i32>();
    let paths: &StringArray = args[1].as_string::<i32>();
    let mut compiled: Option<(String, JsonPath)> = None;
    for i in 0..docs.len() {
        if docs.is_null(i) || paths.is_null(i) {
            null();
            continue;
        }
        let p = paths.value(i);
        let path = match compiled.take() {
            Some((s, c)) if s == p => (s, c),
            _ => {
                let c = JsonPath::compile(p).map_err(|e| {
                    exec_datafusion_err!("{function}: invalid JSON path '{p}': {e}")
                })?;
                (p.to_string(), c)
            }
        };
        let doc: Option<Value> = serde_json::from_str(docs.value(i)).ok();
        f(doc.as_ref(), &compiled.insert(path).1);
    }
    Ok(())
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub fn json_value() -> Arc<ScalarUDF> {
    Builtin::new(
        "json_value",
        "JSON_VALUE(json, path)",
        FORMS,
        |_| Ok(DataType::Utf8),
        |ctx: &Ctx<'_>, args| {
            let out = std::cell::RefCell::new(StringBuilder::with_capacity(ctx.rows, ctx.rows * 8));
            each_row(
                "JSON_VALUE",
                args,
                |doc, path| {
                    let v = match doc.map(|d| path.eval(d)) {
                        Some(Found::One(v)) => scalar_text(v),
                        _ => None,
                    };
                    out.borrow_mut().append_option(v);
                },
                || out.borrow_mut().append_null(),
            )?;
            Ok(Arc::new(out.into_inner().finish()))
        },
    )
    .udf()
}

pub fn json_query() -> Arc<ScalarUDF> {
    Builtin::new(
        "json_query",
        "JSON_QUERY(json, path)",
        FORMS,
        |_| Ok(DataType::Utf8),
        |ctx: &Ctx<'_>, args| {
            let out =
                std::cell::RefCell::new(StringBuilder::with_capacity(ctx.rows, ctx.rows * 16));
            let mut buf = String::new();
            each_row(
                "JSON_QUERY",
                args,
                |doc, path| {
                    buf.clear();
                    let written = match doc.map(|d| path.eval(d)) {
                        Some(Found::One(v @ (Value::Object(_) | Value::Array(_)))) => {
                            write_json(v, &mut buf);
                            true
                        }
                        Some(Found::Many(vs)) => {
                            write_json(&Value::Array(vs.into_iter().cloned().collect()), &mut buf);
                            true
                        }
                        _ => false,
                    };
                    let mut o = out.borrow_mut();
                    if written {
                        o.append_value(&buf);
                    } else {
                        o.append_null();
                    }
                },
                || out.borrow_mut().append_null(),
            )?;
            Ok(Arc::new(out.into_inner().finish()))
        },
    )
    .udf()
}

pub fn json_exists() -> Arc<ScalarUDF> {
    Builtin::new(
        "json_exists",
        "JSON_EXISTS(json, path)",
        FORMS,
        |_| Ok(DataType::Boolean),
        |ctx: &Ctx<'_>, args| {
            let out = std::cell::RefCell::new(BooleanBuilder::with_capacity(ctx.rows));
            each_row(
                "JSON_EXISTS",
                args,
                |doc, path| {
                    let found = matches!(
                        doc.map(|d| path.eval(d)),
                        Some(Found::One(_) | Found::Many(_))
                    );
                    out.borrow_mut().append_value(found);
                },
                || out.borrow_mut().append_null(),
            )?;
            Ok(Arc::new(out.into_inner().finish()))
        },
    )
    .udf()
}
