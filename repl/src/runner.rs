//! Running statements and showing what they return, for the shell and for
//! `-f` / `-e` / `-i`.
//!
//! A statement runs until it produced its result or the user interrupts it.
//! A `SELECT` keeps producing rows, so it is read batch by batch against the
//! interruption: Ctrl-C cancels its job and stops printing but leaves the
//! caller running. Files run every statement in order and then wait for the
//! `INSERT` jobs they started, because in-process jobs die with the process.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use futures::future::join_all;
use sluice::{FlinkStatement, JobHandle, QueryResult, Result, Session, StatementResult};

use crate::printer::{RESULT_MODE_KEY, ResultMode, StreamPrinter, print_rows};
use crate::signal::Interrupt;

/// How long a cancelled job gets to reach CANCELED before the shell moves on;
/// long enough that a following `SHOW JOBS` shows it stopped.
const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// How long to wait, after a query's rows end, for its job to report how it
/// ended (a failure may only show in the job status).
const END_GRACE: Duration = Duration::from_secs(2);

/// How often the `table` result mode redraws a changing table.
const TABLE_REFRESH: Duration = Duration::from_millis(200);

/// What showing a statement's result came to.
#[derive(Debug)]
pub enum Shown {
    /// Printed in full.
    Done,
    /// An `INSERT` or statement set started this job, which keeps running.
    Job(JobHandle),
    /// The user interrupted it; what was printed says so.
    Interrupted,
}

/// Runs `stmt` and prints its result to `out`, stopping at `interrupt`.
pub async fn execute_and_show(
    session: &Session,
    stmt: FlinkStatement,
    out: &mut dyn Write,
    interrupt: &mut Interrupt,
) -> Result<Shown> {
    let result = tokio::select! {
        result = session.execute(stmt) => result?,
        () = interrupt.wait() => {
            writeln!(out, "[INFO] Statement execution interrupted.")?;
            return Ok(Shown::Interrupted);
        }
    };
    show(session, result, out, interrupt).await
}

/// Prints `result` the way Flink's SQL client does.
pub async fn show(
    session: &Session,
    result: StatementResult,
    out: &mut dyn Write,
    interrupt: &mut Interrupt,
) -> Result<Shown> {
    let shown = match result {
        StatementResult::Message(message) => {
            writeln!(out, "{message}")?;
            Shown::Done
        }
        StatementResult::Rows { schema, batches } => {
            print_rows(out, &schema, &batches)?;
            Shown::Done
        }
        StatementResult::Explain(plan) => {
            writeln!(out, "{plan}")?;
            Shown::Done
        }
        StatementResult::Job(job) => {
            writeln!(
                out,
                "[INFO] Submitting SQL update statement to the cluster...\n\
                 [INFO] SQL update statement has been successfully submitted to the cluster:\n\
                 Job ID: {}",
                job.id()
            )?;
            Shown::Job(job)
        }
        StatementResult::Query(query) => stream_query(session, query, out, interrupt).await?,
    };
    out.flush()?;
    Ok(shown)
}

/// Prints a `SELECT`'s rows as they arrive, in the session's result mode,
/// until they end, the job fails, or `interrupt` cancels the job.
async fn stream_query(
    session: &Session,
    query: QueryResult,
    out: &mut dyn Write,
    interrupt: &mut Interrupt,
) -> Result<Shown> {
    let mode = ResultMode::from_config(session.config_value(RESULT_MODE_KEY).as_deref());
    let QueryResult {
        schema,
        is_changelog,
        mut batches,
        job,
    } = query;
    let zone = session.config_value(sluice_engine::config::LOCAL_TIME_ZONE);
    // Only a terminal can show a table changing in place.
    let mut printer = StreamPrinter::new(&schema, mode).live(io::stdout().is_terminal());
    printer.begin(out)?;
    let mut refresh = tokio::time::interval(TABLE_REFRESH);
    loop {
        tokio::select! {
            _ = refresh.tick(), if printer.is_live() => printer.refresh(out)?,
            next = batches.recv() => match next {
                Some(Ok(batch)) => {
                    // TIMESTAMP_LTZ is shown in the session time zone.
                    let batch = sluice_engine::local_time::localize_ltz(batch, zone.as_deref());
                    if let Err(e) = printer.batch(out, &batch, is_changelog) {
                        job.cancel();
                        return Err(e);
                    }
                }
                Some(Err(e)) => {
                    job.cancel();
                    return Err(e);
                }
                None => break,
            },
            () = interrupt.wait() => {
                job.cancel();
                // Nobody reads the rows any more; closing the channel also
                // unblocks a job stuck sending into it.
                drop(batches);
                printer.end(out, true)?;
                let _ = tokio::time::timeout(CANCEL_GRACE, job.wait()).await;
                return Ok(Shown::Interrupted);
            }
        }
    }
    if let Ok(Err(e)) = tokio::time::timeout(END_GRACE, job.wait()).await {
        return Err(e);
    }
    printer.end(out, false)?;
    Ok(Shown::Done)
}

/// Why a script stopped early. What went wrong was already printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptError {
    /// A statement or job failed.
    Failed,
    /// Ctrl-C or SIGTERM.
    Interrupted,
}

impl ScriptError {
    /// The process exit code: 1 for a failure, 130 (128 + SIGINT) for an
    /// interruption, as shells report it.
    pub fn exit_code(self) -> u8 {
        match self {
            ScriptError::Failed => 1,
            ScriptError::Interrupted => 130,
        }
    }
}

/// Runs every statement of `sql` in order, printing results to stdout and
/// errors, prefixed by `source` (the file name), to stderr. Jobs started are
/// added to `jobs`; they are not waited for.
pub async fn run_script(
    session: &Session,
    source: &str,
    sql: &str,
    interrupt: &mut Interrupt,
    jobs: &mut Vec<JobHandle>,
) -> std::result::Result<(), ScriptError> {
    let statements = match session.parse(sql) {
        Ok(statements) => statements,
        Err(e) => {
            eprintln!("[ERROR] Could not parse {source}. Reason:\n{e}");
            return Err(ScriptError::Failed);
        }
    };
    let mut out = io::stdout();
    for (i, stmt) in statements.into_iter().enumerate() {
        match execute_and_show(session, stmt, &mut out, interrupt).await {
            Ok(Shown::Done) => {}
            Ok(Shown::Job(job)) => jobs.push(job),
            Ok(Shown::Interrupted) => return Err(ScriptError::Interrupted),
            Err(e) => {
                let _ = out.flush();
                eprintln!(
                    "[ERROR] Could not execute SQL statement {} of {source}. Reason:\n{e}",
                    i + 1
                );
                return Err(ScriptError::Failed);
            }
        }
    }
    Ok(())
}

/// Waits until every job ended; any failure is printed to stderr.
pub async fn wait_for_jobs(
    jobs: &[JobHandle],
    interrupt: &mut Interrupt,
) -> std::result::Result<(), ScriptError> {
    let all = join_all(jobs.iter().map(|job| job.wait()));
    tokio::select! {
        results = all => {
            let mut failed = false;
            for result in results {
                if let Err(e) = result {
                    eprintln!("[ERROR] {e}");
                    failed = true;
                }
            }
            if failed { Err(ScriptError::Failed) } else { Ok(()) }
        }
        () = interrupt.wait() => Err(ScriptError::Interrupted),
    }
}

/// Cancels the jobs still running and waits for them to stop, so sinks
/// flush; a further interruption stops the waiting.
pub async fn cancel_jobs(jobs: &[JobHandle], interrupt: &mut Interrupt) {
    let running: Vec<&JobHandle> = jobs
        .iter()
        .filter(|job| !job.status().is_terminal())
        .collect();
    if running.is_empty() {
        return;
    }
    eprintln!("[INFO] Cancelling {} running job(s)...", running.len());
    for job in &running {
        job.cancel();
    }
    let all = join_all(running.iter().map(|job| job.wait()));
    tokio::select! {
        _ = all => {}
        () = interrupt.again() => eprintln!("[WARNING] Interrupted again; not waiting for jobs to stop."),
    }
}

/// Runs `scripts` (name and text) one after another, waits for the jobs they
/// started (and those already in `jobs`), and returns the exit code: 0 when
/// everything succeeded, 1 after a failure, 130 when interrupted. On failure
/// or interruption the jobs still running are cancelled first.
pub async fn run_to_end(
    session: &Session,
    scripts: &[(String, String)],
    mut jobs: Vec<JobHandle>,
) -> u8 {
    let mut interrupt = match Interrupt::process_wide() {
        Ok(interrupt) => interrupt,
        Err(e) => {
            eprintln!("[ERROR] Could not listen for signals: {e}");
            return 1;
        }
    };
    let mut outcome = Ok(());
    for (source, sql) in scripts {
        outcome = run_script(session, source, sql, &mut interrupt, &mut jobs).await;
        if outcome.is_err() {
            break;
        }
    }
    if outcome.is_ok() {
        outcome = wait_for_jobs(&jobs, &mut interrupt).await;
    }
    match outcome {
        Ok(()) => 0,
        Err(e) => {
            cancel_jobs(&jobs, &mut interrupt).await;
            e.exit_code()
        }
    }
}
