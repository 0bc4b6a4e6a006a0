//! A connection to HBase's Thrift gateway: calls are written back to back
//! (pipelined) on one socket — buffered transport, HBase's default, or
//! framed with `'thrift.framed' = 'true'` — and their replies read in
//! order.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::thrift::{ParseError, Reader, Reply, Writer, read_reply};

/// Calls prepared for one round trip.
#[derive(Debug, Default)]
pub struct Calls {
    pub w: Writer,
    /// Method and seqid of each call, in order.
    calls: Vec<(&'static str, i32)>,
    /// Where the open call's frame length goes (framed transport).
    frame_at: Option<usize>,
    framed: bool,
}

impl Calls {
    /// Starts a call; write its argument struct into [`Calls::w`], then
    /// call [`Calls::end`].
    pub fn begin(&mut self, method: &'static str, seqid: i32) {
        if self.framed {
            let at = self.w.buf.len();
            self.w.i32(0);
            self.frame_at = Some(at);
        }
        self.w.begin_call(method, seqid);
        self.calls.push((method, seqid));
    }

    /// Ends the open call.
    pub fn end(&mut self) {
        if let Some(at) = self.frame_at.take() {
            let len = self.w.buf.len() - at - 4;
            self.w.patch_i32(at, len as i32);
        }
    }

    /// Number of calls.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// True when no call was added.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}

/// The replies of a round trip, and why it stopped early if it did: calls
/// after `replies.len()` may or may not have been applied.
#[derive(Debug)]
pub struct Exchange {
    pub replies: Vec<Reply>,
    pub failure: Option<String>,
}

/// One socket to the gateway, reopened after any failure.
#[derive(Debug)]
pub struct ThriftClient {
    addr: String,
    framed: bool,
    timeout: Duration,
    conn: Option<TcpStream>,
    seqid: i32,
}

impl ThriftClient {
    pub fn new(addr: String, framed: bool, timeout: Duration) -> Self {
        Self {
            addr,
            framed,
            timeout,
            conn: None,
            seqid: 0,
        }
    }

    /// An empty set of calls for this transport.
    pub fn calls(&self) -> Calls {
        Calls {
            framed: self.framed,
            ..Calls::default()
        }
    }

    /// The next sequence id.
    pub fn next_seqid(&mut self) -> i32 {
        self.seqid = self.seqid.wrapping_add(1);
        self.seqid
    }

    /// Sends every call and reads the replies. A lost connection or a
    /// timeout ends the exchange; the connection is then dropped.
    pub async fn exchange(&mut self, calls: &Calls) -> Exchange {
        let mut replies = Vec::with_capacity(calls.len());
        let timeout = self.timeout;
        let result = tokio::time::timeout(timeout, self.run(calls, &mut replies)).await;
        let failure = match result {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some(format!("no reply from {} within {timeout:?}", self.addr)),
        };
        if failure.is_some() {
            self.conn = None;
        }
        Exchange { replies, failure }
    }

    async fn run(&mut self, calls: &Calls, replies: &mut Vec<Reply>) -> Result<(), String> {
        if self.conn.is_none() {
            let stream = TcpStream::connect(&self.addr)
                .await
                .map_err(|e| format!("connecting to {}: {e}", self.addr))?;
            let _ = stream.set_nodelay(true);
            self.conn = Some(stream);
        }
        let addr = self.addr.clone();
        let framed = self.framed;
        let Some(conn) = self.conn.as_mut() else {
            return Err("no connection".into());
        };
        let io = |e: std::io::Error| format!("talking to {addr}: {e}");
        conn.write_all(&calls.w.buf).await.map_err(io)?;
        conn.flush().await.map_err(io)?;
        let mut buf: Vec<u8> = Vec::with_capacity(256);
        let mut pos = 0;
        for (method, seqid) in &calls.calls {
            loop {
                let parsed = if framed {
                    parse_frame(&buf[pos..], method, *seqid)
                } else {
                    let mut r = Reader::new(&buf[pos..]);
                    read_reply(&mut r, method, *seqid).map(|reply| (reply, r.pos))
                };
                match parsed {
                    Ok((reply, used)) => {
                        pos += used;
                        replies.push(reply);
                        break;
                    }
                    Err(ParseError::Invalid(e)) => {
                        return Err(format!("bad reply from {addr} to '{method}': {e}"));
                    }
                    Err(ParseError::Incomplete) => {
                        let n = conn.read_buf(&mut buf).await.map_err(io)?;
                        if n == 0 {
                            return Err(format!(
                                "{addr} closed the connection before answering '{method}'"
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// A framed reply: 4-byte length, then the message.
fn parse_frame(buf: &[u8], method: &str, seqid: i32) -> Result<(Reply, usize), ParseError> {
    let mut r = Reader::new(buf);
    let len = r.i32()?;
    let len =
        usize::try_from(len).map_err(|_| ParseError::Invalid(format!("frame length {len}")))?;
    let frame = buf.get(4..4 + len).ok_or(ParseError::Incomplete)?;
    let mut inner = Reader::new(frame);
    match read_reply(&mut inner, method, seqid) {
        Ok(reply) => Ok((reply, 4 + len)),
        Err(ParseError::Incomplete) => Err(ParseError::Invalid("truncated frame".into())),
        Err(e) => Err(e),
    }
}
