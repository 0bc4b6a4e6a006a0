//! Turns CSV text columns into typed columns. arrow-csv reads every field as
//! text; this converts a whole column at once with Arrow's cast kernels (plus
//! Flink's rules for the cases Arrow does differently: empty text is `""` for
//! STRING columns and null for others, `csv.null-literal`, lenient booleans,
//! base64 BYTES, ARRAY and ROW split on `csv.array-element-delimiter`).
//! Conversion never fails as a whole: it reports which rows held text that
//! does not parse, so the caller can fail with a line number or, under
//! `csv.ignore-parse-errors`, keep the row with a null field (as Flink does).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, GenericListArray, OffsetSizeTrait, StringArray,
    StringBuilder, StructArray, new_null_array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::kernels::boolean::{and, or};
use datafusion::arrow::compute::kernels::cmp::eq;
use datafusion::arrow::compute::{
    CastOptions, cast, cast_with_options, is_not_null, is_null, nullif,
};
use datafusion::arrow::datatypes::{DataType, FieldRef, Fields};
use datafusion::arrow::error::ArrowError;

use crate::formats::base64;

/// The text conventions of a csv format.
#[derive(Debug, Clone, Copy)]
pub struct TextRules<'a> {
    pub null_literal: Option<&'a str>,
    pub array_delimiter: &'a str,
}

/// A converted column and, when some text did not parse, which rows.
pub struct Converted {
    pub array: ArrayRef,
    pub invalid: Option<BooleanArray>,
}

fn is_text(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// Nulls out the rows whose text is exactly the null literal.
fn apply_null_literal(text: StringArray, rules: TextRules<'_>) -> Result<StringArray, ArrowError> {
    match rules.null_literal {
        None => Ok(text),
        Some(lit) => {
            let mask = eq(&text, &StringArray::new_scalar(lit))?;
            Ok(nullif(&text, &mask)?.as_string::<i32>().clone())
        }
    }
}

/// `text` with every null (empty field) turned into `""`.
fn empty_as_text(text: &StringArray) -> StringArray {
    let (offsets, values, nulls) = text.clone().into_parts();
    let null_slots_empty = nulls.as_ref().is_none_or(|n| {
        n.iter()
            .enumerate()
            .all(|(i, valid)| valid || offsets[i] == offsets[i + 1])
    });
    if null_slots_empty {
        StringArray::new(offsets, values, None)
    } else {
        text.iter().map(|v| Some(v.unwrap_or(""))).collect()
    }
}

/// `text` trimmed of surrounding whitespace, as Flink trims numbers.
fn trimmed(text: StringArray) -> StringArray {
    let needs_trim = text.iter().flatten().any(|s| s.trim().len() != s.len());
    if needs_trim {
        text.iter().map(|v| v.map(str::trim)).collect()
    } else {
        text
    }
}

/// Rows where `input` had a value but `output` has none.
fn lost(input: &dyn Array, output: &dyn Array) -> Result<Option<BooleanArray>, ArrowError> {
    let invalid = and(&is_not_null(input)?, &is_null(output)?)?;
    Ok((invalid.true_count() > 0).then_some(invalid))
}

fn merge(
    a: Option<BooleanArray>,
    b: Option<BooleanArray>,
) -> Result<Option<BooleanArray>, ArrowError> {
    Ok(match (a, b) {
        (Some(a), Some(b)) => Some(or(&a, &b)?),
        (a, b) => a.or(b),
    })
}

/// Splits each text into parts on the array delimiter. Empty parts are null
/// (so they follow the same empty-field rule as top-level fields).
fn split(text: &StringArray, delimiter: &str) -> (StringArray, Vec<usize>) {
    let mut parts = StringBuilder::new();
    let mut offsets = Vec::with_capacity(text.len() + 1);
    offsets.push(0usize);
    let mut count = 0usize;
    for v in text.iter() {
        if let Some(s) = v {
            for p in s.split(delimiter) {
                if p.is_empty() {
                    parts.append_null();
                } else {
                    parts.append_value(p);
                }
                count += 1;
            }
        }
        offsets.push(count);
    }
    (parts.finish(), offsets)
}

fn list<O: OffsetSizeTrait>(
    text: &StringArray,
    field: &FieldRef,
    rules: TextRules<'_>,
) -> Result<Converted, ArrowError> {
    let (parts, offsets) = split(text, rules.array_delimiter);
    let elements = convert(&parts, field.data_type(), rules)?;
    let invalid = match &elements.invalid {
        None => None,
        Some(bad) => {
            let rows: BooleanArray = offsets
                .windows(2)
                .map(|w| Some((w[0]..w[1]).any(|i| bad.value(i))))
                .collect();
            Some(rows)
        }
    };
    let offsets = OffsetBuffer::<O>::from_lengths(offsets.windows(2).map(|w| w[1] - w[0]));
    let array = GenericListArray::<O>::try_new(
        field.clone(),
        offsets,
        elements.array,
        text.nulls().cloned(),
    )?;
    Ok(Converted {
        array: Arc::new(array),
        invalid,
    })
}

fn structs(
    text: &StringArray,
    fields: &Fields,
    rules: TextRules<'_>,
) -> Result<Converted, ArrowError> {
    let mut columns: Vec<StringBuilder> = fields.iter().map(|_| StringBuilder::new()).collect();
    let mut short = Vec::with_capacity(text.len());
    for v in text.iter() {
        let mut parts = v.map(|s| s.split(rules.array_delimiter));
        let mut missing = false;
        for column in columns.iter_mut() {
            match parts.as_mut().map(|p| p.next()) {
                Some(Some(p)) if !p.is_empty() => column.append_value(p),
                Some(None) => {
                    missing = true;
                    column.append_null();
                }
                _ => column.append_null(),
            }
        }
        short.push(missing);
    }
    let mut invalid = Some(BooleanArray::from(short)).filter(|s| s.true_count() > 0);
    let mut children = Vec::with_capacity(fields.len());
    for (column, field) in columns.iter_mut().zip(fields.iter()) {
        let converted = convert(&column.finish(), field.data_type(), rules)?;
        invalid = merge(invalid, converted.invalid)?;
        children.push(converted.array);
    }
    Ok(Converted {
        array: Arc::new(StructArray::try_new(
            fields.clone(),
            children,
            text.nulls().cloned(),
        )?),
        invalid,
    })
}

/// Converts the text column `text` (nulls = empty fields) to `target`.
pub fn convert(
    text: &StringArray,
    target: &DataType,
    rules: TextRules<'_>,
) -> Result<Converted, ArrowError> {
    if is_text(target) {
        let text = apply_null_literal(empty_as_text(text), rules)?;
        let array: ArrayRef = if target == &DataType::Utf8 {
            Arc::new(text)
        } else {
            cast(&text, target)?
        };
        return Ok(Converted {
            array,
            invalid: None,
        });
    }
    let text = apply_null_literal(text.clone(), rules)?;
    match target {
        DataType::Null => Ok(Converted {
            array: new_null_array(target, text.len()),
            invalid: None,
        }),
        DataType::Boolean => {
            // Java's Boolean.parseBoolean: "true" in any case, else false.
            let array: BooleanArray = text
                .iter()
                .map(|v| v.map(|s| s.trim().eq_ignore_ascii_case("true")))
                .collect();
            Ok(Converted {
                array: Arc::new(array),
                invalid: None,
            })
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let (bytes, invalid) = base64::decode_array(&trimmed(text));
            Ok(Converted {
                array: cast(&bytes, target)?,
                invalid: (invalid.true_count() > 0).then_some(invalid),
            })
        }
        DataType::List(f) => list::<i32>(&text, f, rules),
        DataType::LargeList(f) => list::<i64>(&text, f, rules),
        DataType::Struct(fields) => structs(&text, fields, rules),
        _ => {
            let text = trimmed(text);
            let array = cast_with_options(&text, target, &CastOptions::default())?;
            let invalid = lost(&text, &array)?;
            Ok(Converted { array, invalid })
        }
    }
}

/// Flink's name for a column type, for error messages.
pub fn type_name(dt: &DataType) -> String {
    match dt {
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INT".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("DECIMAL({p}, {s})"),
        DataType::Date32 | DataType::Date64 => "DATE".into(),
        DataType::Time32(_) | DataType::Time64(_) => "TIME".into(),
        DataType::Timestamp(_, None) => "TIMESTAMP".into(),
        DataType::Timestamp(_, Some(_)) => "TIMESTAMP_LTZ".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "BYTES".into(),
        DataType::List(f) | DataType::LargeList(f) => {
            format!("ARRAY<{}>", type_name(f.data_type()))
        }
        DataType::Struct(_) => "ROW".into(),
        other => other.to_string(),
    }
}
