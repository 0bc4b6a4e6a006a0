//! Line bookkeeping shared by the formats and the filesystem source: error
//! messages name 1-based line numbers, so chunks carry their first line and
//! the slow paths walk a chunk line by line.

/// Number of `\n` bytes in `bytes` (the compiler vectorizes this loop).
pub fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|b| **b == b'\n').count() as u64
}

/// Length of the prefix of `buf` that ends with its last `\n` (0 if none).
pub fn through_last_newline(buf: &[u8]) -> usize {
    buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1)
}

/// The lines of `chunk` with their 0-based offset from the chunk's first
/// line, without the `\n` and without a `\r` before it.
pub fn lines(chunk: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let body = chunk.strip_suffix(b"\n").unwrap_or(chunk);
    let empty = chunk.is_empty();
    body.split(|b| *b == b'\n')
        .filter(move |_| !empty)
        .enumerate()
        .map(|(i, line)| (i as u64, line.strip_suffix(b"\r").unwrap_or(line)))
}

/// True when `line` holds nothing but ASCII whitespace.
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_from_zero() {
        let got: Vec<(u64, &[u8])> = lines(b"a\r\nb\n\nc").collect();
        assert_eq!(got, vec![(0, &b"a"[..]), (1, b"b"), (2, b""), (3, b"c")]);
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"x\n").count(), 1);
        assert_eq!(through_last_newline(b"ab\ncd"), 3);
        assert_eq!(count_newlines(b"a\nb\n"), 2);
    }
}
