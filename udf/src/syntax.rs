//! Flink's function-call syntax that DataFusion's SQL planner rejects,
//! rewritten on the parsed statement into plain calls of Sluice's
//! built-ins. The engine runs [`rewrite_query`] (and [`rewrite_expr`] for
//! computed columns) before planning, and [`strip_json_key_keyword`] on the
//! tokens before parsing.
//!
//! | Flink | planned as |
//! |---|---|
//! | `FLOOR(t TO DAY)` / `CEIL(t TO DAY)` | `floor_to(t, 'DAY')` / `ceil_to(t, 'DAY')` |
//! | `MOD(a, b)` | `(a % b)` |
//! | `TIMESTAMPADD(HOUR, n, t)` | `timestampadd('HOUR', n, t)` |
//! | `TIMESTAMPDIFF(DAY, t1, t2)` | `timestampdiff('DAY', t1, t2)` |
//! | `JSON_VALUE(s, p RETURNING INT)` | `TRY_CAST(json_value(s, p) AS INT)` |
//! | `JSON_OBJECT(KEY 'k' VALUE v ABSENT ON NULL)` | `json_object_absent_on_null('k', v)` |
//! | `JSON_ARRAY(v NULL ON NULL)` | `json_array_null_on_null(v)` |

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, CastKind, CeilFloorKind, DateTimeField, Expr, Function, FunctionArg,
    FunctionArgExpr, FunctionArgOperator, FunctionArgumentClause, FunctionArguments, Ident,
    JsonNullClause, ObjectName, ObjectNamePart, Query, Value, visit_expressions_mut,
};
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::builtins::datetime::{CEIL_TO, FLOOR_TO};
use crate::builtins::json::{JSON_ARRAY_NULL_ON_NULL, JSON_OBJECT_ABSENT_ON_NULL};

/// Rewrites every Flink-only call form in `query` (see the module docs).
pub fn rewrite_query(query: &mut Query) {
    let _ = visit_expressions_mut(query, rewrite_one);
}

/// Rewrites the Flink-only call forms in one expression.
pub fn rewrite_expr(expr: &mut Expr) {
    let _ = visit_expressions_mut(expr, rewrite_one);
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(datafusion::sql::sqlparser::ast::FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

fn string(s: impl Into<String>) -> Expr {
    Expr::Value(Value::SingleQuotedString(s.into()).into())
}

fn unit_text(field: &DateTimeField) -> String {
    field.to_string().to_ascii_uppercase()
}

fn take(e: &mut Expr) -> Expr {
    std::mem::replace(e, string(""))
}

fn rewrite_one(expr: &mut Expr) -> ControlFlow<()> {
    let replacement = match expr {
        Expr::Floor {
            expr: inner,
            field: CeilFloorKind::DateTimeField(f),
        } if *f != DateTimeField::NoDateTime => {
            Some(call(FLOOR_TO, vec![take(inner), string(unit_text(f))]))
        }
        Expr::Ceil {
            expr: inner,
            field: CeilFloorKind::DateTimeField(f),
        } if *f != DateTimeField::NoDateTime => {
            Some(call(CEIL_TO, vec![take(inner), string(unit_text(f))]))
        }
        Expr::Function(f) => rewrite_function(f),
        _ => None,
    };
    if let Some(r) = replacement {
        *expr = r;
    }
    ControlFlow::Continue(())
}

fn function_name(f: &Function) -> Option<String> {
    match f.name.0.as_slice() {
        [ObjectNamePart::Identifier(i)] if i.quote_style.is_none() => {
            Some(i.value.to_ascii_lowercase())
        }
        _ => None,
    }
}

fn rewrite_function(f: &mut Function) -> Option<Expr> {
    let name = function_name(f)?;
    let FunctionArguments::List(list) = &mut f.args else {
        return None;
    };
    match name.as_str() {
        "mod" => {
            // Flink's MOD(a, b) is the remainder with the dividend's sign,
            // which is exactly `%`.
            let [
                FunctionArg::Unnamed(FunctionArgExpr::Expr(a)),
                FunctionArg::Unnamed(FunctionArgExpr::Expr(b)),
            ] = list.args.as_mut_slice()
            else {
                return None;
            };
            Some(Expr::Nested(Box::new(Expr::BinaryOp {
                left: Box::new(take(a)),
                op: BinaryOperator::Modulo,
                right: Box::new(take(b)),
            })))
        }
        "timestampadd" | "timestampdiff" => {
            // The unit is a keyword: make it the string the function takes.
            if let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(first))) = list.args.first_mut()
                && let Expr::Identifier(unit) = first
                && unit.quote_style.is_none()
            {
                *first = string(unit.value.to_ascii_uppercase());
            }
            None
        }
        "json_value" => {
            let returning = list
                .clauses
                .iter()
                .position(|c| matches!(c, FunctionArgumentClause::JsonReturningClause(_)));
            let pos = returning?;
            let FunctionArgumentClause::JsonReturningClause(r) = list.clauses.remove(pos) else {
                return None;
            };
            Some(Expr::Cast {
                kind: CastKind::TryCast,
                expr: Box::new(Expr::Function(f.clone())),
                data_type: r.data_type,
                array: false,
                format: None,
            })
        }
        "json_object" | "json_array" => {
            let null_clause = list
                .clauses
                .iter()
                .position(|c| matches!(c, FunctionArgumentClause::JsonNullClause(_)));
            let on_null = null_clause.map(|pos| list.clauses.remove(pos));
            let mut args = Vec::with_capacity(list.args.len() * 2);
            for a in std::mem::take(&mut list.args) {
                match a {
                    // `'key' VALUE v` (KEY itself is dropped by the tokenizer
                    // pass): a quoted name is the key text, a bare one a column.
                    FunctionArg::Named {
                        name,
                        arg: FunctionArgExpr::Expr(v),
                        operator: FunctionArgOperator::Value,
                    } => {
                        let key = if name.quote_style == Some('\'') {
                            string(name.value)
                        } else {
                            Expr::Identifier(name)
                        };
                        args.push(FunctionArg::Unnamed(FunctionArgExpr::Expr(key)));
                        args.push(FunctionArg::Unnamed(FunctionArgExpr::Expr(v)));
                    }
                    FunctionArg::ExprNamed {
                        name,
                        arg: FunctionArgExpr::Expr(v),
                        operator: FunctionArgOperator::Value,
                    } => {
                        args.push(FunctionArg::Unnamed(FunctionArgExpr::Expr(name)));
                        args.push(FunctionArg::Unnamed(FunctionArgExpr::Expr(v)));
                    }
                    other => args.push(other),
                }
            }
            list.args = args;
            let object = name == "json_object";
            let absent = match on_null {
                Some(FunctionArgumentClause::JsonNullClause(JsonNullClause::AbsentOnNull)) => true,
                Some(_) => false,
                None => !object,
            };
            let target = match (object, absent) {
                (true, false) => "json_object",
                (true, true) => JSON_OBJECT_ABSENT_ON_NULL,
                (false, true) => "json_array",
                (false, false) => JSON_ARRAY_NULL_ON_NULL,
            };
            f.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(target))]);
            None
        }
        _ => None,
    }
}

/// Drops Flink's optional `KEY` keyword in front of each key of a
/// `JSON_OBJECT(KEY k VALUE v, ...)` call, leaving `k VALUE v`, which the
/// parser reads as a named argument.
pub fn strip_json_key_keyword(tokens: &mut Vec<TokenWithSpan>) {
    let is_ws = |t: &Token| matches!(t, Token::Whitespace(_));
    let word = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w));
    // Depths (parenthesis nesting) at which a JSON_OBJECT argument list is open.
    let mut open: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut prev: Option<Token> = None;
    let mut pending_json = false;
    let mut keep = Vec::with_capacity(tokens.len());
    for t in tokens.drain(..) {
        let mut drop = false;
        match &t.token {
            Token::LParen => {
                depth += 1;
                if pending_json {
                    open.push(depth);
                }
                pending_json = false;
            }
            Token::RParen => {
                if open.last() == Some(&depth) {
                    open.pop();
                }
                depth = depth.saturating_sub(1);
            }
            tok if is_ws(tok) => {}
            tok => {
                pending_json = word(tok, "JSON_OBJECT");
                if word(tok, "KEY")
                    && open.last() == Some(&depth)
                    && matches!(prev, Some(Token::LParen) | Some(Token::Comma))
                {
                    drop = true;
                }
            }
        }
        if !is_ws(&t.token) {
            prev = Some(t.token.clone());
        }
        if !drop {
            keep.push(t);
        }
    }
    *tokens = keep;
}
