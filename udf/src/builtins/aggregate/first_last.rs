//! `FIRST_VALUE(expression)` and `LAST_VALUE(expression)`: the first and the
//! last non-NULL value in arrival order.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, Volatility};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FirstLast {
    last: bool,
    signature: Signature,
}

impl FirstLast {
    pub fn first() -> Self {
        FirstLast {
            last: false,
            signature: Signature::any(1, Volatility::Immutable),
        }
    }

    pub fn last() -> Self {
        FirstLast {
            last: true,
            ..Self::first()
        }
    }
}

impl AggregateUDFImpl for FirstLast {
    fn name(&self) -> &str {
        if self.last {
            "last_value"
        } else {
            "first_value"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [t] => Ok(t.clone()),
            _ => plan_err!("{} takes one argument", self.name().to_uppercase()),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[value]", args.name),
            args.return_type().clone(),
            true,
        ))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Kept {
            last: self.last,
            value: ScalarValue::try_from(args.return_type())?,
        }))
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Retracting {
            last: self.last,
            null: ScalarValue::try_from(args.return_type())?,
            values: Vec::new(),
        }))
    }
}

/// The value kept so far.
#[derive(Debug)]
struct Kept {
    last: bool,
    value: ScalarValue,
}

impl Kept {
    fn offer(&mut self, arr: &ArrayRef) -> Result<()> {
        let pick = if self.last {
            (0..arr.len()).rev().find(|&i| arr.is_valid(i))
        } else if self.value.is_null() {
            (0..arr.len()).find(|&i| arr.is_valid(i))
        } else {
            None
        };
        if let Some(i) = pick {
            self.value = ScalarValue::try_from_array(arr, i)?;
        }
        Ok(())
    }
}

impl Accumulator for Kept {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.offer(&values[0])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(self.value.clone())
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.value.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.value.clone()])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.offer(&states[0])
    }
}

/// Every non-NULL value, so that one can be taken back out.
#[derive(Debug)]
struct Retracting {
    last: bool,
    null: ScalarValue,
    values: Vec<ScalarValue>,
}

impl Accumulator for Retracting {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let arr = &values[0];
        for i in 0..arr.len() {
            if arr.is_valid(i) {
                self.values.push(ScalarValue::try_from_array(arr, i)?);
            }
        }
        Ok(())
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let arr = &values[0];
        for i in 0..arr.len() {
            if arr.is_valid(i) {
                let v = ScalarValue::try_from_array(arr, i)?;
                if let Some(pos) = self.values.iter().position(|x| *x == v) {
                    self.values.remove(pos);
                }
            }
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let v = if self.last {
            self.values.last()
        } else {
            self.values.first()
        };
        Ok(v.cloned().unwrap_or_else(|| self.null.clone()))
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.values.iter().map(|v| v.size()).sum::<usize>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.update_batch(states)
    }
}
