//! `sluice`: the Flink SQL client look-alike.
//!
//! Without a file it is an interactive shell; with `-f` or `-e` it runs the
//! statements, waits for the jobs they start and exits with a status a
//! script can test. `-i` and `--set` prepare the session for either.

mod completer;
mod format;
mod live_table;
mod printer;
mod repl;
mod runner;
mod signal;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use sluice::{JobHandle, Sluice};
use tokio::runtime::Runtime;

use crate::signal::Interrupt;

/// Flink SQL on Apache DataFusion: an interactive shell, or a job runner.
#[derive(Debug, Parser)]
#[command(
    name = "sluice",
    version,
    after_help = "Examples:\n  \
        sluice                                   the interactive shell\n  \
        sluice -f job.sql                        run a job file and wait for its jobs\n  \
        sluice -i init.sql                       prepare the session, then the shell\n  \
        sluice --set table.local-time-zone=UTC -e 'SELECT 1;'"
)]
struct Cli {
    /// Run the statements of FILE, wait for the jobs they start, then exit
    /// (0 on success, 1 on a failure, 130 when interrupted).
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "execute"
    )]
    file: Option<PathBuf>,

    /// Run the statements of INIT_FILE first (DDL, SET ...), then open the
    /// shell or run -f / -e.
    #[arg(short = 'i', long = "init", value_name = "INIT_FILE")]
    init: Option<PathBuf>,

    /// Set a session option before anything runs, as `SET 'KEY' = 'VALUE'`.
    /// Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    set: Vec<(String, String)>,

    /// Run these statements like a file given with -f.
    #[arg(short = 'e', long = "execute", value_name = "SQL")]
    execute: Option<String>,
}

/// `k=v` → (`k`, `v`); the value may itself contain `=`.
fn parse_key_value(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("expected KEY=VALUE, got '{arg}'")),
    }
}

/// `value` as the body of a SQL string literal.
fn sql_string(value: &str) -> String {
    value.replace('\'', "''")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sluice")
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("[ERROR] Could not start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = {
        // The session and the shell's completer call into the engine outside
        // `block_on`; entering makes the runtime current for them too.
        let _guard = runtime.enter();
        run(&runtime, cli)
    };
    // Jobs still running here were cancelled or failed; do not hang on them.
    runtime.shutdown_timeout(Duration::from_secs(2));
    ExitCode::from(code)
}

fn run(runtime: &Runtime, cli: Cli) -> u8 {
    let session = Arc::new(Sluice::new());

    for (key, value) in &cli.set {
        let sql = format!("SET '{}' = '{}'", sql_string(key), sql_string(value));
        if let Err(e) = runtime.block_on(session.execute_sql(&sql)) {
            eprintln!("[ERROR] Could not set '{key}' = '{value}'. Reason:\n{e}");
            return 1;
        }
    }

    let mut jobs: Vec<JobHandle> = Vec::new();
    if let Some(init) = &cli.init {
        let Some(sql) = read_file(init) else {
            return 1;
        };
        let name = init.display().to_string();
        let outcome = runtime.block_on(async {
            let mut interrupt = match Interrupt::ctrl_c() {
                Ok(interrupt) => interrupt,
                Err(e) => {
                    eprintln!("[ERROR] Could not listen for Ctrl-C: {e}");
                    return Err(runner::ScriptError::Failed);
                }
            };
            runner::run_script(&session, &name, &sql, &mut interrupt, &mut jobs).await
        });
        if let Err(e) = outcome {
            for job in &jobs {
                job.cancel();
            }
            return e.exit_code();
        }
    }

    let script = match (&cli.file, &cli.execute) {
        (Some(file), _) => match read_file(file) {
            Some(sql) => Some((file.display().to_string(), sql)),
            None => return 1,
        },
        (None, Some(sql)) => Some(("the -e statements".to_string(), sql.clone())),
        (None, None) => None,
    };
    match script {
        Some(script) => runtime.block_on(runner::run_to_end(&session, &[script], jobs)),
        None => repl::run(runtime, session, jobs),
    }
}

/// The text of `path`, or `None` after printing why not.
fn read_file(path: &Path) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) => {
            eprintln!("[ERROR] Could not read {}: {e}", path.display());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values() {
        assert_eq!(
            parse_key_value("parallelism.default=2"),
            Ok(("parallelism.default".into(), "2".into()))
        );
        assert_eq!(parse_key_value("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(parse_key_value("a="), Ok(("a".into(), String::new())));
        assert!(parse_key_value("novalue").is_err());
        assert!(parse_key_value("=v").is_err());
    }

    #[test]
    fn cli_parses() {
        let cli = Cli::try_parse_from([
            "sluice", "-i", "init.sql", "--set", "a=1", "--set", "b=2", "-f", "job.sql",
        ])
        .expect("valid arguments");
        assert_eq!(cli.file, Some(PathBuf::from("job.sql")));
        assert_eq!(cli.init, Some(PathBuf::from("init.sql")));
        assert_eq!(cli.set.len(), 2);
        assert!(Cli::try_parse_from(["sluice", "-f", "a.sql", "-e", "SELECT 1;"]).is_err());
    }

    #[test]
    fn quotes_are_escaped() {
        assert_eq!(sql_string("it's"), "it''s");
    }
}
