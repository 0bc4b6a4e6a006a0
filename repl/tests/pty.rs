//! Drives the real `sluice` binary through a pseudo-terminal, as a user at a
//! keyboard would: line editing, Tab completion and Ctrl-C only behave like a
//! terminal when there is one, so piping stdin would test something else.

use std::path::{Path, PathBuf};
use std::process::Command;

use rexpect::error::Error;
use rexpect::process::wait::WaitStatus;
use rexpect::reader::Options;
use rexpect::session::{PtySession, spawn_with_options};

const PROMPT: &str = "Flink SQL> ";

/// A history file for one test, unique to this process.
fn history_file(test: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sluice-pty-{test}-{}", std::process::id()))
}

/// Waits for the process to end and checks it exited with 0.
fn assert_exited_cleanly(p: &mut PtySession) -> Result<(), Error> {
    p.exp_eof()?;
    match p.process().wait()? {
        WaitStatus::Exited(_, code) => assert_eq!(code, 0, "exit code"),
        other => panic!("sluice did not exit normally: {other:?}"),
    }
    Ok(())
}

/// The shell in a fresh pty, with its history in `history` instead of the
/// user's home.
fn spawn_shell(history: &Path) -> Result<PtySession, Error> {
    let _ = std::fs::remove_file(history);
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    // rustyline only edits (and completes) on a terminal type it supports.
    command.env("SLUICE_HISTORY", history).env("TERM", "xterm");
    spawn_with_options(
        command,
        Options {
            timeout_ms: Some(30_000),
            strip_ansi_escape_codes: true,
        },
    )
}

#[test]
fn interactive_session() -> Result<(), Error> {
    let history = history_file("session");
    let mut p = spawn_shell(&history)?;
    p.exp_string(PROMPT)?;

    // A statement over two lines: the first has no `;`, so the shell prompts
    // for the rest.
    p.send_line(
        "CREATE TABLE t (id INT) WITH ('connector'='datagen','fields.id.kind'='sequence',",
    )?;
    p.exp_string("> ")?;
    p.send_line("'fields.id.start'='1','fields.id.end'='1000000', 'rows-per-second'='10');")?;
    p.exp_string("[INFO] Execute statement succeeded.")?;
    p.exp_string(PROMPT)?;

    // Tab after `SHOW TAB` completes the only thing that can be shown.
    p.send("SHOW TAB")?;
    p.send("\t")?;
    p.flush()?;
    p.exp_string("SHOW TABLES")?;
    p.send_line(";")?;
    p.exp_string("1 row in set")?;
    p.exp_string(PROMPT)?;

    // An unbounded SELECT streams rows until Ctrl-C cancels it; the shell
    // survives.
    p.send_line("SELECT id FROM t;")?;
    p.exp_string("| op |")?;
    p.exp_regex(r"\| \+I \|\s+1 \|")?;
    p.exp_regex(r"\| \+I \|\s+2 \|")?;
    p.send_control('c')?;
    p.exp_string("Query terminated, received a total of")?;
    p.exp_string(PROMPT)?;

    // The cancelled query's job is listed, by its 32-hex-digit id.
    p.send_line("SHOW JOBS;")?;
    p.exp_regex("[0-9a-f]{32}")?;
    p.exp_string(PROMPT)?;

    // Ctrl-D ends the session.
    p.send_control('d')?;
    p.exp_string("Shutting down the session...")?;
    p.exp_string("done.")?;
    assert_exited_cleanly(&mut p)?;

    // Each statement went to the history as typed, the multi-line one whole.
    let saved = std::fs::read_to_string(&history)?;
    let _ = std::fs::remove_file(&history);
    assert!(saved.contains("SELECT id FROM t;"), "history: {saved}");
    assert!(
        saved.contains("'rows-per-second'='10');"),
        "history: {saved}"
    );
    Ok(())
}

#[test]
fn errors_and_ctrl_c_at_the_prompt_keep_the_shell_running() -> Result<(), Error> {
    let history = history_file("errors");
    let mut p = spawn_shell(&history)?;
    p.exp_string(PROMPT)?;

    p.send_line("SELEC 1;")?;
    p.exp_string("[ERROR] Could not execute SQL statement. Reason:")?;
    p.exp_string(PROMPT)?;

    // Ctrl-C on a continuation line drops the whole unfinished statement.
    p.send_line("SELECT")?;
    p.exp_string("> ")?;
    p.send_control('c')?;
    p.exp_string(PROMPT)?;
    p.send_line("SHOW TABLES;")?;
    p.exp_string("Empty set")?;
    p.exp_string(PROMPT)?;

    p.send_line("QUIT;")?;
    p.exp_string("Shutting down the session...")?;
    p.exp_string("done.")?;
    assert_exited_cleanly(&mut p)?;
    let _ = std::fs::remove_file(&history);
    Ok(())
}
