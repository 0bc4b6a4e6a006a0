//! `JSON_OBJECT(KEY k VALUE v, ...)` and `JSON_ARRAY(v, ...)`.
//!
//! As function calls: `JSON_OBJECT(k1, v1, k2, v2, ...)` (NULL values kept
//! as `null`, Flink's `NULL ON NULL` default) and `JSON_ARRAY(v1, v2, ...)`
//! (NULL values left out, Flink's `ABSENT ON NULL` default); the other
//! behaviours are the functions named by [`JSON_OBJECT_ABSENT_ON_NULL`] and
//! [`JSON_ARRAY_NULL_ON_NULL`].
//!
//! Values made by another JSON_OBJECT or JSON_ARRAY are inserted as JSON,
//! not as strings, so constructors nest. Their result field carries the
//! metadata key [`JSON_METADATA_KEY`] to say so.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use chrono::SecondsFormat;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{
    DataType, Field, FieldRef, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::write::write_string;
use crate::builtins::datetime::temporal::local_datetimes;
use crate::builtins::datetime::zone::Zone;

/// Field metadata marking a string column as JSON text made by a
/// constructor.
pub const JSON_METADATA_KEY: &str = "sluice.json";
/// `JSON_OBJECT(.. ABSENT ON NULL)` as a function.
pub const JSON_OBJECT_ABSENT_ON_NULL: &str = "json_object_absent_on_null";
/// `JSON_ARRAY(.. NULL ON NULL)` as a function.
pub const JSON_ARRAY_NULL_ON_NULL: &str = "json_array_null_on_null";

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonConstruct {
    name: &'static str,
    object: bool,
    absent_on_null: bool,
    signature: Signature,
}

/// The four constructors.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    [
        ("json_object", true, false),
        (JSON_OBJECT_ABSENT_ON_NULL, true, true),
        ("json_array", false, true),
        (JSON_ARRAY_NULL_ON_NULL, false, false),
    ]
    .into_iter()
    .map(|(name, object, absent_on_null)| {
        Arc::new(ScalarUDF::new_from_impl(JsonConstruct {
            name,
            object,
            absent_on_null,
            signature: Signature::user_defined(Volatility::Immutable),
        }))
    })
    .collect()
}

impl JsonConstruct {
    fn syntax(&self) -> &'static str {
        if self.object {
            "JSON_OBJECT(KEY key VALUE value, ...)"
        } else {
            "JSON_ARRAY(value, ...)"
        }
    }
}

impl ScalarUDFImpl for JsonConstruct {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        // Values keep their types; each is written as the JSON it maps to.
        // A bare NULL becomes a NULL string, which the writer can see.
        Ok(arg_types
            .iter()
            .map(|t| match t {
                DataType::Null => DataType::Utf8,
                t => t.clone(),
            })
            .collect())
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if self.object && !args.arg_fields.len().is_multiple_of(2) {
            return plan_err!(
                "{}: keys and values must come in pairs, got {} arguments",
                self.syntax(),
                args.arg_fields.len()
            );
        }
        let meta = HashMap::from([(JSON_METADATA_KEY.to_string(), "true".to_string())]);
        Ok(Arc::new(
            Field::new(self.name, DataType::Utf8, false).with_metadata(meta),
        ))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let constant = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if constant { 1 } else { args.number_rows };
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<Vec<_>>>()?;
        let session = Zone::session(&args.config_options)?;
        let values = arrays
            .iter()
            .zip(&args.arg_fields)
            .map(|(a, f)| JsonColumn::new(a, f, session))
            .collect::<Result<Vec<_>>>()?;
        let mut out = StringBuilder::with_capacity(rows, rows * 16);
        let mut buf = String::new();
        for row in 0..rows {
            buf.clear();
            if self.object {
                buf.push('{');
                let mut members: Vec<(&str, usize)> = Vec::with_capacity(values.len() / 2);
                for pair in 0..values.len() / 2 {
                    let key = &arrays[pair * 2];
                    if key.is_null(row) {
                        return exec_err!("JSON_OBJECT: a key is NULL");
                    }
                    let Some(k) = key.as_string_opt::<i32>().map(|k| k.value(row)) else {
                        return exec_err!(
                            "JSON_OBJECT: keys must be strings, got {}",
                            key.data_type()
                        );
                    };
                    let v = pair * 2 + 1;
                    if self.absent_on_null && arrays[v].is_null(row) {
                        continue;
                    }
                    match members.iter_mut().find(|(k2, _)| *k2 == k) {
                        Some(m) => m.1 = v,
                        None => members.push((k, v)),
                    }
                }
                // Flink writes members sorted by key.
                members.sort_by(|a, b| a.0.cmp(b.0));
                for (i, (k, v)) in members.into_iter().enumerate() {
                    if i > 0 {
                        buf.push(',');
                    }
                    write_string(k, &mut buf);
                    buf.push(':');
                    values[v].write(row, &mut buf)?;
                }
                buf.push('}');
            } else {
                buf.push('[');
                let mut first = true;
                for v in &values {
                    if self.absent_on_null && v.array.is_null(row) {
                        continue;
                    }
                    if !first {
                        buf.push(',');
                    }
                    first = false;
                    v.write(row, &mut buf)?;
                }
                buf.push(']');
            }
            out.append_value(&buf);
        }
        let arr: ArrayRef = Arc::new(out.finish());
        if constant {
            Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::try_from_array(&arr, 0)?,
            ))
        } else {
            Ok(ColumnarValue::Array(arr))
        }
    }
}

/// One argument column, ready to write values as JSON.
struct JsonColumn<'a> {
    array: &'a ArrayRef,
    /// JSON text made by a constructor: inserted as is.
    raw: bool,
    /// Temporal values, read once as ISO date-times.
    temporal: Option<Vec<Option<chrono::NaiveDateTime>>>,
}

impl<'a> JsonColumn<'a> {
    fn new(array: &'a ArrayRef, field: &FieldRef, session: Zone) -> Result<Self> {
        let raw = field.metadata().contains_key(JSON_METADATA_KEY);
        let temporal = match array.data_type() {
            DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => {
                Some(local_datetimes(array, session)?)
            }
            _ => None,
        };
        Ok(JsonColumn {
            array,
            raw,
            temporal,
        })
    }

    fn write(&self, row: usize, out: &mut String) -> Result<()> {
        if self.array.is_null(row) {
            out.push_str("null");
            return Ok(());
        }
        if let Some(t) = &self.temporal {
            let Some(dt) = t[row] else {
                out.push_str("null");
                return Ok(());
            };
            let text = if self.array.data_type() == &DataType::Date32 {
                dt.date().to_string()
            } else {
                dt.and_utc()
                    .to_rfc3339_opts(SecondsFormat::AutoSi, true)
                    .trim_end_matches('Z')
                    .to_string()
            };
            write_string(&text, out);
            return Ok(());
        }
        write_value(self.array, row, self.raw, out)
    }
}

fn write_value(a: &ArrayRef, row: usize, raw: bool, out: &mut String) -> Result<()> {
    macro_rules! num {
        ($t:ty) => {{
            let _ = write!(out, "{}", a.as_primitive::<$t>().value(row));
        }};
    }
    if a.is_null(row) {
        out.push_str("null");
        return Ok(());
    }
    match a.data_type() {
        DataType::Utf8 if raw => out.push_str(a.as_string::<i32>().value(row)),
        DataType::Utf8 => write_string(a.as_string::<i32>().value(row), out),
        DataType::LargeUtf8 => write_string(a.as_string::<i64>().value(row), out),
        DataType::Utf8View => write_string(a.as_string_view().value(row), out),
        DataType::Boolean => out.push_str(if a.as_boolean().value(row) {
            "true"
        } else {
            "false"
        }),
        DataType::Int8 => num!(Int8Type),
        DataType::Int16 => num!(Int16Type),
        DataType::Int32 => num!(Int32Type),
        DataType::Int64 => num!(Int64Type),
        DataType::UInt8 => num!(UInt8Type),
        DataType::UInt16 => num!(UInt16Type),
        DataType::UInt32 => num!(UInt32Type),
        DataType::UInt64 => num!(UInt64Type),
        DataType::Float32 => {
            write_float(f64::from(a.as_primitive::<Float32Type>().value(row)), out)
        }
        DataType::Float64 => write_float(a.as_primitive::<Float64Type>().value(row), out),
        DataType::List(_) => {
            let list = a.as_list::<i32>().value(row);
            out.push('[');
            for i in 0..list.len() {
                if i > 0 {
                    out.push(',');
                }
                write_value(&list, i, false, out)?;
            }
            out.push(']');
        }
        DataType::Struct(fields) => {
            let s = a.as_struct();
            out.push('{');
            for (i, (f, c)) in fields.iter().zip(s.columns()).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(f.name(), out);
                out.push(':');
                write_value(c, row, false, out)?;
            }
            out.push('}');
        }
        DataType::Map(..) => {
            let m = a.as_map();
            let entries = m.value(row);
            let (keys, vals) = (entries.column(0), entries.column(1));
            let keys_fmt = ArrayFormatter::try_new(keys.as_ref(), &FormatOptions::default())?;
            out.push('{');
            for i in 0..entries.len() {
                if i > 0 {
                    out.push(',');
                }
                write_string(&keys_fmt.value(i).to_string(), out);
                out.push(':');
                write_value(vals, i, false, out)?;
            }
            out.push('}');
        }
        _ => {
            // DECIMAL and the rest: their SQL text, unquoted for numbers.
            let f = ArrayFormatter::try_new(a.as_ref(), &FormatOptions::default())?;
            let text = f.value(row).to_string();
            if a.data_type().is_numeric() {
                out.push_str(&text);
            } else {
                write_string(&text, out);
            }
        }
    }
    Ok(())
}

fn write_float(v: f64, out: &mut String) {
    if v.is_finite() {
        let _ = write!(out, "{v:?}");
    } else {
        write_string(&v.to_string(), out);
    }
}
