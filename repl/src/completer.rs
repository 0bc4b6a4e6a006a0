//! Tab completion: SQL keywords and the session's tables, columns and
//! functions.
//!
//! The names are fetched from the session on every Tab, so a table created a
//! moment ago completes at once. Which kinds of names are offered depends on
//! the word before the cursor: after `SHOW` only what can be shown (so
//! `SHOW TAB` completes to `SHOW TABLES`, not to the ambiguous `TABLE`), after
//! `FROM`/`JOIN`/`INTO` tables first, after `t.` the columns of `t`.

use std::sync::Arc;

use rustyline::Helper;
use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use sluice::Sluice;

/// Flink SQL keywords and type names, plus the shell's own commands.
const KEYWORDS: &[&str] = &[
    "ADD",
    "ALL",
    "ALTER",
    "AND",
    "ANALYZE",
    "ARRAY",
    "AS",
    "ASC",
    "BEGIN",
    "BETWEEN",
    "BIGINT",
    "BINARY",
    "BOOLEAN",
    "BY",
    "BYTES",
    "CASCADE",
    "CASE",
    "CAST",
    "CATALOG",
    "CATALOGS",
    "CHAR",
    "CLEAR",
    "COALESCE",
    "COLUMNS",
    "COMMENT",
    "COMPILE",
    "COMPUTED",
    "CONSTRAINT",
    "CREATE",
    "CROSS",
    "CUMULATE",
    "CURRENT",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "DATABASE",
    "DATABASES",
    "DATE",
    "DAY",
    "DECIMAL",
    "DEFAULT",
    "DELETE",
    "DESC",
    "DESCRIBE",
    "DISTINCT",
    "DOUBLE",
    "DRAIN",
    "DROP",
    "ELSE",
    "END",
    "ENFORCED",
    "ESCAPE",
    "EXCEPT",
    "EXECUTE",
    "EXISTS",
    "EXIT",
    "EXPLAIN",
    "EXTENDED",
    "FALSE",
    "FETCH",
    "FIRST",
    "FLOAT",
    "FOLLOWING",
    "FOR",
    "FROM",
    "FULL",
    "FUNCTION",
    "FUNCTIONS",
    "GROUP",
    "GROUPING",
    "HAVING",
    "HELP",
    "HOP",
    "HOUR",
    "IF",
    "IN",
    "INNER",
    "INSERT",
    "INT",
    "INTEGER",
    "INTERSECT",
    "INTERVAL",
    "INTO",
    "IS",
    "JAR",
    "JARS",
    "JOB",
    "JOBS",
    "JOIN",
    "KEY",
    "LAST",
    "LATERAL",
    "LEFT",
    "LIKE",
    "LIMIT",
    "LOAD",
    "MAP",
    "MATCH_RECOGNIZE",
    "METADATA",
    "MINUTE",
    "MODULE",
    "MODULES",
    "MONTH",
    "MULTISET",
    "NOT",
    "NULL",
    "NULLS",
    "OF",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "OVER",
    "OVERWRITE",
    "PARTITION",
    "PARTITIONED",
    "PLAN",
    "PRECEDING",
    "PRIMARY",
    "PROCTIME",
    "QUIT",
    "RANGE",
    "RENAME",
    "REPLACE",
    "RESET",
    "RIGHT",
    "ROW",
    "ROWS",
    "SAVEPOINT",
    "SECOND",
    "SELECT",
    "SESSION",
    "SET",
    "SHOW",
    "SMALLINT",
    "STATEMENT",
    "STOP",
    "STRING",
    "SYSTEM_TIME",
    "TABLE",
    "TABLES",
    "TEMPORARY",
    "THEN",
    "TIME",
    "TIMESTAMP",
    "TIMESTAMP_LTZ",
    "TINYINT",
    "TO",
    "TRUE",
    "TRY_CAST",
    "TUMBLE",
    "UNBOUNDED",
    "UNION",
    "UNLOAD",
    "UNNEST",
    "UPDATE",
    "USE",
    "USER",
    "USING",
    "VALUES",
    "VARCHAR",
    "VIEW",
    "VIEWS",
    "VIRTUAL",
    "WATERMARK",
    "WATERMARKS",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
    "WITHOUT",
    "YEAR",
    "ZONE",
];

/// What may follow `SHOW`.
const SHOW_TARGETS: &[&str] = &[
    "CATALOGS",
    "COLUMNS",
    "CREATE",
    "CURRENT",
    "DATABASES",
    "FULL",
    "FUNCTIONS",
    "JARS",
    "JOBS",
    "MODULES",
    "PARTITIONS",
    "TABLES",
    "USER",
    "VIEWS",
];

/// Words after which a table name is the likely next word.
const TABLE_CONTEXT: &[&str] = &["FROM", "JOIN", "INTO", "TABLE", "VIEW", "DESCRIBE", "DESC"];

/// The catalog names completion draws on, gathered at each Tab.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Each table or view with its columns.
    pub tables: Vec<(String, Vec<String>)>,
    pub functions: Vec<String>,
}

impl Names {
    /// The session's current tables, their columns and its functions.
    pub fn of(session: &Sluice) -> Names {
        let tables = session
            .table_names()
            .into_iter()
            .map(|t| {
                let columns = session.column_names(&t);
                (t, columns)
            })
            .collect();
        Names {
            tables,
            functions: session.function_names(),
        }
    }
}

/// Completions for the word that ends at byte `pos` of `line`: the byte
/// where that word starts and the words that could replace it.
pub fn complete(line: &str, pos: usize, names: &Names) -> (usize, Vec<String>) {
    let Some(before) = line.get(..pos) else {
        return (pos, Vec::new());
    };
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word_char(*c))
        .last()
        .map_or(pos, |(i, _)| i);
    let prefix = &before[start..];
    let rest = &before[..start];
    if rest.chars().filter(|c| *c == '\'').count() % 2 == 1 {
        // Inside a string literal: nothing to complete.
        return (pos, Vec::new());
    }

    // `t.col`: the columns of `t`.
    if let Some(qualified) = rest.strip_suffix('.') {
        let table = last_word(qualified);
        let columns: Vec<&str> = match names
            .tables
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(table))
        {
            Some((_, cols)) => cols.iter().map(String::as_str).collect(),
            None => all_columns(names),
        };
        return (start, matching(prefix, columns, false));
    }

    let previous = last_word(rest.trim_end()).to_ascii_uppercase();
    let tables = names.tables.iter().map(|(t, _)| t.as_str());
    let candidates = if previous == "SHOW" {
        matching(prefix, SHOW_TARGETS.iter().copied(), true)
    } else if TABLE_CONTEXT.contains(&previous.as_str()) {
        let mut c = matching(prefix, tables, false);
        if !prefix.is_empty() {
            c.extend(matching(prefix, KEYWORDS.iter().copied(), true));
        }
        c
    } else if prefix.is_empty() {
        // Everything would be a candidate; a list of hundreds helps nobody.
        Vec::new()
    } else {
        let mut c = matching(prefix, KEYWORDS.iter().copied(), true);
        c.extend(matching(prefix, tables, false));
        c.extend(matching(prefix, all_columns(names), false));
        c.extend(matching(
            prefix,
            names.functions.iter().map(String::as_str),
            false,
        ));
        c
    };
    (start, dedup(candidates))
}

/// Letters, digits and `_`: the characters of an unquoted identifier.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The identifier at the end of `text` (empty if it ends otherwise).
fn last_word(text: &str) -> &str {
    let start = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word_char(*c))
        .last()
        .map_or(text.len(), |(i, _)| i);
    &text[start..]
}

fn all_columns(names: &Names) -> Vec<&str> {
    names
        .tables
        .iter()
        .flat_map(|(_, cols)| cols.iter().map(String::as_str))
        .collect()
}

/// The `words` that start with `prefix`, ignoring case, sorted. Keywords
/// follow the case the user types in (`sel` → `select`); names keep their
/// own.
fn matching<'a>(
    prefix: &str,
    words: impl IntoIterator<Item = &'a str>,
    keywords: bool,
) -> Vec<String> {
    let lower = keywords
        && prefix.chars().any(|c| c.is_alphabetic())
        && !prefix.chars().any(|c| c.is_uppercase());
    let mut out: Vec<String> = words
        .into_iter()
        .filter(|w| starts_with_ignore_case(w, prefix))
        .map(|w| {
            if lower {
                w.to_lowercase()
            } else {
                w.to_string()
            }
        })
        .collect();
    out.sort_by_key(|w| w.to_lowercase());
    out
}

fn starts_with_ignore_case(word: &str, prefix: &str) -> bool {
    word.len() >= prefix.len()
        && word.is_char_boundary(prefix.len())
        && word[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Drops repeats (a column in several tables), keeping the first.
fn dedup(words: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    words
        .into_iter()
        .filter(|w| seen.insert(w.clone()))
        .collect()
}

/// The rustyline helper: completion from the live session, nothing else.
pub struct SqlHelper {
    session: Arc<Sluice>,
}

impl SqlHelper {
    pub fn new(session: Arc<Sluice>) -> SqlHelper {
        SqlHelper { session }
    }
}

impl Completer for SqlHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(complete(line, pos, &Names::of(&self.session)))
    }
}

impl Hinter for SqlHelper {
    type Hint = String;
}

impl Highlighter for SqlHelper {}

/// Statements span lines through the shell's own continuation prompt, not
/// rustyline's validator, so every line is accepted as typed.
impl Validator for SqlHelper {}

impl Helper for SqlHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            tables: vec![
                ("orders".into(), vec!["order_id".into(), "amount".into()]),
                ("customers".into(), vec!["id".into(), "name".into()]),
            ],
            functions: vec!["ABS".into(), "ORDER_RANK".into()],
        }
    }

    fn words(line: &str) -> (usize, Vec<String>) {
        complete(line, line.len(), &names())
    }

    #[test]
    fn show_completes_to_what_can_be_shown() {
        assert_eq!(words("SHOW TAB"), (5, vec!["TABLES".to_string()]));
        assert_eq!(words("show jo"), (5, vec!["jobs".to_string()]));
        assert_eq!(words("SHOW ").1.len(), SHOW_TARGETS.len());
    }

    #[test]
    fn keywords_follow_the_typed_case() {
        assert_eq!(words("SEL"), (0, vec!["SELECT".to_string()]));
        assert_eq!(words("sel"), (0, vec!["select".to_string()]));
        assert_eq!(words("Sel"), (0, vec!["SELECT".to_string()]));
    }

    #[test]
    fn tables_columns_and_functions() {
        // Keywords first, then tables, columns and functions.
        assert_eq!(
            words("SELECT ORD").1,
            ["ORDER", "orders", "order_id", "ORDER_RANK"]
        );
        assert_eq!(
            words("SELECT A").1,
            [
                "ADD", "ALL", "ALTER", "ANALYZE", "AND", "ARRAY", "AS", "ASC", "amount", "ABS"
            ]
        );
    }

    #[test]
    fn after_from_tables_come_first_even_without_a_prefix() {
        assert_eq!(words("SELECT * FROM ").1, ["customers", "orders"]);
        let after_from = words("SELECT * FROM c").1;
        assert_eq!(after_from[0], "customers");
        assert!(after_from.contains(&"case".to_string()));
        assert_eq!(words("INSERT INTO o").1[0], "orders");
    }

    #[test]
    fn qualified_names_complete_columns_of_that_table() {
        assert_eq!(words("SELECT customers.n"), (17, vec!["name".to_string()]));
        assert_eq!(
            words("SELECT customers."),
            (17, vec!["id".to_string(), "name".to_string()])
        );
        // Unknown qualifier (an alias): any column.
        assert_eq!(words("SELECT x.am").1, ["amount"]);
    }

    #[test]
    fn completes_in_the_middle_of_a_line() {
        let line = "SELECT * FROM ord WHERE x = 1";
        let (start, words) = complete(line, 17, &names());
        assert_eq!(
            (start, &words[..]),
            (14, &["orders".to_string(), "order".to_string()][..])
        );
    }

    #[test]
    fn nothing_for_an_empty_word_or_unknown_prefix() {
        assert!(words("SELECT ").1.is_empty());
        assert!(words("").1.is_empty());
        assert!(words("SELECT zzz").1.is_empty());
        assert!(words("SELECT 'a").1.is_empty());
    }
}
