//! The sqlparser dialect for Flink SQL.

use datafusion::sql::sqlparser::dialect::Dialect;

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
}
