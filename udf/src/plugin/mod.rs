//! Loading user functions from plugin libraries at run time
//! (`CREATE FUNCTION f AS 'symbol' USING LIBRARY '/path/libx.so'`).
//!
//! A plugin exports one entry point per function (see the
//! `sluice-udf-plugin` crate for the ABI and the SDK). Loading checks the
//! ABI version and the declared signature before the function is
//! registered; calls then go through the Arrow C Data Interface, so data
//! stays in Arrow arrays on both sides. A panic inside a plugin comes back
//! as an error naming the function and fails only its job.

mod aggregate;
mod error;
mod library;
mod scalar;
mod status;
mod table;

use std::path::PathBuf;

use datafusion::arrow::datatypes::Field;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

pub use error::PluginError;
pub use library::{Kind, resolve};

use crate::api::{TableUdf, sql_type};

/// A function loaded from a plugin, ready to register.
pub struct PluginFunction {
    /// Its kind.
    pub kind: Kind,
    /// The library it came from (canonical path).
    pub library: PathBuf,
    /// The symbol it was exported under.
    pub symbol: String,
    /// Its signature in Flink's type names, e.g. `(s STRING) -> BIGINT`.
    pub signature: String,
    /// Whether equal arguments always give equal results.
    pub deterministic: bool,
    /// The function itself.
    pub function: LoadedFunction,
}

/// The registrable form of a [`PluginFunction`].
pub enum LoadedFunction {
    /// A scalar function.
    Scalar(ScalarUDF),
    /// An aggregate function.
    Aggregate(AggregateUDF),
    /// A table function.
    Table(TableUdf),
}

/// Loads the function `symbol` from `library` (resolved with [`resolve`])
/// under the SQL name `name`.
pub fn load(
    library: &str,
    symbol: &str,
    name: &str,
    plugin_dirs: &[PathBuf],
) -> Result<PluginFunction, PluginError> {
    let path = resolve(library, plugin_dirs)?;
    let d = library::open(&path, symbol, name)?;
    let signature = format!(
        "({}) -> {}",
        fields(&d.arguments),
        match d.kind {
            Kind::Table => format!("ROW<{}>", fields(&d.result)),
            _ => sql_type(d.result[0].data_type()),
        }
    );
    let (kind, deterministic) = (d.kind, d.deterministic);
    let function = match kind {
        Kind::Scalar => LoadedFunction::Scalar(scalar::scalar_function(d).into_udf()),
        Kind::Aggregate => LoadedFunction::Aggregate(aggregate::aggregate_function(d)),
        Kind::Table => LoadedFunction::Table(table::table_function(d).into()),
    };
    Ok(PluginFunction {
        kind,
        library: path,
        symbol: symbol.to_string(),
        signature,
        deterministic,
        function,
    })
}

fn fields(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| format!("{} {}", f.name(), sql_type(f.data_type())))
        .collect::<Vec<_>>()
        .join(", ")
}
