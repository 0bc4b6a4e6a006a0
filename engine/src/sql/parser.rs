//! The Flink SQL parser: a thin wrapper, in the style of DataFusion's
//! `DFParser`, over sqlparser's own primitives. Statements stock sqlparser
//! knows (queries, INSERT) are handed to it; the Flink-only ones (DDL with
//! watermarks and metadata columns, SET/RESET, SHOW JOBS, STOP JOB, statement
//! sets) are parsed here token by token.

use datafusion::sql::sqlparser::ast::{Ident, ObjectName, Statement};
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use super::ast::*;
use super::dialect::FlinkDialect;
use super::error::{error_at, expected, from_parser, from_tokenizer};
use super::hints::{HintCollector, extract_hints};
use crate::error::{Result, SluiceError};

/// Parses one or more `;`-separated Flink SQL statements.
pub fn parse_sql(sql: &str) -> Result<Vec<FlinkStatement>> {
    let dialect = FlinkDialect;
    let mut tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(from_tokenizer)?;
    // `JSON_OBJECT(KEY k VALUE v)`: sqlparser has no rule for the `KEY` word.
    sluice_udf::syntax::strip_json_key_keyword(&mut tokens);
    let hints = extract_hints(&tokens)?;
    let parser = Parser::new(&dialect).with_tokens_with_locations(tokens);
    let mut p = FlinkParser {
        parser,
        hints,
        pending_gt: false,
    };
    let mut out = Vec::new();
    loop {
        while p.parser.consume_token(&Token::SemiColon) {}
        if p.peek().token == Token::EOF {
            break;
        }
        let stmt = p.parse_statement()?;
        out.push(stmt);
        let t = p.peek();
        match t.token {
            Token::SemiColon | Token::EOF => {}
            _ => return Err(expected("';' or end of input", &t)),
        }
    }
    p.hints.check_all_used()?;
    Ok(out)
}

pub(super) struct FlinkParser<'a> {
    pub(super) parser: Parser<'a>,
    hints: HintCollector,
    /// A `>>` token was split and its second `>` is still to be consumed
    /// (`ARRAY<ARRAY<INT>>`).
    pending_gt: bool,
}

impl FlinkParser<'_> {
    pub(super) fn peek(&self) -> TokenWithSpan {
        self.parser.peek_token()
    }

    fn peek_nth(&self, n: usize) -> TokenWithSpan {
        self.parser.peek_nth_token(n)
    }

    /// The upper-cased unquoted word `n` tokens ahead, if it is one.
    pub(super) fn word_at(&self, n: usize) -> Option<String> {
        match self.peek_nth(n).token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        }
    }

    /// Consumes the word `w` (case-insensitive) if it is next.
    pub(super) fn accept(&mut self, w: &str) -> bool {
        if self.word_at(0).as_deref() == Some(w) {
            self.parser.next_token();
            true
        } else {
            false
        }
    }

    /// Consumes the words `ws` if they are all next.
    pub(super) fn accept_all(&mut self, ws: &[&str]) -> bool {
        if ws
            .iter()
            .enumerate()
            .all(|(i, w)| self.word_at(i).as_deref() == Some(*w))
        {
            for _ in ws {
                self.parser.next_token();
            }
            true
        } else {
            false
        }
    }

    pub(super) fn expect_word(&mut self, w: &str) -> Result<()> {
        if self.accept(w) {
            Ok(())
        } else {
            Err(expected(&format!("'{w}'"), &self.peek()))
        }
    }

    pub(super) fn expect_token(&mut self, t: Token) -> Result<TokenWithSpan> {
        let next = self.peek();
        if next.token == t {
            self.parser.next_token();
            Ok(next)
        } else {
            Err(expected(&format!("'{t}'"), &next))
        }
    }

    /// Runs a sqlparser primitive, converting its error to ours.
    pub(super) fn sp<T>(
        &mut self,
        f: impl FnOnce(
            &mut Parser,
        )
            -> std::result::Result<T, datafusion::sql::sqlparser::parser::ParserError>,
    ) -> Result<T> {
        let at = self.peek();
        f(&mut self.parser).map_err(|e| from_parser(e, &at))
    }

    pub(super) fn string_literal(&mut self, what: &str) -> Result<String> {
        let t = self.peek();
        match t.token {
            Token::SingleQuotedString(s) => {
                self.parser.next_token();
                Ok(s)
            }
            _ => Err(expected(what, &t)),
        }
    }

    pub(super) fn object_name(&mut self) -> Result<ObjectName> {
        self.sp(|p| p.parse_object_name(false))
    }

    pub(super) fn identifier(&mut self) -> Result<Ident> {
        self.sp(|p| p.parse_identifier())
    }

    /// `(a, b, c)`.
    pub(super) fn ident_list(&mut self) -> Result<Vec<Ident>> {
        self.expect_token(Token::LParen)?;
        let mut out = vec![self.identifier()?];
        while self.parser.consume_token(&Token::Comma) {
            out.push(self.identifier()?);
        }
        self.expect_token(Token::RParen)?;
        Ok(out)
    }

    /// True when the next token closes an angle bracket.
    pub(super) fn at_gt(&self) -> bool {
        self.pending_gt || matches!(self.peek().token, Token::Gt | Token::ShiftRight)
    }

    /// Consumes one `>`, splitting `>>` when needed.
    pub(super) fn expect_gt(&mut self) -> Result<()> {
        if self.pending_gt {
            self.pending_gt = false;
            return Ok(());
        }
        let t = self.peek();
        match t.token {
            Token::Gt => {
                self.parser.next_token();
                Ok(())
            }
            Token::ShiftRight => {
                self.parser.next_token();
                self.pending_gt = true;
                Ok(())
            }
            _ => Err(expected("'>'", &t)),
        }
    }

    fn parse_statement(&mut self) -> Result<FlinkStatement> {
        let first = self.peek();
        let Some(word) = self.word_at(0) else {
            if first.token == Token::LParen {
                return self.parse_query();
            }
            return Err(expected("a statement", &first));
        };
        match word.as_str() {
            "CREATE" => self.parse_create(),
            "DROP" => self.parse_drop(),
            "SET" => self.parse_set(),
            "RESET" => self.parse_reset(),
            "SHOW" => self.parse_show(),
            "DESCRIBE" | "DESC" => self.parse_describe(),
            "EXPLAIN" => self.parse_explain(),
            "INSERT" => self.parse_insert(),
            "SELECT" | "WITH" | "VALUES" => self.parse_query(),
            "EXECUTE" | "BEGIN" => self.parse_statement_set(),
            "STOP" => self.parse_stop_job(),
            _ => Err(error_at(
                &first,
                format!("unknown statement '{}'", first.token),
            )),
        }
    }

    pub(super) fn parse_query_public(&mut self) -> Result<FlinkStatement> {
        self.parse_query()
    }

    fn parse_query(&mut self) -> Result<FlinkStatement> {
        let mut query = self.sp(|p| p.parse_query())?;
        let hints = self.hints.apply_to_query(&mut query)?;
        Ok(FlinkStatement::Query { query, hints })
    }

    fn parse_insert(&mut self) -> Result<FlinkStatement> {
        let mut statement = self.sp(|p| p.parse_statement())?;
        if !matches!(statement, Statement::Insert(_)) {
            return Err(SluiceError::plan("expected an INSERT statement"));
        }
        let hints = self.hints.apply_to_statement(&mut statement)?;
        Ok(FlinkStatement::Insert {
            statement: Box::new(statement),
            hints,
        })
    }

    fn parse_drop(&mut self) -> Result<FlinkStatement> {
        self.expect_word("DROP")?;
        let _temporary = self.accept("TEMPORARY");
        let kind = self.peek();
        if self.accept("TABLE") {
            let if_exists = self.accept_all(&["IF", "EXISTS"]);
            let name = self.object_name()?;
            Ok(FlinkStatement::DropTable { name, if_exists })
        } else if self.accept("VIEW") {
            let if_exists = self.accept_all(&["IF", "EXISTS"]);
            let name = self.object_name()?;
            Ok(FlinkStatement::DropView { name, if_exists })
        } else if self.accept("FUNCTION") || self.accept_all(&["SYSTEM", "FUNCTION"]) {
            let if_exists = self.accept_all(&["IF", "EXISTS"]);
            let name = self.object_name()?;
            Ok(FlinkStatement::DropFunction { name, if_exists })
        } else {
            Err(expected("TABLE, VIEW or FUNCTION", &kind))
        }
    }

    fn parse_set(&mut self) -> Result<FlinkStatement> {
        self.expect_word("SET")?;
        match self.peek().token {
            Token::SemiColon | Token::EOF => {
                return Ok(FlinkStatement::Set {
                    key: None,
                    value: None,
                });
            }
            _ => {}
        }
        let key = self.option_text("an option key such as 'parallelism.default'")?;
        if !self.parser.consume_token(&Token::Eq) {
            let t = self.peek();
            return Err(expected("'='", &t));
        }
        let value = self.option_text("a value")?;
        Ok(FlinkStatement::Set {
            key: Some(key),
            value: Some(value),
        })
    }

    fn parse_reset(&mut self) -> Result<FlinkStatement> {
        self.expect_word("RESET")?;
        match self.peek().token {
            Token::SemiColon | Token::EOF => Ok(FlinkStatement::Reset(None)),
            _ => Ok(FlinkStatement::Reset(Some(
                self.option_text("an option key")?,
            ))),
        }
    }

    /// A SET key or value: a quoted string, or a bare word/number as Flink's
    /// client also accepts.
    pub(super) fn option_text(&mut self, what: &str) -> Result<String> {
        let t = self.peek();
        match &t.token {
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => {
                let s = s.clone();
                self.parser.next_token();
                Ok(s)
            }
            Token::Number(n, _) => {
                let n = n.clone();
                self.parser.next_token();
                Ok(n)
            }
            Token::Word(w) => {
                // Dotted bare keys: table.exec.x
                let mut s = w.value.clone();
                self.parser.next_token();
                while self.parser.consume_token(&Token::Period) {
                    match self.parser.next_token().token {
                        Token::Word(w) => {
                            s.push('.');
                            s.push_str(&w.value);
                        }
                        _ => return Err(expected(what, &t)),
                    }
                }
                Ok(s)
            }
            _ => Err(expected(what, &t)),
        }
    }

    fn parse_show(&mut self) -> Result<FlinkStatement> {
        self.expect_word("SHOW")?;
        let t = self.peek();
        let kind = if self.accept("TABLES") {
            ShowKind::Tables
        } else if self.accept("VIEWS") {
            ShowKind::Views
        } else if self.accept("FUNCTIONS") {
            ShowKind::Functions { user_only: false }
        } else if self.accept_all(&["USER", "FUNCTIONS"]) {
            ShowKind::Functions { user_only: true }
        } else if self.accept("JOBS") {
            ShowKind::Jobs
        } else if self.accept_all(&["CREATE", "TABLE"]) {
            ShowKind::CreateTable(self.object_name()?)
        } else if self.accept_all(&["CREATE", "VIEW"]) {
            ShowKind::CreateView(self.object_name()?)
        } else if self.accept("CATALOGS") {
            ShowKind::Catalogs
        } else if self.accept("DATABASES") {
            ShowKind::Databases
        } else if self.accept_all(&["CURRENT", "CATALOG"]) {
            ShowKind::CurrentCatalog
        } else if self.accept_all(&["CURRENT", "DATABASE"]) {
            ShowKind::CurrentDatabase
        } else {
            return Err(expected(
                "TABLES, VIEWS, FUNCTIONS, JOBS, CREATE TABLE or CREATE VIEW",
                &t,
            ));
        };
        Ok(FlinkStatement::Show(kind))
    }

    fn parse_describe(&mut self) -> Result<FlinkStatement> {
        if !self.accept("DESCRIBE") {
            self.expect_word("DESC")?;
        }
        if self.word_at(0).as_deref() == Some("JOB")
            && matches!(self.peek_nth(1).token, Token::SingleQuotedString(_))
        {
            self.parser.next_token();
            let id = self.string_literal("a job id")?;
            return Ok(FlinkStatement::DescribeJob(id));
        }
        if self.accept("FUNCTION") {
            let extended = self.accept("EXTENDED");
            let name = self.object_name()?;
            return Ok(FlinkStatement::DescribeFunction { name, extended });
        }
        Ok(FlinkStatement::Describe(self.object_name()?))
    }

    fn parse_explain(&mut self) -> Result<FlinkStatement> {
        self.expect_word("EXPLAIN")?;
        self.accept_all(&["PLAN", "FOR"]);
        // Flink's explain details change what is printed, not what is planned;
        // Sluice always prints changelog modes.
        const DETAILS: [&str; 4] = [
            "ESTIMATED_COST",
            "CHANGELOG_MODE",
            "JSON_EXECUTION_PLAN",
            "PLAN_ADVICE",
        ];
        while self
            .word_at(0)
            .is_some_and(|w| DETAILS.contains(&w.as_str()))
        {
            self.parser.next_token();
            let _ = self.parser.consume_token(&Token::Comma);
        }
        let inner = self.parse_statement()?;
        match inner {
            FlinkStatement::Query { .. }
            | FlinkStatement::Insert { .. }
            | FlinkStatement::StatementSet(_) => Ok(FlinkStatement::Explain(Box::new(inner))),
            _ => Err(SluiceError::plan(
                "EXPLAIN supports a query, an INSERT or a statement set",
            )),
        }
    }

    fn parse_statement_set(&mut self) -> Result<FlinkStatement> {
        // EXECUTE STATEMENT SET BEGIN ..; END  or  BEGIN STATEMENT SET; ..; END
        if self.accept("EXECUTE") {
            self.expect_word("STATEMENT")?;
            self.expect_word("SET")?;
            self.expect_word("BEGIN")?;
        } else {
            self.expect_word("BEGIN")?;
            self.expect_word("STATEMENT")?;
            self.expect_word("SET")?;
            let _ = self.parser.consume_token(&Token::SemiColon);
        }
        let mut inserts = Vec::new();
        loop {
            while self.parser.consume_token(&Token::SemiColon) {}
            if self.accept("END") {
                break;
            }
            let t = self.peek();
            if t.token == Token::EOF {
                return Err(expected("'END'", &t));
            }
            if self.word_at(0).as_deref() != Some("INSERT") {
                return Err(error_at(
                    &t,
                    "only INSERT statements are allowed in a statement set",
                ));
            }
            inserts.push(self.parse_insert()?);
            let t = self.peek();
            if t.token != Token::SemiColon {
                return Err(expected("';'", &t));
            }
        }
        if inserts.is_empty() {
            return Err(SluiceError::plan(
                "a statement set needs at least one INSERT",
            ));
        }
        Ok(FlinkStatement::StatementSet(inserts))
    }

    fn parse_stop_job(&mut self) -> Result<FlinkStatement> {
        self.expect_word("STOP")?;
        self.expect_word("JOB")?;
        let id = self.string_literal("a job id in quotes")?;
        let mut with_savepoint = false;
        while self.accept("WITH") {
            if self.accept("SAVEPOINT") {
                with_savepoint = true;
            } else {
                self.expect_word("DRAIN")?;
            }
        }
        Ok(FlinkStatement::StopJob { id, with_savepoint })
    }
}
