//! Turning Arrow values into the strings the shell prints.
//!
//! The rendering itself is the engine's ([`sluice_engine::display`]), shared
//! with the `print` sink so every output of Sluice agrees with Flink's SQL
//! client: `TRUE`, `2024-01-02 03:04:05.123`, `[1, 2]`, and `<NULL>` for a
//! NULL cell. This module only applies it a column at a time.

use datafusion::arrow::array::Array;
use sluice_engine::display::{DisplayStyle, TABLEAU_NULL_TEXT, ValueFormatter};

/// How the shell shows a NULL cell, as Flink's tableau does.
pub const NULL: &str = TABLEAU_NULL_TEXT;

/// Formats every value of `array`, in row order. The formatter is built once
/// per column so the type dispatch is not repeated for every value.
pub fn format_column(array: &dyn Array) -> Vec<String> {
    let formatter = ValueFormatter::new(array, DisplayStyle::SqlClient);
    (0..array.len())
        .map(|row| {
            if array.is_null(row) {
                NULL.to_string()
            } else {
                formatter.format(row)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{
        ArrayRef, BooleanArray, Int32Array, StringArray, TimestampMillisecondArray,
    };

    use super::*;

    fn fmt(array: ArrayRef) -> Vec<String> {
        format_column(array.as_ref())
    }

    #[test]
    fn nulls_ints_and_strings() {
        assert_eq!(
            fmt(Arc::new(Int32Array::from(vec![Some(1), None, Some(-3)]))),
            ["1", "<NULL>", "-3"]
        );
        assert_eq!(
            fmt(Arc::new(StringArray::from(vec![Some("a b"), None]))),
            ["a b", "<NULL>"]
        );
    }

    #[test]
    fn booleans_are_upper_case() {
        assert_eq!(
            fmt(Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                None
            ]))),
            ["TRUE", "FALSE", "<NULL>"]
        );
    }

    #[test]
    fn timestamps_have_millis() {
        // 2024-01-02 03:04:05.678 UTC
        let ts = TimestampMillisecondArray::from(vec![1_704_164_645_678]);
        assert_eq!(fmt(Arc::new(ts)), ["2024-01-02 03:04:05.678"]);
    }
}
