//! Runs one benchmark item in this process: the generator ceiling or one
//! query, from DDL to the end of its job, and measures it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice_engine::connector::ConnectorRegistry;
use sluice_engine::session::{Session, StatementResult};

use super::measure::{cpu_time, peak_rss_bytes};
use super::probe::{Probe, ProbedBlackhole};
use super::sql::{Params, query, source_ddl};

/// The item that measures the generator alone: every column into a blackhole.
pub const CEILING: &str = "ceiling";

/// The ceiling job: the source's four physical columns, no query.
const CEILING_SQL: &str = "CREATE TABLE nexmark_ceiling WITH ('connector' = 'blackhole') \
     LIKE datagen (EXCLUDING ALL);
     INSERT INTO nexmark_ceiling SELECT event_type, person, auction, bid FROM datagen;";

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Ok,
    /// Sluice does not run this yet (the message says what).
    NotSupported(String),
    Failed(String),
}

/// What one run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub name: String,
    pub status: Status,
    /// Source events (`events.num`).
    pub events: u64,
    /// Wall-clock seconds from submitting the INSERT to the job's end.
    pub wall_secs: f64,
    /// Process CPU seconds over the same span.
    pub cpu_secs: f64,
    /// The process's peak resident memory.
    pub peak_rss_bytes: Option<u64>,
    /// Seconds from submission to the first row at the sink.
    pub first_output_secs: Option<f64>,
    /// Rows the sink received.
    pub rows_out: u64,
}

impl Outcome {
    fn failed(name: &str, events: u64, message: String) -> Outcome {
        let status = if message.contains("not supported yet") {
            Status::NotSupported(message)
        } else {
            Status::Failed(message)
        };
        Outcome {
            name: name.to_string(),
            status,
            events,
            wall_secs: 0.0,
            cpu_secs: 0.0,
            peak_rss_bytes: peak_rss_bytes(),
            first_output_secs: None,
            rows_out: 0,
        }
    }

    /// Events per wall-clock second.
    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.wall_secs.max(1e-9)
    }

    /// Events per CPU second: Nexmark's "Throughput/Cores".
    pub fn events_per_core_sec(&self) -> f64 {
        self.events as f64 / self.cpu_secs.max(1e-9)
    }

    /// Average busy cores while the job ran.
    pub fn cores(&self) -> f64 {
        self.cpu_secs / self.wall_secs.max(1e-9)
    }
}

/// Runs `item` (a query name or [`CEILING`]) from the suite in `dir`, with
/// the session options `settings`.
pub async fn run_item(
    item: &str,
    dir: &Path,
    params: &Params,
    settings: &[(String, String)],
    timeout: Duration,
) -> Outcome {
    let probe = Arc::new(Probe::default());
    let mut registry = ConnectorRegistry::new();
    sluice_connectors::register_all(&mut registry);
    registry.register(Arc::new(ProbedBlackhole {
        probe: probe.clone(),
    }));
    let session = Session::new(registry);
    let fail = |m: String| Outcome::failed(item, params.events, m);

    let mut setup = String::new();
    for (key, value) in settings {
        setup.push_str(&format!("SET '{key}' = '{value}';\n"));
    }
    match source_ddl(dir, params) {
        Ok(ddl) => setup.push_str(&ddl),
        Err(e) => return fail(e),
    }
    if let Err(e) = session.execute_sql(&setup).await {
        return fail(format!("source DDL: {e}"));
    }
    let text = if item == CEILING {
        CEILING_SQL.to_string()
    } else {
        match query(dir, item, params) {
            Ok(t) => t,
            Err(e) => return fail(e),
        }
    };
    let mut statements = match session.parse(&text) {
        Ok(s) => s,
        Err(e) => return fail(e.to_string()),
    };
    let Some(insert) = statements.pop() else {
        return fail("the query file has no statements".into());
    };
    for stmt in statements {
        if let Err(e) = session.execute(stmt).await {
            return fail(e.to_string());
        }
    }

    let (cpu0, t0) = (cpu_time(), Instant::now());
    let job = match session.execute(insert).await {
        Ok(StatementResult::Job(job)) => job,
        Ok(_) => return fail("the last statement does not start a job".into()),
        Err(e) => return fail(e.to_string()),
    };
    match tokio::time::timeout(timeout, job.wait()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return fail(e.to_string()),
        Err(_) => {
            job.cancel();
            let _ = job.wait().await;
            return fail(format!("did not finish within {} s", timeout.as_secs()));
        }
    }
    let wall = t0.elapsed();
    Outcome {
        name: item.to_string(),
        status: Status::Ok,
        events: params.events,
        wall_secs: wall.as_secs_f64(),
        cpu_secs: (cpu_time().saturating_sub(cpu0)).as_secs_f64(),
        peak_rss_bytes: peak_rss_bytes(),
        first_output_secs: probe
            .first_output()
            .map(|t| t.saturating_duration_since(t0).as_secs_f64()),
        rows_out: probe.rows(),
    }
}

/// One outcome as a line a parent process can read back.
pub fn encode(o: &Outcome) -> String {
    let (kind, message) = match &o.status {
        Status::Ok => ("ok", String::new()),
        Status::NotSupported(m) => ("not-supported", m.clone()),
        Status::Failed(m) => ("failed", m.clone()),
    };
    let clean = message.replace(['\t', '\n', '\r'], " ");
    format!(
        "RESULT\t{}\t{kind}\t{}\t{}\t{}\t{}\t{}\t{}\t{clean}",
        o.name,
        o.events,
        o.wall_secs,
        o.cpu_secs,
        o.peak_rss_bytes.map_or("-".into(), |b| b.to_string()),
        o.first_output_secs.map_or("-".into(), |s| s.to_string()),
        o.rows_out,
    )
}

/// Reads back a line written by [`encode`].
pub fn decode(line: &str) -> Option<Outcome> {
    let f: Vec<&str> = line.strip_prefix("RESULT\t")?.splitn(9, '\t').collect();
    if f.len() != 9 {
        return None;
    }
    let message = f[8].to_string();
    Some(Outcome {
        name: f[0].to_string(),
        status: match f[1] {
            "ok" => Status::Ok,
            "not-supported" => Status::NotSupported(message),
            _ => Status::Failed(message),
        },
        events: f[2].parse().ok()?,
        wall_secs: f[3].parse().ok()?,
        cpu_secs: f[4].parse().ok()?,
        peak_rss_bytes: f[5].parse().ok(),
        first_output_secs: f[6].parse().ok(),
        rows_out: f[7].parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn params() -> Params {
        Params {
            events: 2000,
            tps: 10_000_000,
            work_dir: std::env::temp_dir().join("sluice-bench-test"),
        }
    }

    fn suite(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
    }

    #[test]
    fn outcomes_round_trip_through_a_line() {
        let o = Outcome {
            name: "q3".into(),
            status: Status::NotSupported("not supported yet: a\tjoin".into()),
            events: 10,
            wall_secs: 0.5,
            cpu_secs: 0.75,
            peak_rss_bytes: Some(1234),
            first_output_secs: None,
            rows_out: 0,
        };
        let back = decode(&encode(&o)).expect("decodes");
        assert_eq!(
            back.status,
            Status::NotSupported("not supported yet: a join".into())
        );
        assert_eq!(
            (back.events, back.rows_out, back.first_output_secs),
            (10, 0, None)
        );
        assert_eq!(back.peak_rss_bytes, Some(1234));
        assert!((back.cores() - 1.5).abs() < 1e-9);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_the_ceiling_and_a_query() {
        let dir = suite("sql-examples/nexmark");
        let timeout = Duration::from_secs(120);
        let ceiling = run_item(CEILING, &dir, &params(), &[], timeout).await;
        assert_eq!(ceiling.status, Status::Ok, "{ceiling:?}");
        assert_eq!(ceiling.rows_out, 2000);
        assert!(ceiling.first_output_secs.is_some() && ceiling.cpu_secs > 0.0);

        let q0 = run_item(
            "q0",
            &dir,
            &params(),
            &[("parallelism.default".into(), "2".into())],
            timeout,
        )
        .await;
        assert_eq!(q0.status, Status::Ok, "{q0:?}");
        // q0 passes every bid through: 46 of each 50 events.
        assert_eq!(q0.rows_out, 2000 / 50 * 46);
    }
}
