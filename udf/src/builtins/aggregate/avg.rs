//! `AVG(x)` as Flink computes it: the average of an integer argument has
//! the argument's type and is truncated toward zero (the `AVG` of BIGINT 1
//! and 2 is 1, not 1.5), the sum is kept in a BIGINT and wraps like
//! Flink's. Every other argument type (DOUBLE, DECIMAL, ...) averages as
//! DataFusion's `avg`, which this replaces.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::functions_aggregate::average::avg_udaf;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, GroupsAccumulator, ReversedUDAF, Signature, TypeSignature,
    Volatility,
};

const INTEGERS: [DataType; 8] = [
    DataType::Int8,
    DataType::Int16,
    DataType::Int32,
    DataType::Int64,
    DataType::UInt8,
    DataType::UInt16,
    DataType::UInt32,
    DataType::UInt64,
];

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Avg {
    signature: Signature,
    aliases: Vec<String>,
}

impl Avg {
    pub fn new() -> Self {
        // Integers first and exact, so they are not coerced to DOUBLE by
        // DataFusion's signatures that follow.
        let mut signatures: Vec<TypeSignature> = INTEGERS
            .iter()
            .map(|t| TypeSignature::Exact(vec![t.clone()]))
            .collect();
        match &avg_udaf().signature().type_signature {
            TypeSignature::OneOf(s) => signatures.extend(s.iter().cloned()),
            other => signatures.push(other.clone()),
        }
        Avg {
            signature: Signature::one_of(signatures, Volatility::Immutable),
            aliases: avg_udaf().aliases().to_vec(),
        }
    }
}

fn integer(fields: &[FieldRef]) -> bool {
    fields.first().is_some_and(|f| f.data_type().is_integer())
}

impl AggregateUDFImpl for Avg {
    fn name(&self) -> &str {
        "avg"
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [t] if t.is_integer() => Ok(t.clone()),
            _ => avg_udaf().return_type(arg_types),
        }
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if integer(args.expr_fields) {
            return IntegerAvg::boxed(args.return_type(), args.is_distinct);
        }
        avg_udaf().accumulator(args)
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if integer(args.expr_fields) {
            return IntegerAvg::boxed(args.return_type(), args.is_distinct);
        }
        avg_udaf().create_sliding_accumulator(args)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        if !integer(args.input_fields) {
            return avg_udaf().state_fields(args);
        }
        let field = |suffix: &str, t: DataType| {
            Arc::new(Field::new(format!("{}[{suffix}]", args.name), t, true))
        };
        Ok(if args.is_distinct {
            let item = Arc::new(Field::new_list_field(DataType::Int64, true));
            vec![field("distinct", DataType::List(item))]
        } else {
            vec![
                field("sum", DataType::Int64),
                field("count", DataType::Int64),
            ]
        })
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        !integer(args.expr_fields) && avg_udaf().groups_accumulator_supported(args)
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        avg_udaf().create_groups_accumulator(args)
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        ReversedUDAF::Identical
    }
}

/// The sum and count of an integer column; with DISTINCT, each value's
/// multiplicity too, so that retracting one of several equal values keeps
/// it in the average.
#[derive(Debug)]
struct IntegerAvg {
    return_type: DataType,
    sum: i64,
    count: i64,
    distinct: Option<BTreeMap<i64, u64>>,
}

impl IntegerAvg {
    fn boxed(return_type: &DataType, distinct: bool) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(IntegerAvg {
            return_type: return_type.clone(),
            sum: 0,
            count: 0,
            distinct: distinct.then(BTreeMap::new),
        }))
    }

    /// Adds (`sign` 1) or takes back (`sign` -1) every non-NULL value.
    fn apply(&mut self, values: &ArrayRef, sign: i64) -> Result<()> {
        let values = cast(values, &DataType::Int64)?;
        for v in values.as_primitive::<Int64Type>().iter().flatten() {
            if let Some(seen) = &mut self.distinct {
                // Only a value's first arrival and last retraction count.
                if sign > 0 {
                    let n = seen.entry(v).or_default();
                    *n += 1;
                    if *n > 1 {
                        continue;
                    }
                } else {
                    match seen.get_mut(&v) {
                        Some(n) if *n > 1 => {
                            *n -= 1;
                            continue;
                        }
                        Some(_) => {
                            seen.remove(&v);
                        }
                        None => continue,
                    }
                }
            }
            self.sum = self.sum.wrapping_add(sign.wrapping_mul(v));
            self.count += sign;
        }
        Ok(())
    }
}

impl Accumulator for IntegerAvg {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.apply(&values[0], 1)
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.apply(&values[0], -1)
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.count == 0 {
            return ScalarValue::try_from(&self.return_type);
        }
        // Rust's `/` truncates toward zero, as Java's does.
        ScalarValue::Int64(Some(self.sum / self.count)).cast_to(&self.return_type)
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.distinct.as_ref().map_or(0, |d| d.len() * 32)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(match &self.distinct {
            Some(seen) => {
                let values: Vec<ScalarValue> =
                    seen.keys().map(|v| ScalarValue::Int64(Some(*v))).collect();
                vec![ScalarValue::List(ScalarValue::new_list_nullable(
                    &values,
                    &DataType::Int64,
                ))]
            }
            None => vec![
                ScalarValue::Int64(Some(self.sum)),
                ScalarValue::Int64(Some(self.count)),
            ],
        })
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        if self.distinct.is_some() {
            let lists = states[0].as_list::<i32>();
            for list in lists.iter().flatten() {
                let seen = self.distinct.as_ref().expect("a distinct average");
                let fresh: Vec<i64> = list
                    .as_primitive::<Int64Type>()
                    .iter()
                    .flatten()
                    .filter(|v| !seen.contains_key(v))
                    .collect();
                let fresh: ArrayRef = Arc::new(datafusion::arrow::array::Int64Array::from(fresh));
                self.apply(&fresh, 1)?;
            }
            return Ok(());
        }
        let sums = states[0].as_primitive::<Int64Type>();
        let counts = states[1].as_primitive::<Int64Type>();
        for i in 0..sums.len() {
            if sums.is_valid(i) && counts.is_valid(i) {
                self.sum = self.sum.wrapping_add(sums.value(i));
                self.count += counts.value(i);
            }
        }
        Ok(())
    }
}
