//! `CURRENT_WATERMARK(rowtime)`: the watermark of the operator evaluating the
//! call, typed like its argument, NULL before the first watermark (Flink's
//! definition). Used to drop late rows (`WHERE ts > CURRENT_WATERMARK(ts)`)
//! or to route them elsewhere.
//!
//! An expression cannot see the runtime, so the operator evaluating it
//! publishes its watermark for the duration of the evaluation with
//! [`with_watermark`]; evaluation is synchronous, so a thread-local is
//! exactly scoped to it.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use std::cell::Cell;

thread_local! {
    static WATERMARK: Cell<Option<i64>> = const { Cell::new(None) };
}

/// Runs `f` with `watermark` (epoch ms; `None` before the first) as what
/// `CURRENT_WATERMARK` returns.
pub fn with_watermark<T>(watermark: Option<i64>, f: impl FnOnce() -> T) -> T {
    let previous = WATERMARK.with(|w| w.replace(watermark));
    let out = f();
    WATERMARK.with(|w| w.set(previous));
    out
}

/// The function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CurrentWatermark {
    signature: Signature,
}

impl CurrentWatermark {
    pub fn new() -> Self {
        CurrentWatermark {
            // Volatile: the optimizer must never fold it into a constant.
            signature: Signature::any(1, Volatility::Volatile),
        }
    }
}

impl Default for CurrentWatermark {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for CurrentWatermark {
    fn name(&self) -> &str {
        "current_watermark"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args.first() {
            Some(t @ DataType::Timestamp(_, _)) => Ok(t.clone()),
            other => exec_err!(
                "CURRENT_WATERMARK expects a rowtime attribute (TIMESTAMP(3) or \
                 TIMESTAMP_LTZ(3)), found {other:?}"
            ),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let want = args.return_field.data_type().clone();
        let value = match WATERMARK.with(Cell::get) {
            // None yet, or +/-infinity (start, end of input): no timestamp.
            None | Some(i64::MIN) | Some(i64::MAX) => ScalarValue::try_from(&want)?,
            Some(ms) => {
                let tz = match &want {
                    DataType::Timestamp(_, tz) => tz.clone(),
                    _ => None,
                };
                ScalarValue::TimestampMillisecond(Some(ms), tz).cast_to(&want)?
            }
        };
        Ok(ColumnarValue::Scalar(value))
    }
}
