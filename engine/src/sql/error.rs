//! Turning sqlparser's errors into Sluice's `line L, column C: ..` form.

use datafusion::sql::sqlparser::parser::ParserError;
use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan, TokenizerError};

use crate::error::{Position, SluiceError};

/// The position of a sqlparser location.
pub fn position(loc: Location) -> Position {
    Position {
        line: loc.line,
        column: loc.column,
    }
}

/// How a token is named in an error: `'WITH'`, or `end of input`.
pub fn describe_token(t: &TokenWithSpan) -> String {
    match &t.token {
        Token::EOF => "end of input".to_string(),
        other => format!("'{other}'"),
    }
}

/// An error found at `token`.
pub fn error_at(token: &TokenWithSpan, message: impl Into<String>) -> SluiceError {
    SluiceError::Parse {
        position: position(token.span.start),
        message: message.into(),
    }
}

/// `expected X but found 'Y'` at `found`.
pub fn expected(what: &str, found: &TokenWithSpan) -> SluiceError {
    error_at(
        found,
        format!("expected {what} but found {}", describe_token(found)),
    )
}

/// A tokenizer error (unterminated string, stray character).
pub fn from_tokenizer(e: TokenizerError) -> SluiceError {
    SluiceError::Parse {
        position: position(e.location),
        message: lowercase_first(&e.message),
    }
}

/// A sqlparser error. Its message ends with ` at Line: L, Column: C`; that
/// suffix becomes the position and `Expected: X, found: Y` is reworded.
/// `fallback` is used when the message carries no location.
pub fn from_parser(e: ParserError, fallback: &TokenWithSpan) -> SluiceError {
    let msg = match e {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m,
        ParserError::RecursionLimitExceeded => "statement is nested too deeply".to_string(),
    };
    let (text, pos) = match msg.rsplit_once(" at Line: ") {
        Some((text, loc)) => match parse_location(loc) {
            Some(p) => (text.to_string(), p),
            None => (msg.clone(), position(fallback.span.start)),
        },
        None => (msg.clone(), position(fallback.span.start)),
    };
    let message = match text
        .strip_prefix("Expected: ")
        .and_then(|rest| rest.split_once(", found: "))
    {
        Some((exp, found)) => {
            let exp = if exp.contains(' ') {
                exp.to_string()
            } else {
                format!("'{exp}'")
            };
            let found = if found == "EOF" {
                "end of input".to_string()
            } else {
                format!("'{found}'")
            };
            format!("expected {exp} but found {found}")
        }
        None => lowercase_first(&text),
    };
    SluiceError::Parse {
        position: pos,
        message,
    }
}

fn parse_location(s: &str) -> Option<Position> {
    let (line, col) = s.split_once(", Column: ")?;
    Some(Position {
        line: line.trim().parse().ok()?,
        column: col.trim().parse().ok()?,
    })
}

fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}
