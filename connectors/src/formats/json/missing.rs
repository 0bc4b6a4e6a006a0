//! `json.fail-on-missing-field`: arrow-json reads an absent field and an
//! explicit `null` alike, so this check parses the line again on its own.
//! It is only run when the option is on (it is per row, not vectorized).

use datafusion::arrow::datatypes::{DataType, Fields};
use serde_json::Value;

/// Where in `value` a field of `fields` is absent, like Flink's
/// `Could not find field with name 'a.b'.`; `None` when all are present.
/// Unparsable text is left to the decoder to report.
pub fn find_missing(line: &[u8], fields: &Fields) -> Option<String> {
    let value: Value = serde_json::from_slice(line).ok()?;
    missing_in_object(&value, fields, "")
}

fn missing_in_object(value: &Value, fields: &Fields, prefix: &str) -> Option<String> {
    let object = value.as_object()?;
    fields.iter().find_map(|f| {
        let path = format!("{prefix}{}", f.name());
        match object.get(f.name()) {
            None => Some(format!("Could not find field with name '{path}'.")),
            Some(v) => missing_in_value(v, f.data_type(), &path),
        }
    })
}

fn missing_in_value(value: &Value, dt: &DataType, path: &str) -> Option<String> {
    match (dt, value) {
        (DataType::Struct(fields), Value::Object(_)) => {
            missing_in_object(value, fields, &format!("{path}."))
        }
        (DataType::List(f) | DataType::LargeList(f), Value::Array(items)) => items
            .iter()
            .find_map(|item| missing_in_value(item, f.data_type(), path)),
        (DataType::Map(entries, _), Value::Object(map)) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => map
                .values()
                .find_map(|v| missing_in_value(v, kv[1].data_type(), path)),
            _ => None,
        },
        _ => None,
    }
}
