//! What differs between MySQL/MariaDB and PostgreSQL in the SQL the JDBC
//! connector generates: identifier quoting, placeholders, upsert syntax.
//! Generated SQL only ever contains quoted identifiers and placeholders;
//! values are always bound.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// The database family a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    MySql,
    Postgres,
}

impl Dialect {
    /// The name users know, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::MySql => "MySQL",
            Dialect::Postgres => "PostgreSQL",
        }
    }

    /// The port used when the URL names none.
    pub fn default_port(self) -> u16 {
        match self {
            Dialect::MySql => 3306,
            Dialect::Postgres => 5432,
        }
    }

    /// `ident` quoted: `` `a``b` `` for MySQL, `"a""b"` for PostgreSQL.
    pub fn quote(self, ident: &str) -> String {
        let q = match self {
            Dialect::MySql => '`',
            Dialect::Postgres => '"',
        };
        let mut out = String::with_capacity(ident.len() + 2);
        out.push(q);
        for c in ident.chars() {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
        out
    }

    /// A `table-name`, possibly `schema.table`, with each part quoted.
    pub fn quote_table(self, name: &str) -> String {
        name.split('.')
            .map(|p| self.quote(p))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// Appends placeholder number `n` (1-based).
    pub fn placeholder(self, out: &mut String, n: usize) {
        match self {
            Dialect::MySql => out.push('?'),
            Dialect::Postgres => {
                let _ = write!(out, "${n}");
            }
        }
    }

    /// The most placeholders one statement may carry (both protocols count
    /// parameters in 16 bits).
    pub fn max_parameters(self) -> usize {
        65_535
    }
}

/// Which statement to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Insert,
    Delete,
}

/// Builds (and caches by row count) the sink's INSERT/upsert and DELETE
/// statements for one table.
#[derive(Debug)]
pub struct Statements {
    dialect: Dialect,
    table: String,
    columns: Vec<String>,
    /// Indices of the primary key columns; empty for append-only tables.
    key: Vec<usize>,
    cache: HashMap<(Kind, usize), Arc<str>>,
}

impl Statements {
    /// Statements for `table` (as written in `table-name`) with `columns`
    /// and primary key column indices `key`.
    pub fn new(dialect: Dialect, table: &str, columns: &[String], key: &[usize]) -> Self {
        Self {
            dialect,
            table: dialect.quote_table(table),
            columns: columns.iter().map(|c| dialect.quote(c)).collect(),
            key: key.to_vec(),
            cache: HashMap::new(),
        }
    }

    /// The most rows one INSERT may carry.
    pub fn max_insert_rows(&self) -> usize {
        (self.dialect.max_parameters() / self.columns.len().max(1)).max(1)
    }

    /// The most keys one DELETE may carry.
    pub fn max_delete_rows(&self) -> usize {
        (self.dialect.max_parameters() / self.key.len().max(1)).max(1)
    }

    /// `INSERT INTO t (..) VALUES (..), ..` for `rows` rows; with a primary
    /// key an upsert: `ON DUPLICATE KEY UPDATE` (MySQL) or
    /// `ON CONFLICT (..) DO UPDATE` (PostgreSQL).
    pub fn insert(&mut self, rows: usize) -> Arc<str> {
        if let Some(sql) = self.cache.get(&(Kind::Insert, rows)) {
            return sql.clone();
        }
        let d = self.dialect;
        let width = self.columns.len();
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            self.table,
            self.columns.join(", ")
        );
        sql.reserve(rows * (width * 4 + 4));
        let mut n = 0;
        for r in 0..rows {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..width {
                if c > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                d.placeholder(&mut sql, n);
            }
            sql.push(')');
        }
        if !self.key.is_empty() {
            let rest: Vec<&String> = (0..width)
                .filter(|i| !self.key.contains(i))
                .map(|i| &self.columns[i])
                .collect();
            match d {
                Dialect::MySql => {
                    sql.push_str(" ON DUPLICATE KEY UPDATE ");
                    if rest.is_empty() {
                        // Every column is key: nothing to update, but a
                        // duplicate must not be an error.
                        let k = &self.columns[self.key[0]];
                        let _ = write!(sql, "{k} = {k}");
                    } else {
                        let sets: Vec<String> =
                            rest.iter().map(|c| format!("{c} = VALUES({c})")).collect();
                        sql.push_str(&sets.join(", "));
                    }
                }
                Dialect::Postgres => {
                    let keys: Vec<&str> =
                        self.key.iter().map(|i| self.columns[*i].as_str()).collect();
                    let _ = write!(sql, " ON CONFLICT ({}) DO ", keys.join(", "));
                    if rest.is_empty() {
                        sql.push_str("NOTHING");
                    } else {
                        let sets: Vec<String> =
                            rest.iter().map(|c| format!("{c} = EXCLUDED.{c}")).collect();
                        let _ = write!(sql, "UPDATE SET {}", sets.join(", "));
                    }
                }
            }
        }
        let sql: Arc<str> = sql.into();
        self.cache.insert((Kind::Insert, rows), sql.clone());
        sql
    }

    /// `DELETE FROM t WHERE k IN (..)` (or `(k1, k2) IN ((..), ..)`) for
    /// `rows` keys.
    pub fn delete(&mut self, rows: usize) -> Arc<str> {
        if let Some(sql) = self.cache.get(&(Kind::Delete, rows)) {
            return sql.clone();
        }
        let d = self.dialect;
        let keys: Vec<&str> = self.key.iter().map(|i| self.columns[*i].as_str()).collect();
        let composite = keys.len() > 1;
        let mut sql = if composite {
            format!(
                "DELETE FROM {} WHERE ({}) IN (",
                self.table,
                keys.join(", ")
            )
        } else {
            format!("DELETE FROM {} WHERE {} IN (", self.table, keys.join(", "))
        };
        let mut n = 0;
        for r in 0..rows {
            if r > 0 {
                sql.push_str(", ");
            }
            if composite {
                sql.push('(');
            }
            for c in 0..keys.len() {
                if c > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                d.placeholder(&mut sql, n);
            }
            if composite {
                sql.push(')');
            }
        }
        sql.push(')');
        let sql: Arc<str> = sql.into();
        self.cache.insert((Kind::Delete, rows), sql.clone());
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Vec<String> {
        vec!["id".into(), "region".into(), "na`me\"".into()]
    }

    #[test]
    fn quotes_identifiers_per_dialect() {
        assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
        assert_eq!(Dialect::Postgres.quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(Dialect::Postgres.quote_table("s.t"), "\"s\".\"t\"");
    }

    #[test]
    fn mysql_insert_upsert_and_delete() {
        let mut plain = Statements::new(Dialect::MySql, "t", &cols(), &[]);
        assert_eq!(
            &*plain.insert(2),
            "INSERT INTO `t` (`id`, `region`, `na``me\"`) VALUES (?, ?, ?), (?, ?, ?)"
        );
        let mut keyed = Statements::new(Dialect::MySql, "t", &cols(), &[0, 1]);
        assert_eq!(
            &*keyed.insert(1),
            "INSERT INTO `t` (`id`, `region`, `na``me\"`) VALUES (?, ?, ?) \
             ON DUPLICATE KEY UPDATE `na``me\"` = VALUES(`na``me\"`)"
        );
        assert_eq!(
            &*keyed.delete(2),
            "DELETE FROM `t` WHERE (`id`, `region`) IN ((?, ?), (?, ?))"
        );
        assert_eq!(keyed.max_insert_rows(), 21_845);
    }

    #[test]
    fn postgres_insert_upsert_and_delete() {
        let mut keyed = Statements::new(Dialect::Postgres, "public.t", &cols(), &[0]);
        assert_eq!(
            &*keyed.insert(2),
            "INSERT INTO \"public\".\"t\" (\"id\", \"region\", \"na`me\"\"\") VALUES ($1, $2, $3), ($4, $5, $6) \
             ON CONFLICT (\"id\") DO UPDATE SET \"region\" = EXCLUDED.\"region\", \
             \"na`me\"\"\" = EXCLUDED.\"na`me\"\"\""
        );
        assert_eq!(
            &*keyed.delete(3),
            "DELETE FROM \"public\".\"t\" WHERE \"id\" IN ($1, $2, $3)"
        );
        let mut all_key = Statements::new(Dialect::Postgres, "t", &cols()[..1], &[0]);
        assert!(
            all_key
                .insert(1)
                .ends_with("ON CONFLICT (\"id\") DO NOTHING")
        );
    }
}
