//! The Flink SQL dialect: a sqlparser `Dialect` and a wrapper parser for the
//! statements stock sqlparser does not know.

mod ast;
mod complete;
mod ddl;
mod dialect;
pub(crate) mod error;
mod function_ddl;
mod hints;
mod parser;
pub mod types;

pub use ast::*;
pub use complete::statement_is_complete;
pub use dialect::{FlinkDialect, TABLE_ARG};
pub use parser::parse_sql;
