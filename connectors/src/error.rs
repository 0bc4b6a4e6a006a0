//! Errors raised inside connectors and formats.

use sluice_engine::SluiceError;

/// A connector or format failure, converted into the engine's error at the
/// trait boundary.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// A record could not be decoded; `location` is e.g. `file /x.json, line 3`.
    #[error("malformed record at {location}: {reason}")]
    Malformed { location: String, reason: String },
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

impl From<ConnectorError> for SluiceError {
    fn from(e: ConnectorError) -> Self {
        match e {
            ConnectorError::Malformed { .. } => SluiceError::Format(e.to_string()),
            ConnectorError::Io { .. } => SluiceError::execution(e.to_string()),
            ConnectorError::Arrow(a) => SluiceError::Arrow(a),
        }
    }
}
