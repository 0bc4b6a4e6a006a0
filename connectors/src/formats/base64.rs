//! Base64 (RFC 4648, standard alphabet, padded), which is how Flink's JSON
//! and CSV formats carry BYTES / VARBINARY values (Jackson's binary nodes).

use datafusion::arrow::array::{Array, BinaryBuilder, BooleanArray, StringArray};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends the padded base64 encoding of `bytes` to `out`.
pub fn encode_into(bytes: &[u8], out: &mut Vec<u8>) {
    let mut chunks = bytes.chunks_exact(3);
    for c in &mut chunks {
        let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
        out.extend_from_slice(&[
            ALPHABET[(n >> 18) as usize & 63],
            ALPHABET[(n >> 12) as usize & 63],
            ALPHABET[(n >> 6) as usize & 63],
            ALPHABET[n as usize & 63],
        ]);
    }
    match *chunks.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            out.extend_from_slice(&[
                ALPHABET[(n >> 18) as usize & 63],
                ALPHABET[(n >> 12) as usize & 63],
                b'=',
                b'=',
            ]);
        }
        [a, b] => {
            let n = (u32::from(a) << 16) | (u32::from(b) << 8);
            out.extend_from_slice(&[
                ALPHABET[(n >> 18) as usize & 63],
                ALPHABET[(n >> 12) as usize & 63],
                ALPHABET[(n >> 6) as usize & 63],
                b'=',
            ]);
        }
        _ => {}
    }
}

fn sextet(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// Decodes base64 text (padding optional); `None` when it is not base64.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let body = text.trim_end_matches('=').as_bytes();
    if body.len() % 4 == 1 || text.len() - body.len() > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= sextet(*c)? << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    Some(out)
}

/// Decodes a column of base64 text. Returns the binary column and, per row,
/// whether the text was not base64 (that row is null in the result).
pub fn decode_array(text: &StringArray) -> (datafusion::arrow::array::BinaryArray, BooleanArray) {
    let mut builder = BinaryBuilder::with_capacity(text.len(), text.value_data().len());
    let mut invalid = Vec::with_capacity(text.len());
    for v in text.iter() {
        match v.map(decode) {
            None => {
                builder.append_null();
                invalid.push(false);
            }
            Some(Some(bytes)) => {
                builder.append_value(bytes);
                invalid.push(false);
            }
            Some(None) => {
                builder.append_null();
                invalid.push(true);
            }
        }
    }
    (builder.finish(), BooleanArray::from(invalid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for input in [&b""[..], b"f", b"fo", b"foo", b"foob", b"\xff\x00\x10"] {
            let mut enc = Vec::new();
            encode_into(input, &mut enc);
            let text = String::from_utf8(enc).unwrap();
            assert_eq!(decode(&text).unwrap(), input, "{text}");
        }
        let mut enc = Vec::new();
        encode_into(b"foob", &mut enc);
        assert_eq!(enc, b"Zm9vYg==");
        assert_eq!(decode("not base64!"), None);
    }
}
