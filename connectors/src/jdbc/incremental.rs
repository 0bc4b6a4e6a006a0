//! Incremental sync (`scan.incremental.column`): each run reads only rows
//! whose column is beyond the last value the previous run read, and
//! remembers the new last value in a small JSON file under
//! `scan.incremental.state-dir`, one file per (Sluice table, database,
//! table-name, column). The file is written only after the run has handed
//! its last row to the job, so an interrupted run is read again next time.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use sluice_engine::display::{DisplayStyle, ValueFormatter};

use super::bind::BindArgs;

/// A value of the incremental column, typed for binding.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    Int(i64),
    Float(f64),
    Decimal(BigDecimal),
    Str(String),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
    TimestampUtc(DateTime<Utc>),
}

impl Bound {
    /// Parses `text` (as `scan.incremental.start` or the state file holds
    /// it: Flink's `CAST(x AS STRING)` form) for a column of `data_type`.
    pub fn parse(text: &str, data_type: &DataType) -> Result<Self, String> {
        let t = text.trim();
        let bad = |what: &str| format!("expected {what}, got '{text}'");
        Ok(match data_type {
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
                Bound::Int(t.parse().map_err(|_| bad("an integer"))?)
            }
            DataType::Float32 | DataType::Float64 => {
                Bound::Float(t.parse().map_err(|_| bad("a number"))?)
            }
            DataType::Decimal128(..) => {
                Bound::Decimal(BigDecimal::from_str(t).map_err(|_| bad("a decimal number"))?)
            }
            DataType::Utf8 => Bound::Str(text.to_string()),
            DataType::Date32 => Bound::Date(
                NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| bad("a date 'yyyy-MM-dd'"))?,
            ),
            DataType::Timestamp(_, tz) => {
                let naive = parse_timestamp(t)
                    .ok_or_else(|| bad("a timestamp 'yyyy-MM-dd HH:mm:ss[.SSS]'"))?;
                match tz {
                    Some(_) => Bound::TimestampUtc(naive.and_utc()),
                    None => Bound::Timestamp(naive),
                }
            }
            other => {
                return Err(format!(
                    "an incremental column must be a number, string, date or timestamp, not {other}"
                ));
            }
        })
    }

    /// Binds the value as the next parameter.
    pub fn bind<A: BindArgs>(&self, args: &mut A) -> Result<(), sqlx::error::BoxDynError> {
        match self {
            Bound::Int(v) => args.i64(Some(*v)),
            Bound::Float(v) => args.f64(Some(*v)),
            Bound::Decimal(v) => args.decimal(Some(v.clone())),
            Bound::Str(v) => args.str(Some(v)),
            Bound::Date(v) => args.date(Some(*v)),
            Bound::Timestamp(v) => args.timestamp(Some(*v)),
            Bound::TimestampUtc(v) => args.timestamp_utc(Some(*v)),
        }
    }
}

fn parse_timestamp(t: &str) -> Option<NaiveDateTime> {
    let t = t.trim_end_matches('Z');
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d",
    ]
    .iter()
    .find_map(|f| {
        NaiveDateTime::parse_from_str(t, f).ok().or_else(|| {
            NaiveDate::parse_from_str(t, f)
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
    })
}

/// The last non-NULL value of `column` in `batch`, as text. The scan is
/// ordered by the column, so it is the largest value read so far.
pub fn last_value(batch: &RecordBatch, column: usize) -> Option<String> {
    let array = batch.column(column);
    let row = (0..array.len()).rev().find(|i| array.is_valid(*i))?;
    let mut out = String::new();
    ValueFormatter::new(array.as_ref(), DisplayStyle::SqlClient).write(&mut out, row);
    Some(out)
}

/// Where one incremental table keeps its progress.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
    /// What the file describes, stored beside the value for people reading it.
    description: String,
}

impl StateFile {
    /// The state file in `dir` for reading `column` of `table_name` on
    /// `database` (`host:port/db`) as Sluice table `table`.
    pub fn new(dir: &Path, table: &str, database: &str, table_name: &str, column: &str) -> Self {
        let description = format!("{table} <- {database} {table_name}.{column}");
        let safe: String = table
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        let path = dir.join(format!(
            "{safe}-{:016x}.json",
            fnv1a(description.as_bytes())
        ));
        Self { path, description }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last value a previous run read, if any run finished.
    pub fn load(&self) -> Result<Option<String>, String> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("reading {}: {e}", self.path.display())),
        };
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not valid JSON: {e}", self.path.display()))?;
        match value.get("last") {
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            _ => Err(format!(
                "{} has no string field 'last'",
                self.path.display()
            )),
        }
    }

    /// Records `last`: written to a temporary file and renamed, so a crash
    /// leaves either the old or the new value.
    pub fn store(&self, last: &str) -> Result<(), String> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let body = serde_json::json!({ "source": self.description, "last": last });
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, format!("{body:#}\n"))
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(|e| format!("writing {}: {e}", self.path.display()))
    }
}

/// FNV-1a: a hash that stays the same across Rust versions, so file names do.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `scan.incremental.state-dir` when not set: `$HOME/.sluice/jdbc-incremental`.
pub fn default_state_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".sluice")
        .join("jdbc-incremental")
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::TimeUnit;

    use super::*;

    #[test]
    fn parses_start_values_by_type() {
        assert_eq!(Bound::parse(" 42", &DataType::Int64), Ok(Bound::Int(42)));
        assert_eq!(
            Bound::parse(
                "2024-01-02 03:04:05.5",
                &DataType::Timestamp(TimeUnit::Millisecond, None)
            ),
            Ok(Bound::Timestamp(
                NaiveDate::from_ymd_opt(2024, 1, 2)
                    .unwrap()
                    .and_hms_milli_opt(3, 4, 5, 500)
                    .unwrap()
            ))
        );
        assert!(
            Bound::parse("x", &DataType::Int32)
                .unwrap_err()
                .contains("an integer")
        );
        assert!(Bound::parse("1", &DataType::Boolean).is_err());
    }

    #[test]
    fn state_survives_a_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let f = StateFile::new(dir.path(), "orders", "h:1/db", "orders", "id");
        assert_eq!(f.load(), Ok(None));
        f.store("17").unwrap();
        assert_eq!(f.load(), Ok(Some("17".into())));
        let other = StateFile::new(dir.path(), "orders", "h:1/db", "orders", "ts");
        assert_ne!(f.path(), other.path());
    }
}
