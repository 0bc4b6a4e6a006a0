//! The shape shared by most Flink built-ins: a name, the argument forms Flink
//! accepts (each argument coerced to one Arrow type), a return type, and a
//! vectorized body over Arrow arrays.
//!
//! A body sees every argument as an array of the batch's length (constant
//! arguments are broadcast), unless it opts to see constant arguments as
//! one-row arrays ([`Builtin::constant_arguments`]) and saves the broadcast
//! copies (a `'/'` repeated for every row of every batch). When every
//! argument is constant and the function is deterministic, the body runs on
//! one row and the result is a scalar, so constant folding and per-batch
//! evaluation stay cheap.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, FieldRef, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// How one argument is coerced before the body sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arg {
    /// `Utf8`; other strings, NULL and scalar values are cast to it.
    Str,
    /// `Int64`; any integer type or NULL.
    Int,
    /// A TIMESTAMP, TIMESTAMP_LTZ or DATE as it is, or a string (`Utf8`).
    Temporal,
    /// A number as it is (integers, floats, decimals); NULL becomes `Int64`.
    Numeric,
    /// Any type, unchanged.
    Any,
}

/// Evaluation context handed to a body.
pub struct Ctx<'a> {
    /// Rows in the batch (1 when every argument is constant).
    pub rows: usize,
    /// Session configuration (time zone).
    pub config: &'a ConfigOptions,
    /// The field the planner expects back.
    pub return_field: &'a FieldRef,
    /// Per argument, whether it is constant and passed as a one-row array
    /// (only for bodies that opted in with [`Builtin::constant_arguments`]).
    pub constant: &'a [bool],
}

impl Ctx<'_> {
    /// The row of argument `arg` that row `row` of the batch reads.
    pub fn row(&self, arg: usize, row: usize) -> usize {
        if self.constant.get(arg).copied().unwrap_or(false) {
            0
        } else {
            row
        }
    }
}

/// A vectorized body: one output array of `ctx.rows` rows.
pub type Body = fn(&Ctx<'_>, &[ArrayRef]) -> Result<ArrayRef>;
/// Coerces all argument types together (after the arity check).
pub type Coercion = fn(&[DataType]) -> Result<Vec<DataType>>;
/// The return type for the coerced argument types.
pub type ReturnType = fn(&[DataType]) -> Result<DataType>;

/// A Flink built-in scalar function described by its forms and body.
#[derive(Debug)]
pub struct Builtin {
    name: &'static str,
    aliases: Vec<String>,
    syntax: &'static str,
    forms: Vec<Vec<Arg>>,
    /// Any number (at least `.1`) of arguments of one kind.
    variadic: Option<(Arg, usize)>,
    /// Coercion across arguments, replacing the per-argument kinds.
    coercion: Option<Coercion>,
    signature: Signature,
    return_type: ReturnType,
    body: Body,
    volatile: bool,
    /// The body reads constant arguments as one-row arrays.
    constant_arguments: bool,
}

impl PartialEq for Builtin {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.forms == other.forms && self.variadic == other.variadic
    }
}
impl Eq for Builtin {}
impl Hash for Builtin {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.forms.hash(state);
    }
}

impl Builtin {
    /// A deterministic built-in named `name` (lower case, as DataFusion
    /// looks functions up), shown to users as `syntax`.
    pub fn new(
        name: &'static str,
        syntax: &'static str,
        forms: &[&[Arg]],
        return_type: ReturnType,
        body: Body,
    ) -> Self {
        Builtin {
            name,
            aliases: Vec::new(),
            syntax,
            forms: forms.iter().map(|f| f.to_vec()).collect(),
            variadic: None,
            coercion: None,
            signature: Signature::user_defined(Volatility::Immutable),
            return_type,
            body,
            volatile: false,
            constant_arguments: false,
        }
    }

    /// A built-in taking at least `min` arguments, all of kind `kind`.
    pub fn variadic(
        name: &'static str,
        syntax: &'static str,
        kind: Arg,
        min: usize,
        return_type: ReturnType,
        body: Body,
    ) -> Self {
        let mut b = Builtin::new(name, syntax, &[], return_type, body);
        b.variadic = Some((kind, min));
        b
    }

    /// Coerces the arguments together with `coercion` once an arity of
    /// the forms matches.
    pub fn coercion(mut self, coercion: Coercion) -> Self {
        self.coercion = Some(coercion);
        self
    }

    /// Marks the function volatile: evaluated per row, never folded.
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self.signature = Signature::user_defined(Volatility::Volatile);
        self
    }

    /// Passes constant arguments to the body as one-row arrays instead of
    /// broadcasting them; the body reads them through [`Ctx::row`].
    pub fn constant_arguments(mut self) -> Self {
        self.constant_arguments = true;
        self
    }

    /// Adds other names the function answers to.
    pub fn aliases(mut self, names: &[&str]) -> Self {
        self.aliases = names.iter().map(|n| n.to_string()).collect();
        self
    }

    /// Wraps the description into DataFusion's function handle.
    pub fn udf(self) -> Arc<ScalarUDF> {
        Arc::new(ScalarUDF::new_from_impl(self))
    }
}

impl ScalarUDFImpl for Builtin {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if let Some((kind, min)) = self.variadic {
            if arg_types.len() < min {
                return plan_err!(
                    "Invalid number of arguments for {}: got {}, expected at least {min}",
                    self.syntax,
                    arg_types.len()
                );
            }
            return arg_types
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    coerce(kind, t).ok_or_else(|| {
                        datafusion::common::plan_datafusion_err!(
                            "Cannot apply {} to argument {} of type {t}: expected {}",
                            self.syntax,
                            i + 1,
                            kind_name(kind)
                        )
                    })
                })
                .collect();
        }
        if let Some(c) = self.coercion {
            if !self.forms.iter().any(|f| f.len() == arg_types.len()) {
                return plan_err!(
                    "Invalid number of arguments for {}: got {}, expected {}",
                    self.syntax,
                    arg_types.len(),
                    self.arities()
                );
            }
            return c(arg_types);
        }
        let mut first_error = None;
        for form in self.forms.iter().filter(|f| f.len() == arg_types.len()) {
            let mut types = Vec::with_capacity(form.len());
            for (i, (kind, t)) in form.iter().zip(arg_types).enumerate() {
                match coerce(*kind, t) {
                    Some(c) => types.push(c),
                    None => {
                        first_error.get_or_insert_with(|| {
                            format!(
                                "Cannot apply {} to argument {} of type {t}: expected {}",
                                self.syntax,
                                i + 1,
                                kind_name(*kind)
                            )
                        });
                        break;
                    }
                }
            }
            if types.len() == form.len() {
                return Ok(types);
            }
        }
        match first_error {
            Some(e) => plan_err!("{e}"),
            None => plan_err!(
                "Invalid number of arguments for {}: got {}, expected {}",
                self.syntax,
                arg_types.len(),
                self.arities()
            ),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        (self.return_type)(arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let constant = !self.volatile
            && args
                .args
                .iter()
                .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if constant { 1 } else { args.number_rows };
        // Empty unless the body opted in: `Ctx::row` then maps every row to itself.
        let kept: Vec<bool> = match self.constant_arguments {
            true => args
                .args
                .iter()
                .map(|a| matches!(a, ColumnarValue::Scalar(_)))
                .collect(),
            false => Vec::new(),
        };
        let arrays = args
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| a.to_array(if kept.get(i) == Some(&true) { 1 } else { rows }))
            .collect::<Result<Vec<_>>>()?;
        let ctx = Ctx {
            rows,
            config: &args.config_options,
            return_field: &args.return_field,
            constant: &kept,
        };
        let out = (self.body)(&ctx, &arrays)?;
        if constant {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

impl Builtin {
    fn arities(&self) -> String {
        let mut n: Vec<String> = self.forms.iter().map(|f| f.len().to_string()).collect();
        n.dedup();
        format!("{} argument(s)", n.join(" or "))
    }
}

fn kind_name(kind: Arg) -> &'static str {
    match kind {
        Arg::Str => "STRING",
        Arg::Int => "an integer",
        Arg::Numeric => "a number",
        Arg::Temporal => "TIMESTAMP, TIMESTAMP_LTZ, DATE or STRING",
        Arg::Any => "any type",
    }
}

/// The type `t` is coerced to for an argument of kind `kind`, if allowed.
pub fn coerce(kind: Arg, t: &DataType) -> Option<DataType> {
    use DataType::*;
    match kind {
        Arg::Any => Some(t.clone()),
        Arg::Str => match t {
            List(_) | LargeList(_) | FixedSizeList(..) | Map(..) | Struct(_) => None,
            _ => Some(Utf8),
        },
        Arg::Int => (t.is_integer() || *t == Null).then_some(Int64),
        Arg::Numeric => match t {
            Null => Some(Int64),
            t if t.is_numeric() => Some(t.clone()),
            _ => None,
        },
        Arg::Temporal => match t {
            Timestamp(..) | Date32 | Date64 => Some(t.clone()),
            Utf8 | LargeUtf8 | Utf8View => Some(Utf8),
            Null => Some(Timestamp(TimeUnit::Millisecond, None)),
            _ => None,
        },
    }
}
