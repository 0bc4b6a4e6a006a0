//! `RAND_INTEGER(bound)` and `RAND_INTEGER(seed, bound)`: pseudo-random
//! integers in `[0, bound)`. With a seed, the sequence is the one
//! `java.util.Random(seed).nextInt(bound)` gives, as in Flink: the same
//! seed and bound give the same numbers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Builder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::builtins::function::{Arg, coerce};

/// `java.util.Random`'s linear congruential generator.
#[derive(Debug, Clone)]
struct JavaRandom {
    seed: i64,
}

impl JavaRandom {
    const MULTIPLIER: i64 = 0x5DEE_CE66D;
    const MASK: i64 = (1 << 48) - 1;

    fn new(seed: i64) -> Self {
        JavaRandom {
            seed: (seed ^ Self::MULTIPLIER) & Self::MASK,
        }
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.seed = (self.seed.wrapping_mul(Self::MULTIPLIER).wrapping_add(0xB)) & Self::MASK;
        (self.seed >> (48 - bits)) as i32
    }

    /// `nextInt(bound)` for `bound > 0`.
    fn next_int(&mut self, bound: i32) -> i32 {
        let mut r = self.next(31);
        let m = bound - 1;
        if bound & m == 0 {
            return ((i64::from(bound) * i64::from(r)) >> 31) as i32;
        }
        let mut u = r;
        loop {
            r = u % bound;
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }
}

/// Flink's `RAND_INTEGER`. Each call in a query gets its own instance
/// (see `simplify`), whose seeded generator lives as long as the query, so
/// the sequence continues across batches and starts afresh in the next
/// query.
#[derive(Debug)]
pub struct RandInteger {
    signature: Signature,
    /// 0 for the registered function; a unique number for each call site.
    id: u64,
    seeded: Mutex<Option<(i64, JavaRandom)>>,
}

impl PartialEq for RandInteger {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for RandInteger {}
impl std::hash::Hash for RandInteger {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

fn instance(id: u64) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(RandInteger {
        signature: Signature::user_defined(Volatility::Volatile),
        id,
        seeded: Mutex::new(None),
    }))
}

/// The `RAND_INTEGER` function.
pub fn rand_integer() -> Arc<ScalarUDF> {
    instance(0)
}

fn bound_of(b: i64) -> Result<i32> {
    match i32::try_from(b) {
        Ok(b) if b > 0 => Ok(b),
        _ => exec_err!("RAND_INTEGER: the bound must be a positive INT, got {b}"),
    }
}

impl ScalarUDFImpl for RandInteger {
    fn name(&self) -> &str {
        "rand_integer"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !(1..=2).contains(&arg_types.len()) {
            return datafusion::common::plan_err!(
                "Invalid number of arguments for RAND_INTEGER([seed, ] bound): got {}",
                arg_types.len()
            );
        }
        arg_types
            .iter()
            .map(|t| {
                coerce(Arg::Int, t).ok_or_else(|| {
                    datafusion::common::plan_datafusion_err!("RAND_INTEGER takes integers, got {t}")
                })
            })
            .collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        if self.id != 0 {
            return Ok(ExprSimplifyResult::Original(args));
        }
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let own = instance(NEXT.fetch_add(1, Ordering::Relaxed));
        Ok(ExprSimplifyResult::Simplified(Expr::ScalarFunction(
            ScalarFunction::new_udf(own, args),
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<Vec<ArrayRef>>>()?;
        let mut out = Int32Builder::with_capacity(rows);
        if let [seeds, bounds] = arrays.as_slice() {
            let (seeds, bounds) = (
                seeds.as_primitive::<Int64Type>(),
                bounds.as_primitive::<Int64Type>(),
            );
            let mut state = self
                .seeded
                .lock()
                .map_err(|_| datafusion::common::exec_datafusion_err!("RAND_INTEGER: poisoned"))?;
            for i in 0..rows {
                if seeds.is_null(i) || bounds.is_null(i) {
                    out.append_null();
                    continue;
                }
                let seed = seeds.value(i);
                let rng = match state.as_mut() {
                    Some((s, r)) if *s == seed => r,
                    _ => &mut state.insert((seed, JavaRandom::new(seed))).1,
                };
                out.append_value(rng.next_int(bound_of(bounds.value(i))?));
            }
        } else {
            let bounds = arrays[0].as_primitive::<Int64Type>();
            let mut rng = JavaRandom::new(rand::random());
            for i in 0..rows {
                if bounds.is_null(i) {
                    out.append_null();
                } else {
                    out.append_value(rng.next_int(bound_of(bounds.value(i))?));
                }
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::JavaRandom;

    #[test]
    fn matches_java_util_random() {
        // new java.util.Random(42).nextInt(10) for five calls.
        let mut r = JavaRandom::new(42);
        let got: Vec<i32> = (0..5).map(|_| r.next_int(10)).collect();
        assert_eq!(got, vec![0, 3, 8, 4, 0]);
        // Power-of-two bounds take the multiply path.
        let mut r = JavaRandom::new(42);
        assert_eq!(r.next_int(16), 11);
    }
}
