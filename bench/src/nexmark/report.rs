//! The results table, and the section of `docs/benchmarks.md` that
//! `--all` rewrites.

use std::path::Path;

use super::run::{Outcome, Status};

const BEGIN: &str = "<!-- nexmark:begin -->";
const END: &str = "<!-- nexmark:end -->";

/// A markdown table of `outcomes`, each beside the ceiling's events/s.
pub fn table(outcomes: &[Outcome], ceiling: Option<&Outcome>) -> String {
    let ceiling_rate = ceiling
        .filter(|c| c.status == Status::Ok)
        .map(Outcome::events_per_sec);
    let mut out = String::from(
        "| query | status | seconds | events/s | cores | events/s per core | \
         peak RSS (MB) | first output (ms) | rows out | of ceiling |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for o in outcomes {
        let rss = o.peak_rss_bytes.map_or("-".into(), |b| {
            format!("{:.0}", b as f64 / (1 << 20) as f64)
        });
        match &o.status {
            Status::Ok => {
                let first = o
                    .first_output_secs
                    .map_or("-".into(), |s| format!("{:.1}", s * 1e3));
                let fraction = ceiling_rate.map_or("-".into(), |c| {
                    format!("{:.0}%", 100.0 * o.events_per_sec() / c)
                });
                out.push_str(&format!(
                    "| {} | ok | {:.3} | {:.0} | {:.2} | {:.0} | {rss} | {first} | {} | {fraction} |\n",
                    o.name,
                    o.wall_secs,
                    o.events_per_sec(),
                    o.cores(),
                    o.events_per_core_sec(),
                    o.rows_out,
                ));
            }
            Status::NotSupported(m) | Status::Failed(m) => {
                out.push_str(&format!(
                    "| {} | {} | - | - | - | - | {rss} | - | - | - |\n",
                    o.name,
                    escape(&shorten(m, 160))
                ));
            }
        }
    }
    out
}

/// The status cell: the message's first sentence-ish part.
fn shorten(m: &str, max: usize) -> String {
    let m = m.trim();
    if m.chars().count() <= max {
        return m.to_string();
    }
    let cut: String = m.chars().take(max).collect();
    format!("{cut}…")
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Replaces the Nexmark section of `path` (between the markers) with
/// `section`, or appends it when the file has none.
pub fn write_section(path: &Path, section: &str) -> std::io::Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{BEGIN}\n{}\n{END}\n", section.trim_end());
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if e > b => {
            format!(
                "{}{block}{}",
                &old[..b],
                old[e + END.len()..].trim_start_matches('\n')
            )
        }
        _ if old.is_empty() => block,
        _ => format!("{}\n\n{block}", old.trim_end()),
    };
    std::fs::write(path, new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(name: &str, status: Status, wall: f64) -> Outcome {
        Outcome {
            name: name.into(),
            status,
            events: 1000,
            wall_secs: wall,
            cpu_secs: wall * 2.0,
            peak_rss_bytes: Some(50 << 20),
            first_output_secs: Some(0.0125),
            rows_out: 920,
        }
    }

    #[test]
    fn table_reads_each_figure_against_the_ceiling() {
        let ceiling = outcome("ceiling", Status::Ok, 0.5);
        let rows = [
            ceiling.clone(),
            outcome("q0", Status::Ok, 1.0),
            outcome(
                "q3",
                Status::NotSupported("not supported yet: joins | x".into()),
                0.0,
            ),
        ];
        let t = table(&rows, Some(&ceiling));
        assert!(
            t.contains("| q0 | ok | 1.000 | 1000 | 2.00 | 500 | 50 | 12.5 | 920 | 50% |"),
            "{t}"
        );
        assert!(t.contains("| ceiling | ok | 0.500 | 2000 |"), "{t}");
        assert!(
            t.contains("| q3 | not supported yet: joins \\| x | - |"),
            "{t}"
        );
    }

    #[test]
    fn the_section_is_replaced_in_place() {
        let dir = std::env::temp_dir().join(format!("sluice-bench-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("benchmarks.md");
        std::fs::write(&path, "# Benchmarks\n\nmicro figures\n").unwrap();
        write_section(&path, "first").unwrap();
        write_section(&path, "second").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            format!("# Benchmarks\n\nmicro figures\n\n{BEGIN}\nsecond\n{END}\n")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
