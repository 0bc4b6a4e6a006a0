//! Ctrl-C and SIGTERM, as something a running statement can wait for.
//!
//! The shell and the script runner want different things from a signal. In
//! the shell, Ctrl-C stops the statement that is running and nothing else, so
//! each statement listens for its own, fresh SIGINT. Running a file, the first
//! Ctrl-C or SIGTERM ends the whole run, wherever it is, so one listener
//! records every signal and every wait sees it.

use std::io;

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;

/// A source of interruptions to `select!` on.
#[derive(Debug)]
pub enum Interrupt {
    /// SIGINTs that arrive after this was created (shell).
    Signal(Signal),
    /// The number of SIGINTs and SIGTERMs since the run began (script).
    Shared(watch::Receiver<u32>),
}

impl Interrupt {
    /// Listens for Ctrl-C from now on. `tokio::signal::unix::signal`
    /// installs the handler here, not when first polled (as
    /// `tokio::signal::ctrl_c` does), so a Ctrl-C right after this returns
    /// cannot kill the process. The handler stays installed for the life of
    /// the process: from then on Ctrl-C only ever reaches a listener.
    pub fn ctrl_c() -> io::Result<Interrupt> {
        Ok(Interrupt::Signal(signal(SignalKind::interrupt())?))
    }

    /// Listens for Ctrl-C and SIGTERM for the rest of the process, counting
    /// them. Must be called inside the tokio runtime.
    pub fn process_wide() -> io::Result<Interrupt> {
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let (tx, rx) = watch::channel(0u32);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    Some(()) = int.recv() => {}
                    Some(()) = term.recv() => {}
                    else => break,
                }
                tx.send_modify(|n| *n += 1);
            }
        });
        Ok(Interrupt::Shared(rx))
    }

    /// Resolves once interrupted; at once if a process-wide interruption
    /// already happened.
    pub async fn wait(&mut self) {
        match self {
            Interrupt::Signal(s) => {
                if s.recv().await.is_none() {
                    std::future::pending::<()>().await;
                }
            }
            Interrupt::Shared(rx) => {
                if rx.wait_for(|n| *n > 0).await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        }
    }

    /// Resolves on the next interruption after the ones already seen: the
    /// second Ctrl-C that stops waiting for a clean cancellation.
    pub async fn again(&mut self) {
        match self {
            Interrupt::Signal(s) => {
                if s.recv().await.is_none() {
                    std::future::pending::<()>().await;
                }
            }
            Interrupt::Shared(rx) => {
                rx.borrow_and_update();
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        }
    }
}
