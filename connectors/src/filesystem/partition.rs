//! `PARTITIONED BY` tables: each row goes to the directory `k1=v1/k2=v2/`
//! named by its partition columns' values, and those columns are not
//! written into the files (the path holds them), as in Flink. Values are
//! escaped in paths exactly like Flink's `PartitionPathUtils` so either
//! engine reads the other's directories; NULL or empty values go to
//! `partition.default-name`.

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::ScalarValue;
use sluice_engine::display::{DisplayStyle, ValueFormatter};
use sluice_engine::{Result, SluiceError};

/// Flink's default `partition.default-name`.
pub const DEFAULT_PARTITION_NAME: &str = "__DEFAULT_PARTITION__";

/// How a table is partitioned.
#[derive(Debug, Clone)]
pub struct Partitioning {
    /// Partition columns: their names and positions in the table's physical
    /// columns, in `PARTITIONED BY` order.
    pub keys: Vec<(String, usize)>,
    /// The physical columns written into files (every non-partition one).
    pub file_columns: Vec<usize>,
    /// The directory name part for a NULL or empty value.
    pub default_name: String,
}

impl Partitioning {
    /// Partitioning of `physical` by `keys` (already checked to be columns).
    pub fn new(physical: &SchemaRef, keys: &[String], default_name: String) -> Result<Self> {
        let keys = keys
            .iter()
            .map(|k| Ok((k.clone(), physical.index_of(k)?)))
            .collect::<Result<Vec<_>>>()?;
        let file_columns = (0..physical.fields().len())
            .filter(|i| !keys.iter().any(|(_, k)| k == i))
            .collect();
        Ok(Partitioning {
            keys,
            file_columns,
            default_name,
        })
    }

    /// Renders the partition paths of a batch with `columns` (the table's
    /// physical columns), row by row.
    pub fn paths<'a>(&'a self, columns: &'a [ArrayRef]) -> PathRenderer<'a> {
        let keys = self
            .keys
            .iter()
            .map(|(name, col)| {
                let column = columns[*col].as_ref();
                let formatter = ValueFormatter::new(column, DisplayStyle::SqlClient);
                (name.as_str(), column, formatter)
            })
            .collect();
        PathRenderer {
            keys,
            default_name: &self.default_name,
            value: String::new(),
        }
    }

    /// The partition values of a file at `relative` (its path below the
    /// table's root): `None` per key for the default partition. A file
    /// outside the `k=v` layout is an error naming it.
    pub fn values_of(&self, relative: &str) -> Result<Vec<Option<String>>> {
        let mut found: Vec<Option<Option<String>>> = vec![None; self.keys.len()];
        for segment in relative.split('/') {
            let Some((k, v)) = segment.split_once('=') else {
                continue;
            };
            let k = unescape(k);
            if let Some(i) = self.keys.iter().position(|(name, _)| *name == k) {
                let v = unescape(v);
                found[i] = Some((v != self.default_name).then_some(v));
            }
        }
        found
            .into_iter()
            .zip(&self.keys)
            .map(|(v, (name, _))| {
                v.ok_or_else(|| {
                    SluiceError::execution(format!(
                        "file '{relative}' of a partitioned table is not under a \
                         '{name}=<value>' directory"
                    ))
                })
            })
            .collect()
    }
}

/// Renders partition paths; its value formatters are built once per batch.
pub struct PathRenderer<'a> {
    keys: Vec<(&'a str, &'a dyn Array, ValueFormatter<'a>)>,
    default_name: &'a str,
    /// Reused buffer for one unescaped value.
    value: String,
}

impl PathRenderer<'_> {
    /// Appends row `row`'s partition path (`k1=v1/k2=v2`) to `out`.
    pub fn write(&mut self, row: usize, out: &mut String) {
        for (i, (name, column, formatter)) in self.keys.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            escape_into(name, out);
            out.push('=');
            self.value.clear();
            if !column.is_null(row) {
                formatter.write(&mut self.value, row);
            }
            if self.value.is_empty() {
                out.push_str(self.default_name);
            } else {
                escape_into(&self.value, out);
            }
        }
    }
}

/// A partition column's value for `rows` rows, parsed from its path form.
pub fn constant_column(value: Option<&str>, data_type: &DataType, rows: usize) -> Result<ArrayRef> {
    let scalar = match value {
        None => ScalarValue::try_from(data_type)?,
        Some(v) => ScalarValue::try_from_string(v.to_string(), data_type).map_err(|e| {
            SluiceError::execution(format!(
                "partition value '{v}' is not a valid {data_type}: {e}"
            ))
        })?,
    };
    Ok(scalar.to_array_of_size(rows)?)
}

/// Characters Flink escapes in partition paths (`PartitionPathUtils`).
fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\u{1}'
            ..='\u{1f}'
                | '"'
                | '#'
                | '%'
                | '\''
                | '*'
                | '/'
                | ':'
                | '='
                | '?'
                | '\\'
                | '\u{7f}'
                | '{'
                | '['
                | ']'
                | '^'
    )
}

fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        if needs_escape(c) {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
}

/// Reverses [`escape_into`]; a `%` not followed by two hex digits stays.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match code {
            Some(c) => {
                out.push(c as char);
                rest = &rest[i + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_escape_like_flink_and_read_back() {
        let mut out = String::new();
        escape_into("10:00", &mut out);
        assert_eq!(out, "10%3A00");
        assert_eq!(unescape("10%3A00"), "10:00");
        assert_eq!(unescape("a%2Fb%3D%"), "a/b=%");
    }
}
