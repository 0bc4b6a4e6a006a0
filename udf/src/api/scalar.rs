//! Scalar functions (Flink's `ScalarFunction`): one value per row, built
//! from a plain Rust function or from a vectorized body over Arrow arrays,
//! and handed to DataFusion as a `ScalarUDF`, so it works wherever a
//! built-in function does (projections, filters, keys, aggregate arguments).

use std::fmt::{self, Debug};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::call::ScalarFn;
use super::coerce::coerce_args;
use super::guard::guarded;
use super::types::{OutType, Ret, Value};

type Body = dyn Fn(&[ArrayRef], usize) -> Result<ArrayRef> + Send + Sync;

/// A scalar function built from Rust code.
///
/// ```
/// use sluice_udf::api::ScalarFunction;
/// // Nexmark's count_char: NULL in either argument gives NULL.
/// let count_char = ScalarFunction::new("count_char", |s: &str, c: &str| -> i64 {
///     s.matches(c).count() as i64
/// });
/// ```
#[derive(Clone)]
pub struct ScalarFunction {
    name: String,
    aliases: Vec<String>,
    arg_types: Vec<DataType>,
    return_type: DataType,
    nullable: bool,
    signature: Signature,
    body: Arc<Body>,
}

impl ScalarFunction {
    /// A function from a closure (or `fn`) called once per row. Parameter
    /// and result types say the SQL types (see [`types`](super::types));
    /// `Option<T>` parameters see NULLs, plain ones make the function strict
    /// (NULL in, NULL out). Return `Result<T, E>` to fail the job on bad input.
    /// Deterministic unless [`volatile`](Self::volatile) is called.
    pub fn new<Args, R, F>(name: impl Into<String>, f: F) -> Self
    where
        F: ScalarFn<Args, R>,
        R: Ret,
    {
        let name = name.into();
        let fname = name.clone();
        let arg_types = F::arg_types();
        let nullable = <R::Value as Value>::NULLABLE || !arg_types.is_empty();
        Self::with_body(
            name,
            arg_types,
            <<R::Value as Value>::Type as OutType>::data_type(),
            nullable,
            Arc::new(move |args: &[ArrayRef], rows: usize| f.call(&fname, args, rows)),
        )
    }

    /// A function from a body over whole arrays: it gets the arguments cast
    /// to `arg_types`, each `rows` long, and returns `rows` values of
    /// `return_type`.
    pub fn vectorized(
        name: impl Into<String>,
        arg_types: Vec<DataType>,
        return_type: DataType,
        body: impl Fn(&[ArrayRef], usize) -> Result<ArrayRef> + Send + Sync + 'static,
    ) -> Self {
        Self::with_body(name.into(), arg_types, return_type, true, Arc::new(body))
    }

    fn with_body(
        name: String,
        arg_types: Vec<DataType>,
        return_type: DataType,
        nullable: bool,
        body: Arc<Body>,
    ) -> Self {
        // Flink resolves function names case-insensitively.
        let lower = name.to_ascii_lowercase();
        ScalarFunction {
            aliases: if lower == name { vec![] } else { vec![lower] },
            name,
            arg_types,
            return_type,
            nullable,
            signature: Signature::user_defined(Volatility::Immutable),
            body,
        }
    }

    /// Marks the function non-deterministic (Flink's `isDeterministic()
    /// == false`): it is evaluated for every row, never folded into a constant.
    pub fn volatile(self) -> Self {
        self.deterministic(false)
    }

    /// Sets whether the same arguments always give the same result.
    pub fn deterministic(mut self, deterministic: bool) -> Self {
        let v = if deterministic {
            Volatility::Immutable
        } else {
            Volatility::Volatile
        };
        self.signature = Signature::user_defined(v);
        self
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The DataFusion function.
    pub fn into_udf(self) -> ScalarUDF {
        ScalarUDF::new_from_impl(self)
    }

    fn is_volatile(&self) -> bool {
        self.signature.volatility == Volatility::Volatile
    }
}

impl Debug for ScalarFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScalarFunction")
            .field("name", &self.name)
            .field("arg_types", &self.arg_types)
            .field("return_type", &self.return_type)
            .field("volatility", &self.signature.volatility)
            .finish()
    }
}

impl PartialEq for ScalarFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.signature == other.signature
            && Arc::ptr_eq(&self.body, &other.body)
    }
}

impl Eq for ScalarFunction {}

impl Hash for ScalarFunction {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.arg_types.hash(state);
    }
}

impl ScalarUDFImpl for ScalarFunction {
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

    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(
            &self.name,
            self.return_type.clone(),
            self.nullable,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // Constant arguments of a deterministic function: one call.
        let constant = !self.is_volatile()
            && args
                .args
                .iter()
                .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if constant { 1 } else { args.number_rows };
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<Vec<_>>>()?;
        let mut out = guarded(&self.name, || (self.body)(&arrays, rows))?;
        if out.len() != rows {
            return exec_err!(
                "function '{}' returned {} values for {rows} rows",
                self.name,
                out.len()
            );
        }
        if out.data_type() != &self.return_type {
            out = cast(&out, &self.return_type)?;
        }
        if constant {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(out))
    }
}
