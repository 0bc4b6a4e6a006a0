//! The Thrift binary protocol (`TBinaryProtocol`, strict writes), by hand:
//! what a client of HBase's `THBaseService` needs to encode calls and
//! decode replies. No Thrift compiler is involved; the struct layouts live
//! in [`super::service`] with the field ids of HBase's `hbase.thrift`.

/// Thrift type ids.
pub mod ty {
    pub const STOP: u8 = 0;
    pub const BOOL: u8 = 2;
    pub const BYTE: u8 = 3;
    pub const DOUBLE: u8 = 4;
    pub const I16: u8 = 6;
    pub const I32: u8 = 8;
    pub const I64: u8 = 10;
    pub const STRING: u8 = 11;
    pub const STRUCT: u8 = 12;
    pub const MAP: u8 = 13;
    pub const SET: u8 = 14;
    pub const LIST: u8 = 15;
}

/// Message types.
pub const CALL: u8 = 1;
pub const REPLY: u8 = 2;
pub const EXCEPTION: u8 = 3;

const VERSION_1: u32 = 0x8001_0000;
const VERSION_MASK: u32 = 0xffff_0000;

/// Deepest nesting skipped in a reply (guards against a hostile server).
const MAX_DEPTH: usize = 64;

/// Appends binary-protocol values to a buffer.
#[derive(Debug, Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    /// Starts a strict `CALL` message.
    pub fn begin_call(&mut self, name: &str, seqid: i32) {
        self.i32((VERSION_1 | u32::from(CALL)) as i32);
        self.binary(name.as_bytes());
        self.i32(seqid);
    }

    /// A field header.
    pub fn field(&mut self, field_type: u8, id: i16) {
        self.buf.push(field_type);
        self.buf.extend_from_slice(&id.to_be_bytes());
    }

    /// The end of a struct.
    pub fn stop(&mut self) {
        self.buf.push(ty::STOP);
    }

    pub fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// A `binary` / `string`: length, then bytes.
    pub fn binary(&mut self, v: &[u8]) {
        self.i32(v.len() as i32);
        self.buf.extend_from_slice(v);
    }

    /// A list header with a size to fill in later; returns where the size
    /// is, for [`Writer::patch_i32`].
    pub fn list_begin(&mut self, elem_type: u8) -> usize {
        self.buf.push(elem_type);
        let at = self.buf.len();
        self.i32(0);
        at
    }

    /// Overwrites the i32 at `at` (a list size or frame length).
    pub fn patch_i32(&mut self, at: usize, v: i32) {
        self.buf[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }
}

/// Why a reply could not be read from the bytes at hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// More bytes are needed.
    Incomplete,
    /// The bytes are not a valid reply.
    Invalid(String),
}

type Parsed<T> = Result<T, ParseError>;

/// Reads binary-protocol values from a byte slice.
pub struct Reader<'a> {
    buf: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn take(&mut self, n: usize) -> Parsed<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(ParseError::Incomplete)?;
        let s = self.buf.get(self.pos..end).ok_or(ParseError::Incomplete)?;
        self.pos = end;
        Ok(s)
    }

    pub fn u8(&mut self) -> Parsed<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn i16(&mut self) -> Parsed<i16> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    pub fn i32(&mut self) -> Parsed<i32> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn binary(&mut self) -> Parsed<&'a [u8]> {
        let n = self.i32()?;
        let n = usize::try_from(n).map_err(|_| ParseError::Invalid(format!("length {n}")))?;
        self.take(n)
    }

    pub fn string(&mut self) -> Parsed<String> {
        Ok(String::from_utf8_lossy(self.binary()?).into_owned())
    }

    /// A field header: `(type, id)`, type [`ty::STOP`] at the end.
    pub fn field(&mut self) -> Parsed<(u8, i16)> {
        let t = self.u8()?;
        if t == ty::STOP {
            return Ok((t, 0));
        }
        Ok((t, self.i16()?))
    }

    /// A message header (strict or old-style): `(name, type, seqid)`.
    pub fn message_begin(&mut self) -> Parsed<(String, u8, i32)> {
        let first = self.i32()?;
        if first < 0 {
            let word = first as u32;
            if word & VERSION_MASK != VERSION_1 {
                return Err(ParseError::Invalid(format!(
                    "bad protocol version {:#x}",
                    word & VERSION_MASK
                )));
            }
            let name = self.string()?;
            let seqid = self.i32()?;
            Ok((name, (word & 0xff) as u8, seqid))
        } else {
            let n = first as usize;
            let name = String::from_utf8_lossy(self.take(n)?).into_owned();
            let t = self.u8()?;
            let seqid = self.i32()?;
            Ok((name, t, seqid))
        }
    }

    /// Skips a value of `field_type`.
    pub fn skip(&mut self, field_type: u8) -> Parsed<()> {
        self.skip_depth(field_type, 0)
    }

    fn skip_depth(&mut self, t: u8, depth: usize) -> Parsed<()> {
        if depth > MAX_DEPTH {
            return Err(ParseError::Invalid("nesting too deep".into()));
        }
        match t {
            ty::BOOL | ty::BYTE => {
                self.take(1)?;
            }
            ty::I16 => {
                self.take(2)?;
            }
            ty::I32 => {
                self.take(4)?;
            }
            ty::DOUBLE | ty::I64 => {
                self.take(8)?;
            }
            ty::STRING => {
                self.binary()?;
            }
            ty::STRUCT => loop {
                let (ft, _) = self.field()?;
                if ft == ty::STOP {
                    break;
                }
                self.skip_depth(ft, depth + 1)?;
            },
            ty::MAP => {
                let k = self.u8()?;
                let v = self.u8()?;
                let n = self.size()?;
                for _ in 0..n {
                    self.skip_depth(k, depth + 1)?;
                    self.skip_depth(v, depth + 1)?;
                }
            }
            ty::SET | ty::LIST => {
                let e = self.u8()?;
                let n = self.size()?;
                for _ in 0..n {
                    self.skip_depth(e, depth + 1)?;
                }
            }
            other => return Err(ParseError::Invalid(format!("unknown type id {other}"))),
        }
        Ok(())
    }

    fn size(&mut self) -> Parsed<usize> {
        let n = self.i32()?;
        usize::try_from(n).map_err(|_| ParseError::Invalid(format!("negative size {n}")))
    }
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The call succeeded (its return value is not needed).
    Ok,
    /// `TIOError`: HBase failed; `can_retry` when the server says (newer
    /// HBase versions set it).
    IoError {
        message: String,
        can_retry: Option<bool>,
    },
    /// `TIllegalArgument`.
    IllegalArgument(String),
    /// A `TApplicationException` (unknown method, internal error, ...).
    Application { message: String, kind: i32 },
}

/// Reads the reply to call `seqid` of `method`.
pub fn read_reply(r: &mut Reader<'_>, method: &str, seqid: i32) -> Parsed<Reply> {
    let (name, kind, got_seqid) = r.message_begin()?;
    if kind == EXCEPTION {
        let mut message = String::new();
        let mut code = 0;
        loop {
            let (t, id) = r.field()?;
            match (t, id) {
                (ty::STOP, _) => break,
                (ty::STRING, 1) => message = r.string()?,
                (ty::I32, 2) => code = r.i32()?,
                (t, _) => r.skip(t)?,
            }
        }
        return Ok(Reply::Application {
            message,
            kind: code,
        });
    }
    if kind != REPLY {
        return Err(ParseError::Invalid(format!(
            "message type {kind} is not a reply"
        )));
    }
    if name != method || got_seqid != seqid {
        return Err(ParseError::Invalid(format!(
            "reply '{name}' #{got_seqid} does not answer call '{method}' #{seqid}"
        )));
    }
    let mut reply = Reply::Ok;
    loop {
        let (t, id) = r.field()?;
        match (t, id) {
            (ty::STOP, _) => break,
            (ty::STRUCT, 1) => {
                let (message, can_retry) = read_exception(r)?;
                reply = Reply::IoError { message, can_retry };
            }
            (ty::STRUCT, 2) => {
                let (message, _) = read_exception(r)?;
                reply = Reply::IllegalArgument(message);
            }
            (t, _) => r.skip(t)?,
        }
    }
    Ok(reply)
}

/// `TIOError` / `TIllegalArgument`: `1: optional string message` (and, in
/// newer HBase, `2: optional bool canRetry`).
fn read_exception(r: &mut Reader<'_>) -> Parsed<(String, Option<bool>)> {
    let mut message = String::new();
    let mut can_retry = None;
    loop {
        let (t, id) = r.field()?;
        match (t, id) {
            (ty::STOP, _) => break,
            (ty::STRING, 1) => message = r.string()?,
            (ty::BOOL, 2) => can_retry = Some(r.u8()? != 0),
            (t, _) => r.skip(t)?,
        }
    }
    Ok((message, can_retry))
}
