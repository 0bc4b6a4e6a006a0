//! Per-field generator specs, read from `fields.<name>.*` options exactly as
//! Flink's `RandomGeneratorVisitor` / `SequenceGeneratorVisitor` read them:
//! a key is taken only when it applies to the field's kind and type, so any
//! other `fields.x.y` key is left for `ConnectorOptions::finish` to reject.

use std::time::Duration;

use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
use sluice_engine::Result;
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::sql::types::FlinkType;

/// Flink's default length of random strings and bytes.
pub(crate) const DEFAULT_LENGTH: usize = 100;
/// Flink's default size of random arrays and maps.
pub(crate) const DEFAULT_COLLECTION_LENGTH: usize = 3;

/// How one field (or nested element) is generated.
#[derive(Debug, Clone)]
pub(crate) struct FieldSpec {
    /// Option path: `f`, `f.element`, `f.key`, `r.a`.
    pub path: String,
    /// The Arrow type to produce.
    pub data_type: DataType,
    /// Probability of NULL, `0..=1`.
    pub null_rate: f32,
    /// The generator.
    pub generator: Generator,
}

/// The value generator of a field.
#[derive(Debug, Clone)]
pub(crate) enum Generator {
    /// `kind = sequence`: `start..=end`, split across instances.
    Sequence {
        start: i64,
        end: i64,
    },
    Boolean,
    /// Integers uniformly in `min..=max`.
    Int {
        min: i64,
        max: i64,
    },
    /// FLOAT/DOUBLE uniformly in `min..max`.
    Float {
        min: f64,
        max: f64,
    },
    /// DECIMAL uniformly in `min..max` (clamped to what the type can hold).
    Decimal {
        min: f64,
        max: f64,
    },
    /// Random lower-case hex strings.
    Utf8 {
        length: usize,
        var_len: bool,
    },
    /// Random bytes.
    Binary {
        length: usize,
        var_len: bool,
    },
    /// Today (local date), like Flink.
    Date,
    /// Now (local time of day), like Flink.
    Time,
    /// Now minus a random duration below `max-past`.
    Timestamp {
        max_past_ms: u64,
    },
    List {
        element: Box<FieldSpec>,
        length: usize,
    },
    Map {
        key: Box<FieldSpec>,
        value: Box<FieldSpec>,
        length: usize,
    },
    Struct {
        fields: Vec<FieldSpec>,
    },
}

fn key(path: &str, option: &str) -> String {
    format!("fields.{path}.{option}")
}

fn type_name(dt: &DataType) -> String {
    FlinkType::from_arrow(dt, true).to_string()
}

/// The inclusive range of an integer type.
fn int_range(dt: &DataType) -> Option<(i64, i64)> {
    Some(match dt {
        DataType::Int8 => (i8::MIN.into(), i8::MAX.into()),
        DataType::Int16 => (i16::MIN.into(), i16::MAX.into()),
        DataType::Int32 => (i32::MIN.into(), i32::MAX.into()),
        DataType::Int64 => (i64::MIN, i64::MAX),
        _ => return None,
    })
}

impl FieldSpec {
    /// Reads the spec of a top-level column: `fields.<name>.kind` decides
    /// between a random and a sequence generator.
    pub(crate) fn top_level(field: &Field, opts: &mut ConnectorOptions) -> Result<FieldSpec> {
        let path = field.name().as_str();
        let kind_key = key(path, "kind");
        let kind = opts.one_of(&kind_key, &["random", "sequence"])?;
        match kind.as_deref() {
            Some("sequence") => Self::sequence(path, field.data_type(), opts),
            _ => Self::random(path, field.data_type(), field.is_nullable(), opts),
        }
    }

    /// How many values a sequence field yields in total, `None` for random.
    pub(crate) fn sequence_len(&self) -> Option<u64> {
        match self.generator {
            Generator::Sequence { start, end } => {
                let n = i128::from(end) - i128::from(start) + 1;
                Some(u64::try_from(n).unwrap_or(u64::MAX))
            }
            _ => None,
        }
    }

    /// An upper bound of the Arrow bytes one row of this field takes, used to
    /// keep a batch's string and list offsets far from `i32::MAX`.
    pub(crate) fn max_row_bytes(&self) -> u64 {
        let len = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        8 + match &self.generator {
            Generator::Utf8 { length, .. } | Generator::Binary { length, .. } => len(*length),
            Generator::Sequence { .. } => 20,
            Generator::List { element, length } => {
                len(*length).saturating_mul(element.max_row_bytes())
            }
            Generator::Map { key, value, length } => len(*length)
                .saturating_mul(key.max_row_bytes().saturating_add(value.max_row_bytes())),
            Generator::Struct { fields } => fields
                .iter()
                .fold(0u64, |acc, f| acc.saturating_add(f.max_row_bytes())),
            _ => 8,
        }
    }

    fn sequence(path: &str, dt: &DataType, opts: &mut ConnectorOptions) -> Result<FieldSpec> {
        let start_key = key(path, "start");
        let end_key = key(path, "end");
        let start_text = opts.string(&start_key);
        let end_text = opts.string(&end_key);
        let missing = |k: &str| {
            opts.error(
                k,
                "is required for a 'sequence' generator (with 'start' and 'end')",
            )
        };
        let Some(start_text) = start_text else {
            return Err(missing(&start_key));
        };
        let Some(end_text) = end_text else {
            return Err(missing(&end_key));
        };
        let parse = |k: &str, v: &str| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| opts.error(k, format!("expected an integer, got '{v}'")))
        };
        let start = parse(&start_key, &start_text)?;
        let end = parse(&end_key, &end_text)?;
        if start > end {
            return Err(opts.error(
                &start_key,
                format!("start {start} is greater than end {end}"),
            ));
        }
        let fits = |v: i64| -> bool {
            match dt {
                DataType::Decimal128(p, s) => {
                    let limit = 10i128.checked_pow(u32::from(*p)).unwrap_or(i128::MAX);
                    let scale = 10i128.checked_pow((*s).max(0) as u32);
                    scale
                        .and_then(|f| i128::from(v).checked_mul(f))
                        .is_some_and(|u| u.abs() < limit)
                }
                _ => int_range(dt).is_none_or(|(lo, hi)| (lo..=hi).contains(&v)),
            }
        };
        match dt {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal128(..)
            | DataType::Utf8
            | DataType::Binary => {}
            other => {
                return Err(opts.error(
                    &key(path, "kind"),
                    format!(
                        "a 'sequence' generator is not supported for type {}; use TINYINT, \
                         SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL, STRING or BYTES",
                        type_name(other)
                    ),
                ));
            }
        }
        for (k, v) in [(&start_key, start), (&end_key, end)] {
            if !fits(v) {
                return Err(opts.error(k, format!("{v} does not fit type {}", type_name(dt))));
            }
        }
        Ok(FieldSpec {
            path: path.to_string(),
            data_type: dt.clone(),
            null_rate: 0.0,
            generator: Generator::Sequence { start, end },
        })
    }

    fn random(
        path: &str,
        dt: &DataType,
        nullable: bool,
        opts: &mut ConnectorOptions,
    ) -> Result<FieldSpec> {
        let generator = match dt {
            DataType::Boolean => Generator::Boolean,
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
                let (lo, hi) = int_range(dt).unwrap_or((i64::MIN, i64::MAX));
                let min = opts.parse::<i64>(&key(path, "min"), "an integer")?;
                let max = opts.parse::<i64>(&key(path, "max"), "an integer")?;
                for (k, v) in [("min", min), ("max", max)] {
                    if let Some(v) = v.filter(|v| !(lo..=hi).contains(v)) {
                        return Err(opts.error(
                            &key(path, k),
                            format!("{v} is out of range for {} [{lo}, {hi}]", type_name(dt)),
                        ));
                    }
                }
                let (min, max) = (min.unwrap_or(lo), max.unwrap_or(hi));
                check_order(opts, path, min as f64, max as f64, min > max)?;
                Generator::Int { min, max }
            }
            DataType::Float32 => {
                // Flink's defaults: Float.MIN_VALUE (the smallest positive
                // float) to Float.MAX_VALUE.
                let min = opts.parse::<f32>(&key(path, "min"), "a number")?;
                let max = opts.parse::<f32>(&key(path, "max"), "a number")?;
                let min = f64::from(min.unwrap_or(f32::from_bits(1)));
                let max = f64::from(max.unwrap_or(f32::MAX));
                check_finite(opts, path, min, max)?;
                check_order(opts, path, min, max, min > max)?;
                Generator::Float { min, max }
            }
            DataType::Float64 | DataType::Decimal128(..) => {
                // Flink's defaults: Double.MIN_VALUE to Double.MAX_VALUE.
                let min = opts.parse::<f64>(&key(path, "min"), "a number")?;
                let max = opts.parse::<f64>(&key(path, "max"), "a number")?;
                let (min, max) = (min.unwrap_or(f64::from_bits(1)), max.unwrap_or(f64::MAX));
                check_finite(opts, path, min, max)?;
                check_order(opts, path, min, max, min > max)?;
                match dt {
                    DataType::Decimal128(p, s) => {
                        // Like Flink's DecimalDataRandomGenerator: clamp to
                        // the largest magnitude the type holds.
                        let largest =
                            10f64.powi(i32::from(*p) - i32::from(*s)) - 10f64.powi(-i32::from(*s));
                        let (min, max) = (min.max(-largest), max.min(largest));
                        if min > max {
                            return Err(opts.error(
                                &key(path, "min"),
                                format!("the range is outside what {} holds", type_name(dt)),
                            ));
                        }
                        Generator::Decimal { min, max }
                    }
                    _ => Generator::Float { min, max },
                }
            }
            DataType::Utf8 | DataType::Binary => {
                let length = opts.parse::<i32>(&key(path, "length"), "a non-negative integer")?;
                let length = match length {
                    Some(n) if n < 0 => {
                        return Err(opts.error(&key(path, "length"), "must not be negative"));
                    }
                    Some(n) => n as usize,
                    None => DEFAULT_LENGTH,
                };
                let var_len = opts.bool(&key(path, "var-len"))?.unwrap_or(false);
                if *dt == DataType::Utf8 {
                    Generator::Utf8 { length, var_len }
                } else {
                    Generator::Binary { length, var_len }
                }
            }
            DataType::Date32 | DataType::Date64 => Generator::Date,
            DataType::Time32(TimeUnit::Second | TimeUnit::Millisecond)
            | DataType::Time64(TimeUnit::Microsecond | TimeUnit::Nanosecond) => Generator::Time,
            DataType::Timestamp(..) => {
                let max_past = opts.duration(&key(path, "max-past"))?;
                let max_past_ms = max_past
                    .unwrap_or(Duration::ZERO)
                    .as_millis()
                    .try_into()
                    .unwrap_or(u64::MAX);
                Generator::Timestamp { max_past_ms }
            }
            DataType::List(element) => {
                let length = collection_length(opts, path)?;
                let element = Self::random(
                    &format!("{path}.element"),
                    element.data_type(),
                    element.is_nullable(),
                    opts,
                )?;
                Generator::List {
                    element: Box::new(element),
                    length,
                }
            }
            DataType::Map(entries, _) => {
                let length = collection_length(opts, path)?;
                let DataType::Struct(kv) = entries.data_type() else {
                    return Err(unsupported(opts, path, dt));
                };
                if kv.len() != 2 {
                    return Err(unsupported(opts, path, dt));
                }
                let (k, v) = (&kv[0], &kv[1]);
                // Arrow map keys are never NULL.
                let key_spec = Self::random(&format!("{path}.key"), k.data_type(), false, opts)?;
                let value_spec = Self::random(
                    &format!("{path}.value"),
                    v.data_type(),
                    v.is_nullable(),
                    opts,
                )?;
                Generator::Map {
                    key: Box::new(key_spec),
                    value: Box::new(value_spec),
                    length,
                }
            }
            DataType::Struct(fields) => Generator::Struct {
                fields: fields
                    .iter()
                    .map(|f| {
                        Self::random(
                            &format!("{path}.{}", f.name()),
                            f.data_type(),
                            f.is_nullable(),
                            opts,
                        )
                    })
                    .collect::<Result<_>>()?,
            },
            other => return Err(unsupported(opts, path, other)),
        };
        let null_rate = null_rate(opts, path, nullable)?;
        Ok(FieldSpec {
            path: path.to_string(),
            data_type: dt.clone(),
            null_rate,
            generator,
        })
    }
}

fn unsupported(opts: &ConnectorOptions, path: &str, dt: &DataType) -> sluice_engine::SluiceError {
    opts.error(
        &key(path, "kind"),
        format!("connector 'datagen' cannot generate type {}", type_name(dt)),
    )
}

fn check_finite(opts: &ConnectorOptions, path: &str, min: f64, max: f64) -> Result<()> {
    for (k, v) in [("min", min), ("max", max)] {
        if !v.is_finite() {
            return Err(opts.error(&key(path, k), format!("expected a finite number, got {v}")));
        }
    }
    Ok(())
}

fn check_order(opts: &ConnectorOptions, path: &str, min: f64, max: f64, bad: bool) -> Result<()> {
    if bad {
        return Err(opts.error(
            &key(path, "min"),
            format!("min {min} is greater than max {max}"),
        ));
    }
    Ok(())
}

fn collection_length(opts: &mut ConnectorOptions, path: &str) -> Result<usize> {
    let k = key(path, "length");
    match opts.parse::<i32>(&k, "a non-negative integer")? {
        Some(n) if n < 0 => Err(opts.error(&k, "must not be negative")),
        Some(n) => Ok(n as usize),
        None => Ok(DEFAULT_COLLECTION_LENGTH),
    }
}

fn null_rate(opts: &mut ConnectorOptions, path: &str, nullable: bool) -> Result<f32> {
    let k = key(path, "null-rate");
    let rate = opts.parse::<f32>(&k, "a number between 0 and 1")?;
    let rate = rate.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&rate) {
        return Err(opts.error(&k, format!("must be between 0 and 1, got {rate}")));
    }
    if rate > 0.0 && !nullable {
        return Err(opts.error(
            &k,
            format!("field '{path}' is NOT NULL and cannot be generated with NULLs"),
        ));
    }
    Ok(rate)
}
