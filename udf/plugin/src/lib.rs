//! Writing Sluice UDF plugins: shared libraries loaded at run time with
//!
//! ```sql
//! CREATE FUNCTION count_char AS 'count_char' USING LIBRARY '/path/libmy_udfs.so';
//! ```
//!
//! A plugin is a `cdylib` crate that depends on this crate and `arrow-array`
//! only (not on Sluice or DataFusion), implements [`ScalarUdf`],
//! [`AggregateUdf`] or [`TableUdf`], and exports each function under a
//! symbol with [`export_scalar!`], [`export_aggregate!`] or
//! [`export_table!`]:
//!
//! ```
//! use std::sync::Arc;
//! use sluice_udf_plugin::arrow::array::{ArrayRef, Int64Array};
//! use sluice_udf_plugin::arrow::datatypes::{DataType, Field};
//! use sluice_udf_plugin::{Result, ScalarUdf, export_scalar};
//!
//! struct PlusOne;
//!
//! impl ScalarUdf for PlusOne {
//!     fn arguments(&self) -> Vec<Field> {
//!         vec![Field::new("x", DataType::Int64, true)]
//!     }
//!     fn result(&self) -> Field {
//!         Field::new("y", DataType::Int64, true)
//!     }
//!     fn invoke(&self, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
//!         let x = args[0].as_any().downcast_ref::<Int64Array>().ok_or("not BIGINT")?;
//!         Ok(Arc::new(x.iter().map(|v| v.map(|v| v + 1)).collect::<Int64Array>()))
//!     }
//! }
//!
//! export_scalar!(plus_one, PlusOne);
//! ```
//!
//! The ABI those macros speak is in [`abi`] (version [`abi::ABI_VERSION`]).

pub mod abi;
pub mod columns;
pub mod export;
mod function;

pub use function::{Accumulator, AggregateUdf, Error, Result, ScalarUdf, TableUdf};

/// The arrow crates plugins build their arrays with.
pub mod arrow {
    pub use arrow_array as array;
    pub use arrow_schema as datatypes;
}

/// Exports a [`ScalarUdf`] value under the symbol `$symbol`.
#[macro_export]
macro_rules! export_scalar {
    ($symbol:ident, $udf:expr) => {
        $crate::__export_entry_point!($symbol, $crate::export::scalar, $udf);
    };
}

/// Exports an [`AggregateUdf`] value under the symbol `$symbol`.
#[macro_export]
macro_rules! export_aggregate {
    ($symbol:ident, $udf:expr) => {
        $crate::__export_entry_point!($symbol, $crate::export::aggregate, $udf);
    };
}

/// Exports a [`TableUdf`] value under the symbol `$symbol`.
#[macro_export]
macro_rules! export_table {
    ($symbol:ident, $udf:expr) => {
        $crate::__export_entry_point!($symbol, $crate::export::table, $udf);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_entry_point {
    ($symbol:ident, $export:path, $udf:expr) => {
        /// A Sluice UDF plugin entry point (see `sluice_udf_plugin::abi`).
        #[unsafe(no_mangle)]
        pub extern "C" fn $symbol() -> *const $crate::abi::SluiceFunction {
            static EXPORTED: ::std::sync::OnceLock<$crate::export::Exported> =
                ::std::sync::OnceLock::new();
            // A panic while building the function must not unwind into the
            // host: it sees a null descriptor and says so.
            ::std::panic::catch_unwind(|| {
                EXPORTED
                    .get_or_init(|| $export(stringify!($symbol), $udf))
                    .as_ptr()
            })
            .unwrap_or(::std::ptr::null())
        }
    };
}
