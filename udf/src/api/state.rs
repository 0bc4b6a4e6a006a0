//! Accumulators as Arrow values. An aggregate's accumulator is written out
//! as one or more Arrow columns — for checkpoints, and for merging partial
//! results (window panes, sessions, two-phase aggregation) — and read back.
//!
//! Implemented for the SQL value types (`i64`, `f64`, `String`, ..),
//! `Option`s of them, `Vec`s of them (an `ARRAY` column) and tuples of up to
//! six states. For a struct, use [`accumulator_state!`](crate::accumulator_state)
//! or implement the trait's three methods.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::Field;
use datafusion::common::ScalarValue;

use super::types::{ArgType, OutType};

/// An accumulator that can be written to and read from Arrow columns.
pub trait AccumulatorState: Sized + Send + Sync + 'static {
    /// The columns the state is stored in (their names are prefixed with the
    /// function's when DataFusion sees them).
    fn state_fields() -> Vec<Field>;
    /// Appends the state's values, one per field.
    fn to_state(&self, out: &mut Vec<ScalarValue>);
    /// Reads the state stored at `row` of `columns` (one per field).
    fn from_state(columns: &[ArrayRef], row: usize) -> Result<Self, String>;
}

fn column<T: ArgType>(columns: &[ArrayRef]) -> Result<&T::Array, String> {
    let c = columns
        .first()
        .ok_or_else(|| "accumulator state has too few columns".to_string())?;
    c.as_any()
        .downcast_ref::<T::Array>()
        .ok_or_else(|| format!("accumulator state column of type {}", c.data_type()))
}

macro_rules! value_state {
    ($($t:ty),*) => {$(
        impl AccumulatorState for $t {
            fn state_fields() -> Vec<Field> {
                vec![Field::new("v", <$t as OutType>::data_type(), true)]
            }
            fn to_state(&self, out: &mut Vec<ScalarValue>) {
                out.push(<$t as OutType>::into_scalar(Some(self.clone())));
            }
            fn from_state(columns: &[ArrayRef], row: usize) -> Result<Self, String> {
                let a = column::<$t>(columns)?;
                if a.is_null(row) {
                    return Err("NULL in a non-NULL accumulator state".to_string());
                }
                Ok(<$t as ArgType>::value(a, row))
            }
        }
        impl AccumulatorState for Option<$t> {
            fn state_fields() -> Vec<Field> {
                vec![Field::new("v", <$t as OutType>::data_type(), true)]
            }
            fn to_state(&self, out: &mut Vec<ScalarValue>) {
                out.push(<$t as OutType>::into_scalar(self.clone()));
            }
            fn from_state(columns: &[ArrayRef], row: usize) -> Result<Self, String> {
                let a = column::<$t>(columns)?;
                Ok((!a.is_null(row)).then(|| <$t as ArgType>::value(a, row)))
            }
        }
        impl AccumulatorState for Vec<$t> {
            fn state_fields() -> Vec<Field> {
                vec![Field::new_list(
                    "v",
                    Field::new_list_field(<$t as OutType>::data_type(), true),
                    true,
                )]
            }
            fn to_state(&self, out: &mut Vec<ScalarValue>) {
                let values: Vec<ScalarValue> = self
                    .iter()
                    .map(|v| <$t as OutType>::into_scalar(Some(v.clone())))
                    .collect();
                out.push(ScalarValue::List(ScalarValue::new_list_nullable(
                    &values,
                    &<$t as OutType>::data_type(),
                )));
            }
            fn from_state(columns: &[ArrayRef], row: usize) -> Result<Self, String> {
                let c = columns
                    .first()
                    .ok_or_else(|| "accumulator state has too few columns".to_string())?;
                let Some(list) = c.as_list_opt::<i32>() else {
                    return Err(format!("accumulator state column of type {}", c.data_type()));
                };
                if list.is_null(row) {
                    return Ok(Vec::new());
                }
                let values = [list.value(row)];
                let a = column::<$t>(&values)?;
                Ok((0..a.len())
                    .filter(|i| !a.is_null(*i))
                    .map(|i| <$t as ArgType>::value(a, i))
                    .collect())
            }
        }
    )*};
}

value_state!(
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

macro_rules! tuple_state {
    ($($S:ident $i:tt),*) => {
        impl<$($S: AccumulatorState),*> AccumulatorState for ($($S,)*) {
            fn state_fields() -> Vec<Field> {
                let mut fields = Vec::new();
                $(
                    for f in $S::state_fields() {
                        let name = format!("{}.{}", $i, f.name());
                        fields.push(f.with_name(name));
                    }
                )*
                fields
            }
            fn to_state(&self, out: &mut Vec<ScalarValue>) {
                $(self.$i.to_state(out);)*
            }
            #[allow(unused_assignments)]
            fn from_state(columns: &[ArrayRef], row: usize) -> Result<Self, String> {
                let mut at = 0;
                Ok(($(
                    {
                        let n = $S::state_fields().len();
                        let part = columns
                            .get(at..at + n)
                            .ok_or_else(|| "accumulator state has too few columns".to_string())?;
                        at += n;
                        $S::from_state(part, row)?
                    },
                )*))
            }
        }
    };
}

tuple_state!(A 0);
tuple_state!(A 0, B 1);
tuple_state!(A 0, B 1, C 2);
tuple_state!(A 0, B 1, C 2, D 3);
tuple_state!(A 0, B 1, C 2, D 3, E 4);
tuple_state!(A 0, B 1, C 2, D 3, E 4, F 5);

/// Declares a struct whose fields are all [`AccumulatorState`]s and makes
/// the struct one, field by field (each field's columns are named after it).
///
/// ```
/// sluice_udf::accumulator_state! {
///     /// Sum and total weight of a weighted average.
///     #[derive(Debug, Default, Clone)]
///     pub struct WeightedAvg {
///         pub sum: f64,
///         pub weight: i64,
///     }
/// }
/// ```
#[macro_export]
macro_rules! accumulator_state {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$fmeta])* $fvis $field: $ty),*
        }

        impl $crate::api::AccumulatorState for $name {
            fn state_fields() -> ::std::vec::Vec<$crate::api::__macro_support::Field> {
                let mut fields = ::std::vec::Vec::new();
                $(
                    for f in <$ty as $crate::api::AccumulatorState>::state_fields() {
                        let name = format!("{}.{}", stringify!($field), f.name());
                        fields.push(f.with_name(name));
                    }
                )*
                fields
            }
            fn to_state(&self, out: &mut ::std::vec::Vec<$crate::api::__macro_support::ScalarValue>) {
                $(<$ty as $crate::api::AccumulatorState>::to_state(&self.$field, out);)*
            }
            #[allow(unused_assignments)]
            fn from_state(
                columns: &[$crate::api::__macro_support::ArrayRef],
                row: usize,
            ) -> ::std::result::Result<Self, ::std::string::String> {
                let mut at = 0;
                $(
                    let n = <$ty as $crate::api::AccumulatorState>::state_fields().len();
                    let part = columns
                        .get(at..at + n)
                        .ok_or_else(|| "accumulator state has too few columns".to_string())?;
                    at += n;
                    let $field = <$ty as $crate::api::AccumulatorState>::from_state(part, row)?;
                )*
                Ok($name { $($field),* })
            }
        }
    };
}
