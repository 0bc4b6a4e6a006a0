//! The engine's error type. Every error a user can see says what is wrong and
//! where: a SQL position, an option key, a column, or a row.

use datafusion::arrow::error::ArrowError;
use datafusion::error::DataFusionError;

/// Result alias used throughout the engine and by connectors.
pub type Result<T, E = SluiceError> = std::result::Result<T, E>;

/// A position in SQL text, 1-based like every editor shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Line, starting at 1.
    pub line: u64,
    /// Column, starting at 1.
    pub column: u64,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Everything that can go wrong in Sluice, grouped by the layer that noticed.
#[derive(Debug, thiserror::Error)]
pub enum SluiceError {
    /// The SQL text does not parse.
    #[error("SQL parse error at {position}: {message}")]
    Parse { position: Position, message: String },
    /// The SQL text parses but is not valid (unknown table, type mismatch ...).
    #[error("{0}")]
    Plan(String),
    /// The statement is valid Flink SQL that Sluice does not run yet.
    #[error("not supported yet: {0}")]
    NotSupported(String),
    /// A table's WITH options are wrong.
    #[error("table '{table}': {message}")]
    Options { table: String, message: String },
    /// A catalog object is missing or already exists.
    #[error("{0}")]
    Catalog(String),
    /// A connector failed while reading or writing.
    #[error("connector '{connector}': {message}")]
    Connector { connector: String, message: String },
    /// A record could not be decoded or encoded.
    #[error("{0}")]
    Format(String),
    /// A running job failed.
    #[error("{0}")]
    Execution(String),
    /// An operator's state snapshot cannot be restored.
    #[error("operator state: {0}")]
    State(String),
    /// The job was cancelled (STOP JOB, Ctrl-C).
    #[error("job was cancelled")]
    Cancelled,
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    DataFusion(Box<DataFusionError>),
    #[error("Arrow error: {0}")]
    Arrow(#[from] ArrowError),
}

impl From<DataFusionError> for SluiceError {
    fn from(e: DataFusionError) -> Self {
        // DataFusion wraps our own errors when they cross its APIs; unwrap them
        // so users see one message, not a chain of prefixes.
        match e {
            DataFusionError::External(inner) => match inner.downcast::<SluiceError>() {
                Ok(ours) => *ours,
                Err(other) => SluiceError::DataFusion(Box::new(DataFusionError::External(other))),
            },
            DataFusionError::Plan(msg) => SluiceError::Plan(msg),
            DataFusionError::SchemaError(e, _) => SluiceError::Plan(e.to_string()),
            DataFusionError::NotImplemented(msg) => SluiceError::NotSupported(msg),
            DataFusionError::ArrowError(e, _) => SluiceError::Arrow(*e),
            DataFusionError::Context(ctx, inner) => {
                let inner: SluiceError = (*inner).into();
                SluiceError::Plan(format!("{ctx}: {inner}"))
            }
            other => SluiceError::DataFusion(Box::new(other)),
        }
    }
}

impl SluiceError {
    /// A planning error.
    pub fn plan(msg: impl Into<String>) -> Self {
        SluiceError::Plan(msg.into())
    }
    /// A feature Sluice does not have yet.
    pub fn not_supported(what: impl Into<String>) -> Self {
        SluiceError::NotSupported(what.into())
    }
    /// A connector failure.
    pub fn connector(connector: impl Into<String>, message: impl Into<String>) -> Self {
        SluiceError::Connector {
            connector: connector.into(),
            message: message.into(),
        }
    }
    /// An execution failure.
    pub fn execution(msg: impl Into<String>) -> Self {
        SluiceError::Execution(msg.into())
    }
    /// A state snapshot that does not fit the operator restoring it.
    pub fn state(msg: impl Into<String>) -> Self {
        SluiceError::State(msg.into())
    }
    /// Turns this into a DataFusion error without losing it: `From` above
    /// unwraps it again.
    pub fn into_datafusion(self) -> DataFusionError {
        DataFusionError::External(Box::new(self))
    }
}
