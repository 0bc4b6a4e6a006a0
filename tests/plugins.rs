//! UDF plugins loaded at run time from SQL: the example crate `my-udfs`
//! (built by this test) through `CREATE FUNCTION .. USING LIBRARY`, all
//! three kinds in streaming jobs, the function statements, and the broken
//! `bad-udfs` fixture refused or failing its job with a clear message.

mod udf_support;

use sluice::{Sluice, StatementResult};
use udf_support::{LINES, error, plugin_library, rows};

fn library(package: &str) -> String {
    plugin_library(package).display().to_string()
}

/// A session with `lines` and the example plugin's three functions.
async fn session() -> Sluice {
    let s = Sluice::new();
    s.execute_sql(LINES).await.expect("lines");
    let lib = library("my-udfs");
    for f in [
        format!("CREATE FUNCTION count_char AS 'count_char' LANGUAGE RUST USING LIBRARY '{lib}'"),
        format!("CREATE TEMPORARY FUNCTION weighted_avg AS 'weighted_avg' USING LIBRARY '{lib}'"),
        format!("CREATE TEMPORARY SYSTEM FUNCTION split AS 'split' USING LIBRARY '{lib}'"),
    ] {
        s.execute_sql(&f)
            .await
            .unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    s.execute_sql(
        "CREATE VIEW words AS SELECT id, ts, word, len, count_char(word, 'o') AS o
         FROM lines, LATERAL TABLE(split(s, ' ')) AS T(word, len)",
    )
    .await
    .expect("words");
    s
}

/// What a statement printed, as `name | value` lines.
async fn table(s: &Sluice, sql: &str) -> Vec<String> {
    let mut r = s
        .execute_sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let Some(StatementResult::Rows { batches, .. }) = r.pop() else {
        panic!("{sql}: no rows");
    };
    let mut out = Vec::new();
    for b in batches {
        for row in 0..b.num_rows() {
            let cells: Vec<String> = (0..b.num_columns())
                .map(|c| sluice_engine::display::format_value(b.column(c).as_ref(), row))
                .collect();
            out.push(cells.join(" | "));
        }
    }
    out
}

async fn statement_error(s: &Sluice, sql: &str) -> String {
    match s.execute_sql(sql).await {
        Ok(_) => panic!("{sql} should fail"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scalar_table_and_aggregate_plugins_in_windowed_jobs() {
    let s = session().await;
    // One job: the table function splits, the scalar counts, the aggregate
    // runs per tumbling window.
    let got = rows(
        &s,
        "SELECT window_start, window_end, weighted_avg(id, len), SUM(o), COUNT(*)
         FROM TABLE(TUMBLE(TABLE words, DESCRIPTOR(ts), INTERVAL '10' SECOND))
         GROUP BY window_start, window_end",
    )
    .await;
    assert_eq!(
        got,
        vec![
            "2024-01-01 00:00:00.000 2024-01-01 00:00:10.000 1.1818181818181819 2 3",
            "2024-01-01 00:00:10.000 2024-01-01 00:00:20.000 4.0 0 3",
        ]
    );
    // HOP combines slide-sized panes: the plugin's `merge` runs.
    let got = rows(
        &s,
        "SELECT window_start, weighted_avg(id, len)
         FROM TABLE(HOP(TABLE words, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND))
         GROUP BY window_start, window_end",
    )
    .await;
    assert_eq!(
        got,
        vec![
            "2023-12-31 23:59:55.000 1.0",
            "2024-01-01 00:00:00.000 1.1818181818181819",
            "2024-01-01 00:00:05.000 3.75",
            "2024-01-01 00:00:10.000 4.0",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_aggregate_retracts_over_an_updating_input() {
    let s = session().await;
    // The inner GROUP BY (fed by the table function and filtered by the
    // scalar) updates each group's count; the outer one reads those
    // updates, so the plugin's `retract` runs on every -U/-D.
    let got = rows(
        &s,
        "SELECT c, weighted_avg(id, c) FROM (
           SELECT MAX(id) AS id, COUNT(*) AS c
           FROM lines, LATERAL TABLE(split(s, ' ')) AS T(word, len)
           WHERE count_char(word, 'q') = 0
           GROUP BY id / 3
         ) GROUP BY c",
    )
    .await;
    // Group 0 goes to 2 words (max id 1); group 1 to 4 words (max id 4),
    // passing through counts 1, 2 and 3: each step retracts the previous.
    assert_eq!(
        got,
        vec![
            "+I 1 1.0", "-D 1 1.0", "+I 2 1.0", "+I 1 3.0", "-D 1 3.0", "-U 2 1.0", "+U 2 2.5",
            "-U 2 2.5", "+U 2 1.0", "+I 3 4.0", "-D 3 4.0", "+I 4 4.0",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_statements() {
    let s = session().await;
    assert_eq!(
        table(&s, "SHOW USER FUNCTIONS").await,
        vec!["count_char", "split", "weighted_avg"]
    );
    let lib = plugin_library("my-udfs").canonicalize().expect("built");
    assert_eq!(
        table(&s, "DESCRIBE FUNCTION EXTENDED count_char").await,
        vec![
            "is system function | false".to_string(),
            "is temporary | false".to_string(),
            "class name | count_char".to_string(),
            "function language | RUST".to_string(),
            format!("resource uris | [{}]", lib.display()),
            "kind | SCALAR".to_string(),
            "is deterministic | true".to_string(),
            "signature | count_char(s STRING, c STRING) -> BIGINT".to_string(),
        ]
    );
    assert!(
        table(&s, "DESCRIBE FUNCTION EXTENDED split")
            .await
            .contains(
                &"signature | split(s STRING, sep STRING) -> ROW<word STRING, length INT>"
                    .to_string()
            )
    );
    assert_eq!(
        table(&s, "DESCRIBE FUNCTION upper").await,
        vec!["is system function | true", "is temporary | false"]
    );
    let e = statement_error(
        &s,
        &format!(
            "CREATE FUNCTION count_char AS 'count_char' USING LIBRARY '{}'",
            lib.display()
        ),
    )
    .await;
    assert!(e.contains("function 'count_char' already exists"), "{e}");
    s.execute_sql(&format!(
        "CREATE FUNCTION IF NOT EXISTS count_char AS 'count_char' USING LIBRARY '{}'",
        lib.display()
    ))
    .await
    .expect("IF NOT EXISTS");

    // A built-in's name needs SYSTEM, and DROP brings the built-in back.
    let e = statement_error(
        &s,
        &format!(
            "CREATE FUNCTION instr AS 'count_char' USING LIBRARY '{}'",
            lib.display()
        ),
    )
    .await;
    assert!(e.contains("'instr' is a built-in function"), "{e}");
    assert_eq!(rows(&s, "SELECT INSTR('banana', 'a')").await, vec!["2"]);
    s.execute_sql(&format!(
        "CREATE TEMPORARY SYSTEM FUNCTION instr AS 'count_char' USING LIBRARY '{}'",
        lib.display()
    ))
    .await
    .expect("shadow a built-in");
    assert_eq!(rows(&s, "SELECT INSTR('banana', 'a')").await, vec!["3"]);
    s.execute_sql("DROP TEMPORARY SYSTEM FUNCTION instr")
        .await
        .expect("drop");
    assert_eq!(rows(&s, "SELECT INSTR('banana', 'a')").await, vec!["2"]);

    s.execute_sql("DROP FUNCTION count_char")
        .await
        .expect("drop");
    s.execute_sql("DROP TEMPORARY FUNCTION split")
        .await
        .expect("drop");
    assert_eq!(table(&s, "SHOW USER FUNCTIONS").await, vec!["weighted_avg"]);
    let e = error(&s, "SELECT count_char(s, 'o') FROM lines").await;
    assert!(e.contains("count_char"), "{e}");
    let e = statement_error(&s, "DROP FUNCTION count_char").await;
    assert!(e.contains("function 'count_char' does not exist"), "{e}");
    s.execute_sql("DROP FUNCTION IF EXISTS count_char")
        .await
        .expect("IF EXISTS");
    let e = statement_error(&s, "DROP FUNCTION upper").await;
    assert!(e.contains("'upper' is a built-in function"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_dirs_find_libraries_by_name() {
    let s = Sluice::new();
    let lib = plugin_library("my-udfs");
    let dir = lib.parent().expect("a directory").display().to_string();
    let file = lib
        .file_name()
        .expect("a file")
        .to_string_lossy()
        .to_string();
    let e = statement_error(&s, "CREATE FUNCTION cc AS 'count_char'").await;
    assert!(
        e.contains("USING LIBRARY") && e.contains("sluice.udf.plugin-dirs"),
        "{e}"
    );
    let e = statement_error(
        &s,
        &format!("CREATE FUNCTION cc AS 'count_char' USING LIBRARY '{file}'"),
    )
    .await;
    assert!(
        e.contains(&format!("plugin library '{file}' not found")),
        "{e}"
    );
    s.execute_sql(&format!(
        "SET 'sluice.udf.plugin-dirs' = '/nonexistent;{dir}'"
    ))
    .await
    .expect("set");
    s.execute_sql(&format!(
        "CREATE FUNCTION cc AS 'count_char' USING LIBRARY '{file}'"
    ))
    .await
    .expect("a bare name is looked up in the plugin dirs");
    s.execute_sql("CREATE FUNCTION cc2 AS 'count_char'")
        .await
        .expect("without USING, the plugin dirs are searched");
    assert_eq!(
        rows(&s, "SELECT cc('banana', 'n'), cc2('aaa', 'a')").await,
        vec!["2 3"]
    );
    let e = statement_error(&s, "CREATE FUNCTION f AS 'no_such_function'").await;
    assert!(e.contains("exports 'no_such_function'"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_plugins_are_refused_with_clear_errors() {
    let s = Sluice::new();
    let good = library("my-udfs");
    let bad = library("bad-udfs");
    let create = |name: &str, symbol: &str, lib: &str| {
        format!("CREATE FUNCTION {name} AS '{symbol}' USING LIBRARY '{lib}'")
    };
    let cases = [
        (create("f", "nope", &good), "has no function 'nope'"),
        (
            create("f", "future_abi", &bad),
            "built for plugin ABI version 99, but this Sluice speaks version 1",
        ),
        (
            create("f", "wrong_kind", &bad),
            "has a wrong signature: its kind (3) does not match",
        ),
        (
            create("f", "no_columns", &bad),
            "has a wrong signature: a table function declares at least one column",
        ),
        (
            create("f", "null_descriptor", &bad),
            "its entry point returned no function",
        ),
        (
            create("f", "count_char", "/nonexistent/libx.so"),
            "plugin library '/nonexistent/libx.so' not found",
        ),
        (
            create("f", "count_char", "Cargo.toml"),
            "cannot load plugin library",
        ),
        (
            "CREATE FUNCTION f AS 'com.example.CountChar' USING JAR '/tmp/udfs.jar'".to_string(),
            "not supported yet: CREATE FUNCTION f at line 1, column 1 USING JAR '/tmp/udfs.jar': Sluice cannot run Java classes",
        ),
        (
            "CREATE FUNCTION f AS 'com.example.CountChar' LANGUAGE JAVA".to_string(),
            "LANGUAGE JAVA functions",
        ),
    ];
    for (sql, expected) in cases {
        let e = statement_error(&s, &sql).await;
        assert!(e.contains(expected), "{sql}:\n{e}");
    }
    assert!(table(&s, "SHOW USER FUNCTIONS").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_plugin_functions_fail_their_job_by_name() {
    let s = Sluice::new();
    s.execute_sql(LINES).await.expect("lines");
    let bad = library("bad-udfs");
    for f in ["panicky_upper", "lies_about_result", "short_result"] {
        s.execute_sql(&format!(
            "CREATE FUNCTION {f} AS '{f}' USING LIBRARY '{bad}'"
        ))
        .await
        .expect(f);
    }
    assert_eq!(
        rows(&s, "SELECT panicky_upper(s) FROM lines WHERE id <> 3").await,
        vec!["HELLO WORLD", "NULL", "A B C"]
    );
    let e = error(
        &s,
        "SELECT panicky_upper(CASE WHEN id = 3 THEN 'boom' ELSE s END) FROM lines",
    )
    .await;
    assert!(
        e.contains("user-defined function 'panicky_upper' panicked: cannot upper-case 'boom'"),
        "{e}"
    );
    let e = error(&s, "SELECT lies_about_result(id) FROM lines").await;
    assert!(
        e.contains(
            "user-defined function 'lies_about_result' returned STRING values but declares BIGINT"
        ),
        "{e}"
    );
    let e = error(&s, "SELECT short_result(id) FROM lines").await;
    assert!(
        e.contains("'short_result' returned 3 values for 4 rows"),
        "{e}"
    );
    // The session (and the process) keep working.
    assert_eq!(rows(&s, "SELECT panicky_upper('ok')").await, vec!["OK"]);
}
