//! An Elasticsearch stand-in for tests: a tokio HTTP/1.1 server (keep-alive,
//! `Content-Length` bodies) that implements `POST [/prefix]/_bulk` the way
//! Elasticsearch does — NDJSON actions `index`/`create`/`update`/`delete`,
//! per-item results in request order, HTTP 200 even when items fail — keeps
//! the documents, and records every request. Anything a real cluster would
//! refuse (bad JSON, a body not ending in a newline, an `update` without
//! `doc`) is answered with HTTP 400 and recorded as a violation, which the
//! tests assert never happens.
//!
//! It can be told to reject chosen documents once with 429
//! `es_rejected_execution_exception`, to refuse a field's non-numeric values
//! with 400 `mapper_parsing_exception`, and to require basic auth.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One bulk action as received.
#[derive(Debug, Clone)]
pub struct Action {
    pub op: String,
    pub index: String,
    pub id: Option<String>,
    pub doc_type: Option<String>,
    /// The source line (`update`: the whole `{"doc":..}` object).
    pub source: Option<Value>,
}

/// One HTTP request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub actions: Vec<Action>,
}

#[derive(Default)]
struct State {
    requests: Vec<Request>,
    violations: Vec<String>,
    docs: BTreeMap<(String, String), (Value, u64)>,
    next_id: u64,
    seq_no: u64,
    connections: usize,
    /// Document ids refused once with 429.
    reject_once: HashSet<String>,
    /// Fields mapped as `long`: a non-numeric value is a mapping error.
    numeric_fields: HashSet<String>,
    /// `Authorization` header value required, if any.
    auth: Option<String>,
}

/// A running stand-in; stops when dropped.
pub struct EsServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for EsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl EsServer {
    pub async fn start() -> EsServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State::default()));
        let s = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                s.lock().unwrap().connections += 1;
                tokio::spawn(serve(stream, s.clone()));
            }
        });
        EsServer { addr, state, task }
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn reject_once(&self, ids: &[&str]) {
        let mut st = self.state.lock().unwrap();
        st.reject_once.extend(ids.iter().map(|s| s.to_string()));
    }

    pub fn numeric_field(&self, field: &str) {
        self.state
            .lock()
            .unwrap()
            .numeric_fields
            .insert(field.to_string());
    }

    pub fn require_auth(&self, user: &str, password: &str) {
        self.state.lock().unwrap().auth = Some(format!(
            "Basic {}",
            base64(format!("{user}:{password}").as_bytes())
        ));
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    /// Every stored document as `(index, id) -> source`.
    pub fn docs(&self) -> BTreeMap<(String, String), Value> {
        self.state
            .lock()
            .unwrap()
            .docs
            .iter()
            .map(|(k, (v, _))| (k.clone(), v.clone()))
            .collect()
    }

    /// Fails the test if any request was malformed.
    pub fn assert_no_violations(&self) {
        let v = self.state.lock().unwrap().violations.clone();
        assert!(v.is_empty(), "malformed requests: {v:?}");
    }
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= c.len() {
                A[(n >> (18 - 6 * i)) as usize & 63] as char
            } else {
                '='
            });
        }
    }
    out
}

async fn serve(stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut parts = line.trim_end().split(' ');
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();
        let version = parts.next().unwrap_or_default().to_string();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).await.unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).await.is_err() {
            return;
        }
        let (status, response) = handle(&state, &method, &path, &version, headers, &body);
        let text = response.to_string();
        let out = format!(
            "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\nX-elastic-product: Elasticsearch\r\ncontent-length: {}\r\n\r\n{text}",
            if status == 200 { "OK" } else { "Error" },
            text.len()
        );
        if reader.get_mut().write_all(out.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn error_body(status: u16, kind: &str, reason: &str) -> (u16, Value) {
    (
        status,
        json!({"error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason}, "status": status}),
    )
}

fn handle(
    state: &Mutex<State>,
    method: &str,
    path: &str,
    version: &str,
    headers: HashMap<String, String>,
    body: &[u8],
) -> (u16, Value) {
    let mut st = state.lock().unwrap();
    let violation = |st: &mut State, m: String| {
        st.violations.push(m.clone());
        error_body(400, "illegal_argument_exception", &m)
    };
    if version != "HTTP/1.1" {
        return violation(&mut st, format!("expected HTTP/1.1, got {version}"));
    }
    if method != "POST" || !path.ends_with("/_bulk") {
        return violation(&mut st, format!("unexpected {method} {path}"));
    }
    let ct = headers.get("content-type").cloned().unwrap_or_default();
    if !ct.starts_with("application/x-ndjson") && !ct.starts_with("application/json") {
        return violation(&mut st, format!("bad content-type '{ct}'"));
    }
    if !headers.contains_key("host") {
        return violation(&mut st, "no Host header".into());
    }
    if let Some(want) = st.auth.clone()
        && headers.get("authorization") != Some(&want)
    {
        st.requests.push(Request {
            path: path.into(),
            headers,
            actions: vec![],
        });
        return error_body(
            401,
            "security_exception",
            "unable to authenticate user [elastic] for REST request [/_bulk]",
        );
    }
    if body.last() != Some(&b'\n') {
        return violation(
            &mut st,
            "The bulk request must be terminated by a newline [\\n]".into(),
        );
    }
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(_) => return violation(&mut st, "body is not UTF-8".into()),
    };
    let mut lines = text.lines();
    let mut actions = Vec::new();
    while let Some(line) = lines.next() {
        let Ok(Value::Object(meta)) = serde_json::from_str::<Value>(line) else {
            return violation(&mut st, format!("malformed action line: {line}"));
        };
        if meta.len() != 1 {
            return violation(
                &mut st,
                format!("action line with {} keys: {line}", meta.len()),
            );
        }
        let (op, m) = meta.into_iter().next().unwrap();
        let Some(index) = m.get("_index").and_then(Value::as_str) else {
            return violation(&mut st, format!("action without _index: {line}"));
        };
        let id = m.get("_id").and_then(Value::as_str).map(str::to_string);
        let doc_type = m.get("_type").and_then(Value::as_str).map(str::to_string);
        let source = match op.as_str() {
            "delete" => None,
            "index" | "create" | "update" => {
                let Some(src) = lines.next() else {
                    return violation(&mut st, format!("{op} without a source line"));
                };
                let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(src) else {
                    return violation(&mut st, format!("malformed source line: {src}"));
                };
                if op == "update"
                    && (v.get("doc").is_none()
                        || v.get("doc_as_upsert") != Some(&Value::Bool(true)))
                {
                    return violation(&mut st, format!("update without doc/doc_as_upsert: {src}"));
                }
                Some(v)
            }
            other => return violation(&mut st, format!("unknown action '{other}'")),
        };
        if (op == "update" || op == "delete" || op == "create") && id.is_none() {
            return violation(&mut st, format!("{op} without _id"));
        }
        actions.push(Action {
            op,
            index: index.to_string(),
            id,
            doc_type,
            source,
        });
    }
    st.requests.push(Request {
        path: path.into(),
        headers,
        actions: actions.clone(),
    });
    let mut items = Vec::new();
    let mut errors = false;
    for a in actions {
        let item = apply(&mut st, &a);
        errors |= item.get("error").is_some();
        items.push(json!({ a.op.clone(): item }));
    }
    (200, json!({"took": 3, "errors": errors, "items": items}))
}

fn apply(st: &mut State, a: &Action) -> Value {
    let id = a.id.clone().unwrap_or_else(|| {
        st.next_id += 1;
        format!("gen-{}", st.next_id)
    });
    let base = json!({"_index": a.index, "_id": id});
    let fail = |status: u16, kind: &str, reason: String| {
        let mut b = base.clone();
        b["status"] = json!(status);
        b["error"] = json!({"type": kind, "reason": reason, "index": a.index});
        b
    };
    if st.reject_once.remove(&id) {
        return fail(
            429,
            "es_rejected_execution_exception",
            "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, \
             replica_bytes=0, all_bytes=0, coordinating_operation_bytes=112, max_coordinating_and_primary_bytes=0]"
                .into(),
        );
    }
    let key = (a.index.clone(), id.clone());
    if a.op == "delete" {
        let mut b = base.clone();
        st.seq_no += 1;
        b["_seq_no"] = json!(st.seq_no);
        b["_primary_term"] = json!(1);
        match st.docs.remove(&key) {
            Some((_, v)) => {
                b["result"] = json!("deleted");
                b["_version"] = json!(v + 1);
                b["status"] = json!(200);
            }
            None => {
                b["result"] = json!("not_found");
                b["_version"] = json!(1);
                b["status"] = json!(404);
            }
        }
        return b;
    }
    let doc = match a.op.as_str() {
        "update" => a.source.as_ref().and_then(|s| s.get("doc")).cloned(),
        _ => a.source.clone(),
    }
    .unwrap_or(Value::Null);
    for field in &st.numeric_fields {
        if let Some(v) = doc.get(field) {
            let ok = v.is_null()
                || v.is_number()
                || v.as_str().is_some_and(|s| s.parse::<i64>().is_ok());
            if !ok {
                return fail(
                    400,
                    "document_parsing_exception",
                    format!(
                        "[1:{}] failed to parse field [{field}] of type [long] in document with id '{id}'. Preview of field's value: '{}'",
                        field.len() + 5,
                        v.as_str().unwrap_or_default()
                    ),
                );
            }
        }
    }
    let merged = match (a.op.as_str(), st.docs.get(&key)) {
        ("update", Some((Value::Object(old), _))) => {
            let mut m = old.clone();
            if let Value::Object(new) = &doc {
                for (k, v) in new {
                    m.insert(k.clone(), v.clone());
                }
            }
            Value::Object(m)
        }
        _ => doc,
    };
    let version = st.docs.get(&key).map_or(1, |(_, v)| v + 1);
    let created = version == 1;
    st.docs.insert(key, (merged, version));
    st.seq_no += 1;
    let mut b = base;
    b["_version"] = json!(version);
    b["result"] = json!(if created { "created" } else { "updated" });
    b["_shards"] = json!({"total": 2, "successful": 1, "failed": 0});
    b["_seq_no"] = json!(st.seq_no);
    b["_primary_term"] = json!(1);
    b["status"] = json!(if created { 201 } else { 200 });
    b
}
