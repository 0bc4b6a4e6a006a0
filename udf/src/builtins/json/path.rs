//! SQL/JSON paths as Flink evaluates them: an optional `lax` or `strict`
//! mode (strict when absent), then `$` followed by `.name`, `['name']`,
//! `[index]` (negative counts from the end), `[i, j]`, `[*]`, `.*` and
//! `..name`.
//!
//! A path with a wildcard, a deep scan or several indexes is *indefinite*:
//! it yields the list of everything it matched. A definite path yields one
//! value; in strict mode a missing member or index is an error, in lax mode
//! it is empty.

use serde_json::Value;

/// Path mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Lax,
    Strict,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Member(String),
    Index(Vec<i64>),
    AnyIndex,
    AnyMember,
    Descendant(String),
}

/// A compiled path.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    pub mode: Mode,
    steps: Vec<Step>,
}

/// What a path found.
#[derive(Debug, PartialEq)]
pub enum Found<'a> {
    /// Nothing (lax mode), or a JSON `null`.
    Empty,
    /// One value of a definite path.
    One(&'a Value),
    /// Everything an indefinite path matched.
    Many(Vec<&'a Value>),
    /// A strict-mode error.
    Error,
}

impl JsonPath {
    /// Compiles `spec`, or explains what is wrong with it.
    pub fn compile(spec: &str) -> Result<JsonPath, String> {
        let trimmed = spec.trim_start();
        let (mode, rest) = match trimmed.split_once(char::is_whitespace) {
            Some((m, rest)) if m.eq_ignore_ascii_case("lax") => (Mode::Lax, rest.trim_start()),
            Some((m, rest)) if m.eq_ignore_ascii_case("strict") => {
                (Mode::Strict, rest.trim_start())
            }
            _ => (Mode::Strict, trimmed),
        };
        let rest = rest.trim_end();
        let Some(mut rest) = rest.strip_prefix('$') else {
            return Err("a path starts with '$'".into());
        };
        let mut steps = Vec::new();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("..") {
                let (name, r) = take_name(r)?;
                steps.push(Step::Descendant(name));
                rest = r;
            } else if let Some(r) = rest.strip_prefix('.') {
                if r.starts_with('[') {
                    // `$.["a.b"]`: Jayway accepts a dot before brackets.
                    rest = r;
                } else if let Some(r) = r.strip_prefix('*') {
                    steps.push(Step::AnyMember);
                    rest = r;
                } else {
                    let (name, r) = take_name(r)?;
                    steps.push(Step::Member(name));
                    rest = r;
                }
            } else if let Some(r) = rest.strip_prefix('[') {
                let close = r.find(']').ok_or("unclosed '['")?;
                let inner = r[..close].trim();
                rest = &r[close + 1..];
                if inner == "*" {
                    steps.push(Step::AnyIndex);
                } else if let Some(name) = quoted(inner) {
                    steps.push(Step::Member(name));
                } else {
                    let idx = inner
                        .split(',')
                        .map(|i| i.trim().parse::<i64>())
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|_| format!("invalid array index '[{inner}]'"))?;
                    steps.push(Step::Index(idx));
                }
            } else {
                return Err(format!("unexpected '{rest}'"));
            }
        }
        Ok(JsonPath { mode, steps })
    }

    fn definite(&self) -> bool {
        self.steps.iter().all(|s| match s {
            Step::Member(_) => true,
            Step::Index(i) => i.len() == 1,
            _ => false,
        })
    }

    /// Evaluates the path on `root`.
    pub fn eval<'a>(&self, root: &'a Value) -> Found<'a> {
        let mut current = vec![root];
        let definite = self.definite();
        for step in &self.steps {
            let mut next = Vec::new();
            for v in current {
                match (step, v) {
                    (Step::Member(m), Value::Object(o)) => match o.get(m) {
                        Some(x) => next.push(x),
                        None if definite && self.mode == Mode::Strict => return Found::Error,
                        None => {}
                    },
                    (Step::Index(idx), Value::Array(a)) => {
                        for &i in idx {
                            let at = if i < 0 { a.len() as i64 + i } else { i };
                            match usize::try_from(at).ok().and_then(|i| a.get(i)) {
                                Some(x) => next.push(x),
                                None if definite && self.mode == Mode::Strict => {
                                    return Found::Error;
                                }
                                None => {}
                            }
                        }
                    }
                    (Step::AnyIndex, Value::Array(a)) => next.extend(a.iter()),
                    (Step::AnyMember, Value::Object(o)) => next.extend(o.values()),
                    (Step::AnyMember, Value::Array(a)) => next.extend(a.iter()),
                    (Step::Descendant(name), _) => descendants(v, name, &mut next),
                    _ if definite && self.mode == Mode::Strict => return Found::Error,
                    _ => {}
                }
            }
            current = next;
        }
        if !definite {
            return Found::Many(current);
        }
        match current.first() {
            None | Some(Value::Null) => Found::Empty,
            Some(v) => Found::One(v),
        }
    }
}

fn descendants<'a>(v: &'a Value, name: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(o) => {
            if let Some(x) = o.get(name) {
                out.push(x);
            }
            for x in o.values() {
                descendants(x, name, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| descendants(x, name, out)),
        _ => {}
    }
}

fn quoted(s: &str) -> Option<String> {
    let q = s.chars().next()?;
    if (q == '\'' || q == '"') && s.len() >= 2 && s.ends_with(q) {
        Some(s[1..s.len() - 1].to_string())
    } else {
        None
    }
}

fn take_name(s: &str) -> Result<(String, &str), String> {
    let end = s.find(['.', '[']).unwrap_or(s.len());
    let name = s[..end].trim();
    if name.is_empty() {
        return Err("a member name is missing".into());
    }
    Ok((name.to_string(), &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(path: &str, json: &str) -> String {
        let v: Value = serde_json::from_str(json).unwrap();
        let p = JsonPath::compile(path).unwrap();
        match p.eval(&v) {
            Found::Empty => "empty".into(),
            Found::One(v) => v.to_string(),
            Found::Many(v) => format!("{v:?}"),
            Found::Error => "error".into(),
        }
    }

    #[test]
    fn paths() {
        assert_eq!(eval("$.a", r#"{"a": 1}"#), "1");
        assert_eq!(eval("$.a.b", r#"{"a": {"b": "x"}}"#), "\"x\"");
        assert_eq!(eval("$.a[1]", r#"{"a": [1, 2]}"#), "2");
        assert_eq!(eval("$.a[-1]", r#"{"a": [1, 2, 3]}"#), "3");
        assert_eq!(eval("$['a b']", r#"{"a b": true}"#), "true");
        assert_eq!(
            eval(r#"$.["a.b"][1]"#, r#"{"a.b": [0.998, 0.996]}"#),
            "0.996"
        );
        assert_eq!(eval("$.b", r#"{"a": 1}"#), "error");
        assert_eq!(eval("lax $.b", r#"{"a": 1}"#), "empty");
        assert_eq!(eval("$.a[*]", r#"{"a": [1, 2]}"#), "[Number(1), Number(2)]");
        assert_eq!(
            eval("$..b", r#"{"a": {"b": 1}, "b": 2}"#),
            "[Number(2), Number(1)]"
        );
        assert!(JsonPath::compile("a.b").is_err());
    }
}
