//! Aggregate functions with Flink's `AggregateFunction` contract:
//! `create_accumulator`, `accumulate`, `get_value`, and optionally `retract`
//! (needed over an updating input, e.g. a GROUP BY reading another GROUP
//! BY's changelog) and `merge` (needed where partial results are combined:
//! HOP/CUMULATE window panes, merging SESSION windows).
//!
//! The accumulator is a typed Rust value that serializes to Arrow columns
//! ([`AccumulatorState`]), so it can be checkpointed and merged. The result
//! is a DataFusion `AggregateUDF` whose `Accumulator` runs the closures
//! batch by batch; it works in window aggregates and in updating GROUP BYs.

use std::fmt::{self, Debug};
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};

use super::call::AccumulateFn;
use super::coerce::coerce_args;
use super::guard::guarded;
use super::state::AccumulatorState;
use super::types::{Done, OutType, Ret, Value};

type Update<Acc> = dyn Fn(&mut Acc, &[ArrayRef]) -> Result<()> + Send + Sync;
type Merge<Acc> = dyn Fn(&mut Acc, &Acc) -> std::result::Result<(), String> + Send + Sync;
type GetValue<Acc> = dyn Fn(&Acc) -> std::result::Result<ScalarValue, String> + Send + Sync;

/// The closures of one aggregate function, shared by its accumulators.
struct Closures<Acc> {
    name: String,
    create: Box<dyn Fn() -> Acc + Send + Sync>,
    accumulate: Box<Update<Acc>>,
    retract: Option<Box<Update<Acc>>>,
    merge: Option<Box<Merge<Acc>>>,
    get_value: Box<GetValue<Acc>>,
}

/// An aggregate function built from Rust closures. `Args` is the tuple of
/// `accumulate`'s parameter types (inferred); `retract` must take the same.
///
/// ```
/// use sluice_udf::api::AggregateFunction;
/// // weighted_avg(value, weight), retractable and mergeable.
/// let wavg = AggregateFunction::new(
///     "weighted_avg",
///     || (0i64, 0i64),
///     |acc: &mut (i64, i64), v: i64, w: i64| {
///         acc.0 += v * w;
///         acc.1 += w;
///     },
///     |acc: &(i64, i64)| (acc.1 != 0).then(|| acc.0 as f64 / acc.1 as f64),
/// )
/// .retract(|acc: &mut (i64, i64), v: i64, w: i64| {
///     acc.0 -= v * w;
///     acc.1 -= w;
/// })
/// .merge(|acc: &mut (i64, i64), other: &(i64, i64)| {
///     acc.0 += other.0;
///     acc.1 += other.1;
/// });
/// ```
pub struct AggregateFunction<Acc, Args> {
    closures: Closures<Acc>,
    arg_types: Vec<DataType>,
    return_type: DataType,
    volatility: Volatility,
    _args: PhantomData<fn() -> Args>,
}

impl<Acc: AccumulatorState, Args: 'static> AggregateFunction<Acc, Args> {
    /// The three required parts of Flink's contract: `create_accumulator`
    /// makes an empty accumulator, `accumulate` adds one row's arguments to
    /// it (annotate its parameter types: they are the SQL argument types),
    /// and `get_value` computes the result.
    pub fn new<D, R, A>(
        name: impl Into<String>,
        create_accumulator: impl Fn() -> Acc + Send + Sync + 'static,
        accumulate: A,
        get_value: impl Fn(&Acc) -> R + Send + Sync + 'static,
    ) -> Self
    where
        A: AccumulateFn<Acc, Args, D>,
        R: Ret,
    {
        let name = name.into();
        let fname = name.clone();
        AggregateFunction {
            closures: Closures {
                create: Box::new(create_accumulator),
                accumulate: Box::new(move |acc: &mut Acc, args: &[ArrayRef]| {
                    accumulate.call(&fname, acc, args)
                }),
                retract: None,
                merge: None,
                get_value: Box::new(move |acc: &Acc| {
                    get_value(acc).into_value().map(Value::into_scalar)
                }),
                name,
            },
            arg_types: A::arg_types(),
            return_type: <<R::Value as Value>::Type as OutType>::data_type(),
            volatility: Volatility::Immutable,
            _args: PhantomData,
        }
    }

    /// Flink's `retract`: removes one row's arguments from the accumulator.
    /// Without it the function cannot read an updating input.
    pub fn retract<D, F>(mut self, retract: F) -> Self
    where
        F: AccumulateFn<Acc, Args, D>,
    {
        let name = self.closures.name.clone();
        self.closures.retract = Some(Box::new(move |acc: &mut Acc, args: &[ArrayRef]| {
            retract.call(&name, acc, args)
        }));
        self
    }

    /// Flink's `merge`: adds another accumulator's contents to this one.
    /// Without it the function cannot run in HOP, CUMULATE or SESSION windows.
    pub fn merge<D: Done>(
        mut self,
        merge: impl Fn(&mut Acc, &Acc) -> D + Send + Sync + 'static,
    ) -> Self {
        self.closures.merge = Some(Box::new(move |acc: &mut Acc, other: &Acc| {
            merge(acc, other).into_result()
        }));
        self
    }

    /// Marks the function non-deterministic.
    pub fn volatile(mut self) -> Self {
        self.volatility = Volatility::Volatile;
        self
    }

    /// The DataFusion function.
    pub fn into_udaf(self) -> AggregateUDF {
        let name = self.closures.name.clone();
        let lower = name.to_ascii_lowercase();
        AggregateUDF::new_from_impl(Udaf {
            aliases: if lower == name { vec![] } else { vec![lower] },
            signature: Signature::user_defined(self.volatility),
            arg_types: self.arg_types,
            return_type: self.return_type,
            closures: Arc::new(self.closures),
            name,
        })
    }
}

impl<Acc: AccumulatorState, Args: 'static> From<AggregateFunction<Acc, Args>> for AggregateUDF {
    fn from(f: AggregateFunction<Acc, Args>) -> Self {
        f.into_udaf()
    }
}

/// The DataFusion face of an [`AggregateFunction`].
struct Udaf<Acc> {
    name: String,
    aliases: Vec<String>,
    signature: Signature,
    arg_types: Vec<DataType>,
    return_type: DataType,
    closures: Arc<Closures<Acc>>,
}

impl<Acc> Debug for Udaf<Acc> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AggregateFunction")
            .field("name", &self.name)
            .field("arg_types", &self.arg_types)
            .field("return_type", &self.return_type)
            .field("retract", &self.closures.retract.is_some())
            .field("merge", &self.closures.merge.is_some())
            .finish()
    }
}

impl<Acc> PartialEq for Udaf<Acc> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.closures, &other.closures)
    }
}

impl<Acc> Eq for Udaf<Acc> {}

impl<Acc> Hash for Udaf<Acc> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.arg_types.hash(state);
    }
}

impl<Acc: AccumulatorState> AggregateUDFImpl for Udaf<Acc> {
    fn name(&self) -> &str {
        &self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_args(&self.name, &self.arg_types, arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.return_type.clone())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(Acc::state_fields()
            .into_iter()
            .map(|f| {
                let name = format!("{}[{}]", args.name, f.name());
                Arc::new(f.with_name(name))
            })
            .collect())
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let c = &self.closures;
        let acc = guarded(&c.name, || Ok((c.create)()))?;
        Ok(Box::new(UdafAccumulator {
            closures: Arc::clone(c),
            acc,
        }))
    }
}

/// One group's (or pane's) accumulator.
struct UdafAccumulator<Acc> {
    closures: Arc<Closures<Acc>>,
    acc: Acc,
}

impl<Acc> Debug for UdafAccumulator<Acc> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UdafAccumulator({})", self.closures.name)
    }
}

fn failed(name: &str, e: String) -> DataFusionError {
    DataFusionError::Execution(format!("aggregate function '{name}' failed: {e}"))
}

impl<Acc: AccumulatorState> Accumulator for UdafAccumulator<Acc> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let c = &self.closures;
        guarded(&c.name, || (c.accumulate)(&mut self.acc, values))
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let c = &self.closures;
        match &c.retract {
            Some(r) => guarded(&c.name, || r(&mut self.acc, values)),
            None => exec_err!(
                "aggregate function '{}' has no retract, so it cannot consume an updating input; \
                 add .retract(..) to it",
                c.name
            ),
        }
    }

    fn supports_retract_batch(&self) -> bool {
        self.closures.retract.is_some()
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let c = &self.closures;
        guarded(&c.name, || {
            (c.get_value)(&self.acc).map_err(|e| failed(&c.name, e))
        })
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut out = Vec::new();
        self.acc.to_state(&mut out);
        Ok(out)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let c = &self.closures;
        let Some(merge) = &c.merge else {
            return exec_err!(
                "aggregate function '{}' has no merge, so it cannot combine partial results \
                 (HOP, CUMULATE and SESSION windows need that); add .merge(..) to it",
                c.name
            );
        };
        let rows = states.first().map_or(0, |s| s.len());
        guarded(&c.name, || {
            for row in 0..rows {
                let other = Acc::from_state(states, row).map_err(|e| failed(&c.name, e))?;
                merge(&mut self.acc, &other).map_err(|e| failed(&c.name, e))?;
            }
            Ok(())
        })
    }
}
