//! The UDF API on its own: typed and vectorized scalar functions run by
//! DataFusion's executor, aggregate accumulators (accumulate, retract,
//! merge, state round trips), table functions and UNNEST called directly.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int32Array, Int64Array, ListArray, MapBuilder, StringArray,
    StringBuilder, StructArray, UInt32Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Int64Type};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF, Volatility};
use datafusion::prelude::SessionContext;
use sluice_udf::api::{
    AccumulatorState, AggregateFunction, ScalarFunction, TableFunction, TableRows, TableUdf, Unnest,
};

async fn run(ctx: &SessionContext, sql: &str) -> Result<String, String> {
    let df = ctx.sql(sql).await.map_err(|e| e.to_string())?;
    let batches = df.collect().await.map_err(|e| e.to_string())?;
    Ok(pretty_format_batches(&batches)
        .map_err(|e| e.to_string())?
        .to_string())
}

fn context() -> SessionContext {
    let ctx = SessionContext::new();
    ctx.register_udf(ScalarUDF::from(ScalarFunction::new(
        "count_char",
        |s: &str, c: &str| s.matches(c).count() as i64,
    )));
    ctx.register_udf(ScalarUDF::from(ScalarFunction::new(
        "nvl_len",
        |s: Option<&str>| -> i32 { s.map_or(-1, |s| s.len() as i32) },
    )));
    ctx.register_udf(ScalarUDF::from(ScalarFunction::new(
        "checked_div",
        |a: i64, b: i64| -> Result<i64, String> {
            a.checked_div(b).ok_or_else(|| format!("{a} / {b}"))
        },
    )));
    ctx.register_udaf(AggregateUDF::from(weighted_avg()));
    ctx
}

fn weighted_avg() -> AggregateFunction<(f64, i64), (f64, i64)> {
    AggregateFunction::new(
        "weighted_avg",
        || (0.0, 0),
        |acc: &mut (f64, i64), v: f64, w: i64| {
            acc.0 += v * w as f64;
            acc.1 += w;
        },
        |acc: &(f64, i64)| (acc.1 != 0).then(|| acc.0 / acc.1 as f64),
    )
    .retract(|acc: &mut (f64, i64), v: f64, w: i64| {
        acc.0 -= v * w as f64;
        acc.1 -= w;
    })
    .merge(|acc: &mut (f64, i64), other: &(f64, i64)| {
        acc.0 += other.0;
        acc.1 += other.1;
    })
}

#[tokio::test]
async fn typed_scalar_functions_follow_sql_null_rules() {
    let ctx = context();
    let out = run(
        &ctx,
        "SELECT count_char(s, 'a') AS c, nvl_len(s) AS l FROM \
         (VALUES ('banana'), (NULL), ('')) AS t(s)",
    )
    .await
    .expect("runs");
    let expected = "\
+---+----+
| c | l  |
+---+----+
| 3 | 6  |
|   | -1 |
| 0 | 0  |
+---+----+";
    assert_eq!(out, expected);
}

#[tokio::test]
async fn arguments_are_cast_to_the_declared_types() {
    let ctx = context();
    // INT arguments widen to the BIGINT parameters.
    let out = run(&ctx, "SELECT checked_div(CAST(7 AS INT), 2) AS q")
        .await
        .expect("runs");
    assert!(out.contains("| 3 |"), "{out}");
    let e = run(&ctx, "SELECT count_char('a')")
        .await
        .expect_err("arity");
    assert!(
        e.contains(
            "Invalid call to function 'count_char': it takes (STRING, STRING) but was \
                    called with (STRING)"
        ),
        "{e}"
    );
}

#[tokio::test]
async fn an_error_result_fails_with_the_function_name() {
    let ctx = context();
    let e = run(
        &ctx,
        "SELECT checked_div(a, b) FROM (VALUES (1, 1), (1, 0)) AS t(a, b)",
    )
    .await
    .expect_err("division by zero");
    assert!(e.contains("function 'checked_div' failed: 1 / 0"), "{e}");
}

#[tokio::test]
async fn a_panic_becomes_an_error_naming_the_function() {
    let ctx = SessionContext::new();
    ctx.register_udf(ScalarUDF::from(ScalarFunction::new(
        "explode",
        |v: i64| -> i64 {
            assert!(v < 2, "too big: {v}");
            v
        },
    )));
    let e = run(&ctx, "SELECT explode(v) FROM (VALUES (1), (5)) AS t(v)")
        .await
        .expect_err("panics");
    assert!(
        e.contains("user-defined function 'explode' panicked: too big: 5"),
        "{e}"
    );
}

#[tokio::test]
async fn vectorized_scalar_and_volatility() {
    let double = ScalarFunction::vectorized(
        "double_it",
        vec![DataType::Int64],
        DataType::Int64,
        |args, _rows| {
            let a = args[0].as_primitive::<Int64Type>();
            Ok(Arc::new(a.unary::<_, Int64Type>(|v| v * 2)) as ArrayRef)
        },
    );
    let ctx = SessionContext::new();
    ctx.register_udf(ScalarUDF::from(double.clone()));
    let out = run(
        &ctx,
        "SELECT double_it(v) AS d FROM (VALUES (1), (21)) AS t(v)",
    )
    .await
    .expect("runs");
    assert!(out.contains("| 2  |") && out.contains("| 42 |"), "{out}");

    let udf = ScalarUDF::from(double.clone());
    assert_eq!(udf.signature().volatility, Volatility::Immutable);
    let udf = ScalarUDF::from(double.volatile());
    assert_eq!(udf.signature().volatility, Volatility::Volatile);
}

#[tokio::test]
async fn names_are_case_insensitive() {
    let ctx = SessionContext::new();
    ctx.register_udf(ScalarUDF::from(ScalarFunction::new("twoX", |v: i64| v * 2)));
    // DataFusion lower-cases unquoted names; the alias answers them.
    let out = run(&ctx, "SELECT TWOX(4) AS v").await.expect("runs");
    assert!(out.contains("| 8 |"), "{out}");
}

#[tokio::test]
async fn aggregate_accumulates_and_retracts_in_a_sliding_frame() {
    let ctx = context();
    // A two-row frame adds one row and retracts the one that left.
    let out = run(
        &ctx,
        "SELECT n, weighted_avg(v, w) OVER (ORDER BY n ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) \
         AS a FROM (VALUES (1, 1.0, 1), (2, 3.0, 1), (3, 6.0, 2)) AS t(n, v, w) ORDER BY n",
    )
    .await
    .expect("runs");
    let expected = "\
+---+-----+
| n | a   |
+---+-----+
| 1 | 1.0 |
| 2 | 2.0 |
| 3 | 5.0 |
+---+-----+";
    assert_eq!(out, expected);
}

#[test]
fn accumulator_merges_states_and_reports_retract_support() {
    use datafusion::logical_expr::function::AccumulatorArgs;
    let udaf = AggregateUDF::from(weighted_avg());
    let schema = datafusion::arrow::datatypes::Schema::empty();
    let field = Arc::new(Field::new("a", DataType::Float64, true));
    let args = AccumulatorArgs {
        return_field: field,
        schema: &schema,
        ignore_nulls: false,
        order_bys: &[],
        is_reversed: false,
        name: "weighted_avg(v, w)",
        is_distinct: false,
        exprs: &[],
        expr_fields: &[],
    };
    let mut a = udaf.accumulator(args.clone()).expect("accumulator");
    let mut b = udaf.accumulator(args).expect("accumulator");
    assert!(a.supports_retract_batch());
    let v: ArrayRef = Arc::new(datafusion::arrow::array::Float64Array::from(vec![2.0, 4.0]));
    let w: ArrayRef = Arc::new(Int64Array::from(vec![1, 3]));
    a.update_batch(&[Arc::clone(&v), Arc::clone(&w)])
        .expect("update");
    b.update_batch(&[v, w]).expect("update");
    // Partial state of b merged into a: (14, 4) + (14, 4).
    let state: Vec<ArrayRef> = b
        .state()
        .expect("state")
        .into_iter()
        .map(|s| s.to_array().expect("array"))
        .collect();
    a.merge_batch(&state).expect("merge");
    assert_eq!(
        a.evaluate().expect("value"),
        ScalarValue::Float64(Some(3.5))
    );
}

#[test]
fn accumulator_without_retract_or_merge_says_so() {
    let f = AggregateFunction::new(
        "plain",
        || 0i64,
        |acc: &mut i64, v: i64| *acc += v,
        |acc: &i64| *acc,
    );
    let udaf = AggregateUDF::from(f);
    let schema = datafusion::arrow::datatypes::Schema::empty();
    let args = datafusion::logical_expr::function::AccumulatorArgs {
        return_field: Arc::new(Field::new("p", DataType::Int64, true)),
        schema: &schema,
        ignore_nulls: false,
        order_bys: &[],
        is_reversed: false,
        name: "plain(v)",
        is_distinct: false,
        exprs: &[],
        expr_fields: &[],
    };
    let mut acc = udaf.accumulator(args).expect("accumulator");
    assert!(!acc.supports_retract_batch());
    let v: ArrayRef = Arc::new(Int64Array::from(vec![1]));
    let e = acc.retract_batch(&[v]).expect_err("no retract");
    assert!(
        e.to_string()
            .contains("aggregate function 'plain' has no retract")
    );
    let s: ArrayRef = Arc::new(Int64Array::from(vec![1]));
    let e = acc.merge_batch(&[s]).expect_err("no merge");
    assert!(
        e.to_string()
            .contains("aggregate function 'plain' has no merge")
    );
}

sluice_udf::accumulator_state! {
    /// A state with every kind of field.
    #[derive(Debug, Clone, PartialEq, Default)]
    struct Everything {
        count: i64,
        last: Option<String>,
        seen: Vec<i32>,
        pair: (f64, bool),
    }
}

#[test]
fn accumulator_states_round_trip_through_arrow() {
    let s = Everything {
        count: 3,
        last: Some("x".into()),
        seen: vec![1, 2],
        pair: (0.5, true),
    };
    let fields = Everything::state_fields();
    let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        vec!["count.v", "last.v", "seen.v", "pair.0.v", "pair.1.v"]
    );
    let mut scalars = Vec::new();
    s.to_state(&mut scalars);
    let columns: Vec<ArrayRef> = scalars
        .iter()
        .map(|v| v.to_array().expect("array"))
        .collect();
    assert_eq!(Everything::from_state(&columns, 0).expect("read"), s);
    let none = Everything::default();
    let mut scalars = Vec::new();
    none.to_state(&mut scalars);
    let columns: Vec<ArrayRef> = scalars
        .iter()
        .map(|v| v.to_array().expect("array"))
        .collect();
    assert_eq!(Everything::from_state(&columns, 0).expect("read"), none);
}

fn split() -> TableUdf {
    TableFunction::new("split", |s: &str, sep: &str| {
        s.split(sep)
            .map(|w| (w.to_string(), w.len() as i32))
            .collect::<Vec<_>>()
    })
    .columns(["word", "len"])
    .into()
}

#[test]
fn table_function_maps_each_row_to_its_rows() {
    let f = split();
    let fields = f
        .output_fields(&[DataType::Utf8, DataType::Utf8])
        .expect("fields");
    assert_eq!(fields[0].name(), "word");
    assert_eq!(fields[1].data_type(), &DataType::Int32);
    let s: ArrayRef = Arc::new(StringArray::from(vec![Some("a,bb"), None, Some("c")]));
    let sep: ArrayRef = Arc::new(StringArray::from(vec![","; 3]));
    let out = f.invoke(&[s, sep], 3, &fields).expect("invoke");
    assert_eq!(out.input_rows, UInt32Array::from(vec![0, 0, 2]));
    let words = out.columns[0].as_string::<i32>();
    assert_eq!(
        (0..3).map(|i| words.value(i)).collect::<Vec<_>>(),
        vec!["a", "bb", "c"]
    );
    let lens = out.columns[1].as_primitive::<Int32Type>();
    assert_eq!(lens.values().to_vec(), vec![1, 2, 1]);
}

#[test]
fn table_function_checks_what_a_vectorized_body_returns() {
    let bad = TableFunction::vectorized(
        "bad",
        vec![DataType::Int64],
        vec![Field::new("x", DataType::Int64, true)],
        |_args, _rows| {
            Ok(TableRows {
                input_rows: UInt32Array::from(vec![1, 0]),
                columns: vec![Arc::new(Int64Array::from(vec![1, 2]))],
            })
        },
    );
    let f = TableUdf::from(bad);
    let fields = f.output_fields(&[DataType::Int64]).expect("fields");
    let a: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
    let e = f.invoke(&[a], 2, &fields).expect_err("out of order");
    assert!(
        e.to_string()
            .contains("table function 'bad' returned input rows out of order")
    );
    let e = TableUdf::from(TableFunction::new("one", |v: i64| vec![v]).columns(["a", "b"]))
        .coerce_types(&[DataType::Int64])
        .expect_err("two names for one column");
    assert!(
        e.to_string().contains("names 2 columns but produces 1"),
        "{e}"
    );
}

#[tokio::test]
async fn table_function_of_constants_runs_in_datafusion() {
    let ctx = SessionContext::new();
    ctx.register_udtf("split", Arc::new(split()));
    let out = run(&ctx, "SELECT * FROM split('x-yy', '-')")
        .await
        .expect("runs");
    let expected = "\
+------+-----+
| word | len |
+------+-----+
| x    | 1   |
| yy   | 2   |
+------+-----+";
    assert_eq!(out, expected);
}

#[test]
fn unnest_arrays_maps_and_arrays_of_rows() {
    let f = Unnest::udtf();
    // ARRAY<INT>: NULL and empty arrays produce nothing.
    let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        None,
        Some(vec![]),
        Some(vec![Some(3)]),
    ]));
    let types = f.coerce_types(&[list.data_type().clone()]).expect("types");
    let fields = f.output_fields(&types).expect("fields");
    let out = f.invoke(&[list], 4, &fields).expect("invoke");
    assert_eq!(out.input_rows, UInt32Array::from(vec![0, 0, 3]));
    assert_eq!(
        out.columns[0].as_primitive::<Int32Type>().values().to_vec(),
        vec![1, 2, 3]
    );

    // MAP<STRING, INT>: a key and a value column.
    let mut b = MapBuilder::new(None, StringBuilder::new(), Int32Array::builder(4));
    b.keys().append_value("a");
    b.values().append_value(1);
    b.append(true).expect("row");
    b.keys().append_value("b");
    b.values().append_value(2);
    b.keys().append_value("c");
    b.values().append_value(3);
    b.append(true).expect("row");
    let map: ArrayRef = Arc::new(b.finish());
    let types = f.coerce_types(&[map.data_type().clone()]).expect("types");
    let fields = f.output_fields(&types).expect("fields");
    assert_eq!(fields.len(), 2);
    let out = f.invoke(&[map], 2, &fields).expect("invoke");
    assert_eq!(out.input_rows, UInt32Array::from(vec![0, 1, 1]));
    let keys = out.columns[0].as_string::<i32>();
    assert_eq!(keys.value(2), "c");

    // ARRAY<ROW<x DOUBLE, y STRING>>: one column per field.
    let rows = StructArray::from(vec![
        (
            Arc::new(Field::new("x", DataType::Float64, true)),
            Arc::new(datafusion::arrow::array::Float64Array::from(vec![1.5, 2.5])) as ArrayRef,
        ),
        (
            Arc::new(Field::new("y", DataType::Utf8, true)),
            Arc::new(StringArray::from(vec!["p", "q"])) as ArrayRef,
        ),
    ]);
    let item = Arc::new(Field::new_list_field(rows.data_type().clone(), true));
    let list: ArrayRef = Arc::new(ListArray::new(
        Arc::clone(&item),
        datafusion::arrow::buffer::OffsetBuffer::from_lengths([2]),
        Arc::new(rows),
        None,
    ));
    let types = f.coerce_types(&[list.data_type().clone()]).expect("types");
    let fields = f.output_fields(&types).expect("fields");
    assert_eq!(fields[0].name(), "x");
    assert_eq!(fields[1].name(), "y");
    let out = f.invoke(&[list], 1, &fields).expect("invoke");
    assert_eq!(
        out.columns[0]
            .as_primitive::<Float64Type>()
            .values()
            .to_vec(),
        vec![1.5, 2.5]
    );

    let e = f
        .coerce_types(&[DataType::Utf8])
        .expect_err("not a collection");
    assert!(
        e.to_string()
            .contains("UNNEST takes an ARRAY or a MAP, but its argument is STRING"),
        "{e}"
    );
}
