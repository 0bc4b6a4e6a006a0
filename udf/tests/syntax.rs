//! Flink's call syntax (`FLOOR(t TO DAY)`, `TIMESTAMPADD(HOUR, ..)`,
//! `JSON_VALUE(.. RETURNING INT)`, `JSON_OBJECT(KEY k VALUE v)`, `ON NULL`
//! clauses) parsed, rewritten by `sluice_udf::syntax` and run on DataFusion
//! with Sluice's built-ins.

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::dialect::{Dialect, GenericDialect};
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Tokenizer;

/// The parts of Sluice's Flink dialect that matter to function calls.
#[derive(Debug)]
struct Flinkish;

impl Dialect for Flinkish {
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '`'
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        ch.is_alphabetic() || ch == '_'
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        ch.is_alphanumeric() || ch == '_'
    }
}

fn parse(dialect: &dyn Dialect, sql: &str) -> Statement {
    let mut tokens = Tokenizer::new(dialect, sql)
        .tokenize_with_location()
        .expect("tokenizes");
    sluice_udf::syntax::strip_json_key_keyword(&mut tokens);
    let mut stmt = Parser::new(dialect)
        .with_tokens_with_locations(tokens)
        .parse_statement()
        .expect("parses");
    if let Statement::Query(q) = &mut stmt {
        sluice_udf::syntax::rewrite_query(q);
    }
    stmt
}

async fn run_with(dialect: &dyn Dialect, sql: &str) -> String {
    let mut config = SessionConfig::new();
    config.options_mut().execution.time_zone = Some("+00:00".into());
    let state = sluice_udf::with_flink_builtins(
        SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .build(),
    );
    let ctx = SessionContext::new_with_state(state);
    let stmt = parse(dialect, sql);
    let plan = ctx
        .state()
        .statement_to_plan(DfStatement::Statement(Box::new(stmt)))
        .await
        .expect("plans");
    let batches = ctx
        .execute_logical_plan(plan)
        .await
        .expect("runs")
        .collect()
        .await
        .expect("collects");
    pretty_format_batches(&batches).expect("prints").to_string()
}

async fn run(sql: &str) -> String {
    let flink = run_with(&Flinkish, sql).await;
    assert_eq!(
        flink,
        run_with(&GenericDialect, sql).await,
        "dialects agree"
    );
    flink
}

fn cells(table: &str) -> Vec<String> {
    table
        .lines()
        .nth(3)
        .expect("one row")
        .split('|')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

#[tokio::test]
async fn floor_and_ceil_to_a_unit() {
    let out = run(
        "SELECT FLOOR(TIMESTAMP '2024-05-15 13:45:30' TO DAY) AS f, \
                   CEIL(TIMESTAMP '2024-05-15 13:45:30' TO HOUR) AS c, \
                   FLOOR(DATE '2024-05-15' TO MONTH) AS d, FLOOR(2.5) AS n",
    )
    .await;
    assert_eq!(
        cells(&out),
        [
            "2024-05-15T00:00:00",
            "2024-05-15T14:00:00",
            "2024-05-01",
            "2.0"
        ]
    );
}

#[tokio::test]
async fn timestampadd_and_timestampdiff_with_unit_keywords() {
    let out = run("SELECT TIMESTAMPADD(HOUR, 1, TIMESTAMP '2024-01-02 03:04:05') AS a, \
                   TIMESTAMPADD(MONTH, 1, DATE '2024-01-31') AS b, \
                   TIMESTAMPDIFF(DAY, TIMESTAMP '2003-01-02 10:00:00', TIMESTAMP '2003-01-03 10:00:00') AS c")
        .await;
    assert_eq!(cells(&out), ["2024-01-02T04:04:05", "2024-02-29", "1"]);
}

#[tokio::test]
async fn json_value_returning_a_type() {
    let out = run(
        "SELECT JSON_VALUE('{\"a\": 12}', '$.a' RETURNING INT) + 1 AS a, \
                   JSON_VALUE('{\"a\": \"x\"}', '$.a' RETURNING INT) AS b, \
                   JSON_VALUE('{\"a\": true}', '$.a' RETURNING BOOLEAN) AS c",
    )
    .await;
    assert_eq!(cells(&out), ["13", "true"]);
}

#[tokio::test]
async fn json_object_key_value_and_null_clauses() {
    let out = run("SELECT JSON_OBJECT(KEY 'K1' VALUE 'V1', KEY 'K0' VALUE 1) AS a, \
                   JSON_OBJECT('a' VALUE CAST(NULL AS VARCHAR)) AS b, \
                   JSON_OBJECT(KEY 'a' VALUE CAST(NULL AS VARCHAR), KEY 'b' VALUE 2 ABSENT ON NULL) AS c, \
                   JSON_ARRAY(1, CAST(NULL AS INT)) AS d, \
                   JSON_ARRAY(1, CAST(NULL AS INT) NULL ON NULL) AS e, \
                   JSON_OBJECT(KEY 'o' VALUE JSON_ARRAY(JSON_OBJECT(KEY 'x' VALUE TRUE))) AS f")
        .await;
    assert_eq!(
        cells(&out),
        [
            r#"{"K0":1,"K1":"V1"}"#,
            r#"{"a":null}"#,
            r#"{"b":2}"#,
            "[1]",
            "[1,null]",
            r#"{"o":[{"x":true}]}"#,
        ]
    );
}

#[test]
fn key_is_dropped_only_inside_json_object() {
    let stmt = parse(
        &Flinkish,
        "SELECT JSON_OBJECT(KEY 'k' VALUE f(`KEY`)) FROM t WHERE `KEY` = 1",
    );
    assert_eq!(
        stmt.to_string(),
        "SELECT json_object('k', f(`KEY`)) FROM t WHERE `KEY` = 1"
    );
}
