//! The `url` option: a JDBC URL (`jdbc:mysql://host:3306/db`,
//! `jdbc:postgresql://host:5432/db`) taken apart into what sqlx needs.

use std::collections::BTreeMap;

use super::dialect::Dialect;

/// A parsed JDBC URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JdbcUrl {
    pub dialect: Dialect,
    pub host: String,
    pub port: u16,
    /// The database (`/db`); `None` when the URL names none.
    pub database: Option<String>,
    /// Driver properties after `?`, e.g. `user`, `password`, `useSSL`.
    pub properties: BTreeMap<String, String>,
}

impl JdbcUrl {
    /// Parses `jdbc:<subprotocol>://host[:port][/database][?k=v&...]`.
    /// `mysql` and `mariadb` speak the MySQL protocol; `postgresql` the
    /// PostgreSQL one.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("jdbc:")
            .ok_or_else(|| format!("expected a JDBC URL starting with 'jdbc:', got '{url}'"))?;
        let (scheme, rest) = rest.split_once("://").ok_or_else(|| {
            format!("expected 'jdbc:<database>://host[:port]/database', got '{url}'")
        })?;
        let dialect = match scheme.to_ascii_lowercase().as_str() {
            "mysql" | "mariadb" => Dialect::MySql,
            "postgresql" | "postgres" => Dialect::Postgres,
            other => {
                return Err(format!(
                    "unsupported JDBC database '{other}'; supported are mysql, mariadb and postgresql"
                ));
            }
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, database) = match rest.split_once('/') {
            Some((a, d)) => (a, Some(d.trim_end_matches('/'))),
            None => (rest, None),
        };
        if authority.contains(',') {
            return Err(format!(
                "several hosts in one URL are not supported yet: '{authority}'"
            ));
        }
        let (host, port) = split_host_port(authority, dialect.default_port())?;
        let mut properties = BTreeMap::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            properties.insert(decode(k), decode(v));
        }
        Ok(Self {
            dialect,
            host,
            port,
            database: database.filter(|d| !d.is_empty()).map(decode),
            properties,
        })
    }

    /// `host:port/database`, for messages and state keys (no credentials).
    pub fn display(&self) -> String {
        format!(
            "{}:{}/{}",
            self.host,
            self.port,
            self.database.as_deref().unwrap_or("")
        )
    }
}

fn split_host_port(authority: &str, default_port: u16) -> Result<(String, u16), String> {
    // Credentials in the authority (`user:pw@host`) are not JDBC syntax.
    if authority.contains('@') {
        return Err("credentials belong in 'username'/'password', not in the URL host".into());
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        // [ipv6]:port
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("unclosed '[' in host '{authority}'"))?;
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err("the URL has no host".into());
    }
    let port = match port {
        None | Some("") => default_port,
        Some(p) => p
            .parse()
            .map_err(|_| format!("invalid port '{p}' in the URL"))?,
    };
    Ok((host, port))
}

/// Percent-decoding for URL parts.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = hex(bytes[i + 1])
                .zip(hex(bytes[i + 2]))
                .map(|(h, l)| h << 4 | l)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mysql_and_postgres_urls() {
        let u = JdbcUrl::parse("jdbc:mysql://db.local:3307/shop?useSSL=false&user=bob").unwrap();
        assert_eq!(u.dialect, Dialect::MySql);
        assert_eq!((u.host.as_str(), u.port), ("db.local", 3307));
        assert_eq!(u.database.as_deref(), Some("shop"));
        assert_eq!(u.properties.get("user").map(String::as_str), Some("bob"));
        let u = JdbcUrl::parse("jdbc:postgresql://127.0.0.1/test").unwrap();
        assert_eq!((u.dialect, u.port), (Dialect::Postgres, 5432));
        assert_eq!(u.display(), "127.0.0.1:5432/test");
        let u = JdbcUrl::parse("jdbc:mariadb://[::1]:3306/a%20b").unwrap();
        assert_eq!(
            (u.host.as_str(), u.database.as_deref()),
            ("::1", Some("a b"))
        );
    }

    #[test]
    fn rejects_what_it_cannot_connect_to() {
        for (url, needle) in [
            ("mysql://h/db", "starting with 'jdbc:'"),
            ("jdbc:oracle://h/db", "unsupported JDBC database 'oracle'"),
            ("jdbc:mysql://h:x/db", "invalid port 'x'"),
            ("jdbc:mysql://u:p@h/db", "credentials"),
            ("jdbc:mysql://a,b/db", "several hosts"),
        ] {
            let err = JdbcUrl::parse(url).unwrap_err();
            assert!(err.contains(needle), "{url}: {err}");
        }
    }
}
