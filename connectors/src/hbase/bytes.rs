//! Cell values encoded the way Flink's HBase connector (`HBaseSerde`)
//! encodes them, i.e. with HBase's `Bytes.toBytes`: big-endian integers and
//! IEEE floats, BOOLEAN as one byte (`0xff`/`0x00`), STRING as UTF-8, DECIMAL
//! as a 4-byte scale followed by the unscaled value's two's complement
//! (Java's `BigInteger.toByteArray`), DATE as an INT of days, TIME as an INT
//! of milliseconds of the day, TIMESTAMP / TIMESTAMP_LTZ as a BIGINT of epoch
//! milliseconds.

use datafusion::arrow::array::{
    Array, AsArray, BinaryArray, BooleanArray, Decimal128Array, StringArray,
};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    Time32MillisecondType, Time32SecondType, TimeUnit, TimestampMillisecondType,
    TimestampSecondType,
};

enum Kind<'a> {
    Utf8(&'a StringArray),
    Bool(&'a BooleanArray),
    Binary(&'a BinaryArray),
    Decimal(&'a Decimal128Array, i8),
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    /// TIME(0) stored in seconds: written as milliseconds.
    SecondsI32(&'a [i32]),
    I64(&'a [i64]),
    /// TIMESTAMP(0) stored in seconds: written as milliseconds.
    SecondsI64(&'a [i64]),
    F32(&'a [f32]),
    F64(&'a [f64]),
}

/// Encodes the values of one column (or qualifier) of a batch.
pub struct CellEncoder<'a> {
    array: &'a dyn Array,
    /// The family's struct array, whose nulls make every qualifier null.
    parent: Option<&'a dyn Array>,
    kind: Kind<'a>,
}

impl<'a> CellEncoder<'a> {
    /// An encoder for `array` (a type [`super::schema`] accepted);
    /// `None` for any other type.
    pub fn new(array: &'a dyn Array, parent: Option<&'a dyn Array>) -> Option<Self> {
        let kind = match array.data_type() {
            DataType::Utf8 => Kind::Utf8(array.as_string::<i32>()),
            DataType::Boolean => Kind::Bool(array.as_boolean()),
            DataType::Binary => Kind::Binary(array.as_binary::<i32>()),
            DataType::Decimal128(_, s) => Kind::Decimal(array.as_primitive(), *s),
            DataType::Int8 => Kind::I8(array.as_primitive::<Int8Type>().values()),
            DataType::Int16 => Kind::I16(array.as_primitive::<Int16Type>().values()),
            DataType::Int32 => Kind::I32(array.as_primitive::<Int32Type>().values()),
            DataType::Date32 => Kind::I32(array.as_primitive::<Date32Type>().values()),
            DataType::Time32(TimeUnit::Second) => {
                Kind::SecondsI32(array.as_primitive::<Time32SecondType>().values())
            }
            DataType::Time32(_) => {
                Kind::I32(array.as_primitive::<Time32MillisecondType>().values())
            }
            DataType::Int64 => Kind::I64(array.as_primitive::<Int64Type>().values()),
            DataType::Timestamp(TimeUnit::Second, _) => {
                Kind::SecondsI64(array.as_primitive::<TimestampSecondType>().values())
            }
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                Kind::I64(array.as_primitive::<TimestampMillisecondType>().values())
            }
            DataType::Float32 => Kind::F32(array.as_primitive::<Float32Type>().values()),
            DataType::Float64 => Kind::F64(array.as_primitive::<Float64Type>().values()),
            _ => return None,
        };
        Some(Self {
            array,
            parent,
            kind,
        })
    }

    /// True when the value at `row` is NULL (or its whole family is).
    pub fn is_null(&self, row: usize) -> bool {
        self.array.is_null(row) || self.parent.is_some_and(|p| p.is_null(row))
    }

    /// True for STRING columns, whose NULL is written as
    /// `null-string-literal` rather than as empty bytes.
    pub fn is_string(&self) -> bool {
        matches!(self.kind, Kind::Utf8(_))
    }

    /// The BIGINT at `row` (increment mode).
    pub fn i64(&self, row: usize) -> Option<i64> {
        match self.kind {
            Kind::I64(v) => v.get(row).copied(),
            _ => None,
        }
    }

    /// Appends the non-null value at `row`'s bytes to `out`.
    pub fn write(&self, row: usize, out: &mut Vec<u8>) {
        match &self.kind {
            Kind::Utf8(a) => out.extend_from_slice(a.value(row).as_bytes()),
            Kind::Bool(a) => out.push(if a.value(row) { 0xff } else { 0x00 }),
            Kind::Binary(a) => out.extend_from_slice(a.value(row)),
            Kind::Decimal(a, scale) => write_decimal(a.value(row), *scale, out),
            Kind::I8(v) => out.extend_from_slice(&v[row].to_be_bytes()),
            Kind::I16(v) => out.extend_from_slice(&v[row].to_be_bytes()),
            Kind::I32(v) => out.extend_from_slice(&v[row].to_be_bytes()),
            Kind::SecondsI32(v) => out.extend_from_slice(&v[row].wrapping_mul(1000).to_be_bytes()),
            Kind::I64(v) => out.extend_from_slice(&v[row].to_be_bytes()),
            Kind::SecondsI64(v) => out.extend_from_slice(&v[row].wrapping_mul(1000).to_be_bytes()),
            Kind::F32(v) => out.extend_from_slice(&v[row].to_bits().to_be_bytes()),
            Kind::F64(v) => out.extend_from_slice(&v[row].to_bits().to_be_bytes()),
        }
    }
}

/// HBase's `Bytes.toBytes(BigDecimal)`: the scale as a big-endian int, then
/// `unscaledValue().toByteArray()` (the shortest big-endian two's
/// complement, at least one byte).
pub fn write_decimal(unscaled: i128, scale: i8, out: &mut Vec<u8>) {
    out.extend_from_slice(&i32::from(scale).to_be_bytes());
    let bytes = unscaled.to_be_bytes();
    let mut start = 0;
    while start < bytes.len() - 1 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        // A leading byte is redundant when it only repeats the sign of the
        // next byte's top bit.
        let redundant = (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use datafusion::arrow::array::{
        ArrayRef, Date32Array, Float64Array, TimestampMillisecondArray,
    };

    fn enc(a: &ArrayRef, row: usize) -> Vec<u8> {
        let mut out = Vec::new();
        CellEncoder::new(a.as_ref(), None)
            .unwrap()
            .write(row, &mut out);
        out
    }

    #[test]
    fn decimals_match_hbase_bytes() {
        let cases: &[(i128, i8, &[u8])] = &[
            (0, 2, &[0, 0, 0, 2, 0]),
            (12345, 2, &[0, 0, 0, 2, 0x30, 0x39]),
            (-1, 0, &[0, 0, 0, 0, 0xff]),
            (128, 1, &[0, 0, 0, 1, 0x00, 0x80]),
            (-129, 3, &[0, 0, 0, 3, 0xff, 0x7f]),
        ];
        for (v, s, want) in cases {
            let mut out = Vec::new();
            write_decimal(*v, *s, &mut out);
            assert_eq!(&out, want, "{v} scale {s}");
        }
    }

    #[test]
    fn primitives_are_big_endian_java_encodings() {
        let bools: ArrayRef = Arc::new(BooleanArray::from(vec![true, false]));
        assert_eq!(enc(&bools, 0), vec![0xff]);
        assert_eq!(enc(&bools, 1), vec![0x00]);
        let d: ArrayRef = Arc::new(Float64Array::from(vec![1.5]));
        assert_eq!(enc(&d, 0), 1.5f64.to_bits().to_be_bytes().to_vec());
        let date: ArrayRef = Arc::new(Date32Array::from(vec![19000]));
        assert_eq!(enc(&date, 0), 19000i32.to_be_bytes().to_vec());
        let ts: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![1_700_000_000_123]));
        assert_eq!(enc(&ts, 0), 1_700_000_000_123i64.to_be_bytes().to_vec());
    }
}
