//! `LISTAGG(expression [, separator])`: the non-NULL values joined with the
//! separator (`,` by default) in arrival order; NULL when there are none.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, Volatility};

use crate::builtins::function::{Arg, coerce};

const DEFAULT_SEPARATOR: &str = ",";

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ListAgg {
    signature: Signature,
}

impl ListAgg {
    pub fn new() -> Self {
        ListAgg {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for ListAgg {
    fn name(&self) -> &str {
        "listagg"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !(1..=2).contains(&arg_types.len()) {
            return plan_err!(
                "Invalid number of arguments for LISTAGG(expression [, separator]): got {}",
                arg_types.len()
            );
        }
        arg_types
            .iter()
            .map(|t| match coerce(Arg::Str, t) {
                Some(t) => Ok(t),
                None => plan_err!("LISTAGG takes strings, got {t}"),
            })
            .collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                format!("{}[joined]", args.name),
                DataType::Utf8,
                true,
            )),
            Arc::new(Field::new(
                format!("{}[separator]", args.name),
                DataType::Utf8,
                true,
            )),
        ])
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Joined::default()))
    }

    fn create_sliding_accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Retracting::default()))
    }
}

/// The separator of row `i` (the last one seen wins, as in Flink).
fn separator(values: &[ArrayRef], i: usize) -> Option<&str> {
    values.get(1).and_then(|s| {
        let s = s.as_string::<i32>();
        s.is_valid(i).then(|| s.value(i))
    })
}

/// The joined string so far.
#[derive(Debug, Default)]
struct Joined {
    joined: Option<String>,
    separator: Option<String>,
}

impl Joined {
    fn push(&mut self, v: &str) {
        match &mut self.joined {
            Some(j) => {
                j.push_str(self.separator.as_deref().unwrap_or(DEFAULT_SEPARATOR));
                j.push_str(v);
            }
            None => self.joined = Some(v.to_string()),
        }
    }
}

impl Accumulator for Joined {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let s = values[0].as_string::<i32>();
        for i in 0..s.len() {
            if let Some(sep) = separator(values, i)
                && self.separator.as_deref() != Some(sep)
            {
                self.separator = Some(sep.to_string());
            }
            if s.is_valid(i) {
                self.push(s.value(i));
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Utf8(self.joined.clone()))
    }

    fn size(&self) -> usize {
        size_of::<Self>()
            + self.joined.as_ref().map_or(0, |j| j.capacity())
            + self.separator.as_ref().map_or(0, |s| s.capacity())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::Utf8(self.joined.clone()),
            ScalarValue::Utf8(self.separator.clone()),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let joined = states[0].as_string::<i32>();
        let seps = states[1].as_string::<i32>();
        for i in 0..joined.len() {
            if self.separator.is_none() && seps.is_valid(i) {
                self.separator = Some(seps.value(i).to_string());
            }
            if joined.is_valid(i) {
                self.push(joined.value(i));
            }
        }
        Ok(())
    }
}

/// Every value, so that one can be taken back out.
#[derive(Debug, Default)]
struct Retracting {
    values: Vec<String>,
    separator: Option<String>,
}

impl Accumulator for Retracting {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let s = values[0].as_string::<i32>();
        for i in 0..s.len() {
            if let Some(sep) = separator(values, i) {
                self.separator = Some(sep.to_string());
            }
            if s.is_valid(i) {
                self.values.push(s.value(i).to_string());
            }
        }
        Ok(())
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let s = values[0].as_string::<i32>();
        for v in s.iter().flatten() {
            // The earliest equal value goes, as in Flink.
            if let Some(pos) = self.values.iter().position(|x| x == v) {
                self.values.remove(pos);
            }
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.values.is_empty() {
            return Ok(ScalarValue::Utf8(None));
        }
        let sep = self.separator.as_deref().unwrap_or(DEFAULT_SEPARATOR);
        Ok(ScalarValue::Utf8(Some(self.values.join(sep))))
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.values.iter().map(|v| v.capacity() + 24).sum::<usize>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            self.evaluate()?,
            ScalarValue::Utf8(self.separator.clone()),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let joined = states[0].as_string::<i32>();
        for i in 0..joined.len() {
            if joined.is_valid(i) {
                self.values.push(joined.value(i).to_string());
            }
        }
        Ok(())
    }
}
