//! `sluice-bench nexmark`: runs Nexmark queries over N generated events at
//! max speed into `blackhole`, beside the generator → blackhole ceiling
//! measured in the same run.
//!
//! ```sh
//! cargo run --release -p sluice-bench -- nexmark q0 q1 --events 10000000
//! cargo run --release -p sluice-bench -- nexmark --all --events 10000000   # + docs/benchmarks.md
//! ```
//!
//! Each item runs in a fresh child process, so CPU time and peak RSS belong
//! to that query alone.

mod measure;
mod probe;
mod report;
mod run;
mod sql;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use run::{CEILING, Outcome, Status, decode, encode, run_item};
use sql::{Params, prepare_work_dir, query_names};

const USAGE: &str = "\
sluice-bench nexmark [QUERY...] [--all] [--events N] [--tps N] [--parallelism P]
                     [--set KEY=VALUE]... [--sql-dir DIR] [--out FILE] [--timeout SECS]

  QUERY          q0 .. q23 (default with --all: every q*.sql of the suite)
  --all          run every query and write the table to --out
  --events N     events per run (events.num), default 10000000
  --tps N        first-event.rate / next-event.rate (event time), default 10000000
  --parallelism P  parallelism.default (source instances too), default 1
  --set KEY=VALUE  a session option for every run (repeatable), e.g. the
                 reference suite's mini-batch settings:
                 --set table.exec.mini-batch.enabled=true
                 --set table.exec.mini-batch.allow-latency=2s
                 --set table.exec.mini-batch.size=50000
  --sql-dir DIR  the suite: sql-examples/nexmark (default) or a directory of
                 the reference templates (ddl_gen.sql, ddl_views.sql, q*.sql)
  --out FILE     markdown file for --all, default docs/benchmarks.md
  --timeout SECS per-query limit, default 1800

Build with --release for meaningful figures.";

/// The workspace root (for default paths).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[derive(Debug)]
struct Args {
    queries: Vec<String>,
    all: bool,
    events: u64,
    tps: u64,
    parallelism: Option<usize>,
    /// `SET` options for every run, in order.
    settings: Vec<(String, String)>,
    sql_dir: PathBuf,
    out: PathBuf,
    timeout: Duration,
    /// Internal: run this one item here and print its result line.
    child: Option<String>,
}

fn parse_args(raw: &[String]) -> Result<Args, String> {
    let mut a = Args {
        queries: Vec::new(),
        all: false,
        events: 10_000_000,
        tps: 10_000_000,
        parallelism: None,
        settings: Vec::new(),
        sql_dir: workspace().join("sql-examples/nexmark"),
        out: workspace().join("docs/benchmarks.md"),
        timeout: Duration::from_secs(1800),
        child: None,
    };
    let mut it = raw.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} takes a value"))
        };
        let number = |name: &str, v: String| {
            v.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name} takes a positive number, got '{v}'"))
        };
        match arg.as_str() {
            "--all" => a.all = true,
            "--events" => a.events = number("--events", value("--events")?)?,
            "--tps" => a.tps = number("--tps", value("--tps")?)?,
            "--parallelism" => {
                a.parallelism = Some(number("--parallelism", value("--parallelism")?)? as usize)
            }
            "--set" => {
                let kv = value("--set")?;
                let Some((k, v)) = kv.split_once('=') else {
                    return Err(format!("--set takes KEY=VALUE, got '{kv}'"));
                };
                a.settings
                    .push((k.trim().to_string(), v.trim().to_string()));
            }
            "--timeout" => {
                a.timeout = Duration::from_secs(number("--timeout", value("--timeout")?)?)
            }
            "--sql-dir" => a.sql_dir = PathBuf::from(value("--sql-dir")?),
            "--out" => a.out = PathBuf::from(value("--out")?),
            "--child" => a.child = Some(value("--child")?),
            q if q.starts_with('q') || q == CEILING => a.queries.push(q.to_string()),
            other => return Err(format!("unknown argument '{other}'\n\n{USAGE}")),
        }
    }
    if a.child.is_none() && !a.all && a.queries.is_empty() {
        return Err(format!("name a query or use --all\n\n{USAGE}"));
    }
    Ok(a)
}

/// Entry point of the subcommand; `raw` are the arguments after `nexmark`.
pub async fn main(raw: Vec<String>) -> i32 {
    if raw.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return 0;
    }
    let args = match parse_args(&raw) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let params = Params {
        events: args.events,
        tps: args.tps,
        work_dir: std::env::temp_dir().join("sluice-nexmark"),
    };
    if let Some(item) = &args.child {
        if let Err(e) = prepare_work_dir(&params.work_dir) {
            eprintln!("{e}");
            return 1;
        }
        let o = run_item(item, &args.sql_dir, &params, &args.settings(), args.timeout).await;
        println!("{}", encode(&o));
        return 0;
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: debug build; run with --release for meaningful figures");
    }
    let mut items = vec![CEILING.to_string()];
    if args.all {
        match query_names(&args.sql_dir) {
            Ok(names) => items.extend(names),
            Err(e) => {
                eprintln!("{e}");
                return 1;
            }
        }
    } else {
        items.extend(args.queries.iter().filter(|q| *q != CEILING).cloned());
    }
    let mut outcomes = Vec::new();
    for item in &items {
        let o = run_child(item, &raw, args.events);
        eprintln!("{}", progress(&o));
        outcomes.push(o);
    }
    let table = report::table(&outcomes, outcomes.first());
    println!("{table}");
    if args.all {
        let section = section(&args, &raw, &table);
        if let Err(e) = report::write_section(&args.out, &section) {
            eprintln!("cannot write {}: {e}", args.out.display());
            return 1;
        }
        eprintln!("wrote {}", args.out.display());
    }
    0
}

/// Runs one item in a child process of this binary (same arguments).
fn run_child(item: &str, raw: &[String], events: u64) -> Outcome {
    let crashed = |m: String| Outcome {
        name: item.to_string(),
        status: Status::Failed(m),
        events,
        wall_secs: 0.0,
        cpu_secs: 0.0,
        peak_rss_bytes: None,
        first_output_secs: None,
        rows_out: 0,
    };
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return crashed(format!("cannot find this binary: {e}")),
    };
    let mut forwarded: Vec<String> = Vec::new();
    let mut it = raw.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--events" | "--tps" | "--parallelism" | "--set" | "--sql-dir" | "--timeout" => {
                forwarded.push(a.clone());
                forwarded.extend(it.next().cloned());
            }
            "--out" => {
                it.next();
            }
            _ => {}
        }
    }
    let output = Command::new(exe)
        .arg("nexmark")
        .arg("--child")
        .arg(item)
        .args(&forwarded)
        .output();
    let output = match output {
        Ok(o) => o,
        Err(e) => return crashed(format!("cannot start the run: {e}")),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    match stdout.lines().find_map(decode) {
        Some(o) => o,
        None => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let last = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            crashed(format!("the run crashed ({}): {last}", output.status))
        }
    }
}

fn progress(o: &Outcome) -> String {
    match &o.status {
        Status::Ok => format!(
            "{:>8}: {:.3} s, {:.0} events/s, {:.0} events/s per core",
            o.name,
            o.wall_secs,
            o.events_per_sec(),
            o.events_per_core_sec()
        ),
        Status::NotSupported(m) | Status::Failed(m) => format!("{:>8}: {m}", o.name),
    }
}

impl Args {
    /// Every option the runs set: the parallelism, then `--set`'s.
    fn settings(&self) -> Vec<(String, String)> {
        let parallelism = self
            .parallelism
            .map(|p| ("parallelism.default".to_string(), p.to_string()));
        parallelism
            .into_iter()
            .chain(self.settings.iter().cloned())
            .collect()
    }
}

/// The markdown section `--all` writes: how, where and when, then the table.
fn section(args: &Args, raw: &[String], table: &str) -> String {
    let build = if cfg!(debug_assertions) {
        "debug (figures only show relative cost)"
    } else {
        "release"
    };
    format!(
        "## Nexmark results\n\n\
         Command: `cargo run --release -p sluice-bench -- nexmark {}`\n\n\
         - Machine: {}\n\
         - Date: {}\n\
         - Commit: {}\n\
         - Build: {build}\n\
         - Each run: {} events (`events.num`) at {} events/s of event time, \
         parallelism {}{}, into `blackhole`, in its own process. `ceiling` is the \
         generator alone (all four columns into `blackhole`); \"of ceiling\" is a \
         query's events/s as a share of it. Per core = events / process CPU seconds \
         (Nexmark's Throughput/Cores); peak RSS = `VmHWM`.\n\n{table}",
        raw.join(" "),
        measure::machine(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        commit(),
        args.events,
        args.tps,
        args.parallelism.unwrap_or(1),
        args.settings
            .iter()
            .map(|(k, v)| format!(", `{k}` = `{v}`"))
            .collect::<String>(),
    )
}

/// The checked-out commit, marked when the tree has uncommitted changes.
fn commit() -> String {
    let git = |a: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(workspace())
            .args(a)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        None => "unknown".into(),
        Some(head) => match git(&["status", "--porcelain", "--untracked-files=no"]) {
            Some(s) if !s.is_empty() => format!("{head} with uncommitted changes"),
            _ => head,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Result<Args, String> {
        parse_args(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn parses_the_command_line() {
        let a = args(&["q0", "q2", "--events", "5000", "--parallelism", "2"]).unwrap();
        assert_eq!(a.queries, vec!["q0", "q2"]);
        assert_eq!((a.events, a.parallelism), (5000, Some(2)));
        let a = args(&["q15", "--set", "table.exec.mini-batch.enabled = true"]).unwrap();
        assert_eq!(
            a.settings(),
            vec![("table.exec.mini-batch.enabled".into(), "true".into())]
        );
        assert!(args(&["q15", "--set", "no-value"]).is_err());
        assert!(args(&["--all"]).unwrap().all);
        assert!(args(&[]).unwrap_err().contains("name a query"));
        assert!(
            args(&["--events", "x", "q0"])
                .unwrap_err()
                .contains("positive number")
        );
        assert!(
            args(&["--frobnicate"])
                .unwrap_err()
                .contains("unknown argument")
        );
    }
}
