//! Generates one batch of one field straight into Arrow buffers: values are
//! drawn into typed vectors (or builders for variable-length data), never
//! as boxed per-row values.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{Datelike, Timelike};
use datafusion::arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, BinaryArray, BinaryBuilder, BooleanArray, Decimal128Array,
    Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, ListArray, MapArray,
    PrimitiveArray, StringArray, StringBuilder, StructArray, UInt32Array, make_array,
};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, Float32Type, Float64Type, Int8Type,
    Int16Type, Int32Type, Int64Type, Time32MillisecondType, TimeUnit,
};
use datafusion::arrow::row::{RowConverter, SortField};
use rand::rngs::SmallRng;
use rand::{Rng, RngCore};
use sluice_engine::{Result, SluiceError};

use super::field::{FieldSpec, Generator};

/// The wall clock read once per batch: Flink's generators use "now" for
/// DATE, TIME and TIMESTAMP fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    /// Epoch milliseconds.
    pub now_ms: i64,
    /// Today (local time zone) as days since the epoch.
    pub today: i32,
    /// Milliseconds since local midnight.
    pub time_of_day_ms: i64,
}

impl Clock {
    /// Reads the system clock.
    pub(crate) fn now() -> Clock {
        let now = chrono::Local::now();
        let t = now.time();
        Clock {
            now_ms: now.timestamp_millis(),
            today: now.date_naive().num_days_from_ce() - 719_163,
            time_of_day_ms: i64::from(t.num_seconds_from_midnight()) * 1000
                + i64::from((t.nanosecond() / 1_000_000).min(999)),
        }
    }
}

fn internal(message: impl Into<String>) -> SluiceError {
    SluiceError::connector("datagen", message)
}

/// NULLs drawn like Flink: a value is kept when a uniform float in `[0, 1)`
/// is above the rate, so a rate of 1 gives only NULLs.
fn null_buffer(rate: f32, n: usize, rng: &mut SmallRng) -> Option<NullBuffer> {
    (rate > 0.0).then(|| {
        NullBuffer::new(BooleanBuffer::from_iter(
            (0..n).map(|_| rng.random::<f32>() > rate),
        ))
    })
}

fn is_valid(nulls: &Option<NullBuffer>, i: usize) -> bool {
    nulls.as_ref().is_none_or(|b| b.is_valid(i))
}

/// A primitive array of `values` typed as `dt` (which must have `T`'s
/// layout, e.g. a timestamp with its zone for `Int64Type`).
fn typed<T: ArrowPrimitiveType>(
    values: Vec<T::Native>,
    nulls: Option<NullBuffer>,
    dt: &DataType,
) -> Result<ArrayRef> {
    let data = PrimitiveArray::<T>::new(ScalarBuffer::from(values), nulls)
        .into_data()
        .into_builder()
        .data_type(dt.clone())
        .build()?;
    Ok(make_array(data))
}

/// Uniform in `[min, max)`, safe for ranges wider than `f64::MAX`.
fn uniform(rng: &mut SmallRng, min: f64, max: f64) -> f64 {
    let u = rng.random::<f64>();
    (min * (1.0 - u) + max * u).clamp(min, max)
}

fn pick_len(rng: &mut SmallRng, length: usize, var_len: bool) -> usize {
    if var_len && length > 0 {
        rng.random_range(1..=length)
    } else {
        length
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `len` random lower-case hex digits (Flink's `nextHexString`).
fn push_hex(buf: &mut String, len: usize, rng: &mut SmallRng) {
    let mut left = len;
    while left > 0 {
        let mut bits = rng.next_u64();
        for _ in 0..left.min(16) {
            buf.push(char::from(HEX[(bits & 15) as usize]));
            bits >>= 4;
        }
        left = left.saturating_sub(16);
    }
}

/// List/map offsets: `length` entries per non-NULL row, none for NULL rows.
fn collection_offsets(
    nulls: &Option<NullBuffer>,
    n: usize,
    length: usize,
    path: &str,
) -> Result<Vec<i32>> {
    let mut offsets = Vec::with_capacity(n + 1);
    let mut cur: usize = 0;
    offsets.push(0i32);
    for i in 0..n {
        if is_valid(nulls, i) {
            cur = cur.saturating_add(length);
        }
        let o = i32::try_from(cur)
            .map_err(|_| internal(format!("field '{path}': too many elements in one batch")))?;
        offsets.push(o);
    }
    Ok(offsets)
}

/// `n` random values of a (non-sequence) field.
pub(crate) fn random_array(
    spec: &FieldSpec,
    n: usize,
    rng: &mut SmallRng,
    clock: &Clock,
) -> Result<ArrayRef> {
    let nulls = null_buffer(spec.null_rate, n, rng);
    let dt = &spec.data_type;
    Ok(match &spec.generator {
        Generator::Sequence { .. } => {
            return Err(internal(format!(
                "sequence field '{}' drawn at random",
                spec.path
            )));
        }
        Generator::Boolean => Arc::new(BooleanArray::new(
            BooleanBuffer::from_iter((0..n).map(|_| rng.random::<bool>())),
            nulls,
        )),
        Generator::Int { min, max } => {
            let mut draw = || rng.random_range(*min..=*max);
            match dt {
                DataType::Int8 => {
                    typed::<Int8Type>((0..n).map(|_| draw() as i8).collect(), nulls, dt)?
                }
                DataType::Int16 => {
                    typed::<Int16Type>((0..n).map(|_| draw() as i16).collect(), nulls, dt)?
                }
                DataType::Int32 => {
                    typed::<Int32Type>((0..n).map(|_| draw() as i32).collect(), nulls, dt)?
                }
                _ => typed::<Int64Type>((0..n).map(|_| draw()).collect(), nulls, dt)?,
            }
        }
        Generator::Float { min, max } => match dt {
            DataType::Float32 => {
                let (lo, hi) = (*min as f32, *max as f32);
                let v = (0..n)
                    .map(|_| (uniform(rng, *min, *max) as f32).clamp(lo, hi))
                    .collect();
                typed::<Float32Type>(v, nulls, dt)?
            }
            _ => typed::<Float64Type>(
                (0..n).map(|_| uniform(rng, *min, *max)).collect(),
                nulls,
                dt,
            )?,
        },
        Generator::Decimal { min, max } => {
            let DataType::Decimal128(p, s) = dt else {
                return Err(internal(format!("field '{}' is not DECIMAL", spec.path)));
            };
            let factor = 10f64.powi(i32::from(*s));
            let limit = 10i128
                .checked_pow(u32::from(*p))
                .map_or(i128::MAX, |l| l - 1);
            let v = (0..n)
                .map(|_| ((uniform(rng, *min, *max) * factor).round() as i128).clamp(-limit, limit))
                .collect();
            typed::<Decimal128Type>(v, nulls, dt)?
        }
        Generator::Utf8 { length, var_len } => {
            let mut b = StringBuilder::with_capacity(n, n.saturating_mul(*length).min(1 << 24));
            let mut buf = String::with_capacity(*length);
            for i in 0..n {
                if is_valid(&nulls, i) {
                    buf.clear();
                    let len = pick_len(rng, *length, *var_len);
                    push_hex(&mut buf, len, rng);
                    b.append_value(&buf);
                } else {
                    b.append_null();
                }
            }
            Arc::new(b.finish())
        }
        Generator::Binary { length, var_len } => {
            let mut b = BinaryBuilder::with_capacity(n, n.saturating_mul(*length).min(1 << 24));
            let mut buf = vec![0u8; *length];
            for i in 0..n {
                if is_valid(&nulls, i) {
                    let len = pick_len(rng, *length, *var_len);
                    rng.fill_bytes(&mut buf[..len]);
                    b.append_value(&buf[..len]);
                } else {
                    b.append_null();
                }
            }
            Arc::new(b.finish())
        }
        Generator::Date => match dt {
            DataType::Date64 => {
                typed::<Date64Type>(vec![i64::from(clock.today) * 86_400_000; n], nulls, dt)?
            }
            _ => typed::<Date32Type>(vec![clock.today; n], nulls, dt)?,
        },
        Generator::Time => {
            let ms = clock.time_of_day_ms;
            match dt {
                DataType::Time32(TimeUnit::Second) => {
                    typed::<Int32Type>(vec![(ms / 1000) as i32; n], nulls, dt)?
                }
                DataType::Time32(_) => {
                    typed::<Time32MillisecondType>(vec![ms as i32; n], nulls, dt)?
                }
                DataType::Time64(TimeUnit::Microsecond) => {
                    typed::<Int64Type>(vec![ms * 1_000; n], nulls, dt)?
                }
                _ => typed::<Int64Type>(vec![ms * 1_000_000; n], nulls, dt)?,
            }
        }
        Generator::Timestamp { max_past_ms } => {
            let max_past = i64::try_from(*max_past_ms).unwrap_or(i64::MAX);
            let unit = match dt {
                DataType::Timestamp(unit, _) => *unit,
                _ => TimeUnit::Millisecond,
            };
            let v = (0..n)
                .map(|_| {
                    let past = if max_past > 0 {
                        rng.random_range(0..max_past)
                    } else {
                        0
                    };
                    let ms = clock.now_ms.saturating_sub(past);
                    match unit {
                        TimeUnit::Second => ms.div_euclid(1000),
                        TimeUnit::Millisecond => ms,
                        TimeUnit::Microsecond => ms.saturating_mul(1_000),
                        TimeUnit::Nanosecond => ms.saturating_mul(1_000_000),
                    }
                })
                .collect();
            typed::<Int64Type>(v, nulls, dt)?
        }
        Generator::List { element, length } => {
            let DataType::List(field) = dt else {
                return Err(internal(format!("field '{}' is not an ARRAY", spec.path)));
            };
            let offsets = collection_offsets(&nulls, n, *length, &spec.path)?;
            let total = offsets.last().copied().unwrap_or(0) as usize;
            let values = random_array(element, total, rng, clock)?;
            let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
            Arc::new(ListArray::try_new(field.clone(), offsets, values, nulls)?)
        }
        Generator::Map { key, value, length } => {
            let DataType::Map(entries_field, sorted) = dt else {
                return Err(internal(format!("field '{}' is not a MAP", spec.path)));
            };
            let DataType::Struct(kv_fields) = entries_field.data_type() else {
                return Err(internal(format!("field '{}': bad MAP entries", spec.path)));
            };
            let offsets = collection_offsets(&nulls, n, *length, &spec.path)?;
            let total = offsets.last().copied().unwrap_or(0) as usize;
            let keys = random_array(key, total, rng, clock)?;
            let values = random_array(value, total, rng, clock)?;
            let (keys, values, offsets) = if *length > 1 {
                dedupe_keys(keys, values, &offsets)?
            } else {
                (keys, values, offsets)
            };
            let entries = StructArray::try_new(kv_fields.clone(), vec![keys, values], None)?;
            let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
            Arc::new(MapArray::try_new(
                entries_field.clone(),
                offsets,
                entries,
                nulls,
                *sorted,
            )?)
        }
        Generator::Struct { fields } => {
            let DataType::Struct(arrow_fields) = dt else {
                return Err(internal(format!("field '{}' is not a ROW", spec.path)));
            };
            let children = fields
                .iter()
                .map(|f| random_array(f, n, rng, clock))
                .collect::<Result<Vec<_>>>()?;
            Arc::new(StructArray::try_new_with_length(
                arrow_fields.clone(),
                children,
                nulls,
                n,
            )?)
        }
    })
}

/// Keeps the first entry of each key within every map, as Flink's
/// `HashMap`-backed generator does (a MAP has unique keys).
fn dedupe_keys(
    keys: ArrayRef,
    values: ArrayRef,
    offsets: &[i32],
) -> Result<(ArrayRef, ArrayRef, Vec<i32>)> {
    let converter = RowConverter::new(vec![SortField::new(keys.data_type().clone())])?;
    let rows = converter.convert_columns(std::slice::from_ref(&keys))?;
    let mut keep: Vec<u32> = Vec::with_capacity(keys.len());
    let mut new_offsets = Vec::with_capacity(offsets.len());
    new_offsets.push(0i32);
    let mut seen = HashSet::new();
    for w in offsets.windows(2) {
        seen.clear();
        for i in w[0] as usize..w[1] as usize {
            if seen.insert(rows.row(i)) {
                keep.push(i as u32);
            }
        }
        new_offsets.push(keep.len() as i32);
    }
    if keep.len() == keys.len() {
        return Ok((keys, values, offsets.to_vec()));
    }
    let idx = UInt32Array::from(keep);
    Ok((
        take(&keys, &idx, None)?,
        take(&values, &idx, None)?,
        new_offsets,
    ))
}

/// `n` consecutive values of a sequence field, starting at `first`.
pub(crate) fn sequence_array(spec: &FieldSpec, first: i64, n: usize) -> Result<ArrayRef> {
    // The reader never asks past the field's end, so this cannot overflow.
    let seq = (0..n as i64).map(move |k| first + k);
    Ok(match &spec.data_type {
        DataType::Int8 => Arc::new(Int8Array::from_iter_values(seq.map(|v| v as i8))),
        DataType::Int16 => Arc::new(Int16Array::from_iter_values(seq.map(|v| v as i16))),
        DataType::Int32 => Arc::new(Int32Array::from_iter_values(seq.map(|v| v as i32))),
        DataType::Int64 => Arc::new(Int64Array::from_iter_values(seq)),
        DataType::Float32 => Arc::new(Float32Array::from_iter_values(seq.map(|v| v as f32))),
        DataType::Float64 => Arc::new(Float64Array::from_iter_values(seq.map(|v| v as f64))),
        DataType::Decimal128(p, s) => {
            let factor = 10i128.pow(u32::from(s.unsigned_abs()));
            let scaled = seq.map(move |v| {
                if *s >= 0 {
                    i128::from(v) * factor
                } else {
                    i128::from(v) / factor
                }
            });
            Arc::new(Decimal128Array::from_iter_values(scaled).with_precision_and_scale(*p, *s)?)
        }
        DataType::Utf8 => Arc::new(StringArray::from_iter_values(seq.map(|v| v.to_string()))),
        DataType::Binary => Arc::new(BinaryArray::from_iter_values(seq.map(i64::to_be_bytes))),
        other => {
            return Err(internal(format!(
                "field '{}': no sequence generator for {other}",
                spec.path
            )));
        }
    })
}
