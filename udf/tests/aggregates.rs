//! Flink's aggregate built-ins run through DataFusion's own executor (the
//! streaming engine has no aggregation yet), including the retracting
//! accumulators an OVER window frame uses.

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;

async fn run(sql: &str) -> String {
    let ctx = SessionContext::new();
    for f in sluice_udf::flink_aggregates() {
        ctx.register_udaf(f.as_ref().clone());
    }
    for f in sluice_udf::builtins::aggregate::window_functions() {
        ctx.register_udwf(f.as_ref().clone());
    }
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    pretty_format_batches(&batches).unwrap().to_string()
}

const INPUT: &str = "(VALUES (1, 'a', 10), (1, CAST(NULL AS VARCHAR), 11), (1, 'b', 12), \
                     (2, CAST(NULL AS VARCHAR), 20), (1, 'a', 13)) AS t(k, s, n)";

#[tokio::test]
async fn listagg_skips_nulls_and_defaults_to_comma() {
    let out = run(&format!(
        "SELECT k, LISTAGG(s) AS l, LISTAGG(s, '|') AS p FROM {INPUT} GROUP BY k ORDER BY k"
    ))
    .await;
    let expected = "\
+---+-------+-------+
| k | l     | p     |
+---+-------+-------+
| 1 | a,b,a | a|b|a |
| 2 |       |       |
+---+-------+-------+";
    assert_eq!(out, expected);
}

#[tokio::test]
async fn first_and_last_value_skip_nulls() {
    let out = run(&format!(
        "SELECT k, FIRST_VALUE(s) AS f, LAST_VALUE(s) AS l, LAST_VALUE(n) AS n \
         FROM {INPUT} GROUP BY k ORDER BY k"
    ))
    .await;
    let expected = "\
+---+---+---+----+
| k | f | l | n  |
+---+---+---+----+
| 1 | a | a | 13 |
| 2 |   |   | 20 |
+---+---+---+----+";
    assert_eq!(out, expected);
}

#[tokio::test]
async fn retracting_accumulators_in_a_sliding_frame() {
    // A two-row frame adds one row and retracts one per step.
    let out = run(&format!(
        "SELECT n, LISTAGG(s) OVER w AS l, FIRST_VALUE(s) OVER w AS f, LAST_VALUE(s) OVER w AS la \
         FROM {INPUT} WINDOW w AS (ORDER BY n ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) ORDER BY n"
    ))
    .await;
    let expected = "\
+----+-----+---+----+
| n  | l   | f | la |
+----+-----+---+----+
| 10 | a   | a | a  |
| 11 | a   | a | a  |
| 12 | b   | b | b  |
| 13 | b,a | b | a  |
| 20 | a   | a | a  |
+----+-----+---+----+";
    assert_eq!(out, expected);
}
