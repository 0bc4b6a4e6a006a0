//! Table functions (Flink's `TableFunction`): one input row in, zero or
//! more rows out, used as `FROM t, LATERAL TABLE(f(t.s)) AS T(a, b)` or
//! `LEFT JOIN LATERAL TABLE(f(t.s)) AS T(a) ON TRUE`.
//!
//! The engine calls a table function once per batch ([`TableUdfImpl::invoke`]):
//! it gets the argument columns and returns the produced rows with, for each,
//! the input row it came from. [`TableFunction::new`] builds one from a Rust
//! closure called per row; [`TableFunction::vectorized`] from a body that
//! works on whole arrays.

use std::any::Any;
use std::fmt::{self, Debug, Display};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{MemTable, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::Expr;

use super::call::TableFn;
use super::coerce::coerce_args;
use super::guard::guarded;
use super::types::{OutType, Value, finish};

/// What a table function produced for one batch.
#[derive(Debug, Clone)]
pub struct TableRows {
    /// For each produced row, the input row it belongs to (ascending).
    pub input_rows: UInt32Array,
    /// The produced columns, each as long as `input_rows`.
    pub columns: Vec<ArrayRef>,
}

/// One produced row of a typed table function: a single value (one column)
/// or a tuple of values (one column each).
pub trait Row: Sized + 'static {
    /// The column builders.
    type Builders;
    /// Each column's type and nullability.
    fn fields() -> Vec<(DataType, bool)>;
    /// Empty builders for about `capacity` rows.
    fn builders(capacity: usize) -> Self::Builders;
    /// Appends the row.
    fn append(self, builders: &mut Self::Builders);
    /// The finished columns.
    fn finish(builders: Self::Builders) -> Vec<ArrayRef>;
}

macro_rules! single_column_row {
    ($($t:ty),*) => {$(
        impl Row for $t {
            type Builders = <<$t as Value>::Type as OutType>::Builder;
            fn fields() -> Vec<(DataType, bool)> {
                vec![(<<$t as Value>::Type as OutType>::data_type(), <$t as Value>::NULLABLE)]
            }
            fn builders(capacity: usize) -> Self::Builders {
                <<$t as Value>::Type as OutType>::builder(capacity)
            }
            fn append(self, builders: &mut Self::Builders) {
                Value::append(self, builders);
            }
            fn finish(builders: Self::Builders) -> Vec<ArrayRef> {
                vec![finish(builders)]
            }
        }
        impl Row for Option<$t> {
            type Builders = <$t as OutType>::Builder;
            fn fields() -> Vec<(DataType, bool)> {
                vec![(<$t as OutType>::data_type(), true)]
            }
            fn builders(capacity: usize) -> Self::Builders {
                <$t as OutType>::builder(capacity)
            }
            fn append(self, builders: &mut Self::Builders) {
                Value::append(self, builders);
            }
            fn finish(builders: Self::Builders) -> Vec<ArrayRef> {
                vec![finish(builders)]
            }
        }
    )*};
}

single_column_row!(
    bool,
    i8,
    i16,
    i32,
    i64,
    f32,
    f64,
    String,
    Vec<u8>,
    chrono::NaiveDate,
    chrono::NaiveDateTime
);

macro_rules! tuple_row {
    ($($V:ident $i:tt),*) => {
        impl<$($V: Value),*> Row for ($($V,)*) {
            type Builders = ($(<$V::Type as OutType>::Builder,)*);
            fn fields() -> Vec<(DataType, bool)> {
                vec![$((<$V::Type as OutType>::data_type(), $V::NULLABLE)),*]
            }
            fn builders(capacity: usize) -> Self::Builders {
                ($(<$V::Type as OutType>::builder(capacity),)*)
            }
            fn append(self, builders: &mut Self::Builders) {
                $(self.$i.append(&mut builders.$i);)*
            }
            fn finish(builders: Self::Builders) -> Vec<ArrayRef> {
                vec![$(finish(builders.$i)),*]
            }
        }
    };
}

tuple_row!(A 0);
tuple_row!(A 0, B 1);
tuple_row!(A 0, B 1, C 2);
tuple_row!(A 0, B 1, C 2, D 3);
tuple_row!(A 0, B 1, C 2, D 3, E 4);
tuple_row!(A 0, B 1, C 2, D 3, E 4, F 5);

/// What a typed table function returns for one input row: its rows as a
/// `Vec`, at most one row as an `Option`, or a `Result` of a `Vec` (an `Err`
/// fails the job with the function's name).
pub trait TableResult: 'static {
    /// One produced row.
    type Row: Row;
    /// The rows, or the error's message.
    fn into_rows(self) -> std::result::Result<Vec<Self::Row>, String>;
}

impl<R: Row> TableResult for Vec<R> {
    type Row = R;
    fn into_rows(self) -> std::result::Result<Vec<R>, String> {
        Ok(self)
    }
}

impl<R: Row> TableResult for Option<R> {
    type Row = R;
    fn into_rows(self) -> std::result::Result<Vec<R>, String> {
        Ok(self.into_iter().collect())
    }
}

impl<R: Row, E: Display + 'static> TableResult for std::result::Result<Vec<R>, E> {
    type Row = R;
    fn into_rows(self) -> std::result::Result<Vec<R>, String> {
        self.map_err(|e| e.to_string())
    }
}

/// A table function as the engine sees it: implement this for full control
/// (argument types that depend on the call, as `UNNEST` has).
pub trait TableUdfImpl: Debug + Send + Sync + 'static {
    /// The name SQL calls it by.
    fn name(&self) -> &str;
    /// The types to cast the call's arguments to, or a planning error.
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>>;
    /// The produced columns for those (coerced) argument types.
    fn output_fields(&self, arg_types: &[DataType]) -> Result<Vec<Field>>;
    /// Evaluates the function on every row of `args` (`rows` rows).
    fn invoke(&self, args: &[ArrayRef], rows: usize) -> Result<TableRows>;
}

/// A registered table function: a cheap handle the planner and the
/// streaming operator share.
#[derive(Clone)]
pub struct TableUdf {
    inner: Arc<dyn TableUdfImpl>,
}

impl TableUdf {
    /// A handle for `f`.
    pub fn new_from_impl(f: impl TableUdfImpl) -> Self {
        TableUdf { inner: Arc::new(f) }
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        self.inner.name()
    }

    /// See [`TableUdfImpl::coerce_types`].
    pub fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    /// See [`TableUdfImpl::output_fields`].
    pub fn output_fields(&self, arg_types: &[DataType]) -> Result<Vec<Field>> {
        self.inner.output_fields(arg_types)
    }

    /// Evaluates the function over a batch's argument columns, checking what
    /// it returns against `fields` (casting columns of another type) and
    /// turning a panic into an error that names the function.
    pub fn invoke(&self, args: &[ArrayRef], rows: usize, fields: &[Field]) -> Result<TableRows> {
        let name = self.name();
        let mut out = guarded(name, || self.inner.invoke(args, rows))?;
        let n = out.input_rows.len();
        if out.columns.len() != fields.len() {
            return exec_err!(
                "table function '{name}' returned {} columns instead of {}",
                out.columns.len(),
                fields.len()
            );
        }
        let mut prev = 0;
        for r in out.input_rows.iter() {
            let Some(r) = r.filter(|r| (*r as usize) < rows && *r >= prev) else {
                return exec_err!(
                    "table function '{name}' returned input rows out of order or out of range"
                );
            };
            prev = r;
        }
        for (c, f) in out.columns.iter_mut().zip(fields) {
            if c.len() != n {
                return exec_err!(
                    "table function '{name}' returned a column of {} rows for {n} input rows",
                    c.len()
                );
            }
            if c.data_type() != f.data_type() {
                *c = cast(c, f.data_type())?;
            }
        }
        Ok(out)
    }

    /// The Sluice table function behind a DataFusion table function, if it
    /// is one.
    pub fn from_datafusion(f: &Arc<dyn TableFunctionImpl>) -> Option<TableUdf> {
        let any: &dyn Any = f.as_ref();
        any.downcast_ref::<TableUdf>().cloned()
    }
}

impl Debug for TableUdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TableUdf({})", self.name())
    }
}

impl PartialEq for TableUdf {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for TableUdf {}

impl Hash for TableUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}

/// Lets DataFusion (and `SELECT * FROM TABLE(f('const'))` outside Sluice's
/// streaming planner) call the function with constant arguments.
impl TableFunctionImpl for TableUdf {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let mut values = Vec::new();
        for e in args.exprs() {
            let Expr::Literal(v, _) = e else {
                return plan_err!(
                    "table function '{}' needs constant arguments here; use LATERAL TABLE({}(..)) \
                     to call it per row",
                    self.name(),
                    self.name()
                );
            };
            values.push(v.clone());
        }
        let types: Vec<DataType> = values.iter().map(|v| v.data_type()).collect();
        let coerced = self.coerce_types(&types)?;
        let arrays = values
            .iter()
            .zip(&coerced)
            .map(|(v, t)| v.cast_to(t)?.to_array())
            .collect::<Result<Vec<_>>>()?;
        let fields = self.output_fields(&coerced)?;
        let out = self.invoke(&arrays, 1, &fields)?;
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new_with_options(
            Arc::clone(&schema),
            out.columns,
            &RecordBatchOptions::new().with_row_count(Some(out.input_rows.len())),
        )?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}

type Body = dyn Fn(&[ArrayRef], usize) -> Result<TableRows> + Send + Sync;

/// A table function built from Rust code.
///
/// ```
/// use sluice_udf::api::TableFunction;
/// // `LATERAL TABLE(split(s, ' ')) AS T(word, len)`
/// let split = TableFunction::new("split", |s: &str, sep: &str| {
///     s.split(sep).map(|w| (w.to_string(), w.len() as i64)).collect::<Vec<_>>()
/// })
/// .columns(["word", "len"]);
/// ```
#[derive(Clone)]
pub struct TableFunction {
    name: String,
    arg_types: Vec<DataType>,
    fields: Vec<Field>,
    /// Set when `columns` named a different number of columns.
    bad_columns: Option<String>,
    body: Arc<Body>,
}

impl TableFunction {
    /// A table function from a closure called once per input row; it
    /// returns the row's output rows (`Vec<Row>`, `Option<Row>` or
    /// `Result<Vec<Row>, E>`), where a row is a value or a tuple of values.
    /// Columns are named `f0`, `f1`, .. unless renamed with
    /// [`columns`](Self::columns) or by the query's alias.
    pub fn new<Args, R, F>(name: impl Into<String>, f: F) -> Self
    where
        F: TableFn<Args, R>,
        R: TableResult,
    {
        let name = name.into();
        let fields = <R::Row as Row>::fields()
            .into_iter()
            .enumerate()
            .map(|(i, (t, nullable))| Field::new(format!("f{i}"), t, nullable))
            .collect();
        let fname = name.clone();
        TableFunction {
            arg_types: F::arg_types(),
            fields,
            bad_columns: None,
            body: Arc::new(move |args: &[ArrayRef], rows: usize| f.call(&fname, args, rows)),
            name,
        }
    }

    /// A table function from a body that works on whole argument arrays
    /// (each `rows` long, already cast to `arg_types`) and returns the rows
    /// produced for all of them at once.
    pub fn vectorized(
        name: impl Into<String>,
        arg_types: Vec<DataType>,
        fields: Vec<Field>,
        body: impl Fn(&[ArrayRef], usize) -> Result<TableRows> + Send + Sync + 'static,
    ) -> Self {
        TableFunction {
            name: name.into(),
            arg_types,
            fields,
            bad_columns: None,
            body: Arc::new(body),
        }
    }

    /// Names the produced columns (a query's `AS T(a, b)` renames them again).
    pub fn columns<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        if names.len() != self.fields.len() {
            self.bad_columns = Some(format!(
                "table function '{}' names {} columns but produces {}",
                self.name,
                names.len(),
                self.fields.len()
            ));
            return self;
        }
        self.fields = self
            .fields
            .iter()
            .zip(names)
            .map(|(f, n)| f.as_ref().clone().with_name(n))
            .collect();
        self
    }
}

impl Debug for TableFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TableFunction")
            .field("name", &self.name)
            .field("arg_types", &self.arg_types)
            .field("fields", &self.fields)
            .finish()
    }
}

impl TableUdfImpl for TableFunction {
    fn name(&self) -> &str {
        &self.name
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if let Some(e) = &self.bad_columns {
            return plan_err!("{e}");
        }
        coerce_args(&self.name, &self.arg_types, arg_types)
    }

    fn output_fields(&self, _arg_types: &[DataType]) -> Result<Vec<Field>> {
        Ok(self.fields.clone())
    }

    fn invoke(&self, args: &[ArrayRef], rows: usize) -> Result<TableRows> {
        (self.body)(args, rows)
    }
}

impl From<TableFunction> for TableUdf {
    fn from(f: TableFunction) -> Self {
        TableUdf::new_from_impl(f)
    }
}
