use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int32Array, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{binary, case, col, lit};

use super::{ZipCase, rewrite};

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("k", DataType::Int32, true),
        Field::new("a", DataType::Int64, true),
        Field::new("b", DataType::Int64, true),
    ])
}

fn batch() -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(vec![Some(0), Some(1), Some(2), None])),
        Arc::new(Int64Array::from(vec![Some(10), Some(11), None, Some(13)])),
        Arc::new(Int64Array::from(vec![20, 21, 22, 23])),
    ];
    RecordBatch::try_new(Arc::new(schema()), columns).expect("a batch")
}

/// `CASE WHEN k = 0 THEN a WHEN k = 1 THEN <then1> [ELSE <otherwise>] END`.
fn case_of(
    then1: Arc<dyn PhysicalExpr>,
    otherwise: Option<Arc<dyn PhysicalExpr>>,
) -> Arc<dyn PhysicalExpr> {
    let s = schema();
    let when = |v: i32| binary(col("k", &s).unwrap(), Operator::Eq, lit(v), &s).unwrap();
    let a = col("a", &s).unwrap();
    case(None, vec![(when(0), a), (when(1), then1)], otherwise).unwrap()
}

/// The rewritten CASE is a ZipCase, shows as the CASE did, and gives its values.
fn assert_zipped(e: Arc<dyn PhysicalExpr>, expected: Vec<Option<i64>>) {
    let zipped = rewrite(Arc::clone(&e), &schema()).unwrap();
    assert!(
        zipped.downcast_ref::<ZipCase>().is_some(),
        "{e} is rewritten"
    );
    assert_eq!(zipped.to_string(), e.to_string());
    let b = batch();
    let want: ArrayRef = Arc::new(Int64Array::from(expected));
    let got = zipped.evaluate(&b).unwrap().into_array(4).unwrap();
    let datafusion = e.evaluate(&b).unwrap().into_array(4).unwrap();
    assert_eq!(&got, &want);
    assert_eq!(&datafusion, &want);
}

#[test]
fn first_true_condition_wins_and_null_conditions_fall_through() {
    let s = schema();
    assert_zipped(
        case_of(col("b", &s).unwrap(), Some(lit(-1i64))),
        vec![Some(10), Some(21), Some(-1), Some(-1)],
    );
    assert_zipped(
        case_of(col("b", &s).unwrap(), None),
        vec![Some(10), Some(21), None, None],
    );
    assert_zipped(
        case_of(lit(5i64), Some(col("a", &s).unwrap())),
        vec![Some(10), Some(5), None, Some(13)],
    );
}

#[test]
fn a_branch_that_may_fail_keeps_datafusion_case() {
    let s = schema();
    let divide = binary(
        col("a", &s).unwrap(),
        Operator::Divide,
        col("b", &s).unwrap(),
        &s,
    )
    .unwrap();
    let e = case_of(divide, None);
    let kept = rewrite(Arc::clone(&e), &s).unwrap();
    assert!(kept.downcast_ref::<ZipCase>().is_none());
}
