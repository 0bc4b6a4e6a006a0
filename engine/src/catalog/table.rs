//! A table as the catalog keeps it once its options are validated.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::ast::Expr as SqlExpr;

use crate::connector::{ConnectorTable, MetadataColumn};
use crate::sql::types::FlinkType;
use crate::sql::{CreateTable, WatermarkDef};

/// How a column gets its value.
#[derive(Debug, Clone)]
pub enum ColumnSource {
    /// Stored by the connector.
    Physical,
    /// `c AS expr`, computed on read.
    Computed(Box<SqlExpr>),
    /// `c T METADATA [FROM 'key'] [VIRTUAL]`.
    Metadata { key: String, is_virtual: bool },
}

/// One column of a catalog table.
#[derive(Debug, Clone)]
pub struct TableColumn {
    pub name: String,
    pub data_type: FlinkType,
    pub source: ColumnSource,
    pub comment: Option<String>,
}

/// A table with validated options and its connector half.
#[derive(Debug, Clone)]
pub struct CatalogTable {
    pub name: String,
    /// The DDL after `LIKE` was merged in, for SHOW CREATE TABLE.
    pub ddl: CreateTable,
    pub columns: Vec<TableColumn>,
    pub connector_name: String,
    /// Every WITH option, including `connector`.
    pub options: BTreeMap<String, String>,
    pub connector: Arc<dyn ConnectorTable>,
    pub primary_key: Vec<String>,
    pub watermark: Option<WatermarkDef>,
    pub temporary: bool,
    /// When the table has computed columns: the projection over the raw scan
    /// that computes them (planned once, at CREATE TABLE).
    pub computed_plan: Option<LogicalPlan>,
}

impl CatalogTable {
    /// Columns the connector reads: physical and metadata, in order.
    pub fn scan_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .filter(|c| !matches!(c.source, ColumnSource::Computed(_)))
                .map(|c| Field::new(&c.name, c.data_type.to_arrow(), c.data_type.nullable))
                .collect::<Vec<_>>(),
        ))
    }

    /// Metadata columns, for the connector.
    pub fn metadata_columns(&self) -> Vec<MetadataColumn> {
        metadata_columns(&self.columns)
    }
}

/// The metadata columns among `columns`.
pub fn metadata_columns(columns: &[TableColumn]) -> Vec<MetadataColumn> {
    columns
        .iter()
        .filter_map(|c| match &c.source {
            ColumnSource::Metadata { key, is_virtual } => Some(MetadataColumn {
                name: c.name.clone(),
                key: key.clone(),
                data_type: c.data_type.to_arrow(),
                is_virtual: *is_virtual,
            }),
            _ => None,
        })
        .collect()
}

/// A view: its query, planned when it was created.
#[derive(Debug)]
pub struct CatalogView {
    pub name: String,
    /// The query as written, for SHOW CREATE VIEW.
    pub query_sql: String,
    pub plan: LogicalPlan,
    pub temporary: bool,
}
