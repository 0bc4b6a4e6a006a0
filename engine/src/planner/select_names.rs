//! Flink's names for unnamed select items: an expression that is not a
//! column reference and has no `AS` is called `EXPR$<n>`, `n` its 0-based
//! position in the select list (Calcite's rule). DataFusion would name it
//! after its text, and names `CAST(n AS BIGINT)` like `n`, so
//! `SELECT CAST(n AS BIGINT), n` or `SELECT n + 1, n + 1` failed with
//! "duplicate name" where Flink runs them; and a result's columns, a
//! view's columns and the shell's headers now read as Flink's.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, Query, SelectItem, SetExpr, Value, VisitMut, VisitorMut,
};

/// Names every unnamed expression of every SELECT in `query`.
pub fn name_expressions(query: &mut Query) {
    struct Namer;
    impl VisitorMut for Namer {
        type Break = ();
        fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
            name_set_expr(&mut q.body);
            ControlFlow::Continue(())
        }
    }
    let _ = query.visit(&mut Namer);
}

fn name_set_expr(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => {
            for (n, item) in select.projection.iter_mut().enumerate() {
                let SelectItem::UnnamedExpr(e) = item else {
                    continue;
                };
                if is_column(e) {
                    continue;
                }
                let expr = std::mem::replace(e, Expr::Value(Value::Null.into()));
                *item = SelectItem::ExprWithAlias {
                    expr,
                    alias: Ident::with_quote('`', format!("EXPR${n}")),
                };
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            name_set_expr(left);
            name_set_expr(right);
        }
        // A nested query is visited on its own.
        _ => {}
    }
}

/// A column reference keeps its name (`a`, `t.a`, `row_col.field`).
fn is_column(e: &Expr) -> bool {
    match e {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => true,
        Expr::Nested(inner) => is_column(inner),
        _ => false,
    }
}
