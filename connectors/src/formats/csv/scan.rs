//! Finds CSV record boundaries without parsing fields. A quoted field may
//! hold newlines, so "split at the last newline" is wrong for CSV: a file
//! reader uses [`complete_prefix`] to cut chunks between records, and the
//! slow path uses [`records`] to decode a bad chunk record by record with the
//! right line numbers. Follows csv_core's rules: quotes open only at the
//! start of a field, a doubled quote is a literal quote, the escape character
//! escapes the next byte inside quotes, blank lines and (when enabled) lines
//! starting with `#` are skipped.

use std::ops::Range;

use super::CsvOptions;

/// A record found in a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Lines from the chunk's first line to the record's first line.
    pub line_offset: u64,
    /// The record's bytes, including its terminator.
    pub bytes: Range<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a record (blank and comment lines are skipped here).
    RecordStart,
    /// Inside a comment line.
    Comment,
    /// At the start of a field.
    FieldStart,
    /// Inside an unquoted field (or after a closing quote).
    Unquoted,
    /// Inside quotes.
    Quoted,
    /// Just after a quote inside quotes: a doubled quote or the closing one.
    QuoteInQuoted,
    /// Just after the escape character inside quotes.
    Escaped,
}

/// Walks `buf` (which starts at a record boundary) and calls `on_record` for
/// every complete record. Returns the end of the last complete record.
fn walk(buf: &[u8], options: &CsvOptions, mut on_record: impl FnMut(Record)) -> usize {
    let mut state = State::RecordStart;
    let mut line: u64 = 0;
    let mut start = 0usize;
    let mut start_line = 0u64;
    let mut end = 0usize;
    for (i, &b) in buf.iter().enumerate() {
        state = match state {
            State::RecordStart => {
                start = i;
                start_line = line;
                match b {
                    b'\n' | b'\r' => State::RecordStart,
                    b'#' if options.allow_comments => State::Comment,
                    _ if Some(b) == options.quote => State::Quoted,
                    _ if b == options.delimiter => State::FieldStart,
                    _ => State::Unquoted,
                }
            }
            State::Comment => {
                if b == b'\n' {
                    State::RecordStart
                } else {
                    State::Comment
                }
            }
            State::FieldStart | State::Unquoted => match b {
                b'\n' => {
                    on_record(Record {
                        line_offset: start_line,
                        bytes: start..i + 1,
                    });
                    end = i + 1;
                    State::RecordStart
                }
                _ if b == options.delimiter => State::FieldStart,
                _ if state == State::FieldStart && Some(b) == options.quote => State::Quoted,
                _ => State::Unquoted,
            },
            State::Quoted => match b {
                _ if Some(b) == options.escape => State::Escaped,
                _ if Some(b) == options.quote => State::QuoteInQuoted,
                _ => State::Quoted,
            },
            State::Escaped => State::Quoted,
            State::QuoteInQuoted => match b {
                _ if Some(b) == options.quote => State::Quoted,
                b'\n' => {
                    on_record(Record {
                        line_offset: start_line,
                        bytes: start..i + 1,
                    });
                    end = i + 1;
                    State::RecordStart
                }
                _ if b == options.delimiter => State::FieldStart,
                _ => State::Unquoted,
            },
        };
        if b == b'\n' {
            line += 1;
        }
    }
    end
}

/// Length of the longest prefix of `buf` made of complete records.
pub fn complete_prefix(buf: &[u8], options: &CsvOptions) -> usize {
    walk(buf, options, |_| {})
}

/// The records of a chunk of complete records; a last record without a
/// terminating newline is included.
pub fn records(chunk: &[u8], options: &CsvOptions) -> Vec<Record> {
    let mut out = Vec::new();
    let end = walk(chunk, options, |r| out.push(r));
    let tail = &chunk[end..];
    let skipped_blank = tail
        .iter()
        .take_while(|b| matches!(b, b'\n' | b'\r'))
        .count();
    let is_comment = options.allow_comments && tail.get(skipped_blank) == Some(&b'#');
    if skipped_blank < tail.len() && !is_comment {
        let lines_before = crate::formats::lines::count_newlines(&chunk[..end + skipped_blank]);
        out.push(Record {
            line_offset: lines_before,
            bytes: end + skipped_blank..chunk.len(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_newlines_do_not_end_records() {
        let o = CsvOptions::default();
        let data = b"a,\"x\ny\"\n\nb,\"say \"\"hi\"\"\"\nc";
        let got = records(data, &o);
        let lines: Vec<u64> = got.iter().map(|r| r.line_offset).collect();
        assert_eq!(lines, vec![0, 3, 4]);
        assert_eq!(&data[got[0].bytes.clone()], b"a,\"x\ny\"\n");
        assert_eq!(&data[got[2].bytes.clone()], b"c");
        assert_eq!(complete_prefix(b"a,\"x\ny", &o), 0);
        assert_eq!(complete_prefix(b"a,b\nc,\"d\n", &o), 4);
    }

    #[test]
    fn comments_are_skipped_when_allowed() {
        let o = CsvOptions {
            allow_comments: true,
            ..CsvOptions::default()
        };
        let data = b"# note\na,b\n#x";
        let got = records(data, &o);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].line_offset, 1);
    }
}
