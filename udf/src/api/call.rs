//! Calling typed Rust closures over Arrow columns: one implementation per
//! arity (0 to 6 parameters) of the three closure shapes a UDF has — a
//! scalar function `|a, b| -> R`, an aggregate's `accumulate`/`retract`
//! `|acc: &mut Acc, a, b|`, and a table function `|a, b| -> Vec<Row>`.
//!
//! Each parameter's Rust type says how its argument is read (see
//! [`types`](super::types)); a closure may borrow strings and bytes from
//! the batch (`|s: &str|`) because it is called through a higher-ranked
//! bound. The first bound (`Fn(A, B) -> R`) only lets the compiler infer
//! the parameter types from the closure.

use datafusion::arrow::array::{ArrayRef, UInt32Builder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};

use super::table::{Row, TableResult, TableRows};
use super::types::{Arg, ArgType, Done, OutType, Ret, Value, downcast, finish};

/// A typed closure usable as a scalar function.
pub trait ScalarFn<Args, R>: Send + Sync + 'static {
    /// The SQL types of the parameters.
    fn arg_types() -> Vec<DataType>;
    /// Runs the closure on every row of `args` (`rows` rows).
    fn call(&self, name: &str, args: &[ArrayRef], rows: usize) -> Result<ArrayRef>;
}

/// A typed closure usable as an aggregate's `accumulate` or `retract`.
pub trait AccumulateFn<Acc, Args, D>: Send + Sync + 'static {
    /// The SQL types of the parameters after the accumulator.
    fn arg_types() -> Vec<DataType>;
    /// Feeds every row of `args` to `acc`.
    fn call(&self, name: &str, acc: &mut Acc, args: &[ArrayRef]) -> Result<()>;
}

/// A typed closure usable as a table function.
pub trait TableFn<Args, R>: Send + Sync + 'static {
    /// The SQL types of the parameters.
    fn arg_types() -> Vec<DataType>;
    /// Runs the closure on every row of `args`, collecting the rows it
    /// produces and the input row each came from.
    fn call(&self, name: &str, args: &[ArrayRef], rows: usize) -> Result<TableRows>;
}

fn check_arity(name: &str, args: &[ArrayRef], want: usize) -> Result<()> {
    if args.len() != want {
        return exec_err!(
            "function '{name}' takes {want} arguments but was called with {}",
            args.len()
        );
    }
    Ok(())
}

macro_rules! arity {
    ($n:expr; $($A:ident $a:ident $i:tt),*) => {
        impl<F, R, $($A),*> ScalarFn<($($A,)*), R> for F
        where
            F: Fn($($A),*) -> R + for<'x> Fn($($A::Ref<'x>),*) -> R + Send + Sync + 'static,
            R: Ret,
            $($A: Arg,)*
        {
            fn arg_types() -> Vec<DataType> {
                vec![$(<$A::Type as ArgType>::data_type()),*]
            }

            fn call(&self, name: &str, args: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
                #[allow(unused_variables, non_snake_case)]
                fn run<G, R, $($A: Arg),*>(
                    f: &G,
                    name: &str,
                    args: &[ArrayRef],
                    rows: usize,
                ) -> Result<ArrayRef>
                where
                    G: for<'x> Fn($($A::Ref<'x>),*) -> R,
                    R: Ret,
                {
                    check_arity(name, args, $n)?;
                    $(let $a = downcast::<$A>(&args[$i], name)?;)*
                    let mut out = <<R::Value as Value>::Type as OutType>::builder(rows);
                    for row in 0..rows {
                        $(
                            let Some($a) = $A::get($a, row) else {
                                <<R::Value as Value>::Type as OutType>::append_null(&mut out);
                                continue;
                            };
                        )*
                        match f($($a),*).into_value() {
                            Ok(v) => v.append(&mut out),
                            Err(e) => return exec_err!("function '{name}' failed: {e}"),
                        }
                    }
                    Ok(finish(out))
                }
                run::<F, R, $($A),*>(self, name, args, rows)
            }
        }

        impl<F, Acc, D, $($A),*> AccumulateFn<Acc, ($($A,)*), D> for F
        where
            F: Fn(&mut Acc, $($A),*) -> D
                + for<'x> Fn(&mut Acc, $($A::Ref<'x>),*) -> D
                + Send
                + Sync
                + 'static,
            D: Done,
            $($A: Arg,)*
        {
            fn arg_types() -> Vec<DataType> {
                vec![$(<$A::Type as ArgType>::data_type()),*]
            }

            fn call(&self, name: &str, acc: &mut Acc, args: &[ArrayRef]) -> Result<()> {
                #[allow(unused_variables, non_snake_case)]
                fn run<G, Acc, D, $($A: Arg),*>(
                    f: &G,
                    name: &str,
                    acc: &mut Acc,
                    args: &[ArrayRef],
                ) -> Result<()>
                where
                    G: for<'x> Fn(&mut Acc, $($A::Ref<'x>),*) -> D,
                    D: Done,
                {
                    check_arity(name, args, $n)?;
                    let Some(rows) = args.first().map(|a| a.len()) else {
                        return exec_err!("aggregate function '{name}' needs at least one parameter");
                    };
                    $(let $a = downcast::<$A>(&args[$i], name)?;)*
                    for row in 0..rows {
                        $(let Some($a) = $A::get($a, row) else { continue };)*
                        if let Err(e) = f(acc, $($a),*).into_result() {
                            return exec_err!("aggregate function '{name}' failed: {e}");
                        }
                    }
                    Ok(())
                }
                run::<F, Acc, D, $($A),*>(self, name, acc, args)
            }
        }

        impl<F, R, $($A),*> TableFn<($($A,)*), R> for F
        where
            F: Fn($($A),*) -> R + for<'x> Fn($($A::Ref<'x>),*) -> R + Send + Sync + 'static,
            R: TableResult,
            $($A: Arg,)*
        {
            fn arg_types() -> Vec<DataType> {
                vec![$(<$A::Type as ArgType>::data_type()),*]
            }

            fn call(&self, name: &str, args: &[ArrayRef], rows: usize) -> Result<TableRows> {
                #[allow(unused_variables, non_snake_case)]
                fn run<G, R, $($A: Arg),*>(
                    f: &G,
                    name: &str,
                    args: &[ArrayRef],
                    rows: usize,
                ) -> Result<TableRows>
                where
                    G: for<'x> Fn($($A::Ref<'x>),*) -> R,
                    R: TableResult,
                {
                    check_arity(name, args, $n)?;
                    $(let $a = downcast::<$A>(&args[$i], name)?;)*
                    let mut out = <R::Row as Row>::builders(rows);
                    let mut input_rows = UInt32Builder::with_capacity(rows);
                    for row in 0..rows {
                        $(let Some($a) = $A::get($a, row) else { continue };)*
                        let produced = match f($($a),*).into_rows() {
                            Ok(p) => p,
                            Err(e) => return exec_err!("table function '{name}' failed: {e}"),
                        };
                        for r in produced {
                            r.append(&mut out);
                            input_rows.append_value(row as u32);
                        }
                    }
                    Ok(TableRows {
                        input_rows: input_rows.finish(),
                        columns: <R::Row as Row>::finish(out),
                    })
                }
                run::<F, R, $($A),*>(self, name, args, rows)
            }
        }
    };
}

arity!(0;);
arity!(1; A a 0);
arity!(2; A a 0, B b 1);
arity!(3; A a 0, B b 1, C c 2);
arity!(4; A a 0, B b 1, C c 2, D2 d 3);
arity!(5; A a 0, B b 1, C c 2, D2 d 3, E e 4);
arity!(6; A a 0, B b 1, C c 2, D2 d 3, E e 4, G2 g 5);
