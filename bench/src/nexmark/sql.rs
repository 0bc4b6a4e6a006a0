//! The query suite on disk: either Sluice's runnable form
//! (`sql-examples/nexmark/`: `ddl.sql` and `q*.sql`) or the reference
//! suite's own templates (`ddl_gen.sql`, `ddl_views.sql`, `q*.sql` with
//! `${...}` placeholders), read unchanged and filled in here.

use std::path::{Path, PathBuf};

/// What the placeholders and the source options are filled with.
#[derive(Debug, Clone)]
pub struct Params {
    /// `events.num` (and `${EVENTS_NUM}`).
    pub events: u64,
    /// `first-event.rate` / `next-event.rate` (and `${TPS}`).
    pub tps: u64,
    /// Where q10 writes and q13's side input lives.
    pub work_dir: PathBuf,
}

/// The source table and views, with every placeholder filled and the
/// source's size and rate set from `params`.
pub fn source_ddl(dir: &Path, params: &Params) -> Result<String, String> {
    let own = dir.join("ddl.sql");
    let text = if own.exists() {
        read(&own)?
    } else {
        format!(
            "{}\n\n{}",
            read(&dir.join("ddl_gen.sql"))?.trim_end(),
            read(&dir.join("ddl_views.sql"))?
        )
    };
    let mut sql = fill(&text, params)?;
    for key in ["first-event.rate", "next-event.rate"] {
        sql = set_option(&sql, key, &params.tps.to_string());
    }
    Ok(set_option(&sql, "events.num", &params.events.to_string()))
}

/// Query `name` (`q0` ...), placeholders filled.
pub fn query(dir: &Path, name: &str, params: &Params) -> Result<String, String> {
    fill(&read(&dir.join(format!("{name}.sql")))?, params)
}

/// The queries of a suite directory (`q0`, `q1`, ... in numeric order).
pub fn query_names(dir: &Path) -> Result<Vec<String>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut numbers: Vec<u32> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.strip_prefix('q')?.strip_suffix(".sql")?.parse().ok()
        })
        .collect();
    numbers.sort_unstable();
    Ok(numbers.into_iter().map(|n| format!("q{n}")).collect())
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Replaces the reference runner's `${...}` placeholders; an unknown one is
/// an error naming it.
pub fn fill(sql: &str, params: &Params) -> Result<String, String> {
    let work = params.work_dir.display().to_string();
    let submit = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let value = |key: &str| -> Option<String> {
        Some(match key {
            "TPS" => params.tps.to_string(),
            "EVENTS_NUM" => params.events.to_string(),
            "PERSON_PROPORTION" => "1".into(),
            "AUCTION_PROPORTION" => "3".into(),
            "BID_PROPORTION" => "46".into(),
            "NEXMARK_TABLE" => "datagen".into(),
            "KEEP_ALIVE" => "false".into(),
            "STOP_AT" => "-1".into(),
            "BOOTSTRAP_SERVERS" => "localhost:9092".into(),
            "NEXMARK_DIR" => work.clone(),
            "SUBMIT_TIME" => submit.to_string(),
            "FLINK_HOME" => format!("{work}/flink-home"),
            _ => return None,
        })
    };
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unterminated placeholder at '{}'", &rest[start..]))?;
        let key = &after[..end];
        out.push_str(&value(key).ok_or_else(|| format!("unknown placeholder ${{{key}}}"))?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Sets the value of every `'key' = '...'` option in `sql`.
pub fn set_option(sql: &str, key: &str, value: &str) -> String {
    let needle = format!("'{key}'");
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(i) = rest.find(&needle) {
        let head = i + needle.len();
        out.push_str(&rest[..head]);
        let after = &rest[head..];
        let eq = after.trim_start();
        let replaced = eq.strip_prefix('=').and_then(|v| {
            let v = v.trim_start();
            let body = v.strip_prefix('\'')?;
            let close = body.find('\'')?;
            let skipped = after.len() - body.len() + close + 1;
            Some((skipped, &after[..after.len() - v.len()]))
        });
        match replaced {
            Some((skipped, between)) => {
                out.push_str(between);
                out.push('\'');
                out.push_str(value);
                out.push('\'');
                rest = &after[skipped..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

/// Writes q13's side input (10,000 lines `i,i`, as the reference's
/// `SideInputGenerator`) where both suite forms look for it, and clears
/// q10's previous output.
pub fn prepare_work_dir(work_dir: &Path) -> Result<(), String> {
    let text: String = (0..10_000).map(|i| format!("{i},{i}\n")).collect();
    let legacy = work_dir.join("flink-home").join("data");
    for dir in [work_dir.to_path_buf(), legacy] {
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(dir.join("side_input.txt"), &text))
            .map_err(|e| format!("cannot write the side input under {}: {e}", dir.display()))?;
    }
    for old in ["q10", "data"] {
        let _ = std::fs::remove_dir_all(work_dir.join(old));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Params {
        Params {
            events: 500,
            tps: 1000,
            work_dir: PathBuf::from("/w"),
        }
    }

    #[test]
    fn fills_placeholders_and_rejects_unknown_ones() {
        let sql = "FROM ${NEXMARK_TABLE} 'events.num' = '${EVENTS_NUM}', '${TPS}' ${FLINK_HOME}";
        assert_eq!(
            fill(sql, &params()).unwrap(),
            "FROM datagen 'events.num' = '500', '1000' /w/flink-home"
        );
        let err = fill("a ${NOPE} b", &params()).unwrap_err();
        assert!(err.contains("${NOPE}"), "{err}");
    }

    #[test]
    fn sets_option_values() {
        let sql =
            "WITH ('events.num'='10', 'x' = 'y',\n 'events.num' =  '7', 'events.num.x' = '1')";
        assert_eq!(
            set_option(sql, "events.num", "99"),
            "WITH ('events.num'='99', 'x' = 'y',\n 'events.num' =  '99', 'events.num.x' = '1')"
        );
        assert_eq!(
            set_option("'events.num' ,", "events.num", "1"),
            "'events.num' ,"
        );
    }

    fn suite_dir(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
    }

    #[test]
    fn reads_our_suite() {
        let dir = suite_dir("sql-examples/nexmark");
        let names = query_names(&dir).unwrap();
        assert_eq!(names.first().map(String::as_str), Some("q0"));
        assert_eq!(names.len(), 24);
        let ddl = source_ddl(&dir, &params()).unwrap();
        assert!(ddl.contains("'events.num' = '500'"), "{ddl}");
        assert!(ddl.contains("'first-event.rate' = '1000'"), "{ddl}");
        assert!(ddl.contains("CREATE VIEW bid"));
        for n in &names {
            query(&dir, n, &params()).unwrap();
        }
    }
}
