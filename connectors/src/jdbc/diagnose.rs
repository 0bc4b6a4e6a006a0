//! Naming the column at fault when the server does not. PostgreSQL says
//! `value too long for type character varying(5)` or `numeric field
//! overflow` without a column; this compares the refused row with the
//! table's declared limits to find it. MySQL/MariaDB name the column in
//! their messages already.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Decimal128Type};
use sqlx::Row;

use super::pool::JdbcPool;

/// The first column of `rows[row]` whose value exceeds the declared length
/// or precision of the target column, if one does.
pub async fn column_at_fault(
    pool: &JdbcPool,
    table_name: &str,
    rows: &RecordBatch,
    row: usize,
) -> Option<String> {
    let JdbcPool::Postgres(pool) = pool else {
        return None;
    };
    let (schema, table) = match table_name.rsplit_once('.') {
        Some((s, t)) => (Some(s), t),
        None => (None, table_name),
    };
    let limits = sqlx::query(
        "SELECT column_name::text, character_maximum_length::int4, \
                numeric_precision::int4, numeric_scale::int4, data_type::text \
         FROM information_schema.columns \
         WHERE table_name = $1 AND table_schema = COALESCE($2, current_schema())",
    )
    .bind(table)
    .bind(schema)
    .fetch_all(pool)
    .await
    .ok()?;
    let batch_schema = rows.schema();
    for limit in &limits {
        let name: String = limit.try_get(0).ok()?;
        let Ok(index) = batch_schema.index_of(&name) else {
            continue;
        };
        let array = rows.column(index);
        if array.is_null(row) {
            continue;
        }
        let max_len: Option<i32> = limit.try_get(1).ok()?;
        let precision: Option<i32> = limit.try_get(2).ok()?;
        let scale: Option<i32> = limit.try_get(3).ok()?;
        let data_type: String = limit.try_get(4).ok()?;
        let too_long = match (array.data_type(), max_len) {
            (DataType::Utf8, Some(max)) => {
                array.as_string::<i32>().value(row).chars().count() > max as usize
            }
            _ => false,
        };
        let too_wide = match (array.data_type(), precision, scale) {
            (DataType::Decimal128(_, s), Some(p), Some(sc)) if data_type == "numeric" => {
                let v = array.as_primitive::<Decimal128Type>().value(row);
                let integer_digits = digits(v.unsigned_abs()) as i32 - i32::from(*s);
                integer_digits > p - sc
            }
            _ => false,
        };
        if too_long || too_wide {
            return Some(name);
        }
    }
    None
}

fn digits(mut v: u128) -> u32 {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}
