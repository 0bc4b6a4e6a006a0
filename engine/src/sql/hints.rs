//! Flink's dynamic table options, `t /*+ OPTIONS('k'='v') */`.
//!
//! The tokenizer keeps the hint as a comment. Before parsing we note which
//! table-name token each hint follows; after parsing we find those table
//! references in the AST and rename each to a unique name (keeping the
//! original as its alias), so the planner can give that one reference its own
//! options without the AST needing a place for hints.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Ident, ObjectName, ObjectNamePart, Query, Statement, TableAlias, TableFactor, VisitMut,
    VisitorMut,
};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Whitespace};

use super::ast::TableHint;
use super::dialect::FlinkDialect;
use super::error::position;
use crate::error::{Position, Result, SluiceError};

#[derive(Debug)]
struct PendingHint {
    options: Vec<(String, String)>,
    position: Position,
    used: bool,
}

/// Hints found in the token stream, keyed by the position of the table-name
/// token they follow.
#[derive(Debug, Default)]
pub(super) struct HintCollector {
    pending: BTreeMap<(u64, u64), PendingHint>,
    counter: usize,
}

/// Finds every `/*+ OPTIONS(..) */` comment that follows a table name.
pub(super) fn extract_hints(tokens: &[TokenWithSpan]) -> Result<HintCollector> {
    let mut out = HintCollector::default();
    for (i, t) in tokens.iter().enumerate() {
        let Token::Whitespace(Whitespace::MultiLineComment(body)) = &t.token else {
            continue;
        };
        let Some(body) = body.strip_prefix('+') else {
            continue;
        };
        let prev = tokens[..i]
            .iter()
            .rev()
            .find(|t| !matches!(t.token, Token::Whitespace(_)));
        let Some(TokenWithSpan {
            token: Token::Word(w),
            span,
        }) = prev
        else {
            return Err(SluiceError::Parse {
                position: position(t.span.start),
                message: "an OPTIONS hint must directly follow a table name".into(),
            });
        };
        if w.keyword == Keyword::SELECT {
            // A query hint (`SELECT /*+ BROADCAST(t) */`): planner advice
            // Sluice does not need.
            continue;
        }
        let pos = position(t.span.start);
        let options = parse_options_hint(body, pos)?;
        out.pending.insert(
            (span.start.line, span.start.column),
            PendingHint {
                options,
                position: pos,
                used: false,
            },
        );
    }
    Ok(out)
}

fn parse_options_hint(body: &str, pos: Position) -> Result<Vec<(String, String)>> {
    let err = |m: &str| SluiceError::Parse {
        position: pos,
        message: format!("table hint: {m}"),
    };
    let tokens = Tokenizer::new(&FlinkDialect, body)
        .tokenize()
        .map_err(|e| err(&e.message))?;
    let mut it = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .peekable();
    match it.next() {
        Some(Token::Word(w)) if w.value.eq_ignore_ascii_case("OPTIONS") => {}
        Some(Token::Word(w)) => {
            return Err(SluiceError::not_supported(format!(
                "table hint '{}' at {pos} (only OPTIONS is supported)",
                w.value
            )));
        }
        _ => return Err(err("expected OPTIONS('key' = 'value', ..)")),
    }
    if it.next() != Some(Token::LParen) {
        return Err(err("expected '(' after OPTIONS"));
    }
    let mut options = Vec::new();
    loop {
        let key = match it.next() {
            Some(Token::SingleQuotedString(k)) => k,
            Some(Token::RParen) if options.is_empty() => break,
            _ => return Err(err("expected an option key in quotes")),
        };
        if it.next() != Some(Token::Eq) {
            return Err(err("expected '=' after the option key"));
        }
        let value = match it.next() {
            Some(Token::SingleQuotedString(v)) => v,
            _ => return Err(err("expected an option value in quotes")),
        };
        options.push((key, value));
        match it.next() {
            Some(Token::Comma) => continue,
            Some(Token::RParen) => break,
            _ => return Err(err("expected ',' or ')'")),
        }
    }
    Ok(options)
}

impl HintCollector {
    /// Renames the hinted table references in a query.
    pub(super) fn apply_to_query(&mut self, query: &mut Query) -> Result<Vec<TableHint>> {
        self.apply(|v| {
            let _ = query.visit(v);
        })
    }

    /// Renames the hinted table references in a statement.
    pub(super) fn apply_to_statement(&mut self, stmt: &mut Statement) -> Result<Vec<TableHint>> {
        self.apply(|v| {
            let _ = stmt.visit(v);
        })
    }

    fn apply(&mut self, f: impl FnOnce(&mut Renamer)) -> Result<Vec<TableHint>> {
        if self.pending.is_empty() {
            return Ok(Vec::new());
        }
        let mut r = Renamer {
            collector: self,
            found: Vec::new(),
        };
        f(&mut r);
        Ok(r.found)
    }

    /// Every hint must have attached to a table reference.
    pub(super) fn check_all_used(&self) -> Result<()> {
        match self.pending.values().find(|h| !h.used) {
            None => Ok(()),
            Some(h) => Err(SluiceError::Parse {
                position: h.position,
                message: "an OPTIONS hint must directly follow a table name".into(),
            }),
        }
    }
}

struct Renamer<'a> {
    collector: &'a mut HintCollector,
    found: Vec<TableHint>,
}

impl VisitorMut for Renamer<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name, alias, args, ..
        } = tf
        else {
            return ControlFlow::Continue(());
        };
        if args.is_some() {
            return ControlFlow::Continue(());
        }
        let Some(ObjectNamePart::Identifier(last)) = name.0.last().cloned() else {
            return ControlFlow::Continue(());
        };
        let key = (last.span.start.line, last.span.start.column);
        let Some(hint) = self.collector.pending.get_mut(&key) else {
            return ControlFlow::Continue(());
        };
        hint.used = true;
        self.collector.counter += 1;
        let alias_name = format!("{}$hint{}", last.value, self.collector.counter);
        if alias.is_none() {
            *alias = Some(TableAlias {
                explicit: false,
                name: Ident::new(last.value.clone()),
                columns: vec![],
                at: None,
            });
        }
        self.found.push(TableHint {
            alias_name: alias_name.clone(),
            table: name.clone(),
            options: hint.options.clone(),
            position: hint.position,
        });
        *name = ObjectName::from(vec![Ident::with_quote('`', alias_name)]);
        ControlFlow::Continue(())
    }
}
