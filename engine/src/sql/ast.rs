//! Sluice's own statement enum: stock sqlparser statements for queries and
//! INSERT, plus the Flink statements sqlparser does not know.

use std::collections::BTreeMap;

use datafusion::sql::sqlparser::ast::{Expr, Ident, ObjectName, Query, Statement};

use super::types::FlinkType;
use crate::error::Position;

/// A parsed Flink SQL statement.
#[derive(Debug, Clone)]
pub enum FlinkStatement {
    CreateTable(Box<CreateTable>),
    CreateView(Box<CreateView>),
    /// `CREATE [TEMPORARY] [SYSTEM] FUNCTION`.
    CreateFunction(Box<CreateFunction>),
    /// `DROP [TEMPORARY] [SYSTEM] FUNCTION [IF EXISTS] f`.
    DropFunction {
        name: ObjectName,
        if_exists: bool,
    },
    /// `DESCRIBE FUNCTION [EXTENDED] f`.
    DescribeFunction {
        name: ObjectName,
        extended: bool,
    },
    DropTable {
        name: ObjectName,
        if_exists: bool,
    },
    DropView {
        name: ObjectName,
        if_exists: bool,
    },
    /// `SET 'k' = 'v'`, or `SET;` (key `None`) to list options.
    Set {
        key: Option<String>,
        value: Option<String>,
    },
    /// `RESET ['k']`.
    Reset(Option<String>),
    Show(ShowKind),
    /// `DESCRIBE t` / `DESC t`.
    Describe(ObjectName),
    /// `DESCRIBE JOB '<id>'`.
    DescribeJob(String),
    Explain(Box<FlinkStatement>),
    /// A `SELECT`/`VALUES`/`WITH` query, with the Flink table hints found in it.
    Query {
        query: Box<Query>,
        hints: Vec<TableHint>,
    },
    /// `INSERT INTO`, as sqlparser parsed it, with its table hints.
    Insert {
        statement: Box<Statement>,
        hints: Vec<TableHint>,
    },
    /// `EXECUTE STATEMENT SET BEGIN INSERT ..; INSERT ..; END`.
    StatementSet(Vec<FlinkStatement>),
    /// `STOP JOB '<id>' [WITH SAVEPOINT] [WITH DRAIN]`.
    StopJob {
        id: String,
        with_savepoint: bool,
    },
}

/// `CREATE [TEMPORARY] [SYSTEM] FUNCTION [IF NOT EXISTS] f AS 'symbol'
/// [LANGUAGE l] [USING LIBRARY '..' | USING JAR '..']`.
#[derive(Debug, Clone)]
pub struct CreateFunction {
    pub name: ObjectName,
    pub temporary: bool,
    pub system: bool,
    pub if_not_exists: bool,
    /// The `AS` string: the symbol the library exports.
    pub symbol: String,
    /// `LANGUAGE ..`, upper-cased.
    pub language: Option<String>,
    pub using: Option<FunctionResource>,
    pub position: Position,
}

/// Where a created function's code comes from.
#[derive(Debug, Clone)]
pub enum FunctionResource {
    /// `USING LIBRARY 'path'`: a Sluice plugin.
    Library(String),
    /// Flink's `USING JAR 'path'`, which Sluice cannot run.
    Jar(String),
}

/// What `SHOW` lists.
#[derive(Debug, Clone)]
pub enum ShowKind {
    Tables,
    Views,
    /// `SHOW [USER] FUNCTIONS`.
    Functions {
        user_only: bool,
    },
    Jobs,
    CreateTable(ObjectName),
    CreateView(ObjectName),
    Catalogs,
    Databases,
    CurrentCatalog,
    CurrentDatabase,
}

/// `CREATE [TEMPORARY] TABLE`.
#[derive(Debug, Clone)]
pub struct CreateTable {
    pub name: ObjectName,
    pub temporary: bool,
    pub if_not_exists: bool,
    pub columns: Vec<ColumnDef>,
    pub watermark: Option<WatermarkDef>,
    pub primary_key: Option<PrimaryKey>,
    pub comment: Option<String>,
    pub partitioned_by: Vec<Ident>,
    /// WITH options in the order written.
    pub options: Vec<(String, String)>,
    pub like: Option<LikeClause>,
    pub position: Position,
}

impl CreateTable {
    /// The options as a map (later keys win, as in Flink).
    pub fn option_map(&self) -> BTreeMap<String, String> {
        self.options.iter().cloned().collect()
    }
}

/// One column of a `CREATE TABLE`.
#[derive(Debug, Clone)]
pub struct ColumnDef {
    pub name: Ident,
    pub kind: ColumnKind,
    pub comment: Option<String>,
    pub position: Position,
}

/// Physical, computed or metadata column.
#[derive(Debug, Clone)]
pub enum ColumnKind {
    Physical(FlinkType),
    /// `c AS expr`.
    Computed(Box<Expr>),
    /// `c T METADATA [FROM 'key'] [VIRTUAL]`.
    Metadata {
        data_type: FlinkType,
        key: Option<String>,
        is_virtual: bool,
    },
}

/// `WATERMARK FOR c AS expr`.
#[derive(Debug, Clone)]
pub struct WatermarkDef {
    pub column: Ident,
    pub expr: Expr,
}

/// `PRIMARY KEY (..) NOT ENFORCED`.
#[derive(Debug, Clone)]
pub struct PrimaryKey {
    pub columns: Vec<Ident>,
    pub position: Position,
}

/// `LIKE source [(INCLUDING|EXCLUDING|OVERWRITING ALL|OPTIONS|..)]`.
#[derive(Debug, Clone)]
pub struct LikeClause {
    pub source: ObjectName,
    pub options: Vec<LikeOption>,
}

/// One `LIKE` merging option, e.g. `EXCLUDING OPTIONS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LikeOption {
    /// `INCLUDING`, `EXCLUDING` or `OVERWRITING`.
    pub strategy: String,
    /// `ALL`, `CONSTRAINTS`, `GENERATED`, `METADATA`, `OPTIONS`, `PARTITIONS`,
    /// `WATERMARKS`.
    pub feature: String,
}

/// `CREATE [TEMPORARY] VIEW`.
#[derive(Debug, Clone)]
pub struct CreateView {
    pub name: ObjectName,
    pub temporary: bool,
    pub if_not_exists: bool,
    pub columns: Vec<Ident>,
    pub comment: Option<String>,
    pub query: Box<Query>,
    pub hints: Vec<TableHint>,
}

/// A `/*+ OPTIONS('k'='v') */` hint on a table reference. The parser renames
/// the reference to `alias_name` (keeping the original name as its alias) so
/// the planner can give that one reference its own options.
#[derive(Debug, Clone)]
pub struct TableHint {
    /// The name the reference was renamed to.
    pub alias_name: String,
    /// The table named in the query.
    pub table: ObjectName,
    pub options: Vec<(String, String)>,
    pub position: Position,
}
