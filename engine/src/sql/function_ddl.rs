//! `CREATE FUNCTION`'s body, in Flink's grammar with Sluice's resource:
//! `[IF NOT EXISTS] name AS 'symbol' [LANGUAGE l] [USING LIBRARY 'path' |
//! USING JAR 'path' [, JAR 'path']*]`.

use datafusion::sql::sqlparser::tokenizer::Token;

use super::ast::{CreateFunction, FunctionResource};
use super::error::expected;
use super::parser::FlinkParser;
use crate::error::{Position, Result};

impl FlinkParser<'_> {
    /// Parses what follows `CREATE [TEMPORARY] [SYSTEM] FUNCTION`.
    pub(super) fn parse_create_function(
        &mut self,
        temporary: bool,
        system: bool,
        at: Position,
    ) -> Result<CreateFunction> {
        let if_not_exists = self.accept_all(&["IF", "NOT", "EXISTS"]);
        let name = self.object_name()?;
        self.expect_word("AS")?;
        let symbol = self.string_literal("the function's symbol as a string ('name')")?;
        let language = if self.accept("LANGUAGE") {
            let t = self.peek();
            match self.word_at(0) {
                Some(l) => {
                    self.parser.next_token();
                    Some(l)
                }
                None => return Err(expected("a language such as RUST", &t)),
            }
        } else {
            None
        };
        let using = if self.accept("USING") {
            let t = self.peek();
            if self.accept("LIBRARY") {
                Some(FunctionResource::Library(
                    self.string_literal("the library's path as a string")?,
                ))
            } else if self.accept("JAR") {
                let jar = self.string_literal("the jar's path as a string")?;
                while self.parser.consume_token(&Token::Comma) {
                    self.expect_word("JAR")?;
                    self.string_literal("the jar's path as a string")?;
                }
                Some(FunctionResource::Jar(jar))
            } else {
                return Err(expected("LIBRARY or JAR", &t));
            }
        } else {
            None
        };
        Ok(CreateFunction {
            name,
            temporary,
            system,
            if_not_exists,
            symbol,
            language,
            using,
            position: at,
        })
    }
}
