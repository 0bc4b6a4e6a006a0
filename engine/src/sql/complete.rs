//! Deciding when the shell has read a whole statement.
//!
//! The shell keeps reading lines until the buffer ends a statement. Looking
//! at the last character is not enough: a `;` inside a string literal, a
//! quoted identifier or a comment does not end anything, and an unterminated
//! string or comment means the user is still typing. So the buffer is run
//! through the sqlparser tokenizer and the decision is made on tokens.

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Word};

/// True when `text` holds at least one statement and its last statement is
/// terminated: the last token that is neither whitespace nor a comment is
/// `;`. A statement set (`EXECUTE STATEMENT SET BEGIN ... END;` or
/// `BEGIN STATEMENT SET; ... END;`) contains `;`-terminated statements of its
/// own, so it only ends at `END ;`. Text the tokenizer rejects (an
/// unterminated string, quoted identifier or block comment) is incomplete:
/// the rest of it is most likely on the next line.
pub fn statement_is_complete(text: &str) -> bool {
    let dialect = GenericDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, text).tokenize() else {
        return false;
    };
    let tokens = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_) | Token::EOF));

    let mut saw_statement = false;
    // `None` between statements; otherwise the state of the current one.
    let mut current: Option<Statement> = None;
    for token in tokens {
        let stmt = current.get_or_insert_with(|| {
            saw_statement = true;
            Statement::default()
        });
        stmt.push(&token);
        if stmt.ends_after(&token) {
            current = None;
        }
    }
    saw_statement && current.is_none()
}

/// What has been seen of the statement being read.
#[derive(Debug, Default)]
struct Statement {
    /// The first three words, upper-cased, to recognise a statement set.
    head: Vec<String>,
    /// Number of significant tokens so far.
    len: usize,
    /// Open `CASE` expressions, whose `END` must not close a statement set.
    case_depth: usize,
    /// True when the previous token was an `END` that closes the statement
    /// set (not a `CASE`).
    after_set_end: bool,
}

impl Statement {
    fn push(&mut self, token: &Token) {
        self.len += 1;
        if self.len <= 3 {
            self.head.push(keyword(token).unwrap_or_default());
        }
    }

    /// True when `token`, just pushed, is the one that ends the statement.
    fn ends_after(&mut self, token: &Token) -> bool {
        let is_set = self.is_statement_set();
        if !is_set {
            return matches!(token, Token::SemiColon);
        }
        let word = keyword(token);
        let ends = matches!(token, Token::SemiColon) && self.after_set_end;
        self.after_set_end = false;
        match word.as_deref() {
            Some("CASE") => self.case_depth += 1,
            Some("END") if self.case_depth > 0 => self.case_depth -= 1,
            Some("END") => self.after_set_end = true,
            _ => {}
        }
        ends
    }

    /// True once the head reads `EXECUTE STATEMENT SET` or
    /// `BEGIN STATEMENT SET`. Before the third word it cannot be one yet,
    /// which is fine: a `;` that early ends an ordinary statement.
    fn is_statement_set(&self) -> bool {
        self.head.len() == 3
            && (self.head[0] == "EXECUTE" || self.head[0] == "BEGIN")
            && self.head[1] == "STATEMENT"
            && self.head[2] == "SET"
    }
}

/// The upper-cased text of an unquoted word; `None` for anything else
/// (a quoted `"END"` is an identifier, not the keyword).
fn keyword(token: &Token) -> Option<String> {
    match token {
        Token::Word(Word {
            value,
            quote_style: None,
            ..
        }) => Some(value.to_ascii_uppercase()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::statement_is_complete as complete;

    #[test]
    fn simple_statements() {
        assert!(complete("SELECT 1;"));
        assert!(complete("SELECT 1;  \n"));
        assert!(complete("SELECT 1\n FROM t\n;"));
        assert!(!complete("SELECT 1"));
        assert!(!complete(""));
        assert!(!complete("   \n"));
        // An empty statement is terminated; the parser drops it.
        assert!(complete(";"));
    }

    #[test]
    fn several_statements() {
        assert!(complete("SELECT 1; SELECT 2;"));
        assert!(!complete("SELECT 1; SELECT 2"));
    }

    #[test]
    fn semicolons_in_strings_and_identifiers() {
        assert!(!complete("SELECT 'a;"));
        assert!(!complete("SELECT 'a;'"));
        assert!(complete("SELECT 'a;';"));
        assert!(!complete("SELECT `a;"));
        assert!(!complete("SELECT \"a;\""));
        assert!(complete("SELECT 'it''s';"));
        // Flink strings have no backslash escapes.
        assert!(complete("SELECT 'C:\\';"));
    }

    #[test]
    fn comments() {
        assert!(complete("SELECT 1; -- done"));
        assert!(complete("SELECT 1; /* done */"));
        assert!(!complete("SELECT 1 -- ;"));
        assert!(!complete("SELECT 1 /* ; */"));
        assert!(!complete("SELECT 1; /* unterminated"));
        assert!(!complete("-- only a comment;"));
    }

    #[test]
    fn execute_statement_set() {
        let head = "EXECUTE STATEMENT SET\nBEGIN\nINSERT INTO a SELECT * FROM b;\n";
        assert!(!complete(head));
        let two = format!("{head}INSERT INTO c SELECT * FROM d;\n");
        assert!(!complete(&two));
        assert!(!complete(&format!("{two}END")));
        assert!(complete(&format!("{two}END;")));
        assert!(complete(&format!("{two}end ; -- bye")));
    }

    #[test]
    fn begin_statement_set() {
        assert!(!complete("BEGIN STATEMENT SET;"));
        assert!(!complete("begin statement set;\nINSERT INTO a VALUES (1);"));
        assert!(complete(
            "BEGIN STATEMENT SET;\nINSERT INTO a VALUES (1);\nEND;"
        ));
    }

    #[test]
    fn case_end_inside_a_statement_set() {
        let sql = "EXECUTE STATEMENT SET BEGIN\n\
                   INSERT INTO a SELECT CASE WHEN x > 1 THEN 1 ELSE 0 END;\n";
        assert!(!complete(sql));
        assert!(complete(&format!("{sql}END;")));
    }

    #[test]
    fn statement_after_a_statement_set() {
        let set = "EXECUTE STATEMENT SET BEGIN INSERT INTO a VALUES (1); END;";
        assert!(complete(set));
        assert!(!complete(&format!("{set} SELECT 1")));
        assert!(complete(&format!("{set} SELECT 1;")));
    }

    #[test]
    fn quoted_end_is_not_the_keyword() {
        assert!(!complete(
            "EXECUTE STATEMENT SET BEGIN INSERT INTO a VALUES (1); \"END\";"
        ));
    }
}
