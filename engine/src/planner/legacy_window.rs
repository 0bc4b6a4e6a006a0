//! Flink's legacy group windows — `GROUP BY TUMBLE(ts, size)`,
//! `HOP(ts, slide, size)`, `SESSION(ts, gap)` with `TUMBLE_START(..)` & co in
//! the select list — are rewritten, on the SQL AST before planning, into the
//! equivalent window TVF: the FROM table becomes
//! `TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), size))`, the group window becomes
//! `window_start, window_end`, and the auxiliary functions become the
//! window columns. `*_ROWTIME` maps to `window_time`, which stays a time
//! attribute, so a second window can follow.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    Cte, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, Ident, Query, Select,
    SetExpr, TableFactor, VisitMut, VisitorMut, With, visit_expressions_mut,
};
use datafusion::sql::sqlparser::parser::Parser;

use crate::error::{Result, SluiceError};
use crate::sql::FlinkDialect;

/// Rewrites every legacy group window in `query`.
pub fn rewrite_group_windows(query: &mut Query) -> Result<()> {
    struct Rewriter(Option<SluiceError>);
    impl VisitorMut for Rewriter {
        type Break = ();
        fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
            let mut ctes = Vec::new();
            match rewrite_set_expr(&mut q.body, &mut ctes) {
                Ok(()) => {
                    if !ctes.is_empty() {
                        let with = q.with.get_or_insert_with(|| With {
                            with_token: AttachedToken::empty(),
                            recursive: false,
                            cte_tables: vec![],
                        });
                        with.cte_tables.extend(ctes);
                    }
                    ControlFlow::Continue(())
                }
                Err(e) => {
                    self.0 = Some(e);
                    ControlFlow::Break(())
                }
            }
        }
    }
    let mut r = Rewriter(None);
    let _ = query.visit(&mut r);
    r.0.map_or(Ok(()), Err)
}

fn rewrite_set_expr(body: &mut SetExpr, ctes: &mut Vec<Cte>) -> Result<()> {
    match body {
        SetExpr::Select(s) => rewrite_select(s, ctes),
        SetExpr::SetOperation { left, right, .. } => {
            rewrite_set_expr(left, ctes)?;
            rewrite_set_expr(right, ctes)
        }
        _ => Ok(()),
    }
}

/// The function name of `e` in upper case, with its arguments.
fn call(e: &Expr) -> Option<(String, Vec<Expr>)> {
    let Expr::Function(f) = e else { return None };
    let FunctionArguments::List(l) = &f.args else {
        return None;
    };
    let args = l
        .args
        .iter()
        .filter_map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect();
    Some((f.name.to_string().to_ascii_uppercase(), args))
}

/// The unqualified column name of a column reference.
fn column_name(e: &Expr) -> Option<Ident> {
    match e {
        Expr::Identifier(i) => Some(i.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().cloned(),
        _ => None,
    }
}

fn rewrite_select(s: &mut Select, ctes: &mut Vec<Cte>) -> Result<()> {
    let GroupByExpr::Expressions(exprs, _) = &mut s.group_by else {
        return Ok(());
    };
    let windows: Vec<usize> = exprs
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            call(e).is_some_and(|(n, _)| matches!(n.as_str(), "TUMBLE" | "HOP" | "SESSION"))
        })
        .map(|(i, _)| i)
        .collect();
    let Some(&wi) = windows.first() else {
        return Ok(());
    };
    if windows.len() > 1 {
        return Err(SluiceError::plan(
            "a GROUP BY can have only one group window",
        ));
    }
    let (kind, args) = call(&exprs[wi]).expect("filtered above");
    let expected = if kind == "HOP" { 3 } else { 2 };
    if args.len() != expected && args.len() != expected + 1 {
        return Err(SluiceError::plan(format!(
            "group window {kind} takes a time attribute and {} interval(s), found: {}",
            expected - 1,
            exprs[wi]
        )));
    }
    let time = column_name(&args[0]).ok_or_else(|| {
        SluiceError::plan(format!(
            "{kind}: the first argument must be a time attribute column"
        ))
    })?;
    let keys: Vec<&Expr> = exprs
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != wi)
        .map(|(_, e)| e)
        .collect();
    let partition = if kind == "SESSION" && !keys.is_empty() {
        let names = keys
            .iter()
            .map(|k| {
                column_name(k).map(|i| i.to_string()).ok_or_else(|| {
                    SluiceError::not_supported(format!(
                        "a SESSION group window with a computed key ({k}); group by columns"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        format!(" PARTITION BY ({})", names.join(", "))
    } else {
        String::new()
    };
    if s.from.len() != 1 || !s.from[0].joins.is_empty() {
        return Err(SluiceError::not_supported(
            "a legacy group window over a join or several tables; use a window TVF",
        ));
    }
    let internal = |e: datafusion::sql::sqlparser::parser::ParserError| {
        SluiceError::plan(format!("rewriting group window {kind}: {e}"))
    };
    let (name, alias) = match &s.from[0].relation {
        TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } => (name.to_string(), alias.clone()),
        // A sub-query becomes a CTE the window TVF can name.
        TableFactor::Derived {
            subquery, alias, ..
        } => {
            let cte_name = format!("__sluice_window_input_{}", ctes.len() + 1);
            let sql = format!("WITH {cte_name} AS ({subquery}) SELECT 1");
            let q = Parser::new(&FlinkDialect)
                .try_with_sql(&sql)
                .and_then(|mut p| p.parse_query())
                .map_err(internal)?;
            if let Some(w) = q.with {
                ctes.extend(w.cte_tables);
            }
            (cte_name, alias.clone())
        }
        _ => {
            return Err(SluiceError::not_supported(
                "a legacy group window over this kind of FROM; use a window TVF",
            ));
        }
    };
    let intervals: Vec<String> = args[1..].iter().map(|a| a.to_string()).collect();
    let alias = alias
        .as_ref()
        .map(|a| format!(" AS {}", a.name))
        .unwrap_or_default();
    // Built from AST nodes' own SQL rendering and parsed back, so quoting
    // and positions stay sqlparser's.
    let tvf = format!(
        "TABLE({kind}(TABLE {name}{partition}, DESCRIPTOR({time}), {})){alias}",
        intervals.join(", ")
    );
    let mut parser = Parser::new(&FlinkDialect)
        .try_with_sql(&tvf)
        .map_err(internal)?;
    s.from[0].relation = parser.parse_table_factor().map_err(internal)?;
    exprs.splice(
        wi..=wi,
        [
            Expr::Identifier(Ident::new("window_start")),
            Expr::Identifier(Ident::new("window_end")),
            // Functionally dependent on the two above; grouping on it lets
            // `*_ROWTIME` be selected.
            Expr::Identifier(Ident::new("window_time")),
        ],
    );
    let aux = |e: &mut Expr| {
        if let Some((n, _)) = call(e) {
            let suffix = ["TUMBLE_", "HOP_", "SESSION_"]
                .iter()
                .find_map(|p| n.strip_prefix(p));
            let col = match suffix {
                Some("START") => Some("window_start"),
                Some("END") => Some("window_end"),
                Some("ROWTIME") | Some("PROCTIME") => Some("window_time"),
                _ => None,
            };
            if let Some(c) = col {
                *e = Expr::Identifier(Ident::new(c));
            }
        }
        ControlFlow::<()>::Continue(())
    };
    let _ = visit_expressions_mut(&mut s.projection, aux);
    let _ = visit_expressions_mut(&mut s.having, aux);
    Ok(())
}
