//! `INSERT INTO`: match the query's columns to the sink's writable columns,
//! with Flink's implicit casts and its error messages for mismatches.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Column;
use datafusion::common::ScalarValue;
use datafusion::functions::core::expr_fn::{get_field, named_struct};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, cast, lit};

use crate::catalog::{CatalogTable, ColumnSource, TableColumn};
use crate::error::{Result, SluiceError};
use crate::sql::types::FlinkType;

/// The columns of `table` an INSERT writes: physical and non-virtual
/// metadata columns, in declaration order.
pub fn writable_columns(table: &CatalogTable) -> Vec<&TableColumn> {
    table
        .columns
        .iter()
        .filter(|c| match &c.source {
            ColumnSource::Physical => true,
            ColumnSource::Metadata { is_virtual, .. } => !is_virtual,
            ColumnSource::Computed(_) => false,
        })
        .collect()
}

/// Wraps `query` in the projection that produces exactly the sink's writable
/// columns, casting where Flink casts implicitly.
pub fn align_to_sink(
    table: &CatalogTable,
    target_columns: &[String],
    query: LogicalPlan,
) -> Result<LogicalPlan> {
    let sink_cols = writable_columns(table);
    let qschema = query.schema().clone();
    let qfields: Vec<(Expr, DataType, bool, String)> = qschema
        .iter()
        .map(|(q, f)| {
            let e = Expr::Column(Column::from((q, f)));
            (e, f.data_type().clone(), f.is_nullable(), f.name().clone())
        })
        .collect();
    let describe = |cols: &[(String, String)]| -> String {
        let parts: Vec<String> = cols.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        format!("[{}]", parts.join(", "))
    };
    let query_desc = describe(
        &qfields
            .iter()
            .map(|(_, t, n, name)| (name.clone(), FlinkType::from_arrow(t, *n).to_string()))
            .collect::<Vec<_>>(),
    );
    let sink_desc = describe(
        &sink_cols
            .iter()
            .map(|c| (c.name.clone(), c.data_type.to_string()))
            .collect::<Vec<_>>(),
    );
    let mismatch = |cause: String| {
        SluiceError::plan(format!(
            "Column types of query result and sink for 'default_catalog.default_database.{}' do \
             not match.\nCause: {cause}\n\nQuery schema: {query_desc}\nSink schema:  {sink_desc}",
            table.name
        ))
    };

    // Which query column feeds each sink column (None: NULL).
    let mut feeds: Vec<Option<usize>> = vec![None; sink_cols.len()];
    if target_columns.is_empty() {
        if qfields.len() != sink_cols.len() {
            return Err(mismatch("Different number of columns.".into()));
        }
        for (i, f) in feeds.iter_mut().enumerate() {
            *f = Some(i);
        }
    } else {
        if qfields.len() != target_columns.len() {
            return Err(mismatch(format!(
                "the INSERT names {} columns but the query produces {}.",
                target_columns.len(),
                qfields.len()
            )));
        }
        for (qi, name) in target_columns.iter().enumerate() {
            let Some(si) = sink_cols.iter().position(|c| &c.name == name) else {
                let computed = table.columns.iter().any(|c| &c.name == name);
                return Err(SluiceError::plan(if computed {
                    format!(
                        "column '{name}' of table '{}' is computed or virtual and cannot be written",
                        table.name
                    )
                } else {
                    format!("unknown target column '{name}' of table '{}'", table.name)
                }));
            };
            if feeds[si].is_some() {
                return Err(SluiceError::plan(format!(
                    "target column '{name}' is assigned more than once"
                )));
            }
            feeds[si] = Some(qi);
        }
    }

    let mut exprs = Vec::with_capacity(sink_cols.len());
    for (si, col) in sink_cols.iter().enumerate() {
        let target = col.data_type.to_arrow();
        let e = match feeds[si] {
            None => {
                if !col.data_type.nullable {
                    return Err(SluiceError::plan(format!(
                        "column '{}' of table '{}' is NOT NULL and must be given a value",
                        col.name, table.name
                    )));
                }
                cast(lit(ScalarValue::Null), target.clone())
            }
            Some(qi) => {
                let (e, from, _, name) = &qfields[qi];
                if from == &target {
                    e.clone()
                } else if let Some(e) = row_by_position(e, from, &target) {
                    e
                } else if implicitly_castable(from, &target) {
                    cast(e.clone(), target.clone())
                } else {
                    return Err(mismatch(format!(
                        "Incompatible types for sink column '{}' at position {}: the query \
                         produces {} ('{}') but the column is {}.",
                        col.name,
                        si,
                        FlinkType::from_arrow(from, true),
                        name,
                        col.data_type
                    )));
                }
            }
        };
        exprs.push(e.alias(&col.name));
    }
    Ok(LogicalPlanBuilder::from(query).project(exprs)?.build()?)
}

/// `ROW(a, b)` names its fields `c0, c1`; Flink matches a ROW to the sink's
/// ROW type by position, so the fields are renamed (and cast) one by one.
fn row_by_position(e: &Expr, from: &DataType, to: &DataType) -> Option<Expr> {
    let (DataType::Struct(src), DataType::Struct(dst)) = (from, to) else {
        return None;
    };
    if src.len() != dst.len()
        || src
            .iter()
            .zip(dst.iter())
            .all(|(a, b)| a.name() == b.name())
    {
        return None;
    }
    let mut args = Vec::with_capacity(2 * dst.len());
    for (s, d) in src.iter().zip(dst.iter()) {
        let field = get_field(e.clone(), s.name().as_str());
        let value = if s.data_type() == d.data_type() {
            field
        } else if implicitly_castable(s.data_type(), d.data_type()) {
            cast(field, d.data_type().clone())
        } else {
            return None;
        };
        args.push(lit(d.name().as_str()));
        args.push(value);
    }
    Some(named_struct(args))
}

/// Flink's implicit casts on INSERT: to a wider type of the same family.
fn implicitly_castable(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    fn rank(t: &DataType) -> Option<u8> {
        Some(match t {
            Int8 => 1,
            Int16 => 2,
            Int32 => 3,
            // ROW_NUMBER() is UInt64 in DataFusion, BIGINT in Flink.
            Int64 | UInt64 => 4,
            Decimal128(..) => 5,
            Float32 => 6,
            Float64 => 7,
            _ => return None,
        })
    }
    match (from, to) {
        (Null, _) => true,
        (Decimal128(p1, s1), Decimal128(p2, s2)) => {
            p1 - (*s1 as u8) <= p2 - (*s2 as u8) && s1 <= s2
        }
        (Int8 | Int16 | Int32 | Int64, Decimal128(p, s)) => {
            let digits = match from {
                Int8 => 3,
                Int16 => 5,
                Int32 => 10,
                _ => 19,
            };
            (*p as i16 - *s as i16) >= digits
        }
        // DataFusion types integer literals as BIGINT where Flink types them
        // INT, so `a * 10` over an INT column is BIGINT here but INT in Flink.
        // Any numeric-to-numeric cast is therefore allowed, so every INSERT
        // Flink accepts is accepted (Flink itself rejects true narrowing).
        (a, b) if rank(a).is_some() && rank(b).is_some() => true,
        (Utf8 | LargeUtf8 | Utf8View, Utf8 | LargeUtf8 | Utf8View) => true,
        (Binary | LargeBinary | BinaryView, Binary | LargeBinary | BinaryView) => true,
        (Timestamp(_, tz1), Timestamp(_, tz2)) => tz1.is_some() == tz2.is_some(),
        (Time32(_) | Time64(_), Time32(_) | Time64(_)) => true,
        (Date32, Date32) => true,
        (List(_), List(_)) | (Struct(_), Struct(_)) | (Map(..), Map(..)) => {
            datafusion::arrow::compute::can_cast_types(from, to)
        }
        _ => false,
    }
}
