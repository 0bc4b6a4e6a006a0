//! The sqlparser dialect for Flink SQL.

use datafusion::sql::sqlparser::ast::{Expr, Ident, ObjectNamePart};
use datafusion::sql::sqlparser::dialect::Dialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

/// The prefix that marks a table argument (`TABLE t`) of a window TVF.
pub const TABLE_ARG: &str = "TABLE";

/// Parses a table argument, `TABLE t [PARTITION BY k | (k1, k2)]`, into
/// `Prefixed { TABLE, (name, (keys..)) }` for the window TVF planner.
fn parse_table_arg(parser: &mut Parser) -> Result<Expr, ParserError> {
    parser.expect_keyword(Keyword::TABLE)?;
    let name = parser.parse_object_name(false)?;
    let parts: Vec<Ident> = name
        .0
        .into_iter()
        .filter_map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i),
            _ => None,
        })
        .collect();
    let mut keys = Vec::new();
    if parser.parse_keywords(&[Keyword::PARTITION, Keyword::BY]) {
        if parser.consume_token(&Token::LParen) {
            keys = parser.parse_comma_separated(|p| p.parse_identifier())?;
            parser.expect_token(&Token::RParen)?;
        } else {
            keys.push(parser.parse_identifier()?);
        }
    }
    Ok(Expr::Prefixed {
        prefix: Ident::new(TABLE_ARG),
        value: Box::new(Expr::Tuple(vec![
            Expr::CompoundIdentifier(parts),
            Expr::Tuple(keys.into_iter().map(Expr::Identifier).collect()),
        ])),
    })
}

/// Flink SQL as sqlparser sees it: backtick-quoted identifiers, `FILTER
/// (WHERE ..)` on aggregates, `GROUPING SETS`, `MATCH_RECOGNIZE`.
///
/// Optimizer-hint comments (`/*+ .. */`) are deliberately left as comments:
/// the wrapper parser reads Flink's table hints out of them itself.
#[derive(Debug, Default, Clone, Copy)]
pub struct FlinkDialect;

impl Dialect for FlinkDialect {
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '`' || ch == '"'
    }

    fn identifier_quote_style(&self, _identifier: &str) -> Option<char> {
        Some('`')
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        ch.is_alphabetic() || ch == '_' || ch == '$'
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        ch.is_alphanumeric() || ch == '_' || ch == '$'
    }

    /// `FOR SYSTEM_TIME AS OF` (temporal and lookup joins).
    fn supports_table_versioning(&self) -> bool {
        true
    }

    fn supports_filter_during_aggregation(&self) -> bool {
        true
    }

    fn supports_group_by_expr(&self) -> bool {
        true
    }

    fn supports_match_recognize(&self) -> bool {
        true
    }

    fn supports_window_clause_named_window_reference(&self) -> bool {
        true
    }

    fn supports_parens_around_table_factor(&self) -> bool {
        true
    }

    fn supports_values_as_table_factor(&self) -> bool {
        true
    }

    fn supports_nested_comments(&self) -> bool {
        true
    }

    fn supports_string_escape_constant(&self) -> bool {
        false
    }

    fn supports_struct_literal(&self) -> bool {
        false
    }

    /// `TABLE t` as a function argument (window TVFs).
    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        let is_table_arg = matches!(
            (parser.peek_token().token, parser.peek_nth_token(1).token),
            (Token::Word(w), Token::Word(_)) if w.keyword == Keyword::TABLE
        );
        is_table_arg.then(|| parse_table_arg(parser))
    }
}
