//! The non-interactive side of the binary: `-e`, `-f`, exit codes and where
//! results and errors go.

use std::process::{Command, Output};

fn sluice(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .output()
        .expect("sluice runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn execute_prints_results_and_exits_zero() {
    let out = sluice(&[
        "-e",
        "CREATE TABLE t (id INT) WITH ('connector'='datagen','number-of-rows'='3',\
         'fields.id.kind'='sequence','fields.id.start'='1','fields.id.end'='3');\
         SELECT id FROM t;",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(
        stdout.contains("[INFO] Execute statement succeeded."),
        "{stdout}"
    );
    assert!(stdout.contains("| op |          id |"), "{stdout}");
    assert!(stdout.contains("| +I |           3 |"), "{stdout}");
    assert!(stdout.contains("Received a total of 3 rows"), "{stdout}");
}

#[test]
fn a_failing_file_exits_one_naming_the_file() {
    let path = std::env::temp_dir().join(format!("sluice-cli-bad-{}.sql", std::process::id()));
    std::fs::write(&path, "SHOW TABLES;\nSELEC 1;\n").expect("temp file");
    let out = sluice(&["-f", path.to_str().expect("utf-8 temp path")]);
    let _ = std::fs::remove_file(&path);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.starts_with("[ERROR] Could not parse "), "{stderr}");
    assert!(stderr.contains("sluice-cli-bad-"), "{stderr}");
}

#[test]
fn a_missing_file_exits_one() {
    let out = sluice(&["-f", "/nonexistent/job.sql"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("Could not read /nonexistent/job.sql"));
}

#[test]
fn set_options_apply_before_the_statements() {
    let out = sluice(&[
        "--set",
        "sql-client.execution.result-mode=changelog",
        "-e",
        "CREATE TABLE t (id INT) WITH ('connector'='datagen','number-of-rows'='1',\
         'fields.id.kind'='sequence','fields.id.start'='7','fields.id.end'='7');\
         SELECT id FROM t;",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(stdout.contains(" +I |           7\n"), "{stdout}");
    assert!(!stdout.contains("+----"), "{stdout}");
}

#[test]
fn help_lists_the_options() {
    let out = sluice(&["--help"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    for flag in ["--file", "--init", "--set", "--execute"] {
        assert!(stdout.contains(flag), "{stdout}");
    }
}

/// Flink's SQL client shows TIMESTAMP_LTZ in the session time zone; plain
/// TIMESTAMP values are wall-clock times and do not move.
#[test]
fn timestamp_ltz_is_shown_in_the_session_time_zone() {
    let out = sluice(&[
        "--set",
        "sql-client.execution.result-mode=changelog",
        "-e",
        "SET 'table.local-time-zone' = 'Asia/Shanghai';\
         SELECT TO_TIMESTAMP_LTZ(0, 3) AS l, TIMESTAMP '1970-01-01 00:00:00' AS t;",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(
        stdout.contains("| 1970-01-01 08:00:00.000 | 1970-01-01 00:00:00"),
        "{stdout}"
    );
}
