//! Errors raised inside connectors and formats.

use sluice_engine::SluiceError;

/// A connector or format failure, converted into the engine's error at the
/// trait boundary.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// A record could not be decoded; `location` is e.g. `file /x.json, line 3`.
    #[error("malformed record at {location}: {reason}")]
    Malformed { location: String, reason: String },
    /// A row could not be encoded in the table's format (e.g. a value the
    /// format has no representation for).
    #[error("cannot encode a row as {format}: {reason}")]
    Encode {
        format: &'static str,
        reason: String,
    },
    /// An append-only format received an update or delete: writing it as a
    /// plain row would silently turn a retraction into an insert.
    #[error(
        "format '{format}' is append-only and cannot write a {kind} row; \
         write an updating query to an upsert or changelog sink instead"
    )]
    UpdatingRow {
        format: &'static str,
        kind: &'static str,
    },
    /// Valid Flink behaviour that Sluice does not implement yet.
    #[error("not supported yet: {0}")]
    NotSupported(String),
    /// An I/O failure on a named resource.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
}

impl ConnectorError {
    /// An I/O error with what was being done, e.g. `reading file /x.json`.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        ConnectorError::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<ConnectorError> for SluiceError {
    fn from(e: ConnectorError) -> Self {
        match e {
            ConnectorError::Malformed { .. }
            | ConnectorError::Encode { .. }
            | ConnectorError::UpdatingRow { .. } => SluiceError::Format(e.to_string()),
            ConnectorError::NotSupported(what) => SluiceError::NotSupported(what),
            ConnectorError::Io { .. } => SluiceError::execution(e.to_string()),
            ConnectorError::Arrow(a) => SluiceError::Arrow(a),
        }
    }
}
