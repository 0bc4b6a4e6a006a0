//! The Flink SQL dialect: a sqlparser `Dialect` and a wrapper parser for the
//! statements stock sqlparser does not know.

mod ast;
mod ddl;
mod dialect;
mod error;
mod hints;
mod parser;
pub mod types;

pub use ast::*;
pub use dialect::FlinkDialect;
pub use parser::parse_sql;

/// True when `text` holds at least one complete statement (ends with `;`
/// outside strings and comments; for `EXECUTE STATEMENT SET BEGIN ..` only
/// after `END;`). The shell reads lines until this holds.
pub fn statement_is_complete(text: &str) -> bool {
    text.trim_end().ends_with(';')
}
