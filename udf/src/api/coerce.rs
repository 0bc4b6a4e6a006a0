//! Argument checking shared by every kind of UDF: the call's argument types
//! are cast to the types the function declares, and a call that cannot be
//! cast is a planning error that shows both signatures in Flink's type names.

use datafusion::arrow::compute::can_cast_types;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{Result, plan_err};

/// The types to cast a call's arguments (`actual`) to, so a function
/// declared with `declared` can run.
pub fn coerce_args(
    name: &str,
    declared: &[DataType],
    actual: &[DataType],
) -> Result<Vec<DataType>> {
    let fits = declared.len() == actual.len()
        && declared
            .iter()
            .zip(actual)
            .all(|(d, a)| a == d || a.is_null() || can_cast_types(a, d));
    if !fits {
        return plan_err!(
            "Invalid call to function '{name}': it takes ({}) but was called with ({})",
            sql_types(declared),
            sql_types(actual)
        );
    }
    Ok(declared.to_vec())
}

/// `types` in Flink's type names, comma-separated.
pub fn sql_types(types: &[DataType]) -> String {
    types.iter().map(sql_type).collect::<Vec<_>>().join(", ")
}

/// One type in Flink's name for it (Arrow's name when Flink has none).
pub fn sql_type(t: &DataType) -> String {
    match t {
        DataType::Null => "NULL".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INT".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "STRING".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "BYTES".into(),
        DataType::Date32 => "DATE".into(),
        DataType::Decimal128(p, s) => format!("DECIMAL({p}, {s})"),
        DataType::Timestamp(unit, tz) => {
            let p = match unit {
                TimeUnit::Second => 0,
                TimeUnit::Millisecond => 3,
                TimeUnit::Microsecond => 6,
                TimeUnit::Nanosecond => 9,
            };
            match tz {
                None => format!("TIMESTAMP({p})"),
                Some(_) => format!("TIMESTAMP_LTZ({p})"),
            }
        }
        DataType::List(f) | DataType::LargeList(f) => format!("ARRAY<{}>", sql_type(f.data_type())),
        DataType::Map(f, _) => match f.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "MAP<{}, {}>",
                sql_type(kv[0].data_type()),
                sql_type(kv[1].data_type())
            ),
            _ => "MAP".into(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_to_declared_types_and_names_both_signatures_on_mismatch() {
        let got = coerce_args("f", &[DataType::Int64], &[DataType::Int32]).expect("castable");
        assert_eq!(got, vec![DataType::Int64]);
        let e = coerce_args("f", &[DataType::Int64], &[DataType::Int64, DataType::Utf8])
            .expect_err("arity");
        assert!(
            e.to_string()
                .contains("it takes (BIGINT) but was called with (BIGINT, STRING)"),
            "{e}"
        );
    }
}
