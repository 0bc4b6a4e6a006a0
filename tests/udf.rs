//! User-defined functions written in Rust, registered on the facade and run
//! by streaming jobs: a scalar in a projection, an aggregate in windows and
//! in an updating GROUP BY (so `retract` runs), a table function through
//! `LATERAL TABLE` and `LEFT JOIN LATERAL`, and `CROSS JOIN UNNEST`.

mod udf_support;

use datafusion::arrow::array::{Array, AsArray, Int64Array};
use datafusion::arrow::compute::kernels::numeric::add;
use datafusion::arrow::datatypes::DataType;
use sluice::udf::{AggregateFunction, ScalarFunction, TableFunction};
use sluice::{Sluice, StatementResult};
use udf_support::{LINES, error, rows};

/// A session with the test functions and the `lines` table.
async fn session() -> Sluice {
    let sluice = Sluice::new();
    sluice
        .register_udf(ScalarFunction::new("count_char", |s: &str, c: &str| {
            s.matches(c).count() as i64
        }))
        .expect("count_char");
    sluice
        .register_udf(ScalarFunction::new("quoted", |s: Option<&str>| -> String {
            s.map_or_else(|| "null".to_string(), |s| format!("'{s}'"))
        }))
        .expect("quoted");
    sluice
        .register_udf(ScalarFunction::vectorized(
            "plus_one",
            vec![DataType::Int64],
            DataType::Int64,
            |args, _rows| Ok(add(&args[0], &Int64Array::new_scalar(1))?),
        ))
        .expect("plus_one");
    sluice
        .register_udf(ScalarFunction::new("boom", |s: &str| -> i64 {
            if s == "x" {
                panic!("cannot take x");
            }
            1
        }))
        .expect("boom");
    sluice.register_udaf(weighted_avg()).expect("weighted_avg");
    sluice
        .register_udaf(AggregateFunction::new(
            "plain_sum",
            || 0i64,
            |acc: &mut i64, v: i64| *acc += v,
            |acc: &i64| *acc,
        ))
        .expect("plain_sum");
    sluice
        .register_udtf(
            TableFunction::new("split", |s: &str, sep: &str| {
                s.split(sep)
                    .filter(|w| !w.is_empty())
                    .map(|w| (w.to_string(), w.len() as i32))
                    .collect::<Vec<_>>()
            })
            .columns(["word", "len"]),
        )
        .expect("split");
    sluice.execute_sql(LINES).await.expect("lines");
    sluice
}

/// `weighted_avg(value, weight)`: retract and merge included.
fn weighted_avg() -> AggregateFunction<(i64, i64), (i64, i64)> {
    AggregateFunction::new(
        "weighted_avg",
        || (0i64, 0i64),
        |acc: &mut (i64, i64), v: i64, w: i64| {
            acc.0 += v * w;
            acc.1 += w;
        },
        |acc: &(i64, i64)| (acc.1 != 0).then(|| acc.0 as f64 / acc.1 as f64),
    )
    .retract(|acc: &mut (i64, i64), v: i64, w: i64| {
        acc.0 -= v * w;
        acc.1 -= w;
    })
    .merge(|acc: &mut (i64, i64), other: &(i64, i64)| {
        acc.0 += other.0;
        acc.1 += other.1;
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scalar_functions_in_a_projection() {
    let s = session().await;
    let got = rows(
        &s,
        "SELECT id, count_char(s, 'o'), quoted(s), plus_one(id), COUNT_CHAR(s, ' ') FROM lines",
    )
    .await;
    assert_eq!(
        got,
        vec![
            "1 2 'hello world' 2 1",
            "2 NULL null 3 NULL",
            "3 0 'x' 4 0",
            "4 0 'a b c' 5 2",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_scalar_fails_the_job_with_its_name() {
    let s = session().await;
    let e = error(&s, "SELECT id, boom(s) FROM lines").await;
    assert!(
        e.contains("user-defined function 'boom' panicked: cannot take x"),
        "{e}"
    );
    // The session keeps working.
    assert_eq!(rows(&s, "SELECT count_char('aa', 'a')").await, vec!["2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_argument_types_are_a_planning_error() {
    let s = session().await;
    let e = error(&s, "SELECT count_char(ts, 1, 2) FROM lines").await;
    assert!(
        e.contains("Invalid call to function 'count_char': it takes (STRING, STRING)"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregate_in_tumbling_and_hopping_windows() {
    let s = session().await;
    let got = rows(
        &s,
        "SELECT window_start, window_end, weighted_avg(id, id), plain_sum(id)
         FROM TABLE(TUMBLE(TABLE lines, DESCRIPTOR(ts), INTERVAL '10' SECOND))
         GROUP BY window_start, window_end",
    )
    .await;
    assert_eq!(
        got,
        vec![
            "2024-01-01 00:00:00.000 2024-01-01 00:00:10.000 2.3333333333333335 6",
            "2024-01-01 00:00:10.000 2024-01-01 00:00:20.000 4.0 4",
        ]
    );
    // HOP merges pane accumulators: `merge` runs.
    let got = rows(
        &s,
        "SELECT window_start, window_end, weighted_avg(id, id)
         FROM TABLE(HOP(TABLE lines, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND))
         GROUP BY window_start, window_end",
    )
    .await;
    assert_eq!(
        got,
        vec![
            "2023-12-31 23:59:55.000 2024-01-01 00:00:05.000 1.6666666666666667",
            "2024-01-01 00:00:00.000 2024-01-01 00:00:10.000 2.3333333333333335",
            "2024-01-01 00:00:05.000 2024-01-01 00:00:15.000 3.5714285714285716",
            "2024-01-01 00:00:10.000 2024-01-01 00:00:20.000 4.0",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregate_without_merge_in_a_hopping_window_names_itself() {
    let s = session().await;
    let e = error(
        &s,
        "SELECT window_start, window_end, plain_sum(id)
         FROM TABLE(HOP(TABLE lines, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND))
         GROUP BY window_start, window_end",
    )
    .await;
    assert!(
        e.contains("aggregate function 'plain_sum' has no merge"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregate_over_retracting_input_retracts() {
    let s = session().await;
    // The inner GROUP BY updates each line's count; the outer one reads
    // those updates, so every -U retracts from weighted_avg.
    let got = rows(
        &s,
        "SELECT c, weighted_avg(id, c) FROM (
           SELECT MAX(id) AS id, COUNT(*) AS c FROM lines GROUP BY id / 3
         ) GROUP BY c",
    )
    .await;
    // Group 0 (ids 1, 2) and group 1 (ids 3, 4) each go from count 1 to
    // count 2: the count-1 row is retracted from weighted_avg both times.
    assert_eq!(
        got,
        vec![
            "+I 1 1.0", "-D 1 1.0", "+I 2 2.0", "+I 1 3.0", "-D 1 3.0", "-U 2 2.0", "+U 2 3.0",
        ]
    );
    let e = error(
        &s,
        "SELECT c, plain_sum(c) FROM (SELECT id, COUNT(*) AS c FROM lines GROUP BY id) GROUP BY c",
    )
    .await;
    // Planning fails, naming the function and what it lacks.
    assert!(e.contains("plain_sum") && e.contains("retract"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_function_with_lateral_table() {
    let s = session().await;
    let got = rows(
        &s,
        "SELECT id, word, len FROM lines, LATERAL TABLE(split(s, ' ')) AS T(word, len)",
    )
    .await;
    assert_eq!(
        got,
        vec!["1 hello 5", "1 world 5", "3 x 1", "4 a 1", "4 b 1", "4 c 1"]
    );
    let got = rows(
        &s,
        "SELECT id, T.word FROM lines LEFT JOIN LATERAL TABLE(split(s, ' ')) AS T(word, len) ON TRUE
         WHERE id < 4",
    )
    .await;
    assert_eq!(got, vec!["1 hello", "1 world", "2 NULL", "3 x"]);
    // Two table functions in a row; the second reads the first's column.
    let got = rows(
        &s,
        "SELECT id, w, c FROM lines, LATERAL TABLE(split(s, ' ')) AS A(w, l),
         LATERAL TABLE(split(A.w, 'l')) AS B(c, n) WHERE id = 1",
    )
    .await;
    assert_eq!(
        got,
        vec!["1 hello he", "1 hello o", "1 world wor", "1 world d"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_join_unnest() {
    let s = session().await;
    let got = rows(
        &s,
        "SELECT id, tag FROM lines CROSS JOIN UNNEST(string_to_array(tags, ';')) AS t(tag)",
    )
    .await;
    assert_eq!(got, vec!["1 a", "1 b", "3 c", "4 d", "4 e", "4 f"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_function_over_an_updating_input_keeps_row_kinds() {
    let s = session().await;
    let got = rows(
        &s,
        "SELECT k, word FROM (SELECT id / 3 AS k, LISTAGG(s, ' ') AS m FROM lines GROUP BY id / 3)
         AS g, LATERAL TABLE(split(g.m, ' ')) AS T(word, len)",
    )
    .await;
    // Group 1 changes from 'x' to 'x a b c': the old row's words are
    // retracted (-U), the new row's words follow as +U.
    assert_eq!(
        got,
        vec![
            "+I 0 hello",
            "+I 0 world",
            "+I 1 x",
            "-U 1 x",
            "+U 1 x",
            "+U 1 a",
            "+U 1 b",
            "+U 1 c",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_function_of_constants_and_explain() {
    let s = session().await;
    let got = rows(&s, "SELECT word, len FROM TABLE(split('to be or', ' '))").await;
    assert_eq!(got, vec!["to 2", "be 2", "or 2"]);
    let got = rows(&s, "SELECT T.w FROM split('x y', ' ') AS T(w, l)").await;
    assert_eq!(got, vec!["x", "y"]);
    let mut r = s
        .execute_sql(
            "EXPLAIN SELECT id, word FROM lines LEFT JOIN LATERAL TABLE(split(s, ' ')) AS T(word, len) ON TRUE",
        )
        .await
        .expect("explain");
    let Some(StatementResult::Explain(text)) = r.pop() else {
        panic!("EXPLAIN returns a plan");
    };
    assert!(text.contains("Correlate: split"), "{text}");
    assert!(text.contains("joinType=LEFT"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lateral_table_errors() {
    let s = session().await;
    let e = error(
        &s,
        "SELECT id FROM lines LEFT JOIN LATERAL TABLE(split(s, ' ')) AS T(w, l) ON w = 'a'",
    )
    .await;
    assert!(e.contains("only supports ON TRUE"), "{e}");
    let e = error(
        &s,
        "SELECT id FROM lines, LATERAL TABLE(split(s, ' ')) AS T(w)",
    )
    .await;
    assert!(
        e.contains("List of column aliases must have same degree as table"),
        "{e}"
    );
    let e = error(&s, "SELECT id FROM lines, LATERAL TABLE(nope(s)) AS T(w)").await;
    assert!(e.contains("No table function named 'nope'"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_function_on_an_unbounded_stream() {
    let s = session().await;
    s.register_udtf(TableFunction::new("upto", |n: i64| {
        (1..=n).collect::<Vec<i64>>()
    }))
    .expect("upto");
    s.execute_sql(
        "CREATE TABLE gen (n BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '2000',
           'fields.n.min' = '0', 'fields.n.max' = '3')",
    )
    .await
    .expect("gen");
    let mut results = s
        .execute_sql("SELECT n, i FROM gen LEFT JOIN LATERAL TABLE(upto(n)) AS T(i) ON TRUE")
        .await
        .expect("query");
    let Some(StatementResult::Query(mut q)) = results.pop() else {
        panic!("a query");
    };
    let mut seen = 0;
    while seen < 500 {
        let Some(b) = q.batches.recv().await else {
            panic!("an unbounded query ended");
        };
        let b = b.expect("batch");
        let n = b
            .column(0)
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        let i = b
            .column(1)
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        for r in 0..b.num_rows() {
            // n = 0 produces nothing: one NULL-padded row; else 1..=n.
            if n.value(r) == 0 {
                assert!(i.is_null(r));
            } else {
                assert!((1..=n.value(r)).contains(&i.value(r)));
            }
        }
        seen += b.num_rows();
    }
    q.job.cancel();
    q.job.wait().await.expect("cancelled cleanly");
}
