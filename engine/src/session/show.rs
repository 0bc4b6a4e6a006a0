//! SHOW and DESCRIBE: small tables of strings, in Flink's column names.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use super::{Session, StatementResult};
use crate::catalog::{Catalog, ColumnSource, DEFAULT_CATALOG, DEFAULT_DATABASE, show_create_table};
use crate::error::{Result, SluiceError};
use crate::sql::ShowKind;
use crate::sql::types::FlinkType;

/// A table of strings with the given column names.
pub(super) fn string_table(columns: &[&str], rows: Vec<Vec<String>>) -> StatementResult {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(*c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = (0..columns.len())
        .map(|i| {
            Arc::new(StringArray::from_iter(
                rows.iter().map(|r| r.get(i).map(|s| s.as_str())),
            )) as ArrayRef
        })
        .collect();
    let batches = match RecordBatch::try_new(schema.clone(), arrays) {
        Ok(b) if b.num_rows() > 0 => vec![b],
        _ => vec![],
    };
    StatementResult::Rows { schema, batches }
}

/// `SET;`: every option set in the session.
pub(super) fn key_values(entries: Vec<(String, String)>) -> StatementResult {
    string_table(
        &["key", "value"],
        entries.into_iter().map(|(k, v)| vec![k, v]).collect(),
    )
}

fn one_column(name: &str, values: Vec<String>) -> StatementResult {
    string_table(&[name], values.into_iter().map(|v| vec![v]).collect())
}

impl Session {
    pub(super) fn show(&self, kind: ShowKind) -> Result<StatementResult> {
        Ok(match kind {
            ShowKind::Tables => one_column("table name", self.catalog().table_names()),
            ShowKind::Views => one_column("view name", self.catalog().view_names()),
            ShowKind::Functions { user_only } => one_column(
                "function name",
                if user_only {
                    self.user_function_names()
                } else {
                    self.function_names()
                },
            ),
            ShowKind::Jobs => {
                let rows = self
                    .jobs()
                    .list()
                    .iter()
                    .map(|j| {
                        let start: DateTime<Utc> = j.start_time.into();
                        vec![
                            j.id.clone(),
                            j.name.clone(),
                            j.status().name().to_string(),
                            start.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
                        ]
                    })
                    .collect();
                string_table(&["job id", "job name", "status", "start time"], rows)
            }
            ShowKind::CreateTable(name) => {
                let name = crate::catalog::resolve_name(&name)?;
                let catalog = self.catalog();
                match catalog.table(&name) {
                    Some(t) => StatementResult::Explain(show_create_table(&t)),
                    None if catalog.view(&name).is_some() => {
                        return Err(SluiceError::plan(format!(
                            "'{name}' is a view; use SHOW CREATE VIEW {name}"
                        )));
                    }
                    None => return Err(Catalog::not_found(&name)),
                }
            }
            ShowKind::CreateView(name) => {
                let name = crate::catalog::resolve_name(&name)?;
                let catalog = self.catalog();
                match catalog.view(&name) {
                    Some(v) => StatementResult::Explain(format!(
                        "CREATE {}VIEW `{DEFAULT_CATALOG}`.`{DEFAULT_DATABASE}`.`{}` AS\n{}\n",
                        if v.temporary { "TEMPORARY " } else { "" },
                        v.name,
                        v.query_sql
                    )),
                    None => return Err(Catalog::not_found(&name)),
                }
            }
            ShowKind::Catalogs => one_column("catalog name", vec![DEFAULT_CATALOG.into()]),
            ShowKind::Databases => one_column("database name", vec![DEFAULT_DATABASE.into()]),
            ShowKind::CurrentCatalog => {
                one_column("current catalog name", vec![DEFAULT_CATALOG.into()])
            }
            ShowKind::CurrentDatabase => {
                one_column("current database name", vec![DEFAULT_DATABASE.into()])
            }
        })
    }

    /// `DESCRIBE t`: Flink's columns name, type, null, key, extras, watermark.
    pub(super) fn describe(&self, name: &str) -> Result<StatementResult> {
        let catalog = self.catalog();
        let header = ["name", "type", "null", "key", "extras", "watermark"];
        if let Some(t) = catalog.table(name) {
            let pk = if t.primary_key.is_empty() {
                String::new()
            } else {
                format!("PRI({})", t.primary_key.join(", "))
            };
            let rows = t
                .columns
                .iter()
                .map(|c| {
                    let mut ty = FlinkType {
                        nullable: true,
                        ..c.data_type.clone()
                    }
                    .to_string();
                    let is_rowtime = t
                        .watermark
                        .as_ref()
                        .is_some_and(|w| w.column.value == c.name);
                    if is_rowtime {
                        ty.push_str(" *ROWTIME*");
                    }
                    let extras = match &c.source {
                        ColumnSource::Physical => String::new(),
                        ColumnSource::Computed(e) => {
                            if e.to_string().eq_ignore_ascii_case("PROCTIME()") {
                                ty.push_str(" *PROCTIME*");
                            }
                            format!("AS {e}")
                        }
                        ColumnSource::Metadata { key, is_virtual } => {
                            let mut s = "METADATA".to_string();
                            if key != &c.name {
                                s.push_str(&format!(" FROM '{key}'"));
                            }
                            if *is_virtual {
                                s.push_str(" VIRTUAL");
                            }
                            s
                        }
                    };
                    let watermark = match &t.watermark {
                        Some(w) if is_rowtime => w.expr.to_string(),
                        _ => String::new(),
                    };
                    vec![
                        c.name.clone(),
                        ty,
                        if c.data_type.nullable {
                            "TRUE"
                        } else {
                            "FALSE"
                        }
                        .to_string(),
                        if t.primary_key.contains(&c.name) {
                            pk.clone()
                        } else {
                            String::new()
                        },
                        extras,
                        watermark,
                    ]
                })
                .collect();
            return Ok(string_table(&header, rows));
        }
        if let Some(v) = catalog.view(name) {
            let rows = v
                .plan
                .schema()
                .fields()
                .iter()
                .map(|f| {
                    vec![
                        f.name().clone(),
                        FlinkType::from_arrow(f.data_type(), true).to_string(),
                        if f.is_nullable() { "TRUE" } else { "FALSE" }.to_string(),
                        String::new(),
                        String::new(),
                        String::new(),
                    ]
                })
                .collect();
            return Ok(string_table(&header, rows));
        }
        Err(Catalog::not_found(name))
    }

    /// `DESCRIBE JOB 'id'`: the job's state and each operator's counters.
    pub(super) fn describe_job(&self, id: &str) -> Result<StatementResult> {
        let Some(job) = self.jobs().get(id) else {
            return Err(SluiceError::plan(format!(
                "Could not find a job with id '{id}'"
            )));
        };
        let status = job.status();
        let mut rows = Vec::new();
        for op in job.operators.lock().expect("operators poisoned").iter() {
            let m = op.metrics.snapshot();
            rows.push(vec![
                op.name.clone(),
                m.rows_in.to_string(),
                m.rows_out.to_string(),
                m.records_skipped.to_string(),
                m.late_rows_dropped.to_string(),
                if m.flushes == 0 {
                    String::new()
                } else {
                    format!(
                        "{} rows in {} flushes, avg {:.1} ms, max {:.1} ms",
                        m.rows_written,
                        m.flushes,
                        m.flush_micros_total as f64 / m.flushes as f64 / 1000.0,
                        m.flush_micros_max as f64 / 1000.0
                    )
                },
            ]);
        }
        if let crate::runtime::JobStatus::Failed(e) = &status {
            rows.push(vec![
                format!("FAILED: {e}"),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
        Ok(string_table(
            &[
                "operator",
                "rows in",
                "rows out",
                "records skipped",
                "late rows dropped",
                "sink flushes",
            ],
            rows,
        ))
    }
}
