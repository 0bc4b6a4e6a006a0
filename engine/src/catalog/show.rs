//! `SHOW CREATE TABLE`: the DDL back, with secrets masked.

use super::options::{MASK, is_secret_key};
use super::table::{CatalogTable, ColumnSource};

fn quote(s: &str) -> String {
    s.replace('\'', "''")
}

/// The table's DDL as Flink prints it, with every secret option masked.
pub fn show_create_table(t: &CatalogTable) -> String {
    let mut lines = Vec::new();
    for c in &t.columns {
        let mut l = format!("  `{}` ", c.name);
        match &c.source {
            ColumnSource::Physical => l.push_str(&c.data_type.to_string()),
            ColumnSource::Computed(e) => l.push_str(&format!("AS {e}")),
            ColumnSource::Metadata { key, is_virtual } => {
                l.push_str(&format!("{} METADATA", c.data_type));
                if *key != c.name {
                    l.push_str(&format!(" FROM '{}'", quote(key)));
                }
                if *is_virtual {
                    l.push_str(" VIRTUAL");
                }
            }
        }
        if let Some(cm) = &c.comment {
            l.push_str(&format!(" COMMENT '{}'", quote(cm)));
        }
        lines.push(l);
    }
    if let Some(w) = &t.watermark {
        lines.push(format!(
            "  WATERMARK FOR `{}` AS {}",
            w.column.value, w.expr
        ));
    }
    if !t.primary_key.is_empty() {
        let cols: Vec<String> = t.primary_key.iter().map(|c| format!("`{c}`")).collect();
        lines.push(format!("  PRIMARY KEY ({}) NOT ENFORCED", cols.join(", ")));
    }
    let mut out = format!(
        "CREATE {}TABLE `default_catalog`.`default_database`.`{}` (\n{}\n)",
        if t.temporary { "TEMPORARY " } else { "" },
        t.name,
        lines.join(",\n")
    );
    if let Some(c) = &t.ddl.comment {
        out.push_str(&format!("\nCOMMENT '{}'", quote(c)));
    }
    if !t.ddl.partitioned_by.is_empty() {
        let cols: Vec<String> = t
            .ddl
            .partitioned_by
            .iter()
            .map(|c| format!("`{}`", c.value))
            .collect();
        out.push_str(&format!("\nPARTITIONED BY ({})", cols.join(", ")));
    }
    let opts: Vec<String> = t
        .options
        .iter()
        .map(|(k, v)| {
            let v = if is_secret_key(k) { MASK } else { v.as_str() };
            format!("  '{}' = '{}'", quote(k), quote(v))
        })
        .collect();
    out.push_str(&format!("\nWITH (\n{}\n)\n", opts.join(",\n")));
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::connector::{ConnectorTable, SinkTable, SourceTable};
    use crate::sql::parse_sql;
    use crate::sql::{FlinkStatement, types::FlinkType, types::FlinkTypeKind};

    #[derive(Debug)]
    struct NoConnector;
    impl ConnectorTable for NoConnector {
        fn source(&self) -> Option<Arc<dyn SourceTable>> {
            None
        }
        fn sink(&self) -> Option<Arc<dyn SinkTable>> {
            None
        }
    }

    #[test]
    fn secrets_are_masked() {
        let sql = "CREATE TABLE t (a INT) WITH ('connector' = 'x', 'password' = 'hunter2', \
                   'properties.sasl.jaas.config' = 'secret-config', 'url' = 'u')";
        let Some(FlinkStatement::CreateTable(ct)) = parse_sql(sql).unwrap().pop() else {
            panic!("a CREATE TABLE");
        };
        let options: BTreeMap<String, String> = ct.option_map();
        let t = super::super::CatalogTable {
            name: "t".into(),
            ddl: (*ct).clone(),
            columns: vec![super::super::TableColumn {
                name: "a".into(),
                data_type: FlinkType::nullable(FlinkTypeKind::Int),
                source: ColumnSource::Physical,
                comment: None,
            }],
            connector_name: "x".into(),
            options,
            connector: Arc::new(NoConnector),
            primary_key: vec![],
            watermark: None,
            temporary: false,
            computed_plan: None,
        };
        let ddl = show_create_table(&t);
        assert!(!ddl.contains("hunter2"), "{ddl}");
        assert!(!ddl.contains("secret-config"), "{ddl}");
        assert!(ddl.contains("'password' = '******'"), "{ddl}");
        assert!(ddl.contains("'url' = 'u'"), "{ddl}");
    }
}
