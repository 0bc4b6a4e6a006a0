//! An HBase Thrift2 gateway stand-in for tests: a TCP server that decodes
//! the real `THBaseService` calls in the Thrift binary protocol (strict
//! messages; buffered or framed transport) with the struct layouts of
//! HBase's `hbase.thrift`, applies them to an in-memory table of cells, and
//! answers like HBase's `ThriftHBaseServiceHandler`: an empty result, or
//! `TIOError` in result field 1. Every call is recorded; any field, type
//! or method the sink should not send is a violation the tests assert
//! never happens.
//!
//! This decoder is written independently of the connector's encoder, so a
//! wrong field id or type on either side fails the tests.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const T_STOP: u8 = 0;
const T_BOOL: u8 = 2;
const T_I32: u8 = 8;
const T_I64: u8 = 10;
const T_STRING: u8 = 11;
const T_STRUCT: u8 = 12;
const T_LIST: u8 = 15;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Put {
    pub row: Vec<u8>,
    /// `(family, qualifier, value)`.
    pub cells: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete {
    pub row: Vec<u8>,
    pub columns: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    pub delete_type: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Increment {
    pub row: Vec<u8>,
    pub columns: Vec<(Vec<u8>, Vec<u8>, i64)>,
    pub return_results: Option<bool>,
}

/// One call as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    PutMultiple {
        table: Vec<u8>,
        puts: Vec<Put>,
    },
    DeleteMultiple {
        table: Vec<u8>,
        deletes: Vec<Delete>,
    },
    Increment {
        table: Vec<u8>,
        increment: Increment,
    },
}

/// `(table, row, family, qualifier)`.
pub type CellKey = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    violations: Vec<String>,
    cells: BTreeMap<CellKey, Vec<u8>>,
    /// Tables and their families.
    tables: BTreeMap<Vec<u8>, HashSet<Vec<u8>>>,
    /// `TIOError` messages for the next calls (not applied).
    fail_next: VecDeque<String>,
    connections: usize,
}

pub struct HBaseServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HBaseServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HBaseServer {
    /// A gateway with `table` (`ns:t`) having `families`; `framed` selects
    /// the transport.
    pub async fn start(table: &str, families: &[&str], framed: bool) -> HBaseServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut st = State::default();
        st.tables.insert(
            table.as_bytes().to_vec(),
            families.iter().map(|f| f.as_bytes().to_vec()).collect(),
        );
        let state = Arc::new(Mutex::new(st));
        let s = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                s.lock().unwrap().connections += 1;
                tokio::spawn(serve(stream, s.clone(), framed));
            }
        });
        HBaseServer { addr, state, task }
    }

    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Answers the next call with `TIOError(message)` without applying it.
    pub fn fail_next(&self, message: &str) {
        self.state
            .lock()
            .unwrap()
            .fail_next
            .push_back(message.to_string());
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    /// The stored cell, if any.
    pub fn cell(&self, table: &str, row: &[u8], family: &str, qualifier: &str) -> Option<Vec<u8>> {
        self.state
            .lock()
            .unwrap()
            .cells
            .get(&(
                table.as_bytes().to_vec(),
                row.to_vec(),
                family.as_bytes().to_vec(),
                qualifier.as_bytes().to_vec(),
            ))
            .cloned()
    }

    /// Row keys holding at least one cell.
    pub fn rows(&self) -> Vec<Vec<u8>> {
        let mut rows: Vec<Vec<u8>> = self
            .state
            .lock()
            .unwrap()
            .cells
            .keys()
            .map(|k| k.1.clone())
            .collect();
        rows.dedup();
        rows
    }

    pub fn assert_no_violations(&self) {
        let v = self.state.lock().unwrap().violations.clone();
        assert!(v.is_empty(), "bad Thrift calls: {v:?}");
    }
}

/// Not enough bytes yet, or a request that is wrong.
#[derive(Debug)]
enum Bad {
    More,
    Wrong(String),
}

struct In<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> In<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], Bad> {
        let s = self.b.get(self.at..self.at + n).ok_or(Bad::More)?;
        self.at += n;
        Ok(s)
    }
    fn byte(&mut self) -> Result<u8, Bad> {
        Ok(self.bytes(1)?[0])
    }
    fn i16(&mut self) -> Result<i16, Bad> {
        Ok(i16::from_be_bytes(self.bytes(2)?.try_into().unwrap()))
    }
    fn i32(&mut self) -> Result<i32, Bad> {
        Ok(i32::from_be_bytes(self.bytes(4)?.try_into().unwrap()))
    }
    fn i64(&mut self) -> Result<i64, Bad> {
        Ok(i64::from_be_bytes(self.bytes(8)?.try_into().unwrap()))
    }
    fn bin(&mut self) -> Result<Vec<u8>, Bad> {
        let n = self.i32()?;
        if n < 0 {
            return Err(Bad::Wrong(format!("negative binary length {n}")));
        }
        Ok(self.bytes(n as usize)?.to_vec())
    }
    /// `(type, id)`; type 0 ends the struct.
    fn field(&mut self) -> Result<(u8, i16), Bad> {
        let t = self.byte()?;
        if t == T_STOP {
            return Ok((0, 0));
        }
        Ok((t, self.i16()?))
    }
    fn list(&mut self, want: u8) -> Result<usize, Bad> {
        let t = self.byte()?;
        if t != want {
            return Err(Bad::Wrong(format!("list of type {t}, expected {want}")));
        }
        let n = self.i32()?;
        usize::try_from(n).map_err(|_| Bad::Wrong(format!("list size {n}")))
    }
}

fn unexpected(what: &str, t: u8, id: i16) -> Bad {
    Bad::Wrong(format!("{what}: unexpected field {id} of type {t}"))
}

fn read_put(r: &mut In) -> Result<Put, Bad> {
    let (mut row, mut cells) = (None, None);
    loop {
        match r.field()? {
            (0, _) => break,
            (T_STRING, 1) => row = Some(r.bin()?),
            (T_LIST, 2) => {
                let n = r.list(T_STRUCT)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    let (mut f, mut q, mut val) = (None, None, None);
                    loop {
                        match r.field()? {
                            (0, _) => break,
                            (T_STRING, 1) => f = Some(r.bin()?),
                            (T_STRING, 2) => q = Some(r.bin()?),
                            (T_STRING, 3) => val = Some(r.bin()?),
                            (t, id) => return Err(unexpected("TColumnValue", t, id)),
                        }
                    }
                    match (f, q, val) {
                        (Some(f), Some(q), Some(val)) => v.push((f, q, val)),
                        _ => return Err(Bad::Wrong("TColumnValue misses a required field".into())),
                    }
                }
                cells = Some(v);
            }
            (t, id) => return Err(unexpected("TPut", t, id)),
        }
    }
    match (row, cells) {
        (Some(row), Some(cells)) => Ok(Put { row, cells }),
        _ => Err(Bad::Wrong("TPut misses row or columnValues".into())),
    }
}

fn read_delete(r: &mut In) -> Result<Delete, Bad> {
    let (mut row, mut columns, mut delete_type) = (None, Vec::new(), None);
    loop {
        match r.field()? {
            (0, _) => break,
            (T_STRING, 1) => row = Some(r.bin()?),
            (T_LIST, 2) => {
                for _ in 0..r.list(T_STRUCT)? {
                    let (mut f, mut q) = (None, None);
                    loop {
                        match r.field()? {
                            (0, _) => break,
                            (T_STRING, 1) => f = Some(r.bin()?),
                            (T_STRING, 2) => q = Some(r.bin()?),
                            (t, id) => return Err(unexpected("TColumn", t, id)),
                        }
                    }
                    columns.push((f.ok_or(Bad::Wrong("TColumn without family".into()))?, q));
                }
            }
            (T_I32, 4) => delete_type = Some(r.i32()?),
            (t, id) => return Err(unexpected("TDelete", t, id)),
        }
    }
    Ok(Delete {
        row: row.ok_or(Bad::Wrong("TDelete without row".into()))?,
        columns,
        delete_type,
    })
}

fn read_increment(r: &mut In) -> Result<Increment, Bad> {
    let (mut row, mut columns, mut return_results) = (None, None, None);
    loop {
        match r.field()? {
            (0, _) => break,
            (T_STRING, 1) => row = Some(r.bin()?),
            (T_LIST, 2) => {
                let n = r.list(T_STRUCT)?;
                let mut v = Vec::new();
                for _ in 0..n {
                    let (mut f, mut q, mut amount) = (None, None, 1);
                    loop {
                        match r.field()? {
                            (0, _) => break,
                            (T_STRING, 1) => f = Some(r.bin()?),
                            (T_STRING, 2) => q = Some(r.bin()?),
                            (T_I64, 3) => amount = r.i64()?,
                            (t, id) => return Err(unexpected("TColumnIncrement", t, id)),
                        }
                    }
                    match (f, q) {
                        (Some(f), Some(q)) => v.push((f, q, amount)),
                        _ => return Err(Bad::Wrong("TColumnIncrement misses a field".into())),
                    }
                }
                columns = Some(v);
            }
            (T_BOOL, 7) => return_results = Some(r.byte()? != 0),
            (t, id) => return Err(unexpected("TIncrement", t, id)),
        }
    }
    match (row, columns) {
        (Some(row), Some(columns)) => Ok(Increment {
            row,
            columns,
            return_results,
        }),
        _ => Err(Bad::Wrong("TIncrement misses row or columns".into())),
    }
}

/// Reads one call: `(method, seqid, call)`.
fn read_call(r: &mut In) -> Result<(String, i32, Call), Bad> {
    let word = r.i32()? as u32;
    if word & 0xffff_0000 != 0x8001_0000 {
        return Err(Bad::Wrong(format!(
            "not a strict binary message: {word:#x}"
        )));
    }
    if word & 0xff != 1 {
        return Err(Bad::Wrong(format!(
            "message type {} is not CALL",
            word & 0xff
        )));
    }
    let method = String::from_utf8(r.bin()?).map_err(|_| Bad::Wrong("method name".into()))?;
    let seqid = r.i32()?;
    let mut table = None;
    let mut puts = None;
    let mut deletes = None;
    let mut increment = None;
    loop {
        match (method.as_str(), r.field()?) {
            (_, (0, _)) => break,
            (_, (T_STRING, 1)) => table = Some(r.bin()?),
            ("putMultiple", (T_LIST, 2)) => {
                let n = r.list(T_STRUCT)?;
                puts = Some((0..n).map(|_| read_put(r)).collect::<Result<Vec<_>, _>>()?);
            }
            ("deleteMultiple", (T_LIST, 2)) => {
                let n = r.list(T_STRUCT)?;
                deletes = Some(
                    (0..n)
                        .map(|_| read_delete(r))
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
            ("increment", (T_STRUCT, 2)) => increment = Some(read_increment(r)?),
            (m, (t, id)) => return Err(unexpected(&format!("{m}_args"), t, id)),
        }
    }
    let table = table.ok_or(Bad::Wrong(format!("{method} without table")))?;
    let call = match (method.as_str(), puts, deletes, increment) {
        ("putMultiple", Some(puts), _, _) => Call::PutMultiple { table, puts },
        ("deleteMultiple", _, Some(deletes), _) => Call::DeleteMultiple { table, deletes },
        ("increment", _, _, Some(increment)) => Call::Increment { table, increment },
        (m, ..) => return Err(Bad::Wrong(format!("unexpected or incomplete call '{m}'"))),
    };
    Ok((method, seqid, call))
}

fn message_header(out: &mut Vec<u8>, method: &str, seqid: i32) {
    out.extend_from_slice(&0x8001_0002u32.to_be_bytes());
    out.extend_from_slice(&(method.len() as i32).to_be_bytes());
    out.extend_from_slice(method.as_bytes());
    out.extend_from_slice(&seqid.to_be_bytes());
}

/// The reply: success as the real handler returns it, or `TIOError`.
fn reply(method: &str, seqid: i32, error: Option<&str>) -> Vec<u8> {
    let mut out = Vec::new();
    message_header(&mut out, method, seqid);
    match error {
        Some(msg) => {
            out.extend_from_slice(&[T_STRUCT, 0, 1, T_STRING, 0, 1]);
            out.extend_from_slice(&(msg.len() as i32).to_be_bytes());
            out.extend_from_slice(msg.as_bytes());
            out.extend_from_slice(&[T_STOP]);
        }
        None => match method {
            // list<TDelete> success = [] (field 0).
            "deleteMultiple" => out.extend_from_slice(&[T_LIST, 0, 0, T_STRUCT, 0, 0, 0, 0]),
            // TResult success with an empty columnValues list.
            "increment" => {
                out.extend_from_slice(&[T_STRUCT, 0, 0, T_LIST, 0, 2, T_STRUCT, 0, 0, 0, 0, T_STOP])
            }
            _ => {}
        },
    }
    out.push(T_STOP);
    out
}

fn apply(st: &mut State, call: &Call) -> Option<String> {
    if let Some(msg) = st.fail_next.pop_front() {
        return Some(msg);
    }
    let table = match call {
        Call::PutMultiple { table, .. }
        | Call::DeleteMultiple { table, .. }
        | Call::Increment { table, .. } => table.clone(),
    };
    let Some(families) = st.tables.get(&table).cloned() else {
        return Some(format!(
            "org.apache.hadoop.hbase.TableNotFoundException: {}",
            String::from_utf8_lossy(&table)
        ));
    };
    let check = |f: &Vec<u8>| -> Option<String> {
        (!families.contains(f)).then(|| {
            format!(
                "org.apache.hadoop.hbase.regionserver.NoSuchColumnFamilyException: Column family {} does not exist",
                String::from_utf8_lossy(f)
            )
        })
    };
    match call {
        Call::PutMultiple { puts, .. } => {
            for p in puts {
                if p.row.is_empty() {
                    return Some("java.lang.IllegalArgumentException: Row length is 0".into());
                }
                for (f, q, v) in &p.cells {
                    if let Some(e) = check(f) {
                        return Some(e);
                    }
                    st.cells.insert(
                        (table.clone(), p.row.clone(), f.clone(), q.clone()),
                        v.clone(),
                    );
                }
            }
        }
        Call::DeleteMultiple { deletes, .. } => {
            for d in deletes {
                for (f, q) in &d.columns {
                    let q = q.clone().unwrap_or_default();
                    st.cells
                        .remove(&(table.clone(), d.row.clone(), f.clone(), q));
                }
            }
        }
        Call::Increment { increment, .. } => {
            for (f, q, amount) in &increment.columns {
                if let Some(e) = check(f) {
                    return Some(e);
                }
                let key = (table.clone(), increment.row.clone(), f.clone(), q.clone());
                let old = match st.cells.get(&key) {
                    None => 0,
                    Some(v) if v.len() == 8 => i64::from_be_bytes(v[..].try_into().unwrap()),
                    Some(_) => {
                        return Some(
                            "org.apache.hadoop.hbase.DoNotRetryIOException: Field is not a long, it's 4 bytes wide"
                                .into(),
                        );
                    }
                };
                st.cells.insert(key, (old + amount).to_be_bytes().to_vec());
            }
        }
    }
    None
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>, framed: bool) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // Parse as many calls as the buffer holds.
        loop {
            let parsed = if framed {
                if buf.len() < 4 {
                    Err(Bad::More)
                } else {
                    let len = i32::from_be_bytes(buf[..4].try_into().unwrap()) as usize;
                    match buf.get(4..4 + len) {
                        None => Err(Bad::More),
                        Some(frame) => {
                            let mut r = In { b: frame, at: 0 };
                            match read_call(&mut r) {
                                Ok(c) if r.at == len => Ok((c, 4 + len)),
                                Ok(_) => Err(Bad::Wrong("bytes left over in the frame".into())),
                                Err(Bad::More) => Err(Bad::Wrong("truncated frame".into())),
                                Err(e) => Err(e),
                            }
                        }
                    }
                }
            } else {
                let mut r = In { b: &buf, at: 0 };
                read_call(&mut r).map(|c| (c, r.at))
            };
            match parsed {
                Err(Bad::More) => break,
                Err(Bad::Wrong(e)) => {
                    state.lock().unwrap().violations.push(e);
                    return;
                }
                Ok(((method, seqid, call), used)) => {
                    buf.drain(..used);
                    let error = {
                        let mut st = state.lock().unwrap();
                        st.calls.push(call.clone());
                        apply(&mut st, &call)
                    };
                    let mut out = reply(&method, seqid, error.as_deref());
                    if framed {
                        let mut f = (out.len() as i32).to_be_bytes().to_vec();
                        f.append(&mut out);
                        out = f;
                    }
                    if stream.write_all(&out).await.is_err() {
                        return;
                    }
                }
            }
        }
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}
