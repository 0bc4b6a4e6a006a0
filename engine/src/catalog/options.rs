//! WITH options, consumed one key at a time so that whatever is left over at
//! the end is a key no one understood — an error that lists the valid keys.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::time::Duration;

use crate::error::{Result, SluiceError};

/// The WITH options of one table as a connector sees them while it validates.
#[derive(Debug, Clone)]
pub struct ConnectorOptions {
    table: String,
    values: BTreeMap<String, String>,
    consumed: BTreeSet<String>,
    known: BTreeSet<String>,
}

impl ConnectorOptions {
    /// Options of `table`, as written in its WITH clause.
    pub fn new(table: impl Into<String>, values: BTreeMap<String, String>) -> Self {
        Self {
            table: table.into(),
            values,
            consumed: BTreeSet::new(),
            known: BTreeSet::new(),
        }
    }

    /// The table these options belong to.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// An error about `key` that names the table and the key.
    pub fn error(&self, key: &str, message: impl std::fmt::Display) -> SluiceError {
        SluiceError::Options {
            table: self.table.clone(),
            message: format!("option '{key}': {message}"),
        }
    }

    /// Takes an optional string option.
    pub fn string(&mut self, key: &str) -> Option<String> {
        self.known.insert(key.to_string());
        let v = self.values.get(key).cloned();
        if v.is_some() {
            self.consumed.insert(key.to_string());
        }
        v
    }

    /// Takes a required string option.
    pub fn required(&mut self, key: &str) -> Result<String> {
        self.string(key).ok_or_else(|| SluiceError::Options {
            table: self.table.clone(),
            message: format!("missing required option '{key}'"),
        })
    }

    /// Takes an option parsed with `FromStr`; `expected` describes the form for
    /// the error message ("a positive integer").
    pub fn parse<T: FromStr>(&mut self, key: &str, expected: &str) -> Result<Option<T>> {
        match self.string(key) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<T>()
                .map(Some)
                .map_err(|_| self.error(key, format!("expected {expected}, got '{v}'"))),
        }
    }

    /// Takes a boolean option (`true`/`false`, any case).
    pub fn bool(&mut self, key: &str) -> Result<Option<bool>> {
        match self.string(key) {
            None => Ok(None),
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(self.error(key, format!("expected 'true' or 'false', got '{v}'"))),
            },
        }
    }

    /// Takes a duration in Flink's form: `500 ms`, `1s`, `2 min`, `1h`, `1 d`
    /// (a bare number is milliseconds).
    pub fn duration(&mut self, key: &str) -> Result<Option<Duration>> {
        match self.string(key) {
            None => Ok(None),
            Some(v) => parse_duration(&v).map(Some).ok_or_else(|| {
                self.error(
                    key,
                    format!("expected a duration such as '500 ms', '10 s' or '1 min', got '{v}'"),
                )
            }),
        }
    }

    /// Takes a memory size in Flink's form: `128mb`, `2 kb`, `1gb` (a bare
    /// number is bytes).
    pub fn memory_size(&mut self, key: &str) -> Result<Option<u64>> {
        match self.string(key) {
            None => Ok(None),
            Some(v) => parse_memory_size(&v).map(Some).ok_or_else(|| {
                self.error(
                    key,
                    format!("expected a size such as '128mb' or '2kb', got '{v}'"),
                )
            }),
        }
    }

    /// Takes an option whose value must be one of `allowed` (case-insensitive);
    /// returns it lower-cased.
    pub fn one_of(&mut self, key: &str, allowed: &[&str]) -> Result<Option<String>> {
        match self.string(key) {
            None => Ok(None),
            Some(v) => {
                let lower = v.trim().to_ascii_lowercase();
                if allowed.iter().any(|a| a.eq_ignore_ascii_case(&lower)) {
                    Ok(Some(lower))
                } else {
                    Err(self.error(
                        key,
                        format!("expected one of {}, got '{v}'", allowed.join(", ")),
                    ))
                }
            }
        }
    }

    /// Takes every option that starts with `prefix`, returned without the
    /// prefix. `pattern` is how the family is listed among valid keys
    /// (`properties.*`).
    pub fn prefixed(&mut self, prefix: &str, pattern: &str) -> BTreeMap<String, String> {
        self.known.insert(pattern.to_string());
        let mut out = BTreeMap::new();
        for (k, v) in &self.values {
            if let Some(rest) = k.strip_prefix(prefix) {
                out.insert(rest.to_string(), v.clone());
                self.consumed.insert(k.clone());
            }
        }
        out
    }

    /// Declares a key family as valid without taking anything (for listing).
    pub fn note_known(&mut self, pattern: &str) {
        self.known.insert(pattern.to_string());
    }

    /// True when `key` was written, whether or not it was taken yet.
    pub fn contains(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    /// Ends validation: any key nobody took is an error listing valid keys.
    pub fn finish(&self, connector: &str) -> Result<()> {
        let leftover: Vec<&String> = self
            .values
            .keys()
            .filter(|k| !self.consumed.contains(*k))
            .collect();
        if leftover.is_empty() {
            return Ok(());
        }
        let mut valid: Vec<&str> = self.known.iter().map(|s| s.as_str()).collect();
        valid.insert(0, "connector");
        let keys: Vec<String> = leftover.iter().map(|k| format!("'{k}'")).collect();
        Err(SluiceError::Options {
            table: self.table.clone(),
            message: format!(
                "unsupported option{} {} for connector '{connector}'; valid options are: {}",
                if keys.len() > 1 { "s" } else { "" },
                keys.join(", "),
                valid.join(", ")
            ),
        })
    }
}

/// Parses Flink's duration syntax. A bare number is milliseconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let ms = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => n,
        "s" | "sec" | "secs" | "second" | "seconds" => n * 1e3,
        "m" | "min" | "mins" | "minute" | "minutes" => n * 60e3,
        "h" | "hour" | "hours" => n * 3600e3,
        "d" | "day" | "days" => n * 86400e3,
        "us" | "micro" | "micros" | "microsecond" | "microseconds" => n / 1e3,
        "ns" | "nano" | "nanos" | "nanosecond" | "nanoseconds" => n / 1e6,
        _ => return None,
    };
    if !ms.is_finite() || ms < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(ms / 1e3))
}

/// Parses Flink's memory size syntax. A bare number is bytes.
pub fn parse_memory_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" | "bytes" => 1,
        "k" | "kb" | "kibibytes" => 1 << 10,
        "m" | "mb" | "mebibytes" => 1 << 20,
        "g" | "gb" | "gibibytes" => 1 << 30,
        "t" | "tb" | "tebibytes" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// Option keys whose values are never printed (SHOW CREATE TABLE, logs).
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("password")
        || k.contains("secret")
        || k.contains("sasl.jaas.config")
        || k.contains("token")
        || k.contains("credential")
}

/// The value shown for a secret option.
pub const MASK: &str = "******";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_flink() {
        assert_eq!(parse_duration("200 ms"), Some(Duration::from_millis(200)));
        assert_eq!(parse_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_duration("2 min"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("abc"), None);
    }

    #[test]
    fn leftover_keys_are_listed() {
        let mut o = ConnectorOptions::new(
            "t",
            [
                ("path".to_string(), "/x".to_string()),
                ("pth".to_string(), "y".to_string()),
            ]
            .into_iter()
            .collect(),
        );
        o.required("path").unwrap();
        let err = o.finish("filesystem").unwrap_err().to_string();
        assert!(err.contains("'pth'"), "{err}");
        assert!(err.contains("valid options are: connector, path"), "{err}");
    }
}
