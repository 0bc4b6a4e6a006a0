//! From a row to Redis commands: the key (one column, or `key.fields`
//! joined by `key.delimiter`, after `key.prefix`), the command's arguments
//! from the remaining columns, the retraction for `-D`/`-U` rows, and the
//! TTL.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
};
use sluice_engine::display::{DisplayStyle, ValueFormatter};

use super::command::{Arg, Command};
use crate::sink::buffered::{ChangeBatch, RowError};

/// How rows of one table become commands.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub command: Command,
    /// Columns joined into the key.
    pub key_columns: Vec<usize>,
    pub delimiter: String,
    pub prefix: String,
    /// One column per [`Command::args`] entry.
    pub arg_columns: Vec<usize>,
    /// `ttl` in seconds, applied on every write.
    pub ttl: Option<u64>,
    /// Column names, for errors.
    pub names: Vec<String>,
}

/// A number argument, kept exact so a retraction can negate it.
enum Number {
    Int(i64),
    Float(f64),
    Decimal(i128, i8),
}

impl Number {
    fn negate(self) -> Option<Number> {
        Some(match self {
            Number::Int(v) => Number::Int(v.checked_neg()?),
            Number::Float(v) => Number::Float(-v),
            Number::Decimal(v, s) => Number::Decimal(v.checked_neg()?, s),
        })
    }

    fn text(&self) -> String {
        match self {
            Number::Int(v) => v.to_string(),
            Number::Float(v) => v.to_string(),
            Number::Decimal(v, s) => decimal_text(*v, *s),
        }
    }
}

fn decimal_text(v: i128, scale: i8) -> String {
    if scale <= 0 {
        let mut s = v.to_string();
        if v != 0 {
            s.extend(std::iter::repeat_n('0', scale.unsigned_abs() as usize));
        }
        return s;
    }
    let digits = v.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{}{int}.{frac}", if v < 0 { "-" } else { "" })
}

/// True when `dt` can be an [`Arg::Integer`] column.
pub fn is_integer(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
    )
}

/// True when `dt` can be an [`Arg::Number`] column.
pub fn is_number(dt: &DataType) -> bool {
    is_integer(dt)
        || matches!(
            dt,
            DataType::Float32 | DataType::Float64 | DataType::Decimal128(..)
        )
}

/// True when `dt` can be written as text (keys, values, fields, members).
pub fn is_scalar(dt: &DataType) -> bool {
    !matches!(
        dt,
        DataType::List(_) | DataType::Map(..) | DataType::Struct(_) | DataType::Null
    )
}

/// A batch's columns, ready to render per row.
pub struct Rendered<'a> {
    columns: Vec<&'a ArrayRef>,
    formatters: Vec<ValueFormatter<'a>>,
}

impl<'a> Rendered<'a> {
    pub fn new(batch: &'a ChangeBatch) -> Self {
        let columns: Vec<&ArrayRef> = batch.rows().columns().iter().collect();
        let formatters = batch
            .rows()
            .columns()
            .iter()
            .map(|c| ValueFormatter::new(c.as_ref(), DisplayStyle::SqlClient))
            .collect();
        Self {
            columns,
            formatters,
        }
    }

    /// Appends the bytes of column `c` at `row` (text as Flink casts it to
    /// STRING; BYTES as-is). `false` when NULL.
    fn bytes(&self, c: usize, row: usize, out: &mut Vec<u8>) -> bool {
        let col = self.columns[c];
        if col.is_null(row) {
            return false;
        }
        match col.data_type() {
            DataType::Utf8 => out.extend_from_slice(col.as_string::<i32>().value(row).as_bytes()),
            DataType::Binary => out.extend_from_slice(col.as_binary::<i32>().value(row)),
            _ => {
                let mut s = String::new();
                self.formatters[c].write(&mut s, row);
                out.extend_from_slice(s.as_bytes());
            }
        }
        true
    }

    fn number(&self, c: usize, row: usize) -> Option<Number> {
        let col = self.columns[c];
        if col.is_null(row) {
            return None;
        }
        Some(match col.data_type() {
            DataType::Int8 => Number::Int(col.as_primitive::<Int8Type>().value(row).into()),
            DataType::Int16 => Number::Int(col.as_primitive::<Int16Type>().value(row).into()),
            DataType::Int32 => Number::Int(col.as_primitive::<Int32Type>().value(row).into()),
            DataType::Int64 => Number::Int(col.as_primitive::<Int64Type>().value(row)),
            DataType::Float32 => Number::Float(col.as_primitive::<Float32Type>().value(row).into()),
            DataType::Float64 => Number::Float(col.as_primitive::<Float64Type>().value(row)),
            DataType::Decimal128(_, s) => {
                Number::Decimal(col.as_primitive::<Decimal128Type>().value(row), *s)
            }
            _ => return None,
        })
    }
}

impl Mapping {
    fn null(&self, row: usize, c: usize, what: &str) -> RowError {
        RowError::rejected(row, format!("the {what} is NULL")).with_column(&self.names[c])
    }

    /// The Redis key of `row`.
    pub fn key(&self, r: &Rendered<'_>, row: usize) -> Result<Vec<u8>, RowError> {
        let mut key = self.prefix.as_bytes().to_vec();
        for (i, c) in self.key_columns.iter().enumerate() {
            if i > 0 {
                key.extend_from_slice(self.delimiter.as_bytes());
            }
            if !r.bytes(*c, row, &mut key) {
                return Err(self.null(row, *c, "key"));
            }
        }
        Ok(key)
    }

    /// Adds the commands for `row` to `pipe`; returns how many. A row whose
    /// data cannot make a command (a NULL key) is an error for that row.
    pub fn push(
        &self,
        r: &Rendered<'_>,
        batch: &ChangeBatch,
        row: usize,
        pipe: &mut ::redis::Pipeline,
    ) -> Result<usize, RowError> {
        let key = self.key(r, row)?;
        let retract = batch.is_retraction(row);
        let mut text: Vec<Vec<u8>> = Vec::with_capacity(self.arg_columns.len());
        for (arg, c) in self.command.args().iter().zip(&self.arg_columns) {
            match arg {
                Arg::Integer | Arg::Number => {
                    let n = r
                        .number(*c, row)
                        .ok_or_else(|| self.null(row, *c, "increment"))?;
                    let n = if retract && self.command.is_increment() {
                        n.negate().ok_or_else(|| {
                            RowError::rejected(row, "the increment cannot be negated")
                                .with_column(&self.names[*c])
                        })?
                    } else {
                        n
                    };
                    text.push(n.text().into_bytes());
                }
                _ => {
                    let mut v = Vec::new();
                    if !r.bytes(*c, row, &mut v) {
                        let what = match arg {
                            Arg::Field => "hash field",
                            Arg::Member => "member",
                            _ => "value",
                        };
                        return Err(self.null(row, *c, what));
                    }
                    text.push(v);
                }
            }
        }
        let cmd = |name: &str| {
            let mut c = ::redis::cmd(name);
            c.arg(&key);
            c
        };
        use Command as C;
        let main = match (self.command, retract) {
            (C::Set, false) => {
                let mut c = cmd("SET");
                c.arg(&text[0]);
                if let Some(ttl) = self.ttl {
                    c.arg("EX").arg(ttl);
                }
                pipe.add_command(c);
                return Ok(1);
            }
            (C::Set, true) | (C::Del, false) => {
                pipe.add_command(cmd("DEL"));
                return Ok(1);
            }
            // Deleting a DEL has nothing to undo.
            (C::Del, true) => return Ok(0),
            (C::Hset, true) => {
                let mut c = cmd("HDEL");
                c.arg(&text[0]);
                c
            }
            (C::Sadd, true) => {
                let mut c = cmd("SREM");
                c.arg(&text[0]);
                c
            }
            (C::Zadd, true) => {
                let mut c = cmd("ZREM");
                c.arg(&text[1]);
                c
            }
            // Remove one occurrence from the end the push added to.
            (C::Rpush, true) | (C::Lpush, true) => {
                let mut c = cmd("LREM");
                c.arg(if self.command == C::Rpush { -1 } else { 1 })
                    .arg(&text[0]);
                c
            }
            // Writes, and increments (whose retraction is negated above).
            (command, _) => {
                let mut c = cmd(command.name());
                for t in &text {
                    c.arg(t);
                }
                c
            }
        };
        pipe.add_command(main);
        if let Some(ttl) = self.ttl {
            let mut c = cmd("EXPIRE");
            c.arg(ttl);
            pipe.add_command(c);
            return Ok(2);
        }
        Ok(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_render_exactly() {
        assert_eq!(decimal_text(12345, 2), "123.45");
        assert_eq!(decimal_text(-5, 3), "-0.005");
        assert_eq!(decimal_text(7, 0), "7");
        assert_eq!(decimal_text(7, -2), "700");
    }
}
