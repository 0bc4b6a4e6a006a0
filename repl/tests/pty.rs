//! Drives the real `sluice` binary through a pseudo-terminal, as a user at a
//! keyboard would: line editing, Tab completion and Ctrl-C only behave like a
//! terminal when there is one, so piping stdin would test something else.

use std::process::Command;

use rexpect::error::Error;
use rexpect::process::wait::WaitStatus;
use rexpect::reader::Options;
use rexpect::session::{PtySession, spawn_with_options};

const PROMPT: &str = "Flink SQL> ";

/// The shell in a fresh pty, with its history kept out of the user's home.
fn spawn_shell() -> Result<PtySession, Error> {
    let history = std::env::temp_dir().join(format!("sluice-pty-history-{}", std::process::id()));
    let _ = std::fs::remove_file(&history);
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    // rustyline only edits (and completes) on a terminal type it supports.
    command.env("SLUICE_HISTORY", &history).env("TERM", "xterm");
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
    let mut p = spawn_shell()?;
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
    p.exp_eof()?;
    match p.process().wait()? {
        WaitStatus::Exited(_, code) => assert_eq!(code, 0, "exit code"),
        other => panic!("sluice did not exit normally: {other:?}"),
    }
    Ok(())
}
