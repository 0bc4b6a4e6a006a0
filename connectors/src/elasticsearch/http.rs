//! A small HTTP/1.1 client for Elasticsearch's REST API: one keep-alive
//! connection per sink instance, `Content-Length` request bodies, responses
//! with `Content-Length` or chunked bodies, basic authentication, and
//! failover across the `hosts` list on connection errors.
//!
//! Written by hand rather than pulling in an HTTP stack: the sink only ever
//! POSTs `_bulk`, and the whole client is cheaper to compile than one
//! dependency tree (TLS is not supported yet, so neither is `https://`).

use std::fmt;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Longest status line or header line accepted from a server.
const MAX_LINE: usize = 64 * 1024;
/// Most headers accepted in one response.
const MAX_HEADERS: usize = 200;

/// One entry of `hosts`: `http://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub host: String,
    pub port: u16,
}

impl Host {
    /// Parses `http://host:port` (a trailing `/` is allowed; IPv6 hosts go
    /// in brackets), with Flink's message for anything else.
    pub fn parse(text: &str) -> Result<Host, String> {
        let t = text.trim();
        let expected = "it should follow the format 'http://host_name:port'";
        let lower = t.to_ascii_lowercase();
        if lower.starts_with("https://") {
            return Err(format!(
                "not supported yet: https hosts ('{t}'); Sluice speaks plain HTTP to Elasticsearch"
            ));
        }
        let Some(rest) = lower.strip_prefix("http://").map(|_| &t[7..]) else {
            return Err(format!("could not parse host '{t}': {expected}"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') {
            return Err(format!(
                "could not parse host '{t}': {expected} (use 'connection.path-prefix' for a path)"
            ));
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (h, tail) = v6
                .split_once(']')
                .ok_or_else(|| format!("could not parse host '{t}': {expected}"))?;
            (h, tail.strip_prefix(':'))
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        let Some(port) = port else {
            return Err(format!(
                "could not parse host '{t}': {expected}; the port is missing"
            ));
        };
        let port = port
            .parse::<u16>()
            .map_err(|_| format!("could not parse host '{t}': invalid port '{port}'"))?;
        if host.is_empty() {
            return Err(format!("could not parse host '{t}': {expected}"));
        }
        Ok(Host {
            host: host.to_string(),
            port,
        })
    }

    /// The `Host` header value and connect address.
    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}", self.authority())
    }
}

/// Credentials for HTTP basic authentication. `Debug` never shows them.
#[derive(Clone)]
pub struct BasicAuth {
    header: String,
}

impl BasicAuth {
    pub fn new(username: &str, password: &str) -> Self {
        Self {
            header: format!(
                "Basic {}",
                base64(format!("{username}:{password}").as_bytes())
            ),
        }
    }
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BasicAuth(******)")
    }
}

/// How to reach the cluster.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub hosts: Vec<Host>,
    pub auth: Option<BasicAuth>,
    /// `connection.path-prefix`, normalized to `/x` or empty.
    pub path_prefix: String,
    /// TCP connect timeout per host.
    pub connect_timeout: Duration,
    /// Limit for one request: sending it and reading the whole response.
    pub request_timeout: Duration,
}

/// A response: status and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why no response was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Padded standard base64, for the `Authorization` header.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

type Conn = BufReader<TcpStream>;

/// A client bound to one host at a time; a connection error moves it to the
/// next host in `hosts`.
#[derive(Debug)]
pub struct HttpClient {
    config: ClientConfig,
    /// Index of the host in use.
    current: usize,
    conn: Option<Conn>,
}

/// What went wrong on one attempt, and whether the request may have reached
/// the server.
enum AttemptError {
    /// Nothing was sent (connect failed).
    Connect(String),
    /// The connection broke or timed out during the exchange.
    Broken(String),
    /// The server answered with something that is not HTTP.
    Protocol(String),
}

impl HttpClient {
    pub fn new(config: ClientConfig) -> Self {
        Self {
            config,
            current: 0,
            conn: None,
        }
    }

    /// POSTs `body` to `path` (after the path prefix). Tries each host once,
    /// starting with the one that worked last; a keep-alive connection the
    /// server closed while idle is reopened once on the same host.
    pub async fn post(
        &mut self,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<Response, Unavailable> {
        let n = self.config.hosts.len();
        let mut failures = Vec::new();
        for step in 0..n {
            let index = (self.current + step) % n;
            let mut reopened = false;
            loop {
                let reused = self.conn.is_some() && step == 0;
                if !reused {
                    self.conn = None;
                }
                match self.attempt(index, path, content_type, body).await {
                    Ok(response) => {
                        self.current = index;
                        return Ok(response);
                    }
                    Err(AttemptError::Broken(_)) if reused && !reopened => {
                        // The server may have closed the idle connection.
                        self.conn = None;
                        reopened = true;
                    }
                    Err(
                        AttemptError::Connect(e)
                        | AttemptError::Broken(e)
                        | AttemptError::Protocol(e),
                    ) => {
                        self.conn = None;
                        failures.push(format!("{}: {e}", self.config.hosts[index]));
                        break;
                    }
                }
            }
        }
        self.current = (self.current + 1) % n;
        Err(Unavailable(format!(
            "no Elasticsearch host answered ({})",
            failures.join("; ")
        )))
    }

    async fn attempt(
        &mut self,
        index: usize,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<Response, AttemptError> {
        let host = self.config.hosts[index].clone();
        if self.conn.is_none() {
            let addr = host.authority();
            let stream =
                tokio::time::timeout(self.config.connect_timeout, TcpStream::connect(&addr))
                    .await
                    .map_err(|_| {
                        AttemptError::Connect(format!(
                            "connect timed out after {:?}",
                            self.config.connect_timeout
                        ))
                    })?
                    .map_err(|e| AttemptError::Connect(format!("connect failed: {e}")))?;
            let _ = stream.set_nodelay(true);
            self.conn = Some(BufReader::new(stream));
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(AttemptError::Connect("no connection".into()));
        };
        let mut head = format!(
            "POST {}{} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\n\
             Accept: application/json\r\nUser-Agent: sluice\r\nContent-Length: {}\r\n",
            self.config.path_prefix,
            path,
            host.authority(),
            body.len()
        );
        if let Some(auth) = &self.config.auth {
            head.push_str("Authorization: ");
            head.push_str(&auth.header);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let exchange = async {
            let stream = conn.get_mut();
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body).await?;
            stream.flush().await?;
            read_response(conn).await
        };
        let timeout = self.config.request_timeout;
        match tokio::time::timeout(timeout, exchange).await {
            Err(_) => {
                self.conn = None;
                Err(AttemptError::Broken(format!(
                    "no response within {timeout:?}"
                )))
            }
            Ok(Err(ReadError::Io(e))) => {
                self.conn = None;
                Err(AttemptError::Broken(e.to_string()))
            }
            Ok(Err(ReadError::Protocol(e))) => {
                self.conn = None;
                Err(AttemptError::Protocol(e))
            }
            Ok(Ok((response, keep_alive))) => {
                if !keep_alive {
                    self.conn = None;
                }
                Ok(response)
            }
        }
    }
}

enum ReadError {
    Io(std::io::Error),
    Protocol(String),
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Reads one line ending in CRLF (or LF), without the line end.
async fn read_line(conn: &mut Conn) -> Result<String, ReadError> {
    let mut line = Vec::new();
    let n = (&mut *conn)
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut line)
        .await?;
    if n == 0 {
        return Err(ReadError::Io(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed by the server",
        )));
    }
    if line.last() != Some(&b'\n') {
        return Err(ReadError::Protocol("response line too long".into()));
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| ReadError::Protocol("response line is not UTF-8".into()))
}

/// Reads a response; returns it and whether the connection stays open.
async fn read_response(conn: &mut Conn) -> Result<(Response, bool), ReadError> {
    let status_line = read_line(conn).await?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(ReadError::Protocol(format!(
            "not an HTTP/1.x response: '{}'",
            status_line.chars().take(80).collect::<String>()
        )));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ReadError::Protocol(format!("bad status line '{status_line}'")))?;
    let mut keep_alive = version == "HTTP/1.1";
    let mut length: Option<usize> = None;
    let mut chunked = false;
    for i in 0.. {
        if i > MAX_HEADERS {
            return Err(ReadError::Protocol("too many response headers".into()));
        }
        let line = read_line(conn).await?;
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                length =
                    Some(value.parse().map_err(|_| {
                        ReadError::Protocol(format!("bad Content-Length '{value}'"))
                    })?)
            }
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            "connection" => {
                let v = value.to_ascii_lowercase();
                if v.contains("close") {
                    keep_alive = false;
                } else if v.contains("keep-alive") {
                    keep_alive = true;
                }
            }
            _ => {}
        }
    }
    let body = if chunked {
        read_chunked(conn).await?
    } else if let Some(n) = length {
        let mut body = vec![0; n];
        conn.read_exact(&mut body).await?;
        body
    } else if status == 204 || status == 304 || (100..200).contains(&status) {
        Vec::new()
    } else {
        // No length: the body runs to the end of the connection.
        keep_alive = false;
        let mut body = Vec::new();
        conn.read_to_end(&mut body).await?;
        body
    };
    Ok((Response { status, body }, keep_alive))
}

async fn read_chunked(conn: &mut Conn) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(conn).await?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Protocol(format!("bad chunk size '{size_text}'")))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(conn).await?.is_empty() {}
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        conn.read_exact(&mut body[start..]).await?;
        let end = read_line(conn).await?;
        if !end.is_empty() {
            return Err(ReadError::Protocol("chunk not followed by CRLF".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flink_host_strings() {
        assert_eq!(
            Host::parse("http://es1:9200").unwrap(),
            Host {
                host: "es1".into(),
                port: 9200
            }
        );
        assert_eq!(Host::parse(" http://[::1]:9201/ ").unwrap().port, 9201);
        assert!(
            Host::parse("https://es:9200")
                .unwrap_err()
                .contains("not supported yet: https hosts")
        );
        assert!(
            Host::parse("es:9200")
                .unwrap_err()
                .contains("http://host_name:port")
        );
        assert!(
            Host::parse("http://es")
                .unwrap_err()
                .contains("port is missing")
        );
        assert_eq!(
            Host::parse("http://[::1]:9200").unwrap().to_string(),
            "http://[::1]:9200"
        );
    }

    /// A server that answers each request on a connection with the next
    /// canned response, then closes after the last one.
    async fn canned(responses: Vec<&'static str>) -> Host {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut conn = BufReader::new(stream);
            for response in responses {
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    conn.read_line(&mut line).await.unwrap();
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                conn.read_exact(&mut body).await.unwrap();
                conn.get_mut().write_all(response.as_bytes()).await.unwrap();
            }
        });
        Host {
            host: "127.0.0.1".into(),
            port,
        }
    }

    fn client(hosts: Vec<Host>) -> HttpClient {
        HttpClient::new(ClientConfig {
            hosts,
            auth: None,
            path_prefix: String::new(),
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(5),
        })
    }

    #[tokio::test]
    async fn reads_chunked_and_length_delimited_bodies_on_one_connection() {
        let host = canned(vec![
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n",
            "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 2\r\n\r\n{}",
        ])
        .await;
        let mut c = client(vec![host]);
        let r = c
            .post("/_bulk", "application/x-ndjson", b"x\n")
            .await
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"{\"a\":1}"[..]));
        let r = c
            .post("/_bulk", "application/x-ndjson", b"y\n")
            .await
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (429, &b"{}"[..]));
        // The server is gone now: a clear error naming the host.
        let err = c
            .post("/_bulk", "application/x-ndjson", b"z\n")
            .await
            .unwrap_err();
        assert!(err.0.contains("no Elasticsearch host answered"), "{err}");
    }

    #[test]
    fn basic_auth_is_not_printed() {
        let a = BasicAuth::new("elastic", "s3cret");
        assert_eq!(a.header, "Basic ZWxhc3RpYzpzM2NyZXQ=");
        assert!(!format!("{a:?}").contains("s3cret"));
    }
}
