//! The user-defined function API: scalar, aggregate and table functions
//! written in Rust, on top of DataFusion's `ScalarUDF` and `AggregateUDF`
//! (so they work wherever built-in functions do) and Sluice's own table
//! function interface (run per batch by the streaming correlate operator).
//!
//! ```
//! use sluice_udf::api::{AggregateFunction, ScalarFunction, TableFunction};
//!
//! let count_char = ScalarFunction::new("count_char", |s: &str, c: &str| {
//!     s.matches(c).count() as i64
//! });
//! let total = AggregateFunction::new(
//!     "total",
//!     || 0i64,
//!     |acc: &mut i64, v: i64| *acc += v,
//!     |acc: &i64| *acc,
//! )
//! .retract(|acc: &mut i64, v: i64| *acc -= v)
//! .merge(|acc: &mut i64, other: &i64| *acc += *other);
//! let split = TableFunction::new("split", |s: &str| {
//!     s.split(' ').map(str::to_string).collect::<Vec<_>>()
//! });
//! # let _ = (count_char, total, split);
//! ```
//!
//! Register them on a session with `register_udf`, `register_udaf` and
//! `register_udtf`. See `docs/udf.md` for the rules (types, NULLs, errors).

mod aggregate;
mod call;
mod coerce;
mod guard;
mod scalar;
mod state;
mod table;
pub mod types;
mod unnest;

pub use aggregate::AggregateFunction;
pub use call::{AccumulateFn, ScalarFn, TableFn};
pub use coerce::{coerce_args, sql_type};
pub use guard::guarded;
pub use scalar::ScalarFunction;
pub use state::AccumulatorState;
pub use table::{Row, TableFunction, TableResult, TableRows, TableUdf, TableUdfImpl};
pub use unnest::Unnest;

/// What [`accumulator_state!`](crate::accumulator_state) expands to refers to.
#[doc(hidden)]
pub mod __macro_support {
    pub use datafusion::arrow::array::ArrayRef;
    pub use datafusion::arrow::datatypes::Field;
    pub use datafusion::common::ScalarValue;
}
