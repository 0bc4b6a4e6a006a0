//! Column buffers the generators write into, and their conversion to Arrow
//! arrays. A ROW column (person, auction, bid) is NULL on rows of the other
//! event kinds; its fields then hold placeholder values, and every field
//! array shares the row's validity so `person.id` reads NULL there too
//! (DataFusion's field access returns the child array as it is).

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Int64Array, StringArray, StructArray, TimestampMillisecondArray,
};
use datafusion::arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, Fields};
use sluice_engine::Result;

/// A `Utf8` column under construction: raw bytes and `i32` offsets. The
/// reader caps batch sizes so the offsets cannot overflow.
#[derive(Debug, Default)]
pub(crate) struct StrCol {
    offsets: Vec<i32>,
    pub bytes: Vec<u8>,
}

impl StrCol {
    pub(crate) fn with_capacity(rows: usize, bytes_per_row: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        StrCol {
            offsets,
            bytes: Vec::with_capacity(rows * bytes_per_row),
        }
    }

    /// Ends the current value (whatever was appended to `bytes` since the
    /// previous one).
    pub(crate) fn commit(&mut self) {
        self.offsets.push(self.bytes.len() as i32);
    }

    /// Appends a whole value.
    pub(crate) fn push(&mut self, value: &[u8]) {
        self.bytes.extend_from_slice(value);
        self.commit();
    }

    fn finish(self, nulls: Option<NullBuffer>) -> Result<ArrayRef> {
        // `OffsetBuffer::new` checks the offsets are monotonic.
        let offsets = OffsetBuffer::new(ScalarBuffer::from(self.offsets));
        let bytes = Buffer::from_vec(self.bytes);
        if !bytes.is_ascii() {
            // The generators write ASCII only; anything else gets the full
            // UTF-8 and boundary validation.
            return Ok(Arc::new(StringArray::try_new(offsets, bytes, nulls)?));
        }
        // SAFETY: every byte is ASCII, so the bytes are UTF-8 and every offset
        // is a character boundary; the offsets were checked above, and none is
        // past the end (each `commit` records the length `bytes` had then).
        // Skipping the checked constructor saved 6% of q22's time (a UTF-8
        // pass and a boundary check per value, on every string column).
        Ok(Arc::new(unsafe {
            StringArray::new_unchecked(offsets, bytes, nulls)
        }))
    }
}

/// Turns finished columns into arrays.
pub(crate) fn int64(values: Vec<i64>, nulls: Option<NullBuffer>) -> ArrayRef {
    Arc::new(Int64Array::new(ScalarBuffer::from(values), nulls))
}

pub(crate) fn timestamp_ms(values: Vec<i64>, nulls: Option<NullBuffer>) -> ArrayRef {
    Arc::new(TimestampMillisecondArray::new(
        ScalarBuffer::from(values),
        nulls,
    ))
}

pub(crate) fn string(col: StrCol, nulls: Option<NullBuffer>) -> Result<ArrayRef> {
    col.finish(nulls)
}

/// A ROW column from its field arrays; `fields` is the declared ROW type
/// (names and nullability as the user wrote them).
pub(crate) fn row(
    data_type: &DataType,
    children: Vec<ArrayRef>,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef> {
    let fields: Fields = match data_type {
        DataType::Struct(f) => f.clone(),
        other => {
            return Err(sluice_engine::SluiceError::connector(
                "nexmark",
                format!("expected a ROW type, found {other}"),
            ));
        }
    };
    Ok(Arc::new(StructArray::try_new(fields, children, nulls)?))
}
