//! `raw.charset`: the character sets Sluice can turn STRING values into and
//! out of, with Java's replacement behaviour (malformed input decodes to
//! U+FFFD, an unmappable character encodes to `?`), as Flink's
//! `new String(bytes, charset)` / `String.getBytes(charset)` do.

/// A supported `raw.charset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    Ascii,
    Latin1,
    Utf16Be,
    Utf16Le,
}

/// The names accepted, as listed in error messages.
pub const CHARSET_NAMES: &str = "UTF-8, US-ASCII, ISO-8859-1, UTF-16BE, UTF-16LE";

impl Charset {
    /// Resolves a Java charset name or common alias (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.trim().to_ascii_uppercase().as_str() {
            "UTF-8" | "UTF8" => Charset::Utf8,
            "US-ASCII" | "ASCII" => Charset::Ascii,
            "ISO-8859-1" | "ISO8859-1" | "ISO_8859_1" | "LATIN1" => Charset::Latin1,
            "UTF-16BE" | "UTF_16BE" => Charset::Utf16Be,
            "UTF-16LE" | "UTF_16LE" => Charset::Utf16Le,
            _ => return None,
        })
    }

    /// Appends the text of `bytes` to `out`.
    pub fn decode_into(self, bytes: &[u8], out: &mut String) {
        match self {
            Charset::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => out.push_str(s),
                Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
            },
            Charset::Ascii => out.extend(bytes.iter().map(|b| {
                if b.is_ascii() {
                    char::from(*b)
                } else {
                    char::REPLACEMENT_CHARACTER
                }
            })),
            Charset::Latin1 => out.extend(bytes.iter().map(|b| char::from(*b))),
            Charset::Utf16Be | Charset::Utf16Le => {
                let units = bytes.chunks(2).map(|c| match (c, self) {
                    ([a, b], Charset::Utf16Be) => u16::from_be_bytes([*a, *b]),
                    ([a, b], _) => u16::from_le_bytes([*a, *b]),
                    // An odd trailing byte is malformed.
                    _ => 0xFFFD,
                });
                out.extend(
                    char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)),
                );
            }
        }
    }

    /// Appends the bytes of `text` to `out`.
    pub fn encode_into(self, text: &str, out: &mut Vec<u8>) {
        match self {
            Charset::Utf8 => out.extend_from_slice(text.as_bytes()),
            Charset::Ascii => out.extend(
                text.chars()
                    .map(|c| if c.is_ascii() { c as u8 } else { b'?' }),
            ),
            Charset::Latin1 => out.extend(
                text.chars()
                    .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')),
            ),
            Charset::Utf16Be => {
                for u in text.encode_utf16() {
                    out.extend_from_slice(&u.to_be_bytes());
                }
            }
            Charset::Utf16Le => {
                for u in text.encode_utf16() {
                    out.extend_from_slice(&u.to_le_bytes());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(c: Charset, s: &str) -> String {
        let mut bytes = Vec::new();
        c.encode_into(s, &mut bytes);
        let mut out = String::new();
        c.decode_into(&bytes, &mut out);
        out
    }

    #[test]
    fn charsets_round_trip_and_replace_like_java() {
        assert_eq!(round_trip(Charset::Utf8, "héllo ✓"), "héllo ✓");
        assert_eq!(round_trip(Charset::Utf16Be, "héllo ✓"), "héllo ✓");
        assert_eq!(round_trip(Charset::Utf16Le, "a✓"), "a✓");
        assert_eq!(round_trip(Charset::Latin1, "héllo ✓"), "héllo ?");
        assert_eq!(round_trip(Charset::Ascii, "héllo"), "h?llo");
        let mut out = String::new();
        Charset::Utf8.decode_into(b"a\xffb", &mut out);
        assert_eq!(out, "a\u{FFFD}b");
        assert_eq!(Charset::from_name("utf-8"), Some(Charset::Utf8));
        assert_eq!(Charset::from_name("GBK"), None);
    }
}
