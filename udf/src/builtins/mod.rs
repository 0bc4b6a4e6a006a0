//! Flink's built-in functions that DataFusion lacks or gives other
//! semantics, one module per family. Where DataFusion's function of the
//! same name already behaves as Flink's (`CONCAT_WS`, `INSTR`, `INITCAP`,
//! `NULLIF`, `UUID`, `CARDINALITY`, ...) it is kept.

pub mod aggregate;
pub mod collection;
pub mod conditional;
pub mod datetime;
pub mod function;
pub mod hash;
pub mod json;
pub mod random;
pub mod string;

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

/// Every Flink scalar built-in.
pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    let mut f = Vec::new();
    f.extend(datetime::functions());
    f.extend(string::functions());
    f.extend(json::functions());
    f.extend(hash::functions());
    f.push(conditional::if_udf());
    f.push(conditional::ifnull_udf());
    f.push(collection::array_contains_udf());
    f.push(random::rand_integer());
    f.push(collection::element_udf());
    f
}
