//! Flink's SQL client shows TIMESTAMP_LTZ values as wall-clock times of the
//! session time zone (`table.local-time-zone`), while the values themselves
//! stay instants. This rewrites a result batch's TIMESTAMP_LTZ columns into
//! wall-clock TIMESTAMP columns for display only; the `print` connector
//! keeps printing instants (`..Z`), as Flink's does.

use std::sync::Arc;

use chrono::DateTime;
use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    DataType, Field, Schema, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use sluice_udf::builtins::datetime::zone::Zone;

/// `batch` with every top-level TIMESTAMP_LTZ column shifted to the wall
/// clock of `zone` (a `table.local-time-zone` value). UTC, an unknown zone
/// or a batch without such columns come back unchanged.
pub fn localize_ltz(batch: RecordBatch, zone: Option<&str>) -> RecordBatch {
    let Some(zone) = zone.and_then(Zone::parse) else {
        return batch;
    };
    let has_ltz = batch
        .schema()
        .fields()
        .iter()
        .any(|f| matches!(f.data_type(), DataType::Timestamp(_, Some(_))));
    if !has_ltz || zone == Zone::UTC {
        return batch;
    }
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        match f.data_type() {
            DataType::Timestamp(unit, Some(_)) => {
                fields.push(Field::new(
                    f.name(),
                    DataType::Timestamp(*unit, None),
                    f.is_nullable(),
                ));
                columns.push(shift(c, *unit, &zone));
            }
            _ => {
                fields.push(f.as_ref().clone());
                columns.push(Arc::clone(c));
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap_or(batch)
}

fn shift(array: &ArrayRef, unit: TimeUnit, zone: &Zone) -> ArrayRef {
    let per_sec: i64 = match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    let local = |v: i64| -> i64 {
        let utc = DateTime::from_timestamp(v.div_euclid(per_sec), 0).map(|d| d.naive_utc());
        utc.map_or(v, |u| v + i64::from(zone.offset_secs_at(u)) * per_sec)
    };
    macro_rules! shifted {
        ($t:ty) => {
            Arc::new(
                array
                    .as_primitive::<$t>()
                    .unary::<_, $t>(local)
                    .with_timezone_opt(None::<String>),
            ) as ArrayRef
        };
    }
    match unit {
        TimeUnit::Second => shifted!(TimestampSecondType),
        TimeUnit::Millisecond => shifted!(TimestampMillisecondType),
        TimeUnit::Microsecond => shifted!(TimestampMicrosecondType),
        TimeUnit::Nanosecond => shifted!(TimestampNanosecondType),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, TimestampMillisecondArray};

    fn batch() -> RecordBatch {
        let ltz: ArrayRef =
            Arc::new(TimestampMillisecondArray::from(vec![Some(0), None]).with_timezone("+00:00"));
        let plain: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![Some(0), Some(1)]));
        RecordBatch::try_from_iter([("ltz", ltz), ("plain", plain)]).expect("batch")
    }

    #[test]
    fn ltz_columns_show_the_session_wall_clock() {
        let b = localize_ltz(batch(), Some("Asia/Shanghai"));
        let ltz = b.column(0).as_primitive::<TimestampMillisecondType>();
        assert_eq!(ltz.value(0), 8 * 3_600_000);
        assert!(ltz.is_null(1));
        assert_eq!(
            b.schema().field(0).data_type(),
            &DataType::Timestamp(TimeUnit::Millisecond, None)
        );
        // TIMESTAMP columns are wall-clock times already.
        assert_eq!(
            b.column(1)
                .as_primitive::<TimestampMillisecondType>()
                .value(1),
            1
        );
    }

    #[test]
    fn utc_and_unknown_zones_change_nothing() {
        for zone in [None, Some("UTC"), Some("Mars/Olympus")] {
            let b = localize_ltz(batch(), zone);
            assert_eq!(
                b.column(0)
                    .as_primitive::<TimestampMillisecondType>()
                    .value(0),
                0
            );
        }
    }
}
