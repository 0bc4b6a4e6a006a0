//! `PROCTIME()`: the wall-clock time at which a row is processed.

use std::sync::Arc;

use datafusion::arrow::array::TimestampMillisecondArray;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// Flink's `PROCTIME()`, typed `TIMESTAMP_LTZ(3) NOT NULL`. Volatile, so the
/// optimizer never folds it into a constant the way it folds `NOW()`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ProcTime {
    signature: Signature,
}

impl ProcTime {
    pub fn new() -> Self {
        ProcTime {
            signature: Signature::nullary(Volatility::Volatile),
        }
    }
}

impl Default for ProcTime {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for ProcTime {
    fn name(&self) -> &str {
        "proctime"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(
            TimeUnit::Millisecond,
            Some("UTC".into()),
        ))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let now = chrono::Utc::now().timestamp_millis();
        let arr = TimestampMillisecondArray::from_value(now, args.number_rows).with_timezone("UTC");
        Ok(ColumnarValue::Array(Arc::new(arr)))
    }
}
