//! The catalog: tables, views and functions a session knows. Sluice has one
//! catalog (`default_catalog`) with one database (`default_database`), like a
//! fresh Flink session.

mod options;
mod show;
mod table;

pub use options::{ConnectorOptions, MASK, is_secret_key, parse_duration, parse_memory_size};
pub use show::show_create_table;
pub use table::{CatalogTable, CatalogView, ColumnSource, TableColumn, metadata_columns};

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::sql::sqlparser::ast::{ObjectName, ObjectNamePart};

use crate::error::{Result, SluiceError};

/// Flink's default catalog name.
pub const DEFAULT_CATALOG: &str = "default_catalog";
/// Flink's default database name.
pub const DEFAULT_DATABASE: &str = "default_database";

/// Tables and views by name (names are case-sensitive, as in Flink).
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    tables: BTreeMap<String, Arc<CatalogTable>>,
    views: BTreeMap<String, Arc<CatalogView>>,
}

/// The object-name part Sluice resolves: `t`, `default_database.t` and
/// `default_catalog.default_database.t` all name `t`.
pub fn resolve_name(name: &ObjectName) -> Result<String> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => Ok(i.value.clone()),
            other => Err(SluiceError::plan(format!(
                "unsupported object name part {other}"
            ))),
        })
        .collect::<Result<_>>()?;
    match parts.as_slice() {
        [t] => Ok(t.clone()),
        [db, t] if db == DEFAULT_DATABASE => Ok(t.clone()),
        [c, db, t] if c == DEFAULT_CATALOG && db == DEFAULT_DATABASE => Ok(t.clone()),
        _ => Err(SluiceError::Catalog(format!(
            "object '{name}' not found: Sluice has only {DEFAULT_CATALOG}.{DEFAULT_DATABASE}"
        ))),
    }
}

impl Catalog {
    pub fn table(&self, name: &str) -> Option<Arc<CatalogTable>> {
        self.tables.get(name).cloned()
    }
    pub fn view(&self, name: &str) -> Option<Arc<CatalogView>> {
        self.views.get(name).cloned()
    }
    pub fn exists(&self, name: &str) -> bool {
        self.tables.contains_key(name) || self.views.contains_key(name)
    }
    pub fn add_table(&mut self, t: CatalogTable) {
        self.tables.insert(t.name.clone(), Arc::new(t));
    }
    pub fn add_view(&mut self, v: CatalogView) {
        self.views.insert(v.name.clone(), Arc::new(v));
    }
    pub fn drop_table(&mut self, name: &str) -> bool {
        self.tables.remove(name).is_some()
    }
    pub fn drop_view(&mut self, name: &str) -> bool {
        self.views.remove(name).is_some()
    }
    /// Table names, sorted.
    pub fn table_names(&self) -> Vec<String> {
        self.tables.keys().cloned().collect()
    }
    /// View names, sorted.
    pub fn view_names(&self) -> Vec<String> {
        self.views.keys().cloned().collect()
    }
    /// An error for a name that is neither a table nor a view.
    pub fn not_found(name: &str) -> SluiceError {
        SluiceError::Catalog(format!(
            "Object '{name}' not found within '{DEFAULT_CATALOG}.{DEFAULT_DATABASE}'"
        ))
    }
}
