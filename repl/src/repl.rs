//! The interactive shell: read a statement, run it, print its result, again.
//!
//! Lines are read with rustyline until they form a complete statement
//! (`Flink SQL> ` for the first line, `> ` after), so statements can span
//! lines and a `;` inside a string does not end one. Each statement runs on
//! the tokio runtime while this thread waits; jobs it starts keep running on
//! the runtime's workers in the background while the next line is read.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustyline::Editor;
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use sluice::{JobHandle, Sluice, statement_is_complete};
use tokio::runtime::Runtime;

use crate::completer::SqlHelper;
use crate::runner::{Shown, execute_and_show};
use crate::signal::Interrupt;

const PROMPT: &str = "Flink SQL> ";
const CONTINUATION: &str = "> ";

/// How long, on exit, running jobs get to stop cleanly.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Commands the shell handles itself, as Flink's SQL client does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientCommand {
    Help,
    Clear,
    Quit,
}

impl ClientCommand {
    /// `QUIT;`, `exit`, `help;` ...: the whole input is one such word.
    fn parse(input: &str) -> Option<ClientCommand> {
        let word = input.trim().trim_end_matches(';').trim_end();
        match word.to_ascii_uppercase().as_str() {
            "HELP" => Some(ClientCommand::Help),
            "CLEAR" => Some(ClientCommand::Clear),
            "QUIT" | "EXIT" => Some(ClientCommand::Quit),
            _ => None,
        }
    }
}

/// Runs the shell until Ctrl-D or `QUIT;`, then stops the jobs it knows of
/// (`jobs`: those an init file started, plus its own). Returns the exit code.
pub fn run(runtime: &Runtime, session: Arc<Sluice>, jobs: Vec<JobHandle>) -> u8 {
    // With a SIGINT handler installed, Ctrl-C between prompts (while a
    // statement other than a SELECT runs) is ignored instead of killing the
    // shell; the handler stays after this listener is dropped.
    if let Err(e) = runtime.block_on(async { Interrupt::ctrl_c() }) {
        eprintln!("[WARNING] Could not listen for Ctrl-C: {e}");
    }
    let mut editor = match new_editor(&session) {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("[ERROR] Could not start the line editor: {e}");
            return 1;
        }
    };
    let history = history_path();
    if let Some(path) = &history {
        // A missing or unreadable history only means starting without one.
        let _ = editor.load_history(path);
    }
    print_banner();
    let mut shell = Shell {
        runtime,
        session,
        jobs,
    };
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            PROMPT
        } else {
            CONTINUATION
        };
        match editor.readline(prompt) {
            Ok(line) => {
                buffer.push_str(&line);
                buffer.push('\n');
                if buffer.trim().is_empty() {
                    buffer.clear();
                    continue;
                }
                let command = ClientCommand::parse(&buffer);
                if command.is_none() && !statement_is_complete(&buffer) {
                    continue;
                }
                let input = std::mem::take(&mut buffer);
                let _ = editor.add_history_entry(input.trim_end());
                if let Some(path) = &history {
                    let _ = editor.append_history(path);
                }
                match command {
                    Some(ClientCommand::Quit) => break,
                    Some(ClientCommand::Help) => print_help(),
                    Some(ClientCommand::Clear) => {
                        let _ = editor.clear_screen();
                    }
                    None => shell.run_statements(&input),
                }
            }
            // Ctrl-C at the prompt drops what was typed, statement and all.
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("[ERROR] Could not read input: {e}");
                break;
            }
        }
    }
    shell.shut_down();
    0
}

/// The shell's state between statements.
struct Shell<'a> {
    runtime: &'a Runtime,
    session: Arc<Sluice>,
    /// Jobs started from this shell, stopped on exit.
    jobs: Vec<JobHandle>,
}

impl Shell<'_> {
    /// Parses `sql` and runs its statements in order. An error or a Ctrl-C
    /// skips the rest of them: they were typed on the assumption that the
    /// earlier ones worked.
    fn run_statements(&mut self, sql: &str) {
        let statements = match self.session.parse(sql) {
            Ok(statements) => statements,
            Err(e) => {
                print_error(&e);
                println!();
                return;
            }
        };
        for stmt in statements {
            let session = &self.session;
            let outcome = self.runtime.block_on(async {
                let mut interrupt = Interrupt::ctrl_c()?;
                execute_and_show(session, stmt, &mut io::stdout(), &mut interrupt).await
            });
            let stop = match outcome {
                Ok(Shown::Done) => false,
                Ok(Shown::Job(job)) => {
                    self.jobs.push(job);
                    false
                }
                Ok(Shown::Interrupted) => true,
                Err(e) => {
                    print_error(&e);
                    true
                }
            };
            println!();
            if stop {
                break;
            }
        }
    }

    /// Stops the jobs still running so their sinks flush, since they die
    /// with this process.
    fn shut_down(&mut self) {
        println!("Shutting down the session...");
        let running: Vec<&JobHandle> = self
            .jobs
            .iter()
            .filter(|job| !job.status().is_terminal())
            .collect();
        for job in &running {
            job.cancel();
        }
        if !running.is_empty() {
            self.runtime.block_on(async {
                let all = futures::future::join_all(running.iter().map(|job| job.wait()));
                let _ = tokio::time::timeout(SHUTDOWN_GRACE, all).await;
            });
        }
        println!("done.");
        let _ = io::stdout().flush();
    }
}

/// Flink's error format: the reason on its own lines.
fn print_error(e: &sluice::SluiceError) {
    println!("[ERROR] Could not execute SQL statement. Reason:\n{e}");
}

fn new_editor(session: &Arc<Sluice>) -> rustyline::Result<Editor<SqlHelper, FileHistory>> {
    let config = Config::builder()
        // One Tab completes as far as unambiguous, a second lists: as bash.
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .history_ignore_dups(true)?
        .max_history_size(10_000)?
        .build();
    let mut editor = Editor::with_config(config)?;
    editor.set_helper(Some(SqlHelper::new(Arc::clone(session))));
    Ok(editor)
}

/// `$SLUICE_HISTORY`, else `~/.sluice_history`; none without a home.
fn history_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SLUICE_HISTORY").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join(".sluice_history"))
}

fn print_banner() {
    println!(
        "\n\
         Welcome to Sluice {}: Flink SQL, streaming, on Apache DataFusion.\n\
         \n\
         Statements end with ';' and may span lines. Tab completes keywords, tables,\n\
         columns and functions. Ctrl-C cancels a running query or clears the line.\n\
         HELP; lists the commands; QUIT; or Ctrl-D exits.\n",
        env!("CARGO_PKG_VERSION")
    );
}

fn print_help() {
    println!(
        "The following commands are available:\n\
         \n\
         CLEAR\t\tClears the current terminal.\n\
         HELP\t\tPrints the available commands.\n\
         QUIT/EXIT\tQuits the SQL shell (Ctrl-D does too).\n\
         \n\
         Any Flink SQL statement ending with ';' runs: CREATE TABLE/VIEW/FUNCTION,\n\
         DROP, ALTER, SHOW, DESCRIBE, EXPLAIN, SET, RESET, INSERT INTO, SELECT,\n\
         EXECUTE STATEMENT SET BEGIN ... END;, SHOW JOBS, STOP JOB '<id>'.\n\
         \n\
         SELECT results print as they arrive; Ctrl-C cancels the query. Choose how with\n\
         SET 'sql-client.execution.result-mode' = 'tableau' | 'changelog' | 'table';\n"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_commands() {
        assert_eq!(ClientCommand::parse("quit;\n"), Some(ClientCommand::Quit));
        assert_eq!(ClientCommand::parse("EXIT"), Some(ClientCommand::Quit));
        assert_eq!(ClientCommand::parse(" help ; "), Some(ClientCommand::Help));
        assert_eq!(ClientCommand::parse("clear;"), Some(ClientCommand::Clear));
        assert_eq!(ClientCommand::parse("quit_orders;"), None);
        assert_eq!(ClientCommand::parse("SELECT 1;"), None);
    }
}
