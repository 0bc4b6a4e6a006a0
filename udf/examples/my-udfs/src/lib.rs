//! An example Sluice UDF plugin with one function of each kind:
//!
//! * `count_char(s, c)` — Nexmark's scalar: how often the character `c`
//!   occurs in `s`;
//! * `weighted_avg(value, weight)` — Flink's documented aggregate example,
//!   with `retract` (so it reads updating input) and `merge` (so it runs in
//!   HOP/CUMULATE/SESSION windows);
//! * `split(s, sep)` — a table function: one row per piece, with its length.
//!
//! ```text
//! cargo build --release -p my-udfs
//! sluice
//! > CREATE FUNCTION count_char AS 'count_char' USING LIBRARY 'target/release/libmy_udfs.so';
//! > SELECT count_char('banana', 'a');
//! ```

use std::sync::Arc;

use sluice_udf_plugin::arrow::array::builder::{Int32Builder, StringBuilder, UInt32Builder};
use sluice_udf_plugin::arrow::array::{
    Array, ArrayRef, Float64Array, Int64Array, StringArray, UInt32Array,
};
use sluice_udf_plugin::arrow::datatypes::{DataType, Field};
use sluice_udf_plugin::{
    Accumulator, AggregateUdf, Result, ScalarUdf, TableUdf, export_aggregate, export_scalar,
    export_table,
};

/// Sluice casts arguments to the declared types, so a mismatch here is a bug.
fn arg<T: 'static>(args: &[ArrayRef], i: usize) -> Result<&T> {
    args.get(i)
        .and_then(|a| a.as_any().downcast_ref::<T>())
        .ok_or_else(|| format!("argument {i} has an unexpected type").into())
}

/// `count_char(s STRING, c STRING) -> BIGINT`: occurrences of the first
/// character of `c` in `s` (0 when `s` is NULL), as Nexmark's `CountChar`.
pub struct CountChar;

impl ScalarUdf for CountChar {
    fn arguments(&self) -> Vec<Field> {
        vec![
            Field::new("s", DataType::Utf8, true),
            Field::new("c", DataType::Utf8, true),
        ]
    }

    fn result(&self) -> Field {
        Field::new("count", DataType::Int64, false)
    }

    fn invoke(&self, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
        let (s, c) = (arg::<StringArray>(args, 0)?, arg::<StringArray>(args, 1)?);
        let counts: Int64Array = s
            .iter()
            .zip(c.iter())
            .map(|(s, c)| match (s, c.and_then(|c| c.chars().next())) {
                (Some(s), Some(c)) => Some(s.chars().filter(|&x| x == c).count() as i64),
                _ => Some(0),
            })
            .collect();
        Ok(Arc::new(counts))
    }
}

export_scalar!(count_char, CountChar);

/// `weighted_avg(value BIGINT, weight INT) -> DOUBLE`: the average of the
/// values weighted by the weights, NULL while the weights sum to 0.
pub struct WeightedAvg;

/// Flink's `WeightedAvgAccumulator`.
#[derive(Default)]
pub struct WeightedAvgAcc {
    sum: f64,
    count: i64,
}

impl AggregateUdf for WeightedAvg {
    type Accumulator = WeightedAvgAcc;

    fn arguments(&self) -> Vec<Field> {
        vec![
            Field::new("value", DataType::Int64, true),
            Field::new("weight", DataType::Int64, true),
        ]
    }

    fn result(&self) -> Field {
        Field::new("avg", DataType::Float64, true)
    }

    fn state(&self) -> Vec<Field> {
        vec![
            Field::new("sum", DataType::Float64, false),
            Field::new("count", DataType::Int64, false),
        ]
    }

    fn create_accumulator(&self) -> WeightedAvgAcc {
        WeightedAvgAcc::default()
    }

    fn supports_retract(&self) -> bool {
        true
    }

    fn supports_merge(&self) -> bool {
        true
    }
}

impl WeightedAvgAcc {
    /// Adds (`sign` 1) or removes (`sign` -1) every non-NULL row.
    fn add(&mut self, args: &[ArrayRef], sign: i64) -> Result<()> {
        let (v, w) = (arg::<Int64Array>(args, 0)?, arg::<Int64Array>(args, 1)?);
        for (v, w) in v.iter().zip(w.iter()) {
            if let (Some(v), Some(w)) = (v, w) {
                self.sum += (sign * v * w) as f64;
                self.count += sign * w;
            }
        }
        Ok(())
    }
}

impl Accumulator for WeightedAvgAcc {
    fn accumulate(&mut self, args: &[ArrayRef]) -> Result<()> {
        self.add(args, 1)
    }

    fn retract(&mut self, args: &[ArrayRef]) -> Result<()> {
        self.add(args, -1)
    }

    fn merge(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (sum, count) = (
            arg::<Float64Array>(states, 0)?,
            arg::<Int64Array>(states, 1)?,
        );
        for (s, c) in sum.iter().zip(count.iter()) {
            self.sum += s.unwrap_or(0.0);
            self.count += c.unwrap_or(0);
        }
        Ok(())
    }

    fn state(&self) -> Result<Vec<ArrayRef>> {
        Ok(vec![
            Arc::new(Float64Array::from(vec![self.sum])),
            Arc::new(Int64Array::from(vec![self.count])),
        ])
    }

    fn value(&self) -> Result<ArrayRef> {
        let avg = (self.count != 0).then(|| self.sum / self.count as f64);
        Ok(Arc::new(Float64Array::from(vec![avg])))
    }
}

export_aggregate!(weighted_avg, WeightedAvg);

/// `split(s STRING, sep STRING)`: a row `(word STRING, length INT)` for
/// every piece of `s` between separators (none when `s` is NULL), as
/// Flink's documented `SplitFunction`.
pub struct Split;

impl TableUdf for Split {
    fn arguments(&self) -> Vec<Field> {
        vec![
            Field::new("s", DataType::Utf8, true),
            Field::new("sep", DataType::Utf8, true),
        ]
    }

    fn columns(&self) -> Vec<Field> {
        vec![
            Field::new("word", DataType::Utf8, false),
            Field::new("length", DataType::Int32, false),
        ]
    }

    fn invoke(&self, args: &[ArrayRef], rows: usize) -> Result<(UInt32Array, Vec<ArrayRef>)> {
        let (s, sep) = (arg::<StringArray>(args, 0)?, arg::<StringArray>(args, 1)?);
        let mut input_rows = UInt32Builder::with_capacity(rows);
        let mut words = StringBuilder::new();
        let mut lengths = Int32Builder::new();
        for row in 0..rows {
            if s.is_null(row) {
                continue;
            }
            let sep = if sep.is_null(row) {
                " "
            } else {
                sep.value(row)
            };
            for word in s.value(row).split(sep) {
                input_rows.append_value(row as u32);
                words.append_value(word);
                lengths.append_value(word.chars().count() as i32);
            }
        }
        Ok((
            input_rows.finish(),
            vec![Arc::new(words.finish()), Arc::new(lengths.finish())],
        ))
    }
}

export_table!(split, Split);
